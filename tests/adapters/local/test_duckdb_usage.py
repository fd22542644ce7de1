from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
from alpha.usage.aggregate import (
    BatchUsage,
    HourlyUsage,
    SourceIpCount,
    SourceIps,
    StoredBatch,
    UnmappedCount,
    UsageQuery,
)
from alpha.usage.errors import UsageError

ROLE = "arn:aws:iam::111122223333:role/app"
ODD = 'arn:aws:s3:::b/odd "key", with\nnewline\tand é 😀 \\ back'


def batch(
    key: str,
    version: str = "1",
    *rows: HourlyUsage,
    events: int = 1,
    ips: tuple[SourceIpCount, ...] = (),
) -> StoredBatch:
    usage = BatchUsage.of(
        events, rows, {"sign-in": 1}, (UnmappedCount("x.amazonaws.com", "Do", 2),), ips
    )
    return StoredBatch(key, version, 100, usage)


def hourly(
    action: str = "s3:GetObject",
    resource: str = "*",
    used: int = 1,
    session: str | None = None,
    region: str | None = None,
) -> HourlyUsage:
    return HourlyUsage(
        ROLE, session, action, resource, 475_000, used, 0, 1_710_000_000, 1_710_000_100, region
    )


def test_saved_rows_come_back_exactly(tmp_path: Path) -> None:
    with DuckDBUsageStore(tmp_path / "u.duckdb") as store:
        store.save([batch("k1", "1", hourly(resource=ODD, session="alice"), hourly(used=3))])
        rows = store.usage(UsageQuery(("k1",)))
    assert [(r.resource, r.count, r.sessions) for r in rows] == [("*", 3, ()), (ODD, 1, ("alice",))]


def test_regions_come_back_sorted_and_distinct(tmp_path: Path) -> None:
    with DuckDBUsageStore(tmp_path / "u.duckdb") as store:
        store.save(
            [
                batch("k1", "1", hourly(region="us-east-1"), hourly(region="eu-west-1")),
                batch("k2", "1", hourly(region="eu-west-1"), hourly(region=None)),
                batch("k3", "1", hourly("s3:PutObject")),
            ]
        )
        rows = store.usage(UsageQuery(("k1", "k2", "k3")))
        documents = [d for part in store.usage_documents(UsageQuery(("k1",))) for d in part]
    assert [(r.action, r.count, r.regions) for r in rows] == [
        ("s3:GetObject", 4, ("eu-west-1", "us-east-1")),
        ("s3:PutObject", 1, ()),
    ]
    assert '"regions":["eu-west-1","us-east-1"]' in documents[0]


def test_active_days_count_distinct_days_with_an_allowed_call(tmp_path: Path) -> None:
    day = 24

    def at(hour: int, action: str = "s3:GetObject", used: int = 1) -> HourlyUsage:
        return HourlyUsage(ROLE, None, action, "*", hour, used, 1 - min(used, 1), 0, 0, None)

    with DuckDBUsageStore(tmp_path / "u.duckdb") as store:
        store.save(
            [
                batch("k1", "1", at(475_200), at(475_201), at(475_200 + day)),
                batch("k2", "1", at(475_200 + 5 * day), at(475_200, "s3:PutObject", used=0)),
                batch("k3", "1", at(475_200 + 9 * day)),
            ]
        )
        days = store.active_days(UsageQuery(("k1", "k2")))
    # Two hours of one day are one day; a day with only denied calls is none; k3 not asked.
    assert days == {ROLE: {"s3:GetObject": 3}}


def test_source_ips_cover_the_asked_batches_only(tmp_path: Path) -> None:
    other = "arn:aws:iam::111122223333:role/other"
    with DuckDBUsageStore(tmp_path / "u.duckdb") as store:
        store.save(
            [
                batch(
                    "k1",
                    "1",
                    hourly(),
                    ips=(
                        SourceIpCount(ROLE, "s3:GetObject", "10.0.0.1", 3),
                        SourceIpCount(ROLE, "s3:GetObject", None, 2),
                        SourceIpCount(other, "s3:GetObject", "10.9.9.9", 1),
                    ),
                ),
                batch(
                    "k2",
                    "1",
                    hourly(),
                    ips=(
                        SourceIpCount(ROLE, "s3:GetObject", "10.0.0.2", 5),
                        SourceIpCount(ROLE, "kms:Decrypt", "10.0.0.1", 1),
                    ),
                ),
            ]
        )
        both = store.source_ips(["k1", "k2"], ROLE)
        counts = store.source_ip_counts(["k1"], ROLE)
        store.save([batch("k2", "2", hourly())])  # a new version replaces its IPs too
        after = store.source_ips(["k1", "k2"], ROLE)
    assert both == {"kms:Decrypt": ("10.0.0.1",), "s3:GetObject": ("10.0.0.2", "10.0.0.1")}
    assert counts == {"s3:GetObject": SourceIps((("10.0.0.1", 3),), 2)}
    assert after == {"s3:GetObject": ("10.0.0.1",)}


def test_a_new_version_replaces_its_batch_only(tmp_path: Path) -> None:
    with DuckDBUsageStore(tmp_path / "u.duckdb") as store:
        store.save(
            [batch("k1", "1", hourly("s3:GetObject")), batch("k2", "1", hourly("s3:ListBucket"))]
        )
        store.save([batch("k1", "2", hourly("s3:PutObject"), events=5)])
        assert store.versions(["k1", "k2", "k3"]) == {"k1": "2", "k2": "1"}
        actions = [r.action for r in store.usage(UsageQuery(("k1", "k2")))]
        summary = store.summary(["k1", "k2"])
    assert actions == ["s3:ListBucket", "s3:PutObject"]
    assert (summary.files, summary.events, dict(summary.skipped)) == (2, 6, {"sign-in": 2})
    assert summary.unmapped == (UnmappedCount("x.amazonaws.com", "Do", 4),)


def test_the_store_persists_between_openings(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "u.duckdb"
    with DuckDBUsageStore(path) as store:
        store.save([batch("k1", "1", hourly())])
    with DuckDBUsageStore(path) as store:
        assert store.versions(["k1"]) == {"k1": "1"}


def test_a_failed_save_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    with DuckDBUsageStore(tmp_path / "u.duckdb") as store:
        store.save([batch("k1", "1", hourly())])
        broken = StoredBatch("k1", "2", 1, BatchUsage(1, b"[not json\n", 1, {}, ()))
        with pytest.raises(UsageError, match=r"u\.duckdb: cannot write"):
            store.save([batch("k2", "1", hourly()), broken])
        assert store.versions(["k1", "k2"]) == {"k1": "1"}
        assert len(store.usage(UsageQuery(("k1", "k2")))) == 1


@pytest.mark.parametrize("content", [b"not a database at all", b"\x00" * 8192, b"DUCK" * 5000])
def test_a_corrupt_store_is_an_error_not_recreated(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "u.duckdb"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=r"u\.duckdb"):
        DuckDBUsageStore(path)
    assert path.read_bytes() == content


def test_a_store_of_another_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "u.duckdb"
    with DuckDBUsageStore(path):
        pass
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE store_meta SET value = '99' WHERE name = 'schema'")
    with pytest.raises(UsageError, match="schema 99"):
        DuckDBUsageStore(path)


def test_a_store_of_schema_1_says_what_it_lacks(tmp_path: Path) -> None:
    path = tmp_path / "u.duckdb"
    with DuckDBUsageStore(path):
        pass
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE store_meta SET value = '1' WHERE name = 'schema'")
    with pytest.raises(UsageError, match=r"older alpha .*without regions and source IPs.*delete"):
        DuckDBUsageStore(path)


def test_a_store_path_that_is_a_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="usage store"):
        DuckDBUsageStore(tmp_path)
