"""What of a record's request, response and additionalEventData the meaning of an S3 object
call reads: whether it names a `versionId` (the versioned action) and the SSE-KMS key
(`resources.MARKED_ROLES`). A group keyed by these members alone (`fast_tally.MARKED`) holds
every upload under one key, however many objects; the C scanner extracts the same members
(`csrc/scanner.h`, `mark_members`)."""

from __future__ import annotations

from functools import cache

import msgspec

from alpha.usage.events import NO_REQUEST, LazyEvent

__all__ = ["MARKS_TEXT", "MARK_NAMES", "VERSIONED", "has_marks", "mark_members", "only_marks"]

# Text without which a request, response or additionalEventData names no `versionId` and no
# SSE-KMS key (a member name spelt with a JSON escape has `\u`)
MARKS_TEXT = (b"versionId", b"\\u", b"aws-kms-key-id", b"SSEKMSKeyARN")
# The members that name them, as `mapping` (versionId) and `request_arns._SSE_KMS_KEYS` read
# them, at the top of each part
MARK_NAMES = ("versionId", "x-amz-server-side-encryption-aws-kms-key-id", "SSEKMSKeyARN")
# A versionId that is a non-empty string, whatever its text: the mapping reads only whether
# there is one, so versioned reads of one object and key are one group too
VERSIONED = b'"v"'

Members = tuple[bytes | None, ...] | None


def has_marks(event: LazyEvent) -> bool:
    """Whether the event's request, response or additionalEventData holds any `MARKS_TEXT`."""
    raws = (event.requestParameters, event.responseElements, event.additionalEventData)
    return any(mark in bytes(raw) for raw in raws for mark in MARKS_TEXT)


def mark_members(event: LazyEvent) -> tuple[Members, Members, Members]:
    """The `MARK_NAMES` members of the event's request, response and additionalEventData: each
    part's raw values (None when absent), or None when the part is no object. Raises msgspec's
    errors for a request that does not decode (as its whole decoding would)."""
    return (
        _members(event.requestParameters, strict=True),
        _members(event.responseElements, strict=False),
        _members(event.additionalEventData, strict=False),
    )


def only_marks(event: LazyEvent) -> LazyEvent:
    """`event` with its request, response and additionalEventData cut to their `MARK_NAMES`
    members: what a `MARKED` group's interpretation may read."""
    request, response, additional = mark_members(event)
    return msgspec.structs.replace(
        event,
        requestParameters=_object(request),
        responseElements=_object(response),
        additionalEventData=_object(additional),
    )


def _members(raw: msgspec.Raw, *, strict: bool) -> Members:
    """A part's `MARK_NAMES` values, the last of a repeated name (as a whole decoding keeps);
    a response that does not decode is none (`events._response_of`), a request raises."""
    data = bytes(raw)
    if data[:1] != b"{":
        return None
    try:
        members = _decoder().decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        if strict:
            raise
        return None
    found = [members.get(name) for name in MARK_NAMES]
    values = [None if value is None else bytes(value) for value in found]
    version = values[0]
    if version is not None and version[:1] == b'"' and len(version) > 2:
        values[0] = VERSIONED
    return tuple(values)


def _object(members: Members) -> msgspec.Raw:
    if members is None:
        return NO_REQUEST
    pairs = (
        b'"' + name.encode() + b'":' + value
        for name, value in zip(MARK_NAMES, members, strict=True)
        if value is not None
    )
    return msgspec.Raw(b"{" + b",".join(pairs) + b"}")


@cache
def _decoder() -> msgspec.json.Decoder[dict[str, msgspec.Raw]]:
    return msgspec.json.Decoder(dict[str, msgspec.Raw])
