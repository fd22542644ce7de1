"""What the workflow commands share: the store, the rollout service over the store's working
copies and the configured logs, the clock, and persisting the generator's proposals.

The rollout changes the working copy of an account kept in the store (imported from the
user's file by the first `alpha propose`), never the file itself;
`alpha proposals export-account` writes the working copy out.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alpha.adapters.local.sqlite_store import SQLiteStore
from alpha.cli.settings import Settings
from alpha.rollout.approvals import ApprovalPolicy
from alpha.rollout.engine import RolloutSettings
from alpha.rollout.errors import RolloutError
from alpha.rollout.iam_ports import ErrorRate, ObservedCall
from alpha.rollout.logs import LOGGER_NAME, install_json_logs
from alpha.rollout.metrics import GENERATION_FAILED
from alpha.rollout.service import RolloutService
from alpha.rollout.stages import StageSettings
from alpha.store.model import StoredProposal
from alpha.store.ports import Store

Clock = Callable[[], datetime]
PROPOSAL_CREATED = "proposal.created"
LOG_NAME = "rollout.jsonl"


def account_copy_name(account_id: str) -> str:
    return f"account-{account_id}"


def clock_for(settings: Settings) -> Clock:
    """The real clock; with `now` set, a clock that starts there and runs on from it."""
    if settings.now is None:
        return lambda: datetime.now(UTC)
    start, began = settings.now, time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def rollout_settings(settings: Settings) -> RolloutSettings:
    return RolloutSettings(
        stages=StageSettings(
            bake=settings.bake,
            bakes=dict(settings.bakes),
            canary_fraction=settings.canary_fraction,
            max_new_denials=settings.max_new_denials,
            max_would_be_denials=settings.max_would_be_denials,
        ),
        approval=ApprovalPolicy(
            expiry=settings.approval_expiry,
            approvers=settings.approvers,
            separation_of_duties=settings.separation_of_duties,
        ),
        poll_interval=settings.poll_interval,
        max_wait=settings.max_wait,
    )


@contextmanager
def open_store(settings: Settings) -> Iterator[SQLiteStore]:
    """The store at its configured path (its folder made when missing), with the rollout's
    JSON logs appended beside it while it is open."""
    settings.store.parent.mkdir(parents=True, exist_ok=True)
    store = SQLiteStore(settings.store)
    with (settings.store.parent / LOG_NAME).open("a", encoding="utf-8") as log_file:
        logger = logging.getLogger(LOGGER_NAME)
        level, propagate = logger.level, logger.propagate
        handler = install_json_logs(log_file)
        # The steps go to the JSON log; on stderr only when asked for (-v).
        logger.propagate = logging.getLogger().getEffectiveLevel() <= logging.INFO
        try:
            yield store
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
            store.close()


class UnwatchedMonitor:
    """The monitor when no logs are configured: approving and rolling back by hand need none;
    a stage that must watch logs gets a clear error."""

    def _refuse(self) -> RolloutError:
        return RolloutError(
            "no logs to watch: give --logs SOURCE, set ALPHA_LOGS, or set "
            "[rollout] logs in alpha.toml"
        )

    def error_rate(self, principal: str, since: datetime, until: datetime) -> ErrorRate:
        raise self._refuse()

    def calls(self, principal: str, since: datetime, until: datetime) -> list[ObservedCall]:
        raise self._refuse()

    def covered_until(self) -> datetime | None:
        raise self._refuse()


def working_copies(store: Store) -> list[str]:
    """The working copies the stored proposals' principals live in."""
    accounts = {p.principal.split(":")[4] for p in store.proposals()}
    return sorted(account_copy_name(a) for a in accounts if a)


@contextmanager
def rollout_service(
    store: Store,
    settings: Settings,
    *,
    clock: Clock | None = None,
    sleeper: Callable[[float], None] | None = None,
    watch: bool = False,
) -> Iterator[RolloutService]:
    """The service over the store's working copies; with `watch`, its monitor reads the
    configured logs into the usage store."""
    from alpha.adapters.local.working_copy_iam import WorkingCopyIam

    with ExitStack() as stack:
        monitor: Any = UnwatchedMonitor()
        if watch and settings.logs:
            from alpha.adapters.local.cloudtrail_monitor import CloudTrailMonitor
            from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
            from alpha.cli.usage import source_for

            settings.usage_store.parent.mkdir(parents=True, exist_ok=True)
            usage = stack.enter_context(DuckDBUsageStore(settings.usage_store))
            monitor = CloudTrailMonitor([source_for(s) for s in settings.logs], usage)
        yield RolloutService(
            store,
            WorkingCopyIam(store, working_copies(store)),
            monitor,
            clock or clock_for(settings),
            rollout_settings(settings),
            sleeper=sleeper,
            actor="alpha",
        )


# Proposing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proposed:
    """One proposal of a `propose` run: stored now (`created`) or already stored."""

    proposal: StoredProposal
    created: bool
    blocked: bool

    def to_dict(self) -> dict[str, Any]:
        document = self.proposal.document
        return {
            "id": self.proposal.id,
            "short_id": self.proposal.short_id,
            "principal": self.proposal.principal,
            "created": self.created,
            "blocked": self.blocked,
            "privilege_reduction": (document.get("diff") or {}).get("privilege_reduction"),
            "risk_of_break": (document.get("risk_signal") or {}).get("probability_of_break"),
            "guardrail_violations": document.get("guardrail_violations") or [],
        }


@dataclass(frozen=True, slots=True)
class GenerationFailure:
    principal: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"principal": self.principal, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ProposeResult:
    proposed: tuple[Proposed, ...]
    failures: tuple[GenerationFailure, ...]
    account_copy: str
    account_imported: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "proposals": [p.to_dict() for p in self.proposed],
            "failures": [f.to_dict() for f in self.failures],
            "account_copy": {"name": self.account_copy, "imported": self.account_imported},
        }


def import_account_once(store: Store, account_file: Path, account_id: str) -> tuple[str, bool]:
    """The account's working copy name; imported from the file when the store has none (a
    copy the rollout has changed is never overwritten by the file)."""
    from alpha.adapters.local.working_copy_iam import import_account_copy

    name = account_copy_name(account_id)
    if store.account_copy(name) is not None:
        return name, False
    data = json.loads(account_file.read_text(encoding="utf-8-sig"))
    import_account_copy(store, name, data)
    return name, True


def persist(
    store: Store, documents: Sequence[dict[str, Any]], by: str, now: datetime
) -> list[Proposed]:
    """Store each generated proposal (immutable, by content hash), auditing the new ones."""
    found: list[Proposed] = []
    for document in documents:
        proposal = StoredProposal.create(
            principal=str(document["principal"]),
            document=document,
            plan={"steps": document.get("plan") or []},
            created_by=by,
            created_at=now,
        )
        with store.transaction():
            created = store.save_proposal(proposal)
            if created:
                store.append_audit(
                    at=now,
                    proposal_id=proposal.id,
                    actor=by,
                    action=PROPOSAL_CREATED,
                    reason="generated from observed usage",
                    details={"principal": proposal.principal},
                )
        stored = proposal if created else store.proposal(proposal.id) or proposal
        found.append(Proposed(stored, created, bool(document.get("blocked"))))
    return found


def record_failures(
    store: Store, failures: Sequence[GenerationFailure], by: str, now: datetime
) -> None:
    for failure in failures:
        store.append_audit(
            at=now,
            proposal_id=None,
            actor=by,
            action=GENERATION_FAILED,
            reason=failure.reason,
            details={"principal": failure.principal},
        )


def generate_documents(
    account_file: Path,
    sources: Sequence[str],
    settings: Settings,
    *,
    principal: str | None,
    on_progress: Callable[[str], None] | None = None,
) -> tuple[str, list[dict[str, Any]], list[GenerationFailure]]:
    """The account id and the generator's proposals (as JSON documents) for `principal` or
    every principal with usage; a principal the generator cannot propose for is a failure,
    not the end of the run."""
    import os

    from alpha.adapters.local.authorization_details import read_authorization_details
    from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
    from alpha.catalog import load_catalog
    from alpha.cli.usage import source_for
    from alpha.generate.errors import GenerateError
    from alpha.generate.run import generate_proposals
    from alpha.guardrails import load_config
    from alpha.usage.ports import TimeWindow

    snapshot = read_authorization_details(account_file)
    if principal is not None:
        principal = snapshot.principal(principal).arn  # unknown: fail before reading logs
    config = load_config(settings.guardrails_file, os.environ)
    resolved = [source_for(text) for text in sources]
    account = snapshot.account_id or (principal or "::::").split(":")[4]
    settings.usage_store.parent.mkdir(parents=True, exist_ok=True)
    with DuckDBUsageStore(settings.usage_store) as usage:

        def run(arn: str | None) -> list[dict[str, Any]]:
            found = generate_proposals(
                snapshot,
                load_catalog(),
                config,
                sources=resolved,
                store=usage,
                window=TimeWindow(),
                principal=arn,
                on_progress=on_progress,
            )
            return [p.to_dict() for p in found]

        try:
            return account, run(principal), []
        except GenerateError as exc:
            if principal is not None:
                return account, [], [GenerationFailure(principal, str(exc))]
        # One principal failed the batch: propose one by one to keep the others.
        documents: list[dict[str, Any]] = []
        failures: list[GenerationFailure] = []
        for candidate in snapshot.principals:
            try:
                documents += run(candidate.arn)
            except GenerateError as exc:
                failures.append(GenerationFailure(candidate.arn, str(exc)))
        return account, documents, failures
