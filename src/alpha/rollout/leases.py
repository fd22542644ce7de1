"""One rollout of a principal at a time, across processes: a lease per principal in the store.

Two `alpha rollout` processes (or a rollout and a `resume`, or a rollback) acting on one
principal at once could both apply a change. Each takes the principal's lease for as long as
it acts, and a second one is refused with who holds it and until when. Lease times are wall-
clock times (they are about processes), whatever time a replay store's actions carry; a lease
outlives its holder only until it expires, so a killed process does not lock a principal out.

A rollout renews its lease as it goes (before each stage and each bake poll, `HeldLease.renew`),
so a bake longer than the lease keeps it; a rollout that finds its lease taken by another (it
expired while the holder was stopped) stops there with `LeaseLostError`, leaving every step it
journalled for the new holder or a `resume`.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alpha.rollout.errors import RolloutError
from alpha.store.ports import Store

__all__ = [
    "DEFAULT_LEASE",
    "HeldLease",
    "HeldLeases",
    "LeaseLostError",
    "PrincipalBusyError",
    "holder_name",
    "principal_lease",
    "principals_lease",
    "wall_clock",
]

DEFAULT_LEASE = timedelta(minutes=15)


class PrincipalBusyError(RolloutError):
    """Another process is rolling out (or back) the same principal."""


class LeaseLostError(PrincipalBusyError):
    """The lease a rollout held was taken by another process (it expired meanwhile)."""


def wall_clock() -> datetime:
    return datetime.now(UTC)


def holder_name() -> str:
    """Who holds a lease: this host and process, and a nonce so two holders never match."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class HeldLease:
    """A principal's lease while its holder acts: `renew` extends it by `length` from now."""

    store: Store
    principal: str
    holder: str
    length: timedelta
    clock: Callable[[], datetime]

    @property
    def name(self) -> str:
        return f"rollout:{self.principal}"

    def renew(self) -> None:
        """Extend the lease; `LeaseLostError` (nothing changed) when another holds it now."""
        now = self.clock()
        if not self.store.acquire_lease(self.name, self.holder, now + self.length, now):
            raise LeaseLostError(
                f"{self.principal}: the rollout's lease was taken by {self._holder_now()} "
                "while it was stopped; it stopped here, leaving the rollout to that process "
                "(or `alpha rollout resume` once it is done)"
            )

    def _holder_now(self) -> str:
        current = self.store.lease(self.name)
        return "another process" if current is None else current.holder


@contextmanager
def principal_lease(
    store: Store,
    principal: str,
    holder: str,
    length: timedelta = DEFAULT_LEASE,
    clock: Callable[[], datetime] = wall_clock,
) -> Iterator[HeldLease]:
    """Hold the principal's lease for the block; `PrincipalBusyError` if another holds it.
    The block renews it (`HeldLease.renew`) as long as it acts."""
    held = HeldLease(store, principal, holder, length, clock)
    now = clock()
    if not store.acquire_lease(held.name, holder, now + length, now):
        current = store.lease(held.name)
        who = "another process" if current is None else current.holder
        until = "" if current is None else f" until {current.until.isoformat()}"
        raise PrincipalBusyError(
            f"{principal}: {who} is rolling it out or back{until}; try again when it is done"
        )
    try:
        yield held
    finally:
        store.release_lease(held.name, holder)


@dataclass(frozen=True, slots=True)
class HeldLeases:
    """Every target's lease (a fleet proposal changes the role in each account)."""

    leases: tuple[HeldLease, ...]

    def renew(self) -> None:
        for lease in self.leases:
            lease.renew()


@contextmanager
def principals_lease(
    store: Store,
    principals: tuple[str, ...],
    holder: str,
    length: timedelta = DEFAULT_LEASE,
    clock: Callable[[], datetime] = wall_clock,
) -> Iterator[HeldLeases]:
    """Every principal's lease for the block, taken in one order so two holders never wait
    on each other in a circle; the block renews them all (`HeldLeases.renew`)."""
    with ExitStack() as held:
        leases = tuple(
            held.enter_context(principal_lease(store, principal, holder, length, clock))
            for principal in sorted(set(principals))
        )
        yield HeldLeases(leases)
