from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest

from alpha.adapters.local.cloudtrail_files import LocalCloudTrailFiles
from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
from alpha.usage.aggregate import UsageQuery, UsageRow
from alpha.usage.errors import UsageError
from alpha.usage.ingest import IngestReport, ingest, summarize
from alpha.usage.ports import LogBatch, TimeWindow, UsageSource, WorkerReadableSource
from alpha.usage.reader import SkipReason
from tests.fakes.cloudtrail_logs import (
    SAMPLE_RECORDS,
    SAMPLES,
    delivery_folder,
    record,
    role_arn,
    write_log,
)
from tests.fakes.memory_usage_source import MemoryUsageSource
from tests.usage.hostile import MIB, gzip_bomb, with_field


def run(
    store: DuckDBUsageStore, *paths: Path, strict: bool = False, workers: int = 1
) -> IngestReport:
    sources = [LocalCloudTrailFiles(p) for p in paths]
    return ingest(sources, store, TimeWindow(), strict=strict, workers=workers)


def rows(store: DuckDBUsageStore, report: IngestReport, **query: Any) -> list[UsageRow]:
    return store.usage(UsageQuery(report.keys, **query))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBUsageStore]:
    with DuckDBUsageStore(tmp_path / "store" / "usage.duckdb") as opened:
        yield opened


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = delivery_folder(tmp_path / "trail", "2024-03-10")
    write_log(
        folder / "a.json.gz", [record("GetObject"), record("PutObject", error="AccessDenied")]
    )
    write_log(folder / "b.json", [record("GetObject", role="worker")], fmt="array")
    return tmp_path / "trail"


@pytest.mark.parametrize("workers", [1, 2])
def test_every_sample_record_is_ingested(store: DuckDBUsageStore, workers: int) -> None:
    report = run(store, SAMPLES, workers=workers)
    summary = summarize(store.summary(report.keys), report)
    assert summary.events == summary.events_read == SAMPLE_RECORDS
    assert summary.files == 223
    assert not report.failed
    assert rows(store, report)


def test_the_two_paths_store_the_same(tmp_path: Path) -> None:
    found = []
    for workers in (1, 2):
        with DuckDBUsageStore(tmp_path / f"{workers}.duckdb") as store:
            report = run(store, SAMPLES / "invictus_aws_dataset", workers=workers)
            found.append(rows(store, report))
    assert found[0] == found[1]


def test_a_second_run_reads_nothing_and_reports_the_same(
    store: DuckDBUsageStore, logs: Path
) -> None:
    first = run(store, logs)
    second = run(store, logs)
    assert (first.events_read, second.events_read) == (3, 0)
    assert second.batches_read == 0
    assert rows(store, first) == rows(store, second)
    assert summarize(store.summary(second.keys), second).events == 3


def test_a_changed_file_is_read_again_and_replaces_its_rows(
    store: DuckDBUsageStore, logs: Path
) -> None:
    run(store, logs)
    changed = next(logs.rglob("b.json"))
    write_log(changed, [record("DeleteObject", role="worker")] * 2, fmt="lines")
    os.utime(changed, ns=(1, changed.stat().st_mtime_ns + 10**9))
    report = run(store, logs)
    assert (report.batches_read, report.events_read) == (1, 2)
    worker = rows(store, report, principal=role_arn("worker"))
    assert [(r.action, r.count) for r in worker] == [("s3:DeleteObject", 2)]


def test_rows_cover_exactly_the_given_sources(
    store: DuckDBUsageStore, logs: Path, tmp_path: Path
) -> None:
    other = delivery_folder(tmp_path / "other", "2024-03-11")
    write_log(other / "c.json", [record("ListBuckets", role="admin")])
    run(store, logs)
    run(store, tmp_path / "other")
    only_logs = run(store, logs)
    assert {r.principal for r in rows(store, only_logs)} == {role_arn("app"), role_arn("worker")}
    both = run(store, logs, tmp_path / "other")
    assert both.events_read == 0
    assert {r.principal for r in rows(store, both)} == {
        role_arn("app"),
        role_arn("worker"),
        role_arn("admin"),
    }
    assert summarize(store.summary(both.keys), both).events == 4


def test_denied_calls_are_counted_apart(store: DuckDBUsageStore, logs: Path) -> None:
    report = run(store, logs)
    app = {r.action: (r.count, r.denied) for r in rows(store, report, principal=role_arn())}
    assert app == {"s3:GetObject": (1, 0), "s3:PutObject": (0, 1)}


def test_time_filters_select_hours(store: DuckDBUsageStore, tmp_path: Path) -> None:
    folder = delivery_folder(tmp_path / "t", "2024-03-10")
    times = ["2024-03-09T23:59:00Z", "2024-03-10T08:15:00Z", "2024-03-10T17:45:00Z"]
    write_log(folder / "x.json", [record(time=t) for t in times])
    report = run(store, tmp_path / "t")

    def seen(since: datetime | None, until: datetime | None) -> tuple[int, ...]:
        window = TimeWindow(since, until)
        return tuple(r.count for r in rows(store, report, window=window))

    assert seen(None, None) == (3,)
    assert seen(datetime(2024, 3, 10, tzinfo=UTC), None) == (2,)
    assert seen(datetime(2024, 3, 10, 8, 30, tzinfo=UTC), None) == (2,)  # whole hours
    assert seen(None, datetime(2024, 3, 10, 9, tzinfo=UTC)) == (2,)
    assert seen(datetime(2024, 3, 11, tzinfo=UTC), None) == ()
    [row] = rows(store, report, window=TimeWindow(datetime(2024, 3, 10, tzinfo=UTC)))
    assert row.first_seen == datetime(2024, 3, 10, 8, 15, tzinfo=UTC)


def _corrupt_gzip(path: Path) -> None:
    path.write_bytes(gzip.compress(path.read_bytes())[:20] + b"junk")


def _truncate(path: Path) -> None:
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-40]))


def _binary(path: Path) -> None:
    path.write_bytes(os.urandom(2000))


def _not_cloudtrail(path: Path) -> None:
    path.write_text('{"hello": ["world"]}')


def _empty(path: Path) -> None:
    path.write_bytes(b"")


BREAKAGES = {
    "corrupt-gzip": (_corrupt_gzip, SkipReason.CORRUPT_GZIP),
    "truncated": (_truncate, SkipReason.TRUNCATED),
    "binary-junk": (_binary, SkipReason.NOT_JSON),
    "not-cloudtrail": (_not_cloudtrail, SkipReason.NOT_CLOUDTRAIL),
    "empty": (_empty, SkipReason.EMPTY_FILE),
}


@pytest.mark.parametrize(("breakage", "reason"), BREAKAGES.values(), ids=BREAKAGES.keys())
def test_a_bad_file_is_skipped_the_run_goes_on_and_the_store_is_untouched(
    store: DuckDBUsageStore, logs: Path, breakage: Callable[[Path], object], reason: SkipReason
) -> None:
    first = run(store, logs)
    before = rows(store, first)
    broken = next(logs.rglob("a.json.gz"))
    breakage(broken)
    write_log(broken.parent / "new.json", [record("ListBuckets", role="new")])
    report = run(store, logs)
    assert [(p.file, p.reason) for p in report.problems] == [(str(broken.resolve()), reason)]
    after = rows(store, report)
    # The broken file's earlier rows are kept; the new file was read despite it.
    assert set(before) < set(after)
    assert {r.principal for r in after} - {r.principal for r in before} == {role_arn("new")}
    summary = summarize(store.summary(report.keys), report)
    assert summary.skipped[reason] == 1
    with pytest.raises(UsageError, match=r"a\.json\.gz"):
        run(store, logs, strict=True)


def test_bad_records_are_counted_and_stored_with_their_file(
    store: DuckDBUsageStore, tmp_path: Path
) -> None:
    folder = delivery_folder(tmp_path / "t", "2024-03-10")
    no_time = record()
    del no_time["eventTime"]
    junk: Any = "junk"  # not a record at all, as a damaged log may hold
    write_log(folder / "x.json", [record(), record(eventName=7), no_time, junk])
    report = run(store, tmp_path / "t")
    again = run(store, tmp_path / "t")
    summary = summarize(store.summary(again.keys), again)
    assert summary.events == 4
    assert summary.skipped == {
        "missing eventTime": 1,
        SkipReason.NOT_A_RECORD: 1,
        SkipReason.WRONG_TYPE: 1,
    }
    assert len(report.problems) == 2
    with (
        DuckDBUsageStore(tmp_path / "fresh.duckdb") as fresh,
        pytest.raises(UsageError, match=r"x\.json: record 1"),
    ):
        run(fresh, tmp_path / "t" / "AWSLogs", strict=True)


def test_a_run_describes_a_thousand_skipped_records_and_counts_the_rest(
    store: DuckDBUsageStore, tmp_path: Path
) -> None:
    """Each file describes its first 100 skipped records, a run its first 1,000; every one is
    still counted by reason, and a file that could not be read is always named."""
    folder = delivery_folder(tmp_path / "t", "2024-03-10")
    not_records: list[Any] = [1] * 150  # as a damaged log may hold
    for n in range(12):
        write_log(folder / f"f{n:02}.json", [record(), *not_records])
    (folder / "zz.json.gz").write_bytes(b"\x1f\x8bnot gzip")
    report = run(store, tmp_path / "t")
    summary = summarize(store.summary(report.keys), report)
    assert summary.skipped[SkipReason.NOT_A_RECORD] == 12 * 150
    records = [p for p in report.problems if p.record is not None]
    assert len(records) == 1_000
    assert report.unlisted == 12 * 150 - 1_000
    assert [p.reason for p in report.failed_files()] == [SkipReason.CORRUPT_GZIP]


def test_a_record_the_interpretation_rejects_fails_a_strict_run(
    tmp_path: Path, store: DuckDBUsageStore
) -> None:
    no_time = record()
    del no_time["eventTime"]
    write_log(tmp_path / "x.json", [record(), no_time])
    with pytest.raises(UsageError, match=r"x\.json: record 1: missing eventTime"):
        run(store, tmp_path / "x.json", strict=True)


def test_an_empty_folder_is_reported(store: DuckDBUsageStore, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    report = run(store, tmp_path / "empty")
    [problem] = report.problems
    assert problem.reason == SkipReason.NO_LOG_FILES
    assert summarize(store.summary(report.keys), report).files == 0
    with pytest.raises(UsageError, match="empty"):
        run(store, tmp_path / "empty", strict=True)


class WorkerMemorySource(MemoryUsageSource):
    """Read by the worker processes themselves (as local files are)."""

    reads_in_worker: ClassVar[Literal[True]] = True


def flaky(kind: type[MemoryUsageSource] = MemoryUsageSource) -> MemoryUsageSource:
    """A source that lists two logs and cannot read the second."""
    source = kind("flaky", unreadable={"flaky/gone"})
    source.put("flaky/good", [record()])
    source.put("flaky/gone", [record()])
    return source


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("kind", [MemoryUsageSource, WorkerMemorySource])
def test_an_unreadable_batch_is_skipped(
    store: DuckDBUsageStore, workers: int, kind: type[MemoryUsageSource]
) -> None:
    report = ingest([flaky(kind)], store, TimeWindow(), workers=workers)
    assert [(p.file, p.reason) for p in report.problems] == [("flaky/gone", SkipReason.UNREADABLE)]
    assert report.events_read == 1
    [good] = [b for b in flaky().batches(TimeWindow()) if b.key == "flaky/good"]
    assert store.versions(["flaky/good", "flaky/gone"]) == {"flaky/good": good.version}
    with pytest.raises(UsageError, match="flaky/gone: unreadable file"):
        ingest([flaky(kind)], store, TimeWindow(), strict=True, workers=workers)


def test_local_files_are_read_by_the_workers_others_by_the_parent(tmp_path: Path) -> None:
    assert isinstance(LocalCloudTrailFiles(tmp_path), WorkerReadableSource)
    assert isinstance(WorkerMemorySource(), WorkerReadableSource)
    assert not isinstance(flaky(), WorkerReadableSource)


def test_the_sample_tree_copied_twice_counts_each_file(
    store: DuckDBUsageStore, tmp_path: Path
) -> None:
    shutil.copytree(SAMPLES / "stratus_detonation_logs", tmp_path / "one")
    shutil.copytree(SAMPLES / "stratus_detonation_logs", tmp_path / "two")
    report = run(store, tmp_path / "one", tmp_path / "two", tmp_path / "one")
    assert summarize(store.summary(report.keys), report).events == 2 * 310


def test_strict_stops_a_parallel_run_and_keeps_what_was_saved(
    store: DuckDBUsageStore, tmp_path: Path
) -> None:
    folder = delivery_folder(tmp_path / "t", "2024-03-10")
    for n in range(6):
        write_log(folder / f"{n}.json", [record(role=f"r{n}")])
    (folder / "3.json").write_bytes(b"\x00junk")
    with pytest.raises(UsageError, match=r"3\.json: not JSON"):
        run(store, tmp_path / "t", strict=True, workers=2)
    report = run(store, tmp_path / "t", workers=2)
    assert {r.principal for r in rows(store, report)} == {
        role_arn(f"r{n}") for n in (0, 1, 2, 4, 5)
    }


def test_saving_in_many_small_groups_stores_the_same(tmp_path: Path) -> None:
    source = [LocalCloudTrailFiles(SAMPLES / "stratus_detonation_logs")]
    found = []
    for flush_rows in (1, 1_000_000):
        with DuckDBUsageStore(tmp_path / f"{flush_rows}.duckdb") as store:
            report = ingest(source, store, TimeWindow(), workers=2, flush_rows=flush_rows)
            found.append((rows(store, report), store.summary(report.keys)))
    assert found[0] == found[1]
    assert found[0][1].events == 310


def test_gzipped_and_json_lines_copies_store_the_same_as_the_originals(tmp_path: Path) -> None:
    originals = sorted((SAMPLES / "invictus_aws_dataset").glob("*.json"))
    folder = delivery_folder(tmp_path / "packed", "2023-07-10", region="us-east-1")
    for path in originals[1:]:
        (folder / f"{path.name}.gz").write_bytes(gzip.compress(path.read_bytes()))
    records = json.loads(originals[0].read_bytes())["Records"]
    write_log(folder / "first.jsonl", records, fmt="lines")
    found = []
    for name, root in (
        ("plain", SAMPLES / "invictus_aws_dataset"),
        ("packed", tmp_path / "packed"),
    ):
        with DuckDBUsageStore(tmp_path / f"{name}.duckdb") as store:
            report = run(store, root, workers=2)
            assert report.events_read == 2900
            found.append(rows(store, report))
    assert found[0] == found[1]


def test_results_come_in_listing_order_across_task_kinds(tmp_path: Path) -> None:
    """Local files go to workers several to a task, other sources' bytes one to a task, and
    unreadable batches never reach a worker: the run still takes them in listing order."""
    for name, junk in (("a", {2, 9}), ("b", {1})):
        folder = delivery_folder(tmp_path / name, "2024-03-10")
        for n in range(10 if name == "a" else 3):
            path = write_log(folder / f"{n}.json", [record(role=f"{name}{n}")])
            if n in junk:
                path.write_bytes(b"\x00junk")
    sources: list[UsageSource] = [
        LocalCloudTrailFiles(tmp_path / "a"),
        flaky(),
        LocalCloudTrailFiles(tmp_path / "b"),
    ]
    found = []
    for workers in (1, 2):
        with DuckDBUsageStore(tmp_path / f"{workers}.duckdb") as store:
            report = ingest(sources, store, TimeWindow(), workers=workers)
            found.append(
                ([(Path(p.file).name, p.reason) for p in report.problems], rows(store, report))
            )
    assert found[0] == found[1]
    assert [name for name, _ in found[1][0]] == ["2.json", "9.json", "gone", "1.json"]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_gzip_bomb_and_a_2_gb_line_are_refused_and_the_rest_read(
    store: DuckDBUsageStore, tmp_path: Path, workers: int
) -> None:
    """A 6 MB gzip of 6 GB, and a 2 GB file of one line: each refused with its reason (the bomb
    gunzipped only up to the limit, the 2 GB file never read), the good file stored."""
    folder = delivery_folder(tmp_path / "t", "2024-03-10")
    write_log(folder / "good.json", [record()])
    (folder / "bomb.json.gz").write_bytes(gzip_bomb(6 * 1024))
    with (folder / "line.json").open("wb") as line:
        line.write(b'{"Records": [{"eventName": "')
        line.truncate(2 << 30)  # sparse: 2 GB listed, none of it written
    report = run(store, tmp_path / "t", workers=workers)
    found = sorted((Path(p.file).name, p.reason, p.record) for p in report.problems)
    assert found == [
        ("bomb.json.gz", SkipReason.TOO_LARGE, None),
        ("line.json", SkipReason.TOO_LARGE, None),
    ]
    assert report.events_read == 1
    assert {r.principal for r in rows(store, report)} == {role_arn()}
    with pytest.raises(UsageError, match=r"(bomb\.json\.gz|line\.json): file too large"):
        run(store, tmp_path / "t", strict=True)


class Swollen(MemoryUsageSource):
    """Lists `swollen/big` as 2 GB, and fails the test if that batch is read anyway."""

    def batches(self, window: TimeWindow) -> Iterator[LogBatch]:
        for batch in super().batches(window):
            yield replace(batch, size=2 << 30) if batch.key == "swollen/big" else batch

    def read(self, batch: LogBatch) -> bytes:
        assert batch.key != "swollen/big", "a batch listed over the size limit was read"
        return super().read(batch)


class SwollenInWorkers(Swollen):
    reads_in_worker: ClassVar[Literal[True]] = True


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("kind", [Swollen, SwollenInWorkers])
def test_a_batch_listed_over_the_size_limit_is_refused_unread(
    store: DuckDBUsageStore, workers: int, kind: type[Swollen]
) -> None:
    source = kind("swollen")
    source.put("swollen/big", [record()])
    source.put("swollen/good", [record()])
    report = ingest([source], store, TimeWindow(), workers=workers)
    [problem] = report.problems
    assert (problem.file, problem.reason) == ("swollen/big", SkipReason.TOO_LARGE)
    assert problem.detail == f"{2 << 30:,} bytes, over the limit of {256 * MIB:,}"
    assert report.events_read == 1
    with pytest.raises(UsageError, match="swollen/big: file too large"):
        ingest([source], store, TimeWindow(), strict=True, workers=workers)


def test_a_record_with_a_40_mb_field_is_skipped_and_the_rest_stored(
    store: DuckDBUsageStore, tmp_path: Path
) -> None:
    """It once failed the whole ingest: the store reads rows of at most 16 MB."""
    folder = delivery_folder(tmp_path / "t", "2024-03-10")
    write_log(folder / "x.json", [record(), with_field(40 * MIB), record(role="other")])
    report = run(store, tmp_path / "t")
    [problem] = report.problems
    assert (problem.reason, problem.record) == (SkipReason.RECORD_TOO_LARGE, 1)
    summary = summarize(store.summary(report.keys), report)
    assert (summary.events, summary.skipped) == (3, {SkipReason.RECORD_TOO_LARGE: 1})
    assert {r.principal for r in rows(store, report)} == {role_arn(), role_arn("other")}
