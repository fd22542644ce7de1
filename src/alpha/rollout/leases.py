"""One rollout of a principal at a time, across processes: a lease per principal in the store.

Two `alpha rollout` processes (or a rollout and a `resume`, or a rollback) acting on one
principal at once could both apply a change. Each takes the principal's lease for as long as
it acts, and a second one is refused with who holds it and until when. Lease times are wall-
clock times (they are about processes), whatever time a replay store's actions carry; a lease
outlives its holder only until it expires, so a killed process does not lock a principal out.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta

from alpha.rollout.errors import RolloutError
from alpha.store.ports import Store

__all__ = [
    "DEFAULT_LEASE",
    "PrincipalBusyError",
    "holder_name",
    "principal_lease",
    "principals_lease",
    "wall_clock",
]

DEFAULT_LEASE = timedelta(minutes=15)


class PrincipalBusyError(RolloutError):
    """Another process is rolling out (or back) the same principal."""


def wall_clock() -> datetime:
    return datetime.now(UTC)


def holder_name() -> str:
    """Who holds a lease: this host and process, and a nonce so two holders never match."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def principal_lease(
    store: Store,
    principal: str,
    holder: str,
    length: timedelta = DEFAULT_LEASE,
    clock: Callable[[], datetime] = wall_clock,
) -> Iterator[None]:
    """Hold the principal's lease for the block; `PrincipalBusyError` if another holds it."""
    name = f"rollout:{principal}"
    now = clock()
    if not store.acquire_lease(name, holder, now + length, now):
        current = store.lease(name)
        who = "another process" if current is None else current.holder
        until = "" if current is None else f" until {current.until.isoformat()}"
        raise PrincipalBusyError(
            f"{principal}: {who} is rolling it out or back{until}; try again when it is done"
        )
    try:
        yield
    finally:
        store.release_lease(name, holder)


@contextmanager
def principals_lease(
    store: Store, principals: tuple[str, ...], holder: str, length: timedelta = DEFAULT_LEASE
) -> Iterator[None]:
    """Every principal's lease for the block (a fleet proposal changes the role in each
    account); taken in one order, so two holders never wait on each other in a circle."""
    with ExitStack() as held:
        for principal in sorted(set(principals)):
            held.enter_context(principal_lease(store, principal, holder, length))
        yield
