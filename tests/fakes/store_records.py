"""Store records for tests: proposals, times, and proposals whose ids share a prefix."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from alpha.store.model import (
    MIN_PREFIX_LENGTH,
    Approval,
    JournalPhase,
    StoredProposal,
    proposal_id,
)
from alpha.store.ports import Store

ROLE = "arn:aws:iam::111122223333:role/app"
T0 = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def policy(*actions: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": list(actions or ["s3:GetObject"]), "Resource": "*"}
        ],
    }


def make_proposal(
    n: int = 0, *, principal: str = ROLE, created_at: datetime = T0, created_by: str = "alice"
) -> StoredProposal:
    """A distinct proposal for each `n` (it goes into the plan, so into the id)."""
    return StoredProposal.create(
        principal=principal,
        document={"proposed_policy": policy(), "rationale": f"proposal {n}"},
        plan={"replace_inline": ["legacy"], "n": n},
        created_by=created_by,
        created_at=created_at,
    )


def fill(store: Store, proposals: int = 3) -> list[str]:
    """Proposals, each with an approval, an audit event and a journal entry (padded, so a
    store file spans many pages); returns their ids."""
    ids = []
    for n in range(proposals):
        proposal = make_proposal(n, created_at=at(n))
        store.save_proposal(proposal)
        store.record_approval(Approval(proposal.id, at(n), True, "bob", "ok"))
        store.append_audit(
            at=at(n),
            proposal_id=proposal.id,
            actor="alice",
            action="proposal.created",
            reason="scan " + "x" * 300,
            details={"padding": "y" * 600},
        )
        store.append_journal(proposal.id, "sandbox.replay", JournalPhase.INTENT, {}, at(n))
        ids.append(proposal.id)
    return ids


@functools.cache
def colliding_pair() -> tuple[StoredProposal, StoredProposal]:
    """Two proposals whose ids share their first MIN_PREFIX_LENGTH characters (found by trying
    plans until two collide: about 5,000 hashes)."""
    seen: dict[str, int] = {}
    n = 0
    while True:
        prefix = proposal_id(ROLE, policy(), {"replace_inline": ["legacy"], "n": n})[
            :MIN_PREFIX_LENGTH
        ]
        if prefix in seen:
            return make_proposal(seen[prefix]), make_proposal(n)
        seen[prefix] = n
        n += 1
