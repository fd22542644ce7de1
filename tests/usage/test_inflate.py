"""The native gunzip (the system's libdeflate) reads exactly what isal reads, or leaves it."""

from __future__ import annotations

import gzip

import pytest
from isal import igzip

from alpha.catalog import load_catalog
from alpha.usage.mapping import EventMapper, load_mapping_table
from alpha.usage.native import NativeFile
from tests.fakes.cloudtrail_logs import SAMPLES
from tests.usage.test_native import module_under_test


def packed(text: bytes) -> bytes:
    return gzip.compress(text, mtime=0)


ONE = packed(b'{"Records": []}' * 50)
LYING = ONE[:-4] + (len(ONE) * 2000).to_bytes(4, "little")  # a size no member could reach

CASES = {
    "one member": ONE,
    "two members": ONE + packed(b"second"),
    "two equal members": ONE + ONE,
    "data after the member": ONE + b"junk after",
    "cut trailer": ONE[:-6],
    "cut body": ONE[:20],
    "damaged body": ONE[:12] + b"garbage" + ONE[19:],
    "wrong checksum": ONE[:-8] + b"\x00" * 4 + ONE[-4:],
    "wrong size": ONE[:-4] + (len(gzip.decompress(ONE)) + 1).to_bytes(4, "little"),
    "size beyond any member": LYING,
    "empty member": packed(b""),
    "empty input": b"",
    "not gzip": b'{"Records": []}' * 5,
}


@pytest.fixture(scope="module")
def inflater() -> object:
    found = module_under_test().Inflater()
    if not found.available:  # .ci/run installs it; a machine without it gunzips with isal
        pytest.skip("libdeflate.so.0 not found (Debian: apt-get install libdeflate0)")
    return found


@pytest.mark.parametrize("data", list(CASES.values()), ids=list(CASES))
def test_it_reads_as_isal_or_leaves_it_to_isal(inflater: object, data: bytes) -> None:
    found = inflater.gunzip(data)  # type: ignore[attr-defined]
    if data is ONE:
        assert found == igzip.decompress(data)  # type: ignore[no-untyped-call]
    else:
        assert found is None


def test_every_gzipped_sample_reads_as_isal_reads_it(inflater: object) -> None:
    files = sorted(SAMPLES.rglob("*.json"))
    assert files
    for path in files:
        data = packed(path.read_bytes())
        expected = igzip.decompress(data)  # type: ignore[no-untyped-call]  # isal has no stubs
        assert inflater.gunzip(data) == expected, path  # type: ignore[attr-defined]


def test_without_libdeflate_the_scanner_gunzips_with_isal() -> None:
    module = module_under_test()
    missing = module.Inflater(library="libdeflate-that-is-not-there.so.0")
    assert not missing.available
    assert missing.gunzip(ONE) is None
    mapper = EventMapper(load_catalog(), load_mapping_table())
    path = next(iter(sorted((SAMPLES / "invictus_aws_dataset").glob("*.json"))))
    data = packed(path.read_bytes())
    found = []
    for library in (None, "libdeflate-that-is-not-there.so.0"):
        outcome = NativeFile(module, mapper, library=library).tally(data, "f.json.gz")
        assert outcome is not None
        found.append((outcome[0].hourly(), outcome[0].events, outcome[1]))
    assert found[0] == found[1]
    assert found[0][1] > 0
