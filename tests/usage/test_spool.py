from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from alpha.adapters.local.cloudtrail_files import LocalCloudTrailFiles
from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
from alpha.usage.aggregate import StoredBatch
from alpha.usage.ingest import ingest
from alpha.usage.ports import TimeWindow
from alpha.usage.spool import PREFIX, sweep
from tests.fakes.cloudtrail_logs import delivery_folder, record, write_log

# Above any pid_max Linux allows (2**22): no process has it.
GONE = 2**30


def left(base: Path, pid: int, name: str = "x") -> Path:
    folder = base / f"{PREFIX}{pid}-{name}"
    folder.mkdir(parents=True)
    (folder / "rows.ndjson").write_bytes(b'["a"]\n')
    return folder


def test_a_dead_runs_folder_goes_a_live_ones_stays(tmp_path: Path) -> None:
    dead = left(tmp_path, GONE)
    live = left(tmp_path, os.getpid())
    other = tmp_path / "alpha-rows-notapid-x"
    other.mkdir()
    unrelated = tmp_path / "keep-me"
    unrelated.mkdir()
    sweep(tmp_path)
    assert not dead.exists()
    assert live.exists()
    assert other.exists()
    assert unrelated.exists()


def test_a_missing_base_is_no_error(tmp_path: Path) -> None:
    sweep(tmp_path / "not-there")


class SpoolHere(DuckDBUsageStore):
    def __init__(self, path: Path, spool: Path) -> None:
        super().__init__(path)
        self.spool = spool

    def spool_base(self, needed: int) -> str:
        return str(self.spool)


def test_a_parallel_run_sweeps_before_it_spools_and_names_its_folder(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    dead = left(spool, GONE)
    folder = delivery_folder(tmp_path / "t", "2024-03-10")
    for n in range(4):
        write_log(folder / f"{n}.json", [record(role=f"r{n}")])
    seen: list[str] = []

    class Watching(SpoolHere):
        def save(self, batches: Sequence[StoredBatch]) -> None:
            seen.extend(p.name for p in spool.iterdir())
            super().save(batches)

    with Watching(tmp_path / "u.duckdb", spool) as store:
        report = ingest([LocalCloudTrailFiles(tmp_path / "t")], store, TimeWindow(), workers=2)
    assert report.events_read == 4
    assert not dead.exists()
    assert seen
    assert {name.split("-")[2] for name in seen} == {str(os.getpid())}
    assert list(spool.iterdir()) == []
