"""The store's hash chain: every write to the store is one entry linked to the entry before it,
so a row edited, deleted, added or reordered outside alpha shows.

An entry names the row written (its `kind`, the proposal it belongs to, a `key` among that
proposal's rows of the kind) and the `digest` of the row as stored; its `hash` covers the hash
before it and all of its own fields. A row is checked against the latest entry for it; the
links are checked from the first entry to the last.

Plain links are SHA-256, which anyone who can write the store can recompute; keyed links are
HMAC-SHA-256 under a key kept outside the store, which nobody without the key can forge.
Entry 1 says which (its key is the mode), so a store is never read under the other mode.

Backend-independent: an adapter keeps the entries and says which rows each kind covers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from alpha.store.errors import StoreError, TamperedStoreError

__all__ = [
    "KEYED",
    "MIN_KEY_BYTES",
    "PLAIN",
    "START",
    "ChainEntry",
    "ChainHead",
    "Kind",
    "Linker",
    "Recorded",
    "RowDigest",
    "digest",
    "encode",
    "match_rows",
    "place",
    "tampered",
    "verify_links",
]

PLAIN = "sha256"
KEYED = "hmac-sha256"
MIN_KEY_BYTES = 16
"""A shorter key could be guessed; 16 random bytes cannot."""


class Kind(StrEnum):
    """What a chain entry records."""

    CHAIN = "chain"  # entry 1 only: how the links are made
    ADOPTED = "adopted"  # a migration took in rows an older alpha wrote without a chain
    PROPOSAL = "proposal"
    STATE = "state"
    APPROVAL = "approval"
    STAGE = "stage"
    JOURNAL = "journal"
    AUDIT = "audit"
    COPY = "copy"


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last entry's number and hash. Kept outside the store (printed, committed, sent
    elsewhere), it later shows that the chain still holds it: nobody rewrote or cut it back."""

    seq: int
    hash: str


START = ChainHead(0, "0" * 64)
"""What entry 1 links to."""


@dataclass(frozen=True, slots=True)
class ChainEntry:
    seq: int
    kind: str
    proposal_id: str | None
    key: str
    digest: str
    hash: str

    @property
    def head(self) -> ChainHead:
        return ChainHead(self.seq, self.hash)


@dataclass(frozen=True, slots=True)
class RowDigest:
    """A stored row as the chain sees it: which row (its proposal, and its key among that
    proposal's rows of its kind) and its digest."""

    proposal_id: str | None
    key: str
    digest: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """The latest chain entry for one row."""

    seq: int
    digest: str


def encode(values: Sequence[object]) -> bytes:
    """One byte string per sequence of stored values, each tagged with its type and text
    length-prefixed, so no two sequences share one and a value stored as another type (a
    number as text, text as a blob) is another value. Text that is not valid UTF-8 (read with
    surrogate escapes) is its original bytes."""
    parts = []
    for value in values:
        if value is None:
            parts.append("n;")
        elif isinstance(value, str):
            parts.append(f"s{len(value)}:{value}")
        elif isinstance(value, int):
            parts.append(f"i{int(value)};")
        elif isinstance(value, bytes):
            parts.append(f"b{len(value)}:{value.hex()}")
        else:  # a REAL, where alpha stores none
            parts.append(f"o{value!r};")
    return "".join(parts).encode("utf-8", "surrogateescape")


def digest(values: Sequence[object]) -> str:
    """The digest of a row's stored values."""
    return hashlib.sha256(encode(values)).hexdigest()


def place(pattern: str, proposal_id: object, key: object) -> str:
    """`pattern` (a row's name, with `{proposal}` and `{key}`) for one row, printable whatever
    the row holds."""
    shown = [str(value or "").encode("utf-8", "replace").decode() for value in (proposal_id, key)]
    return pattern.format(proposal=shown[0][:12], key=shown[1])


class Linker:
    """Makes and checks links: plain SHA-256, or HMAC-SHA-256 under `key`."""

    def __init__(self, key: bytes | None = None) -> None:
        if key is not None and len(key) < MIN_KEY_BYTES:
            raise StoreError(
                f"the store key is {len(key)} bytes; it needs at least {MIN_KEY_BYTES} "
                "(use a long random value)"
            )
        self._key = key

    @property
    def mode(self) -> str:
        return PLAIN if self._key is None else KEYED

    def link(self, before: ChainHead, entry: ChainEntry) -> str:
        """The hash of `entry` (what it records) as the entry after `before`."""
        data = encode(
            (before.hash, before.seq + 1, entry.kind, entry.proposal_id, entry.key, entry.digest)
        )
        if self._key is None:
            return hashlib.sha256(data).hexdigest()
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def entry(self, before: ChainHead, written: ChainEntry) -> ChainEntry:
        """`written` (its number and hash ignored) as the entry after `before`."""
        return replace(written, seq=before.seq + 1, hash=self.link(before, written))

    def first(self) -> ChainEntry:
        """Entry 1: the mode, so the store is never read under the other one."""
        written = ChainEntry(1, Kind.CHAIN, None, self.mode, digest([self.mode]), "")
        return self.entry(START, written)


def tampered(where: str, place: str, what: str) -> TamperedStoreError:
    return TamperedStoreError(
        f"{where}: {place}: {what}; the store was changed outside alpha (or damaged), so alpha "
        "will not act on it and changed nothing: restore it from a backup and find out who "
        "changed it"
    )


def verify_links(
    entries: Iterable[ChainEntry], linker: Linker, where: str, after: ChainHead = START
) -> ChainHead:
    """The head after checking each entry's number and hash in order, from `after` on."""
    head = after
    for entry in entries:
        if entry.seq != head.seq + 1:
            found = f"entry {entry.seq} follows entry {head.seq}"
            raise tampered(where, f"chain entry {head.seq + 1}", f"missing ({found})")
        if entry.seq == 1:
            _check_mode(entry, linker, where)
        expected = linker.link(head, entry)
        if not isinstance(entry.hash, str) or not hmac.compare_digest(expected, entry.hash):
            raise tampered(where, _named(entry), _mismatch(entry, linker))
        head = entry.head
    return head


def _check_mode(entry: ChainEntry, linker: Linker, where: str) -> None:
    if entry.kind != Kind.CHAIN:
        raise tampered(
            where, "chain entry 1", f"records {str(entry.kind)!r}, not how links are made"
        )
    if entry.key == linker.mode:
        return
    if entry.key == KEYED:
        raise StoreError(
            f"{where}: the store's chain is keyed; give the store key it was sealed with "
            "(nothing was read or changed)"
        )
    if entry.key == PLAIN:
        raise StoreError(
            f"{where}: a store key was given but the store's chain is not keyed; open it "
            "without the key, or seal it with the key first (nothing was read or changed)"
        )
    raise tampered(where, "chain entry 1", f"names an unknown link mode {entry.key!r}")


def _named(entry: ChainEntry) -> str:
    about = f", proposal {entry.proposal_id[:12]}" if entry.proposal_id else ""
    key = f", key {entry.key!r}" if entry.key else ""
    return f"table chain, entry {entry.seq} ({entry.kind}{about}{key})"


def _mismatch(entry: ChainEntry, linker: Linker) -> str:
    if entry.seq == 1 and linker.mode == KEYED:
        return "its hash does not match under the key given (a different key, or edited)"
    return "its hash does not match its content and the entry before it"


def match_rows(
    where: str,
    rows: Iterable[RowDigest],
    recorded: dict[tuple[str | None, str], Recorded],
    pattern: str,
) -> None:
    """Every row has its latest chain entry's digest, and every row the chain records is
    there; `pattern` names a row in errors (see `place`)."""
    left = dict(recorded)
    for row in rows:
        entry = left.pop((row.proposal_id, row.key), None)
        if entry is None:
            named = place(pattern, row.proposal_id, row.key)
            raise tampered(where, named, "not recorded in the chain (added outside alpha)")
        if entry.digest != row.digest:
            named = place(pattern, row.proposal_id, row.key)
            raise tampered(where, named, f"does not match chain entry {entry.seq}")
    if left:
        (proposal, key), entry = min(left.items(), key=lambda item: item[1].seq)
        named = place(pattern, proposal, key)
        raise tampered(where, named, f"missing, but chain entry {entry.seq} records it")
