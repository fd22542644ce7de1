"""The store's settings beyond a path: its URL (the store on DynamoDB), the key of a sealed hash
chain, and a chain head to hold."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alpha.store.chain import ChainHead

__all__ = [
    "DYNAMODB",
    "MIN_KEY_LENGTH",
    "parse_chain_head",
    "parse_store_key",
    "store_prefix",
    "store_url",
]

MIN_KEY_LENGTH = 16
DYNAMODB = "dynamodb://"
_HEAD = re.compile(r"^(\d{1,18}):([0-9a-f]{64})$")
_PREFIX = re.compile(r"[A-Za-z0-9_.-]{1,200}")


def store_url(text: str) -> str:
    """`dynamodb://PREFIX` as given; ValueError for another scheme or a prefix that cannot
    name DynamoDB tables (PREFIX-approvals, PREFIX-proposals, ...)."""
    url = text.strip()
    if not url.startswith(DYNAMODB):
        raise ValueError(f"{url[:80]!r}: the store is a file path or dynamodb://PREFIX")
    if not _PREFIX.fullmatch(store_prefix(url)):
        raise ValueError(
            f"{url[:80]!r}: the table prefix must be 1 to 200 letters, digits, '_', '-' or '.'"
        )
    return url


def store_prefix(url: str) -> str:
    """The table prefix of a `dynamodb://PREFIX` URL."""
    return url[len(DYNAMODB) :]


def parse_store_key(text: str) -> bytes:
    """The key as UTF-8 bytes; ValueError when it is too short to resist guessing."""
    key = text.encode("utf-8")
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(f"a store key needs at least {MIN_KEY_LENGTH} characters")
    return key


def parse_chain_head(text: str) -> ChainHead:
    """`SEQ:HASH` as `alpha store head` prints it; ValueError otherwise."""
    from alpha.store.chain import ChainHead

    found = _HEAD.match(text.strip().lower())
    if found is None:
        raise ValueError(f"{text[:80]!r} is not a chain head like 42:<64 hex digits>")
    return ChainHead(int(found.group(1)), found.group(2))
