"""The store's records: proposals, approvals, rollout stages, the step journal and the audit log.

Every time is a timezone-aware UTC datetime. JSON-valued fields (`document`, `plan`,
`previous_state`, `metrics`, `payload`, `details`) are JSON-ready dicts the store keeps as given.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from alpha.store.errors import AmbiguousProposalError, ProposalNotFoundError, StoreError

__all__ = [
    "TARGETS_KEY",
    "Approval",
    "AuditEvent",
    "JournalEntry",
    "JournalPhase",
    "JsonDict",
    "Lease",
    "ProposalState",
    "Stage",
    "StageRecord",
    "StageState",
    "StoredProposal",
    "canonical_json",
    "lease_free_for",
    "lease_request",
    "normalise_prefix",
    "require_utc",
    "single_match",
]


JsonDict = dict[str, Any]

TARGETS_KEY = "targets"
"""The plan's list of every principal a fleet proposal rolls out to (one per account)."""

SHORT_ID_LENGTH = 12
"""How many hex characters of a proposal id users see and type."""

MIN_PREFIX_LENGTH = 6
"""The shortest id prefix a lookup accepts."""

_HEX = re.compile(r"[0-9a-f]+")


class ProposalState(StrEnum):
    """Where a proposal is in the workflow; the rollout's transition table moves it."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    SANDBOX = "sandbox"
    CANARY = "canary"
    PRODUCTION = "production"
    SUCCEEDED = "succeeded"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"


class Stage(StrEnum):
    """A rollout stage, in the order they run."""

    SANDBOX = "sandbox"
    CANARY = "canary"
    PRODUCTION = "production"


class StageState(StrEnum):
    """Where one rollout stage is."""

    PENDING = "pending"
    STARTED = "started"
    APPLIED = "applied"
    BAKING = "baking"
    PASSED = "passed"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


class JournalPhase(StrEnum):
    """A side effect is journalled as `intent` before it happens and `done` after."""

    INTENT = "intent"
    DONE = "done"


def canonical_json(value: Any) -> bytes:
    """One byte string per JSON value: sorted keys, no whitespace, UTF-8, no NaN."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def proposal_id(principal: str, proposed_policy_document: JsonDict, plan: JsonDict) -> str:
    """The proposal's content hash (64 hex chars): sha256 over the canonical JSON of the
    target principal ARN, the proposed policy and the change plan. The same content always
    gets the same id; any change to them gets a new one (and so needs a new approval)."""
    content = {"plan": plan, "principal": principal, "proposed_policy": proposed_policy_document}
    return hashlib.sha256(canonical_json(content)).hexdigest()


def short_id(full_id: str) -> str:
    """The first `SHORT_ID_LENGTH` hex characters: what users see and type."""
    return full_id[:SHORT_ID_LENGTH]


def normalise_prefix(prefix: str) -> str:
    """A proposal id prefix as typed, lower-cased; `StoreError` when too short or not hex."""
    cleaned = prefix.strip().lower()
    if len(cleaned) < MIN_PREFIX_LENGTH:
        raise StoreError(
            f"proposal id {prefix!r} is too short: type at least {MIN_PREFIX_LENGTH} characters"
        )
    if not _HEX.fullmatch(cleaned) or len(cleaned) > 64:
        raise StoreError(f"proposal id {prefix!r} is not a hex proposal id")
    return cleaned


def single_match(prefix: str, matching_ids: list[str]) -> str:
    """The one id that matched a prefix lookup; a clear error for none or several."""
    if not matching_ids:
        raise ProposalNotFoundError(f"no proposal has an id starting with {prefix!r}")
    if len(matching_ids) > 1:
        shown = ", ".join(sorted(short_id(found) for found in matching_ids)[:5])
        raise AmbiguousProposalError(
            f"proposal id {prefix!r} matches {len(matching_ids)} proposals ({shown}); "
            "type more characters"
        )
    return matching_ids[0]


def require_utc(moment: datetime, what: str) -> datetime:
    """The moment itself if it is timezone-aware UTC; ValueError otherwise (a caller's bug)."""
    if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
        raise ValueError(f"{what} must be a timezone-aware UTC datetime, got {moment!r}")
    return moment


@dataclass(frozen=True, slots=True)
class StoredProposal:
    """A proposal as persisted: immutable, identified by its content hash.

    Build one with `StoredProposal.create`; the constructor checks that `id` is the hash of
    `principal`, `document["proposed_policy"]` and `plan`, so different content under an existing
    id cannot be built. `document` is the generator's PolicyProposal (opaque JSON apart from
    `proposed_policy`); `plan` is the change plan the rollout will apply.
    """

    id: str
    principal: str
    created_at: datetime
    created_by: str
    document: JsonDict
    plan: JsonDict = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_utc(self.created_at, "created_at")
        policy = self.document.get("proposed_policy")
        if not isinstance(policy, dict):
            raise ValueError("a proposal document needs a `proposed_policy` object")
        expected = proposal_id(self.principal, policy, self.plan)
        if self.id != expected:
            raise ValueError(f"proposal id {self.id!r} is not the hash of its content")

    @classmethod
    def create(
        cls,
        *,
        principal: str,
        document: JsonDict,
        plan: JsonDict,
        created_by: str,
        created_at: datetime,
    ) -> StoredProposal:
        policy = document.get("proposed_policy")
        if not isinstance(policy, dict):
            raise ValueError("a proposal document needs a `proposed_policy` object")
        return cls(
            id=proposal_id(principal, policy, plan),
            principal=principal,
            created_at=created_at,
            created_by=created_by,
            document=document,
            plan=plan,
        )

    @property
    def short_id(self) -> str:
        return short_id(self.id)

    @property
    def targets(self) -> tuple[str, ...]:
        """The principals a rollout changes: every account's copy of a fleet role (the plan's
        `targets`, covered by the content hash like the rest of the plan), else the principal."""
        found = self.plan.get(TARGETS_KEY)
        if isinstance(found, list) and found and all(isinstance(t, str) for t in found):
            return tuple(found)
        return (self.principal,)

    @property
    def proposed_policy(self) -> JsonDict:
        policy: JsonDict = self.document["proposed_policy"]
        return policy


@dataclass(frozen=True, slots=True)
class Approval:
    """The seed's approval record (proposal id, timestamp, approved, approver, comments).
    The latest by `timestamp` wins. `proposal_hash` is the full content hash that was approved:
    it binds the decision to that exact content."""

    proposal_id: str
    timestamp: datetime
    approved: bool
    approver: str
    comments: str = ""
    proposal_hash: str = ""

    def __post_init__(self) -> None:
        require_utc(self.timestamp, "timestamp")
        if not self.proposal_hash:
            object.__setattr__(self, "proposal_hash", self.proposal_id)

    def binds(self, proposal: StoredProposal) -> bool:
        """Whether this decision was made on exactly this proposal's content."""
        return self.binds_id(proposal.id)

    def binds_id(self, proposal_id: str) -> bool:
        """`binds`, for the proposal with this id (its content hash)."""
        return self.proposal_id == proposal_id and self.proposal_hash == proposal_id


@dataclass(frozen=True, slots=True)
class StageRecord:
    """One rollout stage of one proposal. `previous_state` is the principal's IAM state
    captured BEFORE the stage changed anything (for rollback); once stored it never changes."""

    proposal_id: str
    stage: Stage
    state: StageState
    started_at: datetime
    updated_at: datetime
    previous_state: JsonDict | None = None
    metrics: JsonDict = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_utc(self.started_at, "started_at")
        require_utc(self.updated_at, "updated_at")


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One step of a rollout: written as `intent` before its side effect, `done` after.
    `seq` counts from 1 per proposal, in the order entries were appended."""

    proposal_id: str
    seq: int
    step: str
    phase: JournalPhase
    payload: JsonDict
    at: datetime


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One decision or change, with who (`actor`) and why (`reason`). `seq` is global and
    increasing; the log is append-only."""

    seq: int
    at: datetime
    proposal_id: str | None
    actor: str
    action: str
    reason: str
    details: JsonDict


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds the lease called `name`, and until when: held while `now < until`, free
    (taken by whoever asks next) after. One process at a time holds a lease."""

    name: str
    holder: str
    until: datetime

    def __post_init__(self) -> None:
        require_utc(self.until, "until")

    def held_at(self, now: datetime) -> bool:
        return require_utc(now, "now") < self.until


def lease_request(name: str, holder: str, until: datetime, now: datetime) -> Lease:
    """The lease `holder` asks for; ValueError (a caller's bug) for an empty name or holder, or
    for a lease that would end before it starts."""
    if not name or not holder:
        raise ValueError(f"a lease needs a name and a holder, got {name!r} and {holder!r}")
    if require_utc(until, "until") <= require_utc(now, "now"):
        raise ValueError(f"lease {name!r}: until ({until.isoformat()}) is not after now")
    return Lease(name, holder, until)


def lease_free_for(current: Lease | None, holder: str, now: datetime) -> bool:
    """Whether `holder` may take (or extend) a lease whose stored state is `current`."""
    return current is None or current.holder == holder or not current.held_at(now)
