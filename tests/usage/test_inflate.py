"""The native gunzip (libdeflate, from the `deflate` wheel) reads exactly what isal reads, or
leaves it to isal."""

from __future__ import annotations

import gzip

import pytest
from isal import igzip

from alpha.catalog import load_catalog
from alpha.usage.mapping import EventMapper, load_mapping_table
from alpha.usage.native import NativeFile, libdeflate
from alpha.usage.reader import MAX_FILE_BYTES, ReadLimits
from tests.fakes.cloudtrail_logs import SAMPLES
from tests.usage.hostile import MIB, gzip_bomb
from tests.usage.test_native import assert_same, module_under_test, python_path


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
    found = module_under_test().Inflater(libdeflate())
    assert found.available, "the deflate wheel's module no longer exports libdeflate's functions"
    return found


def test_the_ingest_gunzips_with_the_wheels_libdeflate() -> None:
    """The lock installs `deflate`, so every machine has libdeflate without a system package."""
    library = libdeflate()
    assert library is not None
    assert "site-packages" in library or "dist-packages" in library
    mapper = EventMapper(load_catalog(), load_mapping_table())
    assert NativeFile(module_under_test(), mapper)._inflater.available


@pytest.mark.parametrize("data", list(CASES.values()), ids=list(CASES))
def test_it_reads_as_isal_or_leaves_it_to_isal(inflater: object, data: bytes) -> None:
    found = inflater.gunzip(data, MAX_FILE_BYTES)  # type: ignore[attr-defined]
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
        assert inflater.gunzip(data, MAX_FILE_BYTES) == expected, path  # type: ignore[attr-defined]


def test_without_libdeflate_the_scanner_gunzips_with_isal() -> None:
    module = module_under_test()
    for missing in (module.Inflater("libdeflate-that-is-not-there.so.0"), module.Inflater(None)):
        assert not missing.available
        assert missing.gunzip(ONE, MAX_FILE_BYTES) is None
    mapper = EventMapper(load_catalog(), load_mapping_table())
    path = next(iter(sorted((SAMPLES / "invictus_aws_dataset").glob("*.json"))))
    data = packed(path.read_bytes())
    found = []
    for library in (None, "libdeflate-that-is-not-there.so.0"):
        outcome = NativeFile(module, mapper, library=library).tally(data, "f.json.gz")
        assert outcome is not None
        usage, problems, _ = outcome
        assert usage is not None
        found.append((usage.hourly(), usage.events, problems))
    assert found[0] == found[1]
    assert found[0][1] > 0


def test_a_member_over_the_limit_is_left_to_isal(inflater: object) -> None:
    """The trailer's size is allocated before inflating: over the limit it is not (isal then
    inflates with the same limit and stops at it)."""
    size = len(igzip.decompress(ONE))  # type: ignore[no-untyped-call]
    assert inflater.gunzip(ONE, size) is not None  # type: ignore[attr-defined]
    assert inflater.gunzip(ONE, size - 1) is None  # type: ignore[attr-defined]
    assert inflater.gunzip(ONE, 0) is None  # type: ignore[attr-defined]


BOMBS = {
    "true-size": gzip_bomb(64),
    "claims-a-kilobyte": gzip_bomb(64, claimed=1000),
    "claims-the-limit": gzip_bomb(64, claimed=MIB),
    "plain": b" " * (MIB + 1),
}


@pytest.mark.parametrize("library", [None, "libdeflate-that-is-not-there.so.0"])
@pytest.mark.parametrize("data", BOMBS.values(), ids=BOMBS.keys())
def test_a_file_over_the_limit_is_refused_the_same_both_ways(
    library: str | None, data: bytes
) -> None:
    """Whatever its trailer claims, a bomb is refused by the native path as by the reader."""
    mapper = EventMapper(load_catalog(), load_mapping_table())
    limits = ReadLimits(file_bytes=MIB)
    native = NativeFile(module_under_test(), mapper, limits=limits, library=library)
    found = native.tally(data, "f.json")
    assert found is not None
    assert_same(found, python_path(data, mapper, limits))
    usage, [problem], _ = found
    assert (usage, problem.reason, problem.record) == (None, "file too large", None)
