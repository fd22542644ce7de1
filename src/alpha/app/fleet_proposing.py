"""`propose_fleet`: one proposal for the same role in several accounts (a StackSet or a
landing-zone role), rolled out later as one rollout across them (`alpha.org.fleet`).

The accounts come as account files (`--account`, repeated, in rollout order) or from an
organisation, in the order it lists them: a folder (`alpha org export`'s form:
`organization.json` and `accounts/<id>.json`) or AWS Organizations read live, each account's
IAM through the organisation role (`alpha.app.org_reading`). Each file becomes the store's
working copy of its account, which a rollout changes (or, with `iam = "aws"`, live IAM in each
account, reached through the organisation role); accounts read live are recorded as such, so
their rollout changes live IAM. The proposal is generated from the union of every copy's
calls, proven and replayed on all of them, and records every copy's ARN as its targets in
its plan, which its content hash covers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alpha.account import AccountSnapshot
from alpha.app.backends import Backends, is_live_account, note_fleet_accounts
from alpha.app.errors import AppError
from alpha.app.proposing import Progress, Proposed, import_account_once, persist, record_failures
from alpha.generate.model import GenerationFailure
from alpha.org.fleet import FleetRole, fleet_role, has_role
from alpha.org.model import AccountFilter, AccountReadFailure
from alpha.rollout.identity import check_name
from alpha.store.ports import Store
from alpha.usage.ports import TimeWindow

__all__ = ["FleetRequest", "FleetResult", "propose_fleet"]


@dataclass(frozen=True, slots=True)
class FleetRequest:
    """The role (`name` or `/path/name`), the account files in rollout order (the canary's
    first), the CloudTrail sources, and the window. From an organisation (`org`: a folder, or
    AWS Organizations live; its accounts those `wanted` keeps, read `max_parallel` at once),
    the accounts without the role or that cannot be read are left out and named
    (`FleetResult.skipped`); given one by one, an account without it is refused."""

    role: str
    accounts: tuple[str, ...]
    sources: tuple[str, ...]
    window: TimeWindow = field(default_factory=TimeWindow)
    keep_unmapped: bool = True
    org: str | None = None  # a folder, `aws` or `aws://PROFILE`
    wanted: AccountFilter = field(default_factory=AccountFilter)
    max_parallel: int = 8


@dataclass(frozen=True, slots=True)
class FleetResult:
    fleet: FleetRole
    proposed: Proposed | None
    failures: tuple[GenerationFailure, ...]
    imported: tuple[str, ...]
    skipped: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        return self.proposed is not None and self.proposed.blocked

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.fleet.role,
            "targets": list(self.fleet.targets),
            "proposals": [] if self.proposed is None else [self.proposed.summary().to_dict()],
            "failures": [f.to_dict() for f in self.failures],
            "imported": list(self.imported),
            "skipped": list(self.skipped),
        }


def propose_fleet(
    backends: Backends,
    request: FleetRequest,
    by: str,
    on_progress: Progress | None = None,
    *,
    check_time: Callable[[Store, datetime], None] | None = None,
) -> FleetResult:
    """Read every account, check the copies are one fleet, generate once from all their
    usage, and store the proposal with every copy as a target."""
    from alpha.generate import GenerationSettings
    from alpha.generate.run import collect, plan_fleet_generation

    by = check_name(by, "proposer's name")
    accounts, snapshots, skipped = _accounts(backends, request)
    fleet = fleet_role(request.role, snapshots)
    with backends.open_usage_store() as usage:
        plan = plan_fleet_generation(
            fleet.targets,
            snapshots,
            backends.catalog(),
            backends.guardrails(),
            sources=[backends.usage_source(text) for text in request.sources],
            store=usage,
            window=request.window,
            settings=GenerationSettings(keep_unmapped=request.keep_unmapped),
            reasoner=backends.reasoner(),
            on_progress=on_progress,
        )
    run = collect(plan.outcomes())
    failures = run.failures or _unused(fleet, run.proposals)
    when = backends.clock()()
    with backends.open_store() as store:
        if check_time is not None:
            check_time(store, when)
        note_fleet_accounts(store, fleet.accounts)
        imported = tuple(
            text
            for text, target in zip(accounts, fleet.targets, strict=True)
            if import_account_once(backends, store, text, target.split(":")[4])[1]
        )
        proposed = None
        for proposal in run.proposals:
            document = {**proposal.to_dict(), "fleet": {"role": fleet.role}}
            [proposed] = persist(store, [document], by, when, targets=fleet.targets)
        record_failures(store, failures, by, when)
    return FleetResult(fleet, proposed, failures, imported, skipped)


def _accounts(
    backends: Backends, request: FleetRequest
) -> tuple[tuple[str, ...], list[AccountSnapshot], tuple[str, ...]]:
    """The accounts read (how each is named: its file, or the live source), their snapshots,
    and (from an organisation) the accounts left out: not read, or without the role."""
    if request.org is None:
        return request.accounts, _read(backends, request.accounts), ()
    names: list[str] = []
    snapshots: list[AccountSnapshot] = []
    left_out: list[str] = []
    for found in _org_accounts(backends, request, request.org):
        if isinstance(found, AccountReadFailure):
            left_out.append(f"{found.account_id}: not read ({found.reason})")
            continue
        name, snapshot = found
        if has_role(request.role, snapshot):
            names.append(name)
            snapshots.append(snapshot)
        else:
            left_out.append(f"{snapshot.account_id or name}: no role {request.role}")
    return tuple(names), snapshots, tuple(left_out)


def _org_accounts(
    backends: Backends, request: FleetRequest, org: str
) -> Iterator[tuple[str, AccountSnapshot] | AccountReadFailure]:
    """Each covered ACTIVE account of the organisation (a folder, or AWS Organizations with
    each account's IAM through the organisation role), in the organisation's order: how a
    request names it and its IAM, or why it could not be read."""
    from alpha.app.org_reading import account_name, coverage, read_accounts

    source = backends.organization(org)
    covered = coverage(source, request.wanted)
    yield from covered.skipped
    for read in read_accounts(source, covered.accounts, request.max_parallel):
        if isinstance(read, AccountReadFailure):
            yield read
        else:
            yield account_name(source, read), read.state.snapshot()


def _read(backends: Backends, accounts: tuple[str, ...]) -> list[AccountSnapshot]:
    live = [text for text in accounts if is_live_account(text)]
    if live:
        raise AppError(
            f"{live[0]}: with --account, a fleet is proposed from account files; "
            "to read every account live, give --org aws (each account through ALPHA_ORG_ROLE)"
        )
    return [backends.read_account(text) for text in accounts]


def _unused(fleet: FleetRole, proposals: tuple[object, ...]) -> tuple[GenerationFailure, ...]:
    if proposals:
        return ()
    reason = f"no call of role {fleet.role} in any of its {len(fleet.targets)} accounts"
    return (GenerationFailure(fleet.lead, f"{reason} in the usage window"),)
