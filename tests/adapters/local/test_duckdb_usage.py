from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import msgspec
import pytest

from alpha.adapters.local.duckdb_usage import DuckDBUsageStore, spool_folder
from alpha.usage.aggregate import (
    BatchUsage,
    HourlyUsage,
    SourceIpCount,
    SourceIps,
    StoredBatch,
    UnmappedCount,
    UsageQuery,
    usage_rows,
)
from alpha.usage.errors import UsageError
from alpha.usage.ports import TimeWindow

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


@pytest.mark.parametrize("listed", ["names", "regions"])
def test_rows_naming_what_their_batch_did_not_list_are_refused(tmp_path: Path, listed: str) -> None:
    """Rows are joined to the names their batches list: one left out would drop the row."""
    with DuckDBUsageStore(tmp_path / "u.duckdb") as store:
        store.save([batch("k1", "1", hourly())])
        usage = batch("k2", "1", hourly(session="bob", region="eu-west-1")).usage
        kept = tuple(n for n in getattr(usage, listed) if n not in {"bob", "eu-west-1"})
        cut = replace(usage, names=kept) if listed == "names" else replace(usage, regions=kept)
        partial = StoredBatch("k2", "1", 1, cut)
        with pytest.raises(
            UsageError, match=r"1 of 1 rows name .* did not list; nothing was saved"
        ):
            store.save([partial])
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


def test_a_store_of_schema_2_is_refused_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "u.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE store_meta (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);"
            "INSERT INTO store_meta VALUES ('schema', '2');"
            "CREATE TABLE usage (batch INTEGER, principal VARCHAR, action VARCHAR);"
        )
    with pytest.raises(
        UsageError, match=r"older alpha \(schema 2, without the names table\).*delete"
    ):
        DuckDBUsageStore(path)
    with duckdb.connect(str(path)) as con:
        tables = {
            name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
    assert tables == {"store_meta", "usage"}


def test_rows_come_in_text_order_whatever_order_their_names_were_saved_in(tmp_path: Path) -> None:
    def row(principal: str, action: str, resource: str = "*") -> HourlyUsage:
        return HourlyUsage(principal, None, action, resource, 475_000, 1, 0, 1, 2, None)

    saved = [
        [row("b", "s3:PutObject"), row("é", "x"), row("B", "b")],
        [row("a", "s3:GetObject", "z"), row("b", "s3:GetObject"), row("a", "s3:GetObject", "Z")],
        [row("x", "a"), row("ab", "é"), row("a", "B")],
    ]
    with DuckDBUsageStore(tmp_path / "u.duckdb") as store:
        for n, rows in enumerate(saved):
            store.save([batch(f"k{n}", "1", *rows)])
        found = [
            (r.principal, r.action, r.resource) for r in store.usage(UsageQuery(("k0", "k1", "k2")))
        ]
    assert found == sorted((r.principal, r.action, r.resource) for rows in saved for r in rows)


def test_regions_past_the_bit_range_come_back_too(tmp_path: Path) -> None:
    regions = [f"r-{n:02d}" for n in range(70)]
    with DuckDBUsageStore(tmp_path / "u.duckdb") as store:
        store.save([batch("k1", "1", *(hourly("s3:GetObject", region=r) for r in regions))])
        store.save(
            [
                batch(
                    "k2",
                    "1",
                    hourly("s3:PutObject", region="r-69"),
                    hourly("s3:PutObject", region="r-03"),
                    hourly("s3:PutObject", region="r-69"),
                    hourly("kms:Decrypt", region="r-68"),
                    hourly("kms:Decrypt"),
                )
            ]
        )
        rows = store.usage(UsageQuery(("k1", "k2")))
    assert [(r.action, r.regions) for r in rows] == [
        ("kms:Decrypt", ("r-68",)),
        ("s3:GetObject", tuple(regions)),
        ("s3:PutObject", ("r-03", "r-69")),
    ]


def test_documents_are_the_rows_encoded(tmp_path: Path) -> None:
    odd = ODD + " \x01 \x7f \u2028 / <>&'"
    rows = [
        HourlyUsage(odd, odd, odd, odd, 475_000, 2**40, 3, 1_710_000_000, 1_710_000_100, odd),
        HourlyUsage(ROLE, "bob", "s3:GetObject", "*", 475_001, 1, 0, -5, 253_402_300_799, None),
        HourlyUsage(ROLE, "alice", "s3:GetObject", "*", 475_002, 0, 1, 7, 8, "us-east-1"),
    ]
    with DuckDBUsageStore(tmp_path / "u.duckdb") as store:
        store.save([batch("k1", "1", *rows)])
        query = UsageQuery(("k1",))
        documents = [d for part in store.usage_documents(query) for d in part]
        encoded = [msgspec.json.encode(row).decode() for row in store.usage(query)]
    assert documents == encoded
    assert len(documents) == 2
    assert '"sessions":["alice","bob"],"regions":["us-east-1"]' in documents[0]


def test_a_window_over_every_hour_reports_as_no_window(tmp_path: Path) -> None:
    def at(hour: int, action: str, session: str | None = None) -> HourlyUsage:
        start = hour * 3600
        return HourlyUsage(
            ROLE, session, action, "*", hour, 1, 0, start + 5, start + 9, "eu-west-1"
        )

    rows = [
        at(475_000, "s3:GetObject", "alice"),
        at(475_030, "s3:GetObject"),
        at(475_050, "sqs:Send"),
    ]
    everything = TimeWindow(
        datetime(2024, 3, 9, 16, tzinfo=UTC), datetime(2024, 3, 11, 19, tzinfo=UTC)
    )
    some = TimeWindow(datetime(2024, 3, 10, 22, 30, tzinfo=UTC), None)  # from hour 475_030
    with DuckDBUsageStore(tmp_path / "u.duckdb") as store:
        store.save([batch("k1", "1", *rows)])
        reports = {
            name: (
                store.usage(UsageQuery(("k1",), None, window)),
                [
                    d
                    for part in store.usage_documents(UsageQuery(("k1",), ROLE, window))
                    for d in part
                ],
                store.active_days(UsageQuery(("k1",), None, window)),
            )
            for name, window in (("none", TimeWindow()), ("all", everything), ("some", some))
        }
    assert reports["all"] == reports["none"]
    assert reports["none"][0] == usage_rows(rows)
    assert reports["some"][0] == usage_rows(rows[1:])
    assert reports["some"][2] == {ROLE: {"s3:GetObject": 1, "sqs:Send": 1}}


def test_a_principal_never_seen_has_no_rows(tmp_path: Path) -> None:
    with DuckDBUsageStore(tmp_path / "u.duckdb") as store:
        store.save([batch("k1", "1", hourly())])
        query = UsageQuery(("k1",), "arn:aws:iam::111122223333:role/none")
        assert store.usage(query) == []
        assert store.active_days(query) == {}
        assert store.usage(UsageQuery(("k1",), ROLE))[0].principal == ROLE


def test_row_files_go_to_the_ram_folder_only_with_room_to_spare(tmp_path: Path) -> None:
    assert spool_folder(1_000, tmp_path) == str(tmp_path)
    assert spool_folder(10**18, tmp_path) is None  # not twice that free: the temp folder
    assert spool_folder(1_000, tmp_path / "missing") is None
