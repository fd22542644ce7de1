"""Plain policy JSON files: the whole file is the policy (a file `alpha.toml` maps to a
principal, or one a Terraform `file()` reads). Rewritten whole in the file's own indentation,
its trailing newline kept; a file that is not valid JSON is said, never overwritten."""

from __future__ import annotations

from typing import Any

from alpha.iac.json_spans import dump_relative, parse_spans
from alpha.iac.model import FileEdit

__all__ = ["rewrite_policy_file"]


def rewrite_policy_file(path: str, text: str, document: dict[str, Any]) -> FileEdit:
    if text.strip():
        parse_spans(text, path)
    ending = text[len(text.rstrip()) :] or "\n"
    sample = text if text.strip() else '{\n  "Version": ""\n}'
    return FileEdit(path, text, dump_relative(sample, document) + ending)
