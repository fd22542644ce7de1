"""The `UsageWriter` and `UsageReader` ports (together `UsageStore`), run against every
implementation: the DuckDB store (held open, or opened per call as the rollout's monitor does)
and the in-memory fake other packages test with."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
from alpha.adapters.local.shared_usage import SharedUsageStore
from alpha.usage.aggregate import (
    BatchUsage,
    HourlyUsage,
    RowFile,
    StoredBatch,
    StoredSummary,
    UnmappedCount,
    UsageOutline,
    UsageQuery,
    UsageRow,
    usage_rows,
)
from alpha.usage.errors import UsageError
from alpha.usage.ingest import ingest
from alpha.usage.people import PersonUse, person_uses
from alpha.usage.ports import TimeWindow, UsageStore
from alpha.usage.worker import TallyJob, default_interpreter, tally
from tests.fakes.cloudtrail_logs import SAMPLES, role_arn
from tests.fakes.memory_usage_store import MemoryUsageStore

APP, OTHER = role_arn("app"), role_arn("other")
HOUR = 475_000  # 2024-03-09T16:00Z, as an hour bucket
DAY = 24
STRATUS = SAMPLES / "stratus_detonation_logs"
PANTHER = SAMPLES / "panther_cloudtrail_test_events"
PASSWORD_ROLE = "arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role"
GET, PUT = "s3:GetObject", "s3:PutObject"


@pytest.fixture(params=["duckdb", "shared-duckdb", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UsageStore]:
    if request.param == "memory":
        yield MemoryUsageStore()
        return
    if request.param == "shared-duckdb":
        yield SharedUsageStore(tmp_path / "usage.duckdb")
        return
    with DuckDBUsageStore(tmp_path / "usage.duckdb") as opened:
        yield opened


def hourly(
    action: str = "s3:GetObject",
    *,
    principal: str = APP,
    hour: int = HOUR,
    used: int = 1,
    denied: int = 0,
    session: str | None = None,
    region: str | None = None,
    resource: str = "*",
    second: int = 0,
) -> HourlyUsage:
    start = hour * 3600 + second
    return HourlyUsage(
        principal, session, action, resource, hour, used, denied, start, start, region
    )


def stored(key: str, *rows: HourlyUsage, version: str = "1", events: int = 1) -> StoredBatch:
    usage = BatchUsage.of(
        events, rows, {"sign-in": 1}, (UnmappedCount("x.amazonaws.com", "Do", 1),)
    )
    return StoredBatch(key, version, 100, usage)


def at_hour(hour: int, minute: int = 0) -> datetime:
    return datetime.fromtimestamp(hour * 3600 + minute * 60, UTC)


def sample_batch(path: Path, spool: Path | None = None) -> StoredBatch:
    job = TallyJob(default_interpreter, spool=None if spool is None else str(spool))
    usage = tally(job, str(path), path.read_bytes()).usage
    assert usage is not None
    return StoredBatch(str(path), "1", path.stat().st_size, usage)


def documents(store: UsageStore, query: UsageQuery) -> list[str]:
    return [document for part in store.usage_documents(query) for document in part]


def test_a_new_store_holds_nothing(store: UsageStore) -> None:
    query = UsageQuery(("k1",))
    assert store.versions(["k1"]) == {}
    assert store.usage(query) == []
    assert store.active_days(query) == {}
    assert store.people(query) == []
    assert documents(store, query) == []
    assert store.summary(["k1"]) == StoredSummary(0, 0, {}, ())


def test_versions_are_those_saved_for_the_asked_keys(store: UsageStore) -> None:
    store.save([stored("k1", hourly(), version="a"), stored("k2", hourly(), version="b")])
    store.save([])
    assert store.versions(["k1", "k2", "k3"]) == {"k1": "a", "k2": "b"}
    assert store.versions(["k2"]) == {"k2": "b"}


def test_a_sample_log_reports_as_the_reference_fold(store: UsageStore) -> None:
    batches = [sample_batch(path) for path in sorted(STRATUS.glob("*.json"))]
    store.save(batches)
    keys = tuple(batch.key for batch in batches)
    expected = usage_rows(row for batch in batches for row in batch.usage.hourly())
    assert store.usage(UsageQuery(keys)) == expected
    assert store.summary(keys).events == 310
    window = TimeWindow(
        datetime(2024, 7, 30, 21, tzinfo=UTC), datetime(2024, 7, 30, 22, tzinfo=UTC)
    )
    denied = store.usage(UsageQuery(keys, PASSWORD_ROLE, window))
    assert (sum(r.count for r in denied), sum(r.denied for r in denied)) == (0, 30)


def test_report_rows_fold_hours_sessions_and_regions(store: UsageStore) -> None:
    odd = 'arn:aws:s3:::a/é "q"'
    store.save(
        [
            stored("k1", hourly(session="bob", region="us-east-1", second=5)),
            stored(
                "k2",
                hourly(hour=HOUR + 2, used=2, denied=1, session="alice", region="eu-west-1"),
                hourly(hour=HOUR + 3, session="bob", second=7),
                hourly(PUT, principal=OTHER),
                hourly(resource=odd),
            ),
        ]
    )
    start = at_hour(HOUR)
    assert store.usage(UsageQuery(("k1", "k2"))) == [
        UsageRow(
            APP,
            GET,
            "*",
            count=4,
            denied=1,
            first_seen=start + timedelta(seconds=5),
            last_seen=at_hour(HOUR + 3) + timedelta(seconds=7),
            sessions=("alice", "bob"),
            regions=("eu-west-1", "us-east-1"),
        ),
        UsageRow(APP, GET, odd, 1, 0, start, start, (), ()),
        UsageRow(OTHER, PUT, "*", 1, 0, start, start, (), ()),
    ]


@pytest.mark.parametrize(
    ("keys", "principal", "window", "expected"),
    [
        (("k1", "k2"), None, (None, None), [(APP, GET), (APP, PUT), (OTHER, GET)]),
        (("k1",), None, (None, None), [(APP, GET)]),
        (("k2", "k2", "nowhere"), None, (None, None), [(APP, PUT), (OTHER, GET)]),
        (("k1", "k2"), OTHER, (None, None), [(OTHER, GET)]),
        (("k1", "k2"), None, (at_hour(HOUR + 1), None), [(APP, PUT), (OTHER, GET)]),
        (("k1", "k2"), None, (None, at_hour(HOUR + 1)), [(APP, GET)]),
        (("k1", "k2"), APP, (at_hour(HOUR + 1), at_hour(HOUR + 2)), [(APP, PUT)]),
        (("k1", "k2"), None, (at_hour(HOUR + 3), None), []),
        # A window inside an hour selects the whole hour.
        (("k1", "k2"), None, (at_hour(HOUR + 1, 30), at_hour(HOUR + 1, 40)), [(APP, PUT)]),
    ],
    ids=[
        "everything",
        "one batch",
        "repeated and unknown keys",
        "one principal",
        "since",
        "until",
        "principal and window",
        "after the rows",
        "inside an hour",
    ],
)
def test_a_query_selects_batches_a_principal_and_whole_hours(
    store: UsageStore,
    keys: tuple[str, ...],
    principal: str | None,
    window: tuple[datetime | None, datetime | None],
    expected: list[tuple[str, str]],
) -> None:
    store.save(
        [
            stored("k1", hourly(GET, hour=HOUR)),
            stored("k2", hourly(PUT, hour=HOUR + 1), hourly(GET, principal=OTHER, hour=HOUR + 2)),
        ]
    )
    rows = store.usage(UsageQuery(keys, principal, TimeWindow(*window)))
    assert [(r.principal, r.action) for r in rows] == expected


def test_active_days_count_distinct_utc_days_with_an_allowed_call(store: UsageStore) -> None:
    midnight = HOUR - HOUR % DAY
    store.save(
        [
            stored(
                "k1", hourly(hour=midnight), hourly(hour=midnight + 23), hourly(PUT, hour=midnight)
            ),
            stored(
                "k2",
                hourly(hour=midnight + DAY),
                hourly(hour=midnight + 2 * DAY, used=0, denied=3),
                hourly(PUT, principal=OTHER, hour=midnight + 3 * DAY, used=0, denied=1),
            ),
            stored("k3", hourly(hour=midnight + 5 * DAY)),
        ]
    )
    # Two hours of one day are one day; a day with denied calls only is none; k3 not asked.
    assert store.active_days(UsageQuery(("k1", "k2"))) == {APP: {GET: 2, PUT: 1}}
    window = TimeWindow(at_hour(midnight + 1), None)
    assert store.active_days(UsageQuery(("k1", "k2", "k3"), APP, window)) == {APP: {GET: 3}}


def test_people_fold_per_principal_person_and_action(store: UsageStore) -> None:
    store.save(
        [
            stored(
                "k1",
                hourly(session="bob", second=5),
                hourly(session="bob", hour=HOUR + 1, used=2, denied=1, region="us-east-1"),
                hourly(PUT, session="ann", second=9),
                hourly(PUT),  # a workload's calls name no person
            ),
            stored("k2", hourly(session="ann", principal=OTHER, hour=HOUR + 3)),
        ]
    )
    keys = ("k1", "k2")
    at = datetime.fromtimestamp
    assert store.people(UsageQuery(keys)) == [
        PersonUse(APP, "ann", PUT, 1, 0, at(HOUR * 3600 + 9, UTC), at(HOUR * 3600 + 9, UTC)),
        PersonUse(APP, "bob", GET, 3, 1, at(HOUR * 3600 + 5, UTC), at(HOUR * 3600 + 3600, UTC)),
        PersonUse(OTHER, "ann", GET, 1, 0, at_hour(HOUR + 3), at_hour(HOUR + 3)),
    ]
    one_hour = TimeWindow(at_hour(HOUR + 1), at_hour(HOUR + 2))
    assert [(u.person, u.calls) for u in store.people(UsageQuery(keys, APP, one_hour))] == [
        ("bob", 2)
    ]
    # real IAM Identity Center sessions (and one SAML e-mail session)
    sample = [sample_batch(path) for path in sorted(PANTHER.glob("*.json"))]
    store.save(sample)
    sample_keys = tuple(batch.key for batch in sample)
    expected = person_uses(row for batch in sample for row in batch.usage.hourly())
    assert store.people(UsageQuery(sample_keys)) == expected
    assert {u.person for u in expected} >= {"bob.ross", "evil.genius", "ryan@example.com"}


THIRD = role_arn("third")


def _three_principals(store: UsageStore) -> None:
    store.save(
        [
            stored("k1", hourly(GET, hour=HOUR, second=9), hourly(PUT, hour=HOUR + 1)),
            stored(
                "k2",
                hourly(GET, principal=OTHER, hour=HOUR + 2, used=0, denied=2),
                hourly(PUT, principal=THIRD, hour=HOUR + 4, second=30),
                hourly(GET, principal=THIRD, hour=HOUR + 4, session="bob"),
            ),
        ]
    )


@pytest.mark.parametrize(
    ("among", "expected"),
    [
        ({APP, THIRD}, [(APP, GET), (APP, PUT), (THIRD, GET), (THIRD, PUT)]),
        ({OTHER}, [(OTHER, GET)]),
        ({OTHER, "arn:aws:iam::1:role/nobody"}, [(OTHER, GET)]),
        (set(), []),
    ],
    ids=["two of three", "one", "one and an unknown", "none"],
)
def test_a_query_over_a_set_of_principals_reads_only_theirs(
    store: UsageStore, among: set[str], expected: list[tuple[str, str]]
) -> None:
    _three_principals(store)
    query = UsageQuery(("k1", "k2")).among(frozenset(among))
    rows = store.usage(query)
    assert [(r.principal, r.action) for r in rows] == expected
    assert rows == [r for r in store.usage(UsageQuery(("k1", "k2"))) if r.principal in among]
    assert documents(store, query) == [msgspec.json.encode(r).decode() for r in rows]
    allowed = {p for p, _ in expected} - {OTHER}  # OTHER's calls were all refused
    assert set(store.active_days(query)) == allowed


def test_the_outline_names_who_used_what_and_when_in_little(store: UsageStore) -> None:
    _three_principals(store)
    outline = store.outline(UsageQuery(("k1", "k2")))
    assert outline.principals == ((APP, 2), (OTHER, 1), (THIRD, 2))  # sorted, stored rows
    assert outline.actions == {GET, PUT}
    assert outline.first_seen == at_hour(HOUR) + timedelta(seconds=9)
    assert outline.last_seen == at_hour(HOUR + 4) + timedelta(seconds=30)
    narrowed = store.outline(UsageQuery(("k2",), window=TimeWindow(at_hour(HOUR + 3), None)))
    assert narrowed.principals == ((THIRD, 2),)
    among = store.outline(UsageQuery(("k1", "k2")).among(frozenset({OTHER})))
    assert (among.principals, among.actions) == (((OTHER, 1),), frozenset({GET}))
    empty = store.outline(UsageQuery(("nowhere",)))
    assert empty == UsageOutline((), frozenset(), None, None)


def test_documents_are_the_report_rows_as_json(store: UsageStore) -> None:
    store.save(
        [
            stored(
                "k1",
                hourly(session="bob", region="us-east-1"),
                hourly(PUT, principal=OTHER, resource='arn:aws:s3:::b/odd "key",\n é'),
            )
        ]
    )
    query = UsageQuery(("k1",))
    found = documents(store, query)
    assert msgspec.json.decode(f"[{','.join(found)}]", type=list[UsageRow]) == store.usage(query)
    assert '"first_seen":"2024-03-09T16:00:00Z"' in found[0]


def test_saving_a_key_again_replaces_its_rows_and_counts(store: UsageStore) -> None:
    store.save([stored("k1", hourly(GET), events=4), stored("k2", hourly(GET, principal=OTHER))])
    store.save([stored("k1", hourly(PUT), version="2", events=7)])
    assert store.versions(["k1", "k2"]) == {"k1": "2", "k2": "1"}
    assert [(r.principal, r.action) for r in store.usage(UsageQuery(("k1", "k2")))] == [
        (APP, PUT),
        (OTHER, GET),
    ]
    assert store.summary(["k1", "k2"]) == StoredSummary(
        files=2,
        events=8,
        skipped={"sign-in": 2},
        unmapped=(UnmappedCount("x.amazonaws.com", "Do", 2),),
    )


def test_a_summary_counts_each_stored_key_once(store: UsageStore) -> None:
    one = stored("k1", hourly(), events=3)
    other = replace(
        stored("k2", hourly(), events=5),
        usage=BatchUsage.of(
            5,
            [hourly()],
            {"sign-in": 2, "bad eventTime": 1},
            (UnmappedCount("y.amazonaws.com", "Go", 4), UnmappedCount("x.amazonaws.com", "Do", 1)),
        ),
    )
    store.save([one, other])
    summary = store.summary(["k1", "k1", "k2", "missing"])
    assert (summary.files, summary.events) == (2, 8)
    assert dict(summary.skipped) == {"bad eventTime": 1, "sign-in": 3}
    assert summary.unmapped == (  # most frequent first
        UnmappedCount("y.amazonaws.com", "Go", 4),
        UnmappedCount("x.amazonaws.com", "Do", 2),
    )


def test_rows_from_a_row_file_stay_when_the_file_is_gone(store: UsageStore, tmp_path: Path) -> None:
    path = STRATUS / "aws.credential-access.ec2-get-password-data.json"
    spooled = sample_batch(path, spool=tmp_path)
    assert isinstance(spooled.usage.rows, RowFile)
    expected = usage_rows(spooled.usage.hourly())
    store.save([spooled])
    Path(spooled.usage.rows.path).unlink()
    assert store.usage(UsageQuery((spooled.key,))) == expected
    assert len(expected) > 1


def test_a_failed_save_stores_none_of_its_batches(store: UsageStore, tmp_path: Path) -> None:
    store.save([stored("k1", hourly(GET))])
    gone = RowFile(str(tmp_path / "deleted-before-the-save.ndjson"))
    broken = StoredBatch("k1", "2", 1, replace(stored("k1", hourly(PUT)).usage, rows=gone))
    with pytest.raises(UsageError, match="cannot write"):
        store.save([stored("k2", hourly(GET)), broken])
    assert store.versions(["k1", "k2"]) == {"k1": "1"}
    assert [r.action for r in store.usage(UsageQuery(("k1", "k2")))] == [GET]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_ingest_writes_a_folder_of_logs_through_it(store: UsageStore, workers: int) -> None:
    from alpha.adapters.local.cloudtrail_files import LocalCloudTrailFiles

    report = ingest([LocalCloudTrailFiles(STRATUS)], store, TimeWindow(), workers=workers)
    assert store.summary(report.keys).events == 310
    again = ingest([LocalCloudTrailFiles(STRATUS)], store, TimeWindow(), workers=workers)
    assert again.batches_read == 0  # every batch already stored at its version
