"""The store's protection settings: the key of a sealed hash chain, and a chain head to hold."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alpha.store.chain import ChainHead

__all__ = ["MIN_KEY_LENGTH", "parse_chain_head", "parse_store_key"]

MIN_KEY_LENGTH = 16
_HEAD = re.compile(r"^(\d{1,18}):([0-9a-f]{64})$")


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
