"""An account file read one entity at a time.

Decoded whole, a 200,000-role `get-account-authorization-details` file (212 MB) became a tree
of most of a gigabyte, held while the snapshot was built from it: 1.72 GB at the peak. Here the
outer objects and lists are walked (`JsonStream`) and each role, user, group or policy is
decoded alone, made an entity and dropped, so the peak is the text and the snapshot. The
checks and messages are `authorization_details`'s, in the same words and at the same paths.
"""

from __future__ import annotations

from alpha.account.model import AccountSnapshot
from alpha.adapters.local.authorization_details import (
    LISTS,
    SnapshotParts,
    fail_no_lists,
    fail_no_pages,
    fail_truncated,
)
from alpha.adapters.local.json_at import At
from alpha.policy.json_stream import JsonStream

__all__ = ["stream_snapshot"]


def stream_snapshot(stream: JsonStream, source: str) -> AccountSnapshot:
    """The snapshot of the document under `stream`: one response object or a list of pages."""
    at = At(source, "")
    parts = SnapshotParts()
    if stream.peek() == "[":
        truncated_at = None
        pages = 0
        for index in stream.items():
            truncated_at = _page(stream, at.index(index), parts)
            pages += 1
        if not pages:
            fail_no_pages(at)
    else:
        truncated_at = _page(stream, at, parts)
    stream.end()
    if truncated_at is not None:
        fail_truncated(truncated_at)
    return parts.snapshot(source)


def _page(stream: JsonStream, at: At, parts: SnapshotParts) -> At | None:
    """Read one page into `parts`; the page's place when it says it is truncated."""
    if stream.peek() != "{":
        at.fail(f"must be an object, not {stream.kind()}")
    found_list = truncated = False
    for key in stream.members():
        if key in LISTS:
            found_list = True
            _list(stream, key, at.key(key), parts)
        elif key == "IsTruncated":
            truncated = stream.value() is True
        else:
            stream.skip()
    if not found_list:
        fail_no_lists(at)
    return at if truncated else None


def _list(stream: JsonStream, key: str, at: At, parts: SnapshotParts) -> None:
    kind = stream.kind()
    if kind == "null":
        stream.value()
        return
    if kind != "a list":
        at.fail(f"must be a list, not {kind}")
    for index in stream.items():
        parts.add(key, stream.value(), at.index(index))
