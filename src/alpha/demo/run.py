"""`alpha demo`: the whole loop on the bundled sample, with no credentials and no network.

In a fresh folder: write the sample and an alpha.toml; scan the account; propose for every
role with usage (as `dana`); decide (dana may not approve her own proposals: separation of
duties; `sam` approves; ci-deployer's proposal is refused, its guardrail violations block);
roll orders-api and report-builder out side by side, stage by stage. The store is made to
replay the sample's past timeline, and its clock follows it: proposals two hours before
`ROLLOUT_AT`, approvals one hour before, and each stage starts `BAKE` after the previous one,
baking over the sample's bake logs. report-builder's monthly clean-up runs while its canary is
enforced, meets AccessDenied, and the canary is rolled back automatically. The store stays in
`<folder>/.alpha/` to explore.

Steps are reported through `on_step` as they happen (the CLI renders them); the result holds
everything for `--format json` and the tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alpha.app import Application, Flags, GenerateRequest, ScanRequest, load_settings
from alpha.app.application import application_for
from alpha.demo.sample import BAKE, ROLLOUT_AT, WINDOW_START, SamplePaths, write_sample
from alpha.errors import AlphaError
from alpha.rollout.engine import RunResult
from alpha.rollout.errors import ApprovalError
from alpha.rollout.service import Status
from alpha.scan import ScanReport
from alpha.store.model import ProposalState, Stage, StoredProposal

__all__ = [
    "Decided",
    "DemoResult",
    "Proposed",
    "Said",
    "Scanned",
    "Section",
    "StageRan",
    "run_demo",
]


MARKER = ".alpha-demo"
PROPOSER = "dana"
APPROVER = "sam"
ROLLED_OUT = ("orders-api", "report-builder")
PROPOSED_AT = ROLLOUT_AT - timedelta(hours=2)
DECIDED_AT = ROLLOUT_AT - timedelta(hours=1)
_IN_PROGRESS = (ProposalState.SANDBOX, ProposalState.CANARY, ProposalState.PRODUCTION)

SETTINGS_FILE = """\
# Written by `alpha demo`. The workflow commands read it when run from this folder.
[store]
path = ".alpha/alpha.db"
replay = true   # made to replay the sample's past timeline; time still only runs forwards

[rollout]
logs = ["cloudtrail", "cloudtrail-bake"]   # the observed month, then the rollout day
usage_store = ".alpha/usage.duckdb"
bake = "6h"

[approvals]
# The sample's timeline is in the past: keep its proposals decidable while you explore.
expiry = "3650d"
separation_of_duties = true
"""


class DemoError(AlphaError):
    """The demo cannot run in the folder it was given."""


class TimelineClock:
    """The demo's clock: set to each moment of the sample's timeline in turn."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@dataclass(frozen=True, slots=True)
class Section:
    title: str


@dataclass(frozen=True, slots=True)
class Said:
    text: str


@dataclass(frozen=True, slots=True)
class Scanned:
    report: ScanReport


@dataclass(frozen=True, slots=True)
class Proposed:
    proposal: StoredProposal


@dataclass(frozen=True, slots=True)
class Decided:
    proposal: StoredProposal
    by: str
    approve: bool
    at: datetime
    refused: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "principal": self.proposal.principal,
            "id": self.proposal.id,
            "by": self.by,
            "decision": "approve" if self.approve else "reject",
            "at": self.at.isoformat(),
            "refused": self.refused,
        }


@dataclass(frozen=True, slots=True)
class StageRan:
    proposal: StoredProposal
    stage: Stage
    at: datetime
    result: RunResult

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.result.to_dict(),
            "principal": self.proposal.principal,
            "stage": self.stage.value,
            "at": self.at.isoformat(),
        }


Step = Section | Said | Scanned | Proposed | Decided | StageRan


@dataclass(frozen=True, slots=True)
class DemoResult:
    folder: Path
    scan: ScanReport
    proposals: tuple[StoredProposal, ...]
    decisions: tuple[Decided, ...]
    stages: tuple[StageRan, ...]
    status: Status
    final: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "timeline": {
                "window_start": WINDOW_START.isoformat(),
                "rollout_at": ROLLOUT_AT.isoformat(),
                "bake": str(BAKE),
            },
            "scan": [s.to_dict() for s in self.scan.scores],
            "proposals": [
                {"id": p.id, "principal": p.principal, "blocked": bool(p.document.get("blocked"))}
                for p in self.proposals
            ],
            "decisions": [d.to_dict() for d in self.decisions],
            "stages": [s.to_dict() for s in self.stages],
            "status": self.status.to_dict(),
            "final": dict(self.final),
        }


def prepare_folder(folder: Path) -> None:
    """An empty folder for the demo: a folder an earlier demo wrote is cleared; any other
    folder with something in it is refused, never overwritten."""
    if folder.exists() and not folder.is_dir():
        raise DemoError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / MARKER).is_file():
            raise DemoError(
                f"{folder}: not empty and not an earlier demo's folder; "
                "give another --dir (the demo never overwrites your files)"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("written by `alpha demo`; re-running it clears this folder\n")


def run_demo(folder: Path, on_step: Callable[[Step], None]) -> DemoResult:
    folder = folder.resolve()
    prepare_folder(folder)
    on_step(Section("1. The sample"))
    paths = write_sample(folder)
    (folder / "alpha.toml").write_text(SETTINGS_FILE, encoding="utf-8")
    on_step(Said(_sample_text(paths)))
    on_step(Said(_timeline_text()))
    settings = load_settings(Flags(user=PROPOSER), {}, folder)
    clock = TimelineClock(PROPOSED_AT)
    app = application_for(settings, {}, clock=clock)
    on_step(Section("2. Scan: who holds more than they use"))
    report = app.scan(ScanRequest(str(paths.account), (str(paths.observed),))).report
    on_step(Scanned(report))
    proposals = _propose(app, paths, clock, on_step)
    decisions = _decide(app, proposals, clock, on_step)
    stages = _roll_out(app, proposals, clock, on_step)
    clock.at = ROLLOUT_AT + 3 * BAKE
    on_step(Section("6. Status"))
    status = app.status()
    final = {_name(p.proposal.principal): p.state.value for p in status.proposals}
    return DemoResult(
        folder, report, tuple(proposals), tuple(decisions), tuple(stages), status, final
    )


def _sample_text(paths: SamplePaths) -> str:
    return (
        f"wrote {paths.account.name} (roles orders-api, report-builder, ci-deployer, "
        f"legacy-batch), 30 days of CloudTrail from {WINDOW_START:%Y-%m-%d} in "
        f"{paths.observed.name}/, and the rollout day's logs ({ROLLOUT_AT:%Y-%m-%d}) in "
        f"{paths.bake.name}/; settings in alpha.toml"
    )


def _timeline_text() -> str:
    return (
        "The demo's clock follows the sample's timeline, not the wall clock: proposals at "
        f"{PROPOSED_AT:%Y-%m-%d %H:%M}Z, approvals at {DECIDED_AT:%H:%M}Z, then each rollout "
        f"stage starts at {ROLLOUT_AT:%Y-%m-%d %H:%M}Z plus {BAKE.total_seconds() / 3600:g}h "
        "per earlier stage and bakes for that long over the rollout day's logs."
    )


def _propose(
    app: Application,
    paths: SamplePaths,
    clock: TimelineClock,
    on_step: Callable[[Step], None],
) -> list[StoredProposal]:
    on_step(Section(f"3. Proposals (by {PROPOSER}, at {clock():%Y-%m-%d %H:%M}Z)"))
    request = GenerateRequest(str(paths.account), (str(paths.observed),))
    stored: list[StoredProposal] = []
    app.propose(request, by=PROPOSER, on_stored=lambda made: stored.append(made.proposal))
    for proposal in stored:
        on_step(Proposed(proposal))
    on_step(Said("legacy-batch made no call in 30 days: nothing to propose (the scan flags it)"))
    return stored


def _decide(
    app: Application,
    proposals: list[StoredProposal],
    clock: TimelineClock,
    on_step: Callable[[Step], None],
) -> list[Decided]:
    clock.at = DECIDED_AT
    on_step(Section(f"4. Approvals (at {clock():%Y-%m-%d %H:%M}Z)"))
    by_name = {_name(p.principal): p for p in proposals}
    wanted = [(PROPOSER, "orders-api"), (APPROVER, "orders-api"), (APPROVER, "report-builder")]
    wanted.append((APPROVER, "ci-deployer"))
    decisions: list[Decided] = []
    for who, name in wanted:
        proposal = by_name.get(name)
        if proposal is None:
            continue
        try:
            app.approve(proposal.id, who, "reviewed the diff and the risk")
            decision = Decided(proposal, who, True, clock())
        except ApprovalError as exc:
            decision = Decided(proposal, who, True, clock(), refused=str(exc))
        decisions.append(decision)
        on_step(decision)
    return decisions


def _roll_out(
    app: Application,
    proposals: list[StoredProposal],
    clock: TimelineClock,
    on_step: Callable[[Step], None],
) -> list[StageRan]:
    """Both rollouts side by side, stage by stage: time only runs forwards in a store."""
    ran: list[StageRan] = []
    by_name = {_name(p.principal): p for p in proposals}
    going = [by_name[name] for name in ROLLED_OUT if name in by_name]
    for index, stage in enumerate(Stage):
        clock.at = ROLLOUT_AT + index * BAKE
        on_step(Section(f"5{'abc'[index]}. {stage.value.title()} (at {clock():%H:%M}Z)"))
        for proposal in list(going):
            result = app.roll_out(proposal.id, stage)
            step = StageRan(proposal, stage, clock(), result)
            ran.append(step)
            on_step(step)
            if result.state not in _IN_PROGRESS:
                going.remove(proposal)
    return ran


def _name(principal: str) -> str:
    return principal.rpartition("/")[2]
