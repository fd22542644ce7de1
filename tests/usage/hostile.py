"""Hostile log files, made cheaply: gzip bombs of gigabytes in a few MB, and oversized records."""

from __future__ import annotations

import json
import zlib
from typing import Any

from isal import isal_zlib

from tests.fakes.cloudtrail_logs import record

MIB = 1 << 20
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


def gzip_bomb(mib: int, *, claimed: int | None = None) -> bytes:
    """One valid gzip member of `mib` MiB of zeros, about a thousandth of that in size: one
    compressed MiB (flushed, so it ends on a byte) repeated, then an empty last block. Its
    trailer says the true size (mod 2^32, as gzip does) unless `claimed` says otherwise."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = packer.compress(bytes(MIB)) + packer.flush(zlib.Z_FULL_FLUSH)
    last = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    size = mib * MIB if claimed is None else claimed
    trailer = _zeros_crc(mib).to_bytes(4, "little") + (size % (1 << 32)).to_bytes(4, "little")
    return _GZIP_HEADER + one * mib + last + trailer


def _zeros_crc(mib: int) -> int:
    """CRC-32 of `mib` MiB of zeros, by combining (reading gigabytes would take seconds)."""
    crc, piece, length = 0, zlib.crc32(bytes(MIB)), MIB
    while mib:
        if mib & 1:
            crc = isal_zlib.crc32_combine(crc, piece, length)
        piece = isal_zlib.crc32_combine(piece, piece, length)
        length *= 2
        mib >>= 1
    return crc


def with_field(size: int, where: str = "requestParameters", **extra: Any) -> dict[str, Any]:
    """A record whose field `where` holds a string of `size` bytes (in `requestParameters` as
    the value of its `key`; `userIdentity` as the caller's ARN; `fields` as that many small
    fields of about 20 bytes each instead of one large one)."""
    text = "x" * size
    if where == "requestParameters":
        return record(requestParameters={"bucketName": "data", "key": text}, **extra)
    if where == "userIdentity":
        found = record(**extra)
        found["userIdentity"]["arn"] = f"arn:aws:sts::111122223333:assumed-role/app/{text}"
        return found
    if where == "fields":
        many = {f"k{i:09d}": "v" * 5 for i in range(size // 20)}
        return record(requestParameters=many, **extra)
    return record(**{where: text}, **extra)


def records_document(records: list[Any]) -> bytes:
    return json.dumps({"Records": records}).encode()
