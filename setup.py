"""Builds the ingest's C fast path (`alpha.usage._native`); everything else is in pyproject.

The extension is optional: without a C compiler the package installs and runs on the pure
Python path (the same counts, several times slower on large inputs). The test suite checks it
was built, so CI never silently loses it."""

import sys
from pathlib import Path

from setuptools import Extension, setup

SOURCES = Path("src/alpha/usage/csrc")

setup(
    ext_modules=[
        Extension(
            "alpha.usage._native",
            sources=[str(SOURCES / "native.c")],
            depends=[str(path) for path in sorted(SOURCES.glob("*.h"))],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                "-Wno-missing-field-initializers"],
            # dlopen, for libdeflate in the `deflate` wheel's module (csrc/inflate.h)
            libraries=["dl"] if sys.platform.startswith("linux") else [],
            optional=True,
        )
    ]
)
