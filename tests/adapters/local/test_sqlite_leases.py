"""Leases across processes: of several alpha processes asking for one lease at once, exactly one
gets it. (What a lease is and does is in `tests/store/test_contract.py`, run on this store too.)"""

from __future__ import annotations

import multiprocessing.queues
import multiprocessing.synchronize
from pathlib import Path

from alpha.adapters.local.sqlite_store import SQLiteStore
from tests.adapters.local.sqlite_helpers import in_processes
from tests.fakes.store_records import at

WORKERS = 4
ROUNDS = 10


def _contend(
    path: Path,
    worker: int,
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.queues.Queue[tuple[int, int, bool]],
) -> None:
    with SQLiteStore(path) as store:
        for round_ in range(ROUNDS):
            barrier.wait()
            won = store.acquire_lease(f"principal-{round_}", f"run-{worker}", at(10), at(0))
            results.put((round_, worker, won))


def test_one_process_of_several_asking_at_once_gets_the_lease(tmp_path: Path) -> None:
    path = tmp_path / "alpha.db"
    SQLiteStore(path).close()
    outcomes = in_processes(_contend, path, WORKERS, ROUNDS)

    with SQLiteStore(path) as store:
        for round_ in range(ROUNDS):
            winners = [worker for r, worker, won in outcomes if r == round_ and won]
            assert len(winners) == 1, (round_, outcomes)
            lease = store.lease(f"principal-{round_}")
            assert lease is not None
            assert lease.holder == f"run-{winners[0]}"


def test_a_lease_held_through_one_connection_is_refused_through_another(tmp_path: Path) -> None:
    path = tmp_path / "alpha.db"
    with SQLiteStore(path) as first, SQLiteStore(path) as second:
        assert first.acquire_lease("principal", "run-1", at(10), at(0))
        assert not second.acquire_lease("principal", "run-2", at(10), at(1))
        first.release_lease("principal", "run-1")
        assert second.acquire_lease("principal", "run-2", at(10), at(2))
        assert not first.acquire_lease("principal", "run-1", at(10), at(3))
