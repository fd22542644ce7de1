from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from alpha.adapters.local.cloudtrail_files import LocalCloudTrailFiles
from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
from alpha.usage.aggregate import BatchUsage, RowFile, StoredBatch, UsageQuery
from alpha.usage.errors import UsageError
from alpha.usage.ingest import ingest
from alpha.usage.ports import RowFileStore, TimeWindow
from alpha.usage.worker import Outcome, TallyJob, default_interpreter, spooled, tally
from tests.fakes.cloudtrail_logs import SAMPLES, delivery_folder, record, write_log
from tests.fakes.memory_usage_store import MemoryUsageStore


def sample_usage() -> BatchUsage:
    data = (SAMPLES / "stratus_detonation_logs").rglob("*.json")
    outcome = tally(TallyJob(default_interpreter), "f.json", next(iter(data)).read_bytes())
    assert outcome.usage is not None
    assert outcome.usage.row_count
    return outcome.usage


def test_spooled_rows_are_files_that_read_back_the_same(tmp_path: Path) -> None:
    usage = sample_usage()
    found = spooled(Outcome(usage, ()), str(tmp_path)).usage
    assert found is not None
    assert isinstance(found.rows, RowFile)
    assert isinstance(found.source_ips, RowFile)
    assert {Path(found.rows.path).parent, Path(found.source_ips.path).parent} == {tmp_path}
    assert found.hourly() == usage.hourly()
    assert found.ip_counts() == usage.ip_counts()
    assert (found.events, found.row_count, found.skipped) == (
        usage.events,
        usage.row_count,
        usage.skipped,
    )


def test_without_a_spool_or_rows_nothing_is_written(tmp_path: Path) -> None:
    usage = sample_usage()
    assert spooled(Outcome(usage, ()), None).usage is usage
    assert spooled(Outcome(None, ()), str(tmp_path)).usage is None
    empty = BatchUsage(3, b"", 0, {"no-principal": 3}, ())
    assert spooled(Outcome(empty, ()), str(tmp_path)).usage == empty
    assert list(tmp_path.iterdir()) == []


def test_a_spool_that_cannot_be_written_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    with pytest.raises(UsageError, match=f"{missing}: cannot write rows for the store"):
        tally(TallyJob(default_interpreter, spool=str(missing)), "f.json", sample_bytes())


def sample_bytes() -> bytes:
    return json.dumps({"Records": [record("GetObject")]}).encode()


class WatchedStore(DuckDBUsageStore):
    """Spools under a folder of the test's own and notes what each save was given."""

    def __init__(self, path: Path, spool: Path) -> None:
        super().__init__(path)
        self.spool = spool
        self.saves: list[list[StoredBatch]] = []
        self.gone_before: list[bool] = []

    def spool_base(self, needed: int) -> str:
        return str(self.spool)

    def save(self, batches: Sequence[StoredBatch]) -> None:
        earlier = [p for group in self.saves for b in group for p in _paths(b)]
        self.gone_before.append(not any(Path(p).exists() for p in earlier))
        self.saves.append(list(batches))
        super().save(batches)


def _paths(batch: StoredBatch) -> list[str]:
    return [d.path for d in (batch.usage.rows, batch.usage.source_ips) if isinstance(d, RowFile)]


def logs(root: Path, files: int = 6) -> Path:
    folder = delivery_folder(root, "2024-03-10")
    for n in range(files):
        write_log(folder / f"{n}.json", [record(role=f"r{n}"), record("PutObject", role="x")])
    return root


def test_workers_spool_rows_that_the_store_loads_and_each_save_deletes(tmp_path: Path) -> None:
    (tmp_path / "spool").mkdir()
    source = [LocalCloudTrailFiles(logs(tmp_path / "t"))]
    with WatchedStore(tmp_path / "a.duckdb", tmp_path / "spool") as store:
        report = ingest(source, store, TimeWindow(), workers=2, flush_rows=2)
        spooled_rows = store.usage(UsageQuery(report.keys))
        saves = store.saves
        assert store.gone_before == [True] * len(saves)  # a save's files go before the next
    assert len(saves) > 1
    assert all(isinstance(b.usage.rows, RowFile) for group in saves for b in group)
    assert list((tmp_path / "spool").iterdir()) == []  # the run's folder is gone
    with DuckDBUsageStore(tmp_path / "b.duckdb") as plain:
        report = ingest(source, plain, TimeWindow(), workers=1)
        assert plain.usage(UsageQuery(report.keys)) == spooled_rows
    assert len(spooled_rows) == 7


def test_a_failed_parallel_run_leaves_no_spooled_rows(tmp_path: Path) -> None:
    (tmp_path / "spool").mkdir()
    root = logs(tmp_path / "t")
    (delivery_folder(root, "2024-03-10") / "3.json").write_bytes(b"\x00junk")
    with (
        WatchedStore(tmp_path / "a.duckdb", tmp_path / "spool") as store,
        pytest.raises(UsageError, match=r"3\.json: not JSON"),
    ):
        ingest([LocalCloudTrailFiles(root)], store, TimeWindow(), strict=True, workers=2)
    assert list((tmp_path / "spool").iterdir()) == []


def test_a_store_that_loads_no_files_gets_rows_in_memory(tmp_path: Path) -> None:
    store = MemoryUsageStore()
    assert not isinstance(store, RowFileStore)
    report = ingest([LocalCloudTrailFiles(logs(tmp_path / "t"))], store, TimeWindow(), workers=2)
    given = [batch.usage.rows for save in store.saves for batch in save]
    assert given
    assert all(isinstance(rows, bytes) for rows in given)
    assert len(store.usage(UsageQuery(report.keys))) == 7
