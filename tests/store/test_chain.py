"""The hash chain on its own: links that verify only as made, under the mode and key they were
made with, and rows that match only their latest entry."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpha.store.chain import (
    START,
    ChainEntry,
    Kind,
    Linker,
    Recorded,
    RowDigest,
    digest,
    encode,
    match_rows,
    verify_links,
)
from alpha.store.errors import StoreError, TamperedStoreError

KEY = b"k" * 32
WHERE = "alpha.db"


def _chain(linker: Linker, size: int) -> list[ChainEntry]:
    entries = [linker.first()]
    for n in range(1, size):
        written = ChainEntry(0, Kind.AUDIT, f"p{n % 3}", str(n), digest([n, "row"]), "")
        entries.append(linker.entry(entries[-1].head, written))
    return entries


@pytest.mark.parametrize("key", [None, KEY])
def test_a_chain_verifies_as_made(key: bytes | None) -> None:
    linker = Linker(key)
    entries = _chain(linker, 6)
    assert verify_links(entries, linker, WHERE) == entries[-1].head
    assert verify_links(entries[3:], linker, WHERE, after=entries[2].head) == entries[-1].head
    assert verify_links([], linker, WHERE) == START


@st.composite
def _edits(draw: st.DrawFn) -> tuple[str, int, int]:
    how = draw(st.sampled_from(["field", "delete", "swap"]))
    at = draw(st.integers(0, 6))
    other = draw(st.integers(0, 6).filter(lambda n: n != at))
    return how, at, other


@given(_edits(), st.sampled_from(["kind", "proposal_id", "key", "digest", "hash"]))
def test_any_edit_deletion_or_reordering_is_found(edit: tuple[str, int, int], name: str) -> None:
    linker = Linker()
    entries = _chain(linker, 7)
    how, at, other = edit
    if how == "field":
        fields = dataclasses.asdict(entries[at])
        fields[name] = f"{fields[name]}x"
        entries[at] = ChainEntry(**fields)
    elif how == "delete":
        del entries[at]
        if at == len(entries):  # cutting the tail is found only against an anchor
            return
    else:
        entries[at], entries[other] = entries[other], entries[at]
    with pytest.raises((TamperedStoreError, StoreError), match=r"chain.*entry|chain's"):
        verify_links(entries, linker, WHERE)


def test_a_deleted_entry_is_named_as_missing() -> None:
    linker = Linker()
    entries = _chain(linker, 5)
    del entries[2]
    with pytest.raises(TamperedStoreError, match=r"chain entry 3: missing \(entry 4 follows"):
        verify_links(entries, linker, WHERE)


def test_a_plain_chain_recomputed_by_anyone_verifies_but_a_keyed_one_does_not() -> None:
    # What the key buys: links made without it never verify under it.
    forged = _chain(Linker(), 4)
    assert verify_links(forged, Linker(), WHERE) == forged[-1].head
    with pytest.raises(StoreError, match="not keyed"):
        verify_links(forged, Linker(KEY), WHERE)
    guessed = _chain(Linker(b"g" * 32), 4)
    with pytest.raises(TamperedStoreError, match=r"entry 1 .*under the key given"):
        verify_links(guessed, Linker(KEY), WHERE)


def test_a_keyed_chain_needs_its_key() -> None:
    with pytest.raises(StoreError, match="keyed; give the store key"):
        verify_links(_chain(Linker(KEY), 2), Linker(), WHERE)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(StoreError, match="15 bytes; it needs at least 16"):
        Linker(b"k" * 15)


def test_the_first_entry_must_say_how_links_are_made() -> None:
    linker = Linker()
    entries = _chain(linker, 3)
    entries[0] = linker.entry(START, dataclasses.replace(entries[0], kind=Kind.AUDIT))
    with pytest.raises(TamperedStoreError, match="entry 1: records 'audit'"):
        verify_links(entries, linker, WHERE)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (["a"], [b"a"]),
        ([1], ["1"]),
        (["ab", "c"], ["a", "bc"]),
        ([None], [""]),
        (["\udcff"], ["\ufffd"]),
    ],
)
def test_values_of_other_types_or_split_otherwise_encode_apart(
    left: list[object], right: list[object]
) -> None:
    assert encode(left) != encode(right)


def test_damaged_text_encodes_as_its_original_bytes() -> None:
    assert encode([b"a\xff".decode("utf-8", "surrogateescape")]) == b"s2:a\xff"


PATTERN = "table approvals, row seq {key} (proposal {proposal})"


def _recorded() -> dict[tuple[str | None, str], Recorded]:
    return {("p" * 64, "1"): Recorded(4, "d1"), ("p" * 64, "2"): Recorded(9, "d2")}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("1", "d1"), ("2", "changed")], r"seq 2 \(proposal pppppppppppp\): does not match .* 9"),
        ([("1", "d1")], r"seq 2 .*: missing, but chain entry 9 records it"),
        ([("1", "d1"), ("2", "d2"), ("3", "d3")], r"seq 3 .*: not recorded in the chain"),
    ],
)
def test_rows_that_do_not_match_their_latest_entry_are_named(
    rows: list[tuple[str, str]], message: str
) -> None:
    found = [RowDigest("p" * 64, key, dig) for key, dig in rows]
    with pytest.raises(TamperedStoreError, match=message) as raised:
        match_rows(WHERE, found, _recorded(), PATTERN)
    assert str(raised.value).startswith(f"{WHERE}: table approvals")


def test_rows_matching_their_latest_entries_pass() -> None:
    found = [RowDigest("p" * 64, "1", "d1"), RowDigest("p" * 64, "2", "d2")]
    match_rows(WHERE, found, _recorded(), PATTERN)
