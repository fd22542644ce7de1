"""One principal's rollouts, in order: changes are layered, so they come off newest first.

A rollout's canary records the principal's state just before it (`previous_state`), and a
rollback restores exactly that. Rolling back an older proposal while a newer one's changes sit
on top would silently undo the newer one too, so it is refused until the newer is rolled back;
and a second rollout of a principal does not start while another is still in its stages.
"""

from __future__ import annotations

from datetime import datetime

from alpha.rollout.errors import RolloutError
from alpha.store.model import ProposalState, Stage, StoredProposal
from alpha.store.ports import Store

__all__ = ["RolloutOrderError", "check_may_roll_back", "check_may_start"]

_IN_STAGES = (ProposalState.SANDBOX, ProposalState.CANARY, ProposalState.PRODUCTION)
_CHANGES_IN_PLACE = (ProposalState.CANARY, ProposalState.PRODUCTION, ProposalState.SUCCEEDED)


class RolloutOrderError(RolloutError):
    """Another rollout of the same principal stands in the way; the message names it."""


def check_may_start(store: Store, proposal: StoredProposal) -> None:
    """Refuse to start while another proposal of the principal is in its stages."""
    for other in _siblings(store, proposal):
        state = store.proposal_state(other.id)
        if state in _IN_STAGES:
            raise RolloutOrderError(
                f"proposal {proposal.short_id}: {other.short_id} of the same principal is in its "
                f"{state.value} stage; let it finish or roll it back first"
            )


def check_may_roll_back(store: Store, proposal: StoredProposal) -> None:
    """Refuse while a rollout of the principal that began after this one's canary still has
    its changes in place: they would be undone with this one's."""
    mine = _canary_start(store, proposal)
    if mine is None:
        return  # nothing of this one was applied: its rollback changes nothing
    for other in _siblings(store, proposal):
        theirs = _canary_start(store, other)
        if theirs is None or theirs < mine:
            continue
        state = store.proposal_state(other.id)
        if state in _CHANGES_IN_PLACE:
            raise RolloutOrderError(
                f"proposal {proposal.short_id}: {other.short_id} was rolled out to the same "
                f"principal after it and is {state.value}; roll {other.short_id} back first "
                "(rollbacks go newest first)"
            )


def _siblings(store: Store, proposal: StoredProposal) -> list[StoredProposal]:
    """The other proposals changing any principal this one changes (a fleet proposal's
    targets are one per account)."""
    mine = set(proposal.targets)
    return [p for p in store.proposals() if p.id != proposal.id and mine & set(p.targets)]


def _canary_start(store: Store, proposal: StoredProposal) -> datetime | None:
    record = store.stage(proposal.id, Stage.CANARY)
    return None if record is None else record.started_at
