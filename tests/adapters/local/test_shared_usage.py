"""Two processes share the DuckDB usage store: the second waits its turn instead of failing."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from alpha.adapters.local.duckdb_usage import DuckDBUsageStore, UsageStoreBusyError
from alpha.adapters.local.shared_usage import SharedUsageStore
from alpha.usage.aggregate import UsageQuery

HOLD = """
import sys, time
from pathlib import Path
from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
with DuckDBUsageStore(Path(sys.argv[1])):
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process with the store open for `seconds`, returned once it has it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_busy_store_is_named_as_busy(tmp_path: Path) -> None:
    path = tmp_path / "usage.duckdb"
    DuckDBUsageStore(path).close()
    holder = _hold(path, 30)
    try:
        with pytest.raises(UsageStoreBusyError, match="in use by another process"):
            SharedUsageStore(path, wait=timedelta(0)).versions(["k"])
    finally:
        holder.kill()
        holder.wait()


def test_the_second_process_waits_its_turn(tmp_path: Path) -> None:
    path = tmp_path / "usage.duckdb"
    DuckDBUsageStore(path).close()
    holder = _hold(path, 1.0)
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        time.sleep(seconds)

    try:
        shared = SharedUsageStore(path, wait=timedelta(seconds=60), sleep=sleep)
        assert shared.versions(["k"]) == {}
        assert shared.usage(UsageQuery(())) == []
    finally:
        holder.wait()
    assert pauses  # it did wait
    assert pauses == sorted(pauses)  # backing off
    assert max(pauses) <= 2.0


def test_extensions_are_never_fetched(tmp_path: Path) -> None:
    with DuckDBUsageStore(tmp_path / "usage.duckdb") as store:
        settings = store._con.execute(
            "SELECT current_setting('autoinstall_known_extensions'),"
            " current_setting('autoload_known_extensions')"
        ).fetchone()
    assert settings == (False, False)
