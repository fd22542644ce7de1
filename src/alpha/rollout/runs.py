"""A rollout's run records in the journal: how far it was asked to go, on which targets, and
the stage settings (bakes, thresholds) it started with, which it keeps until it ends, whatever
the settings of a later `resume`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alpha.rollout.settings import StageSettings
from alpha.store.model import JournalEntry, JournalPhase, Stage
from alpha.store.ports import Store

__all__ = ["RUN_STEP", "RunRecord", "append_run", "latest_run", "was_started"]

RUN_STEP = "run"


@dataclass(frozen=True, slots=True)
class RunRecord:
    through: Stage
    targets: tuple[str, ...]
    stages: StageSettings


def append_run(store: Store, proposal_id: str, run: RunRecord, at: datetime) -> None:
    payload = {
        "through": run.through.value,
        "targets": list(run.targets),
        "stages": run.stages.to_payload(),
    }
    store.append_journal(proposal_id, RUN_STEP, JournalPhase.DONE, payload, at)


def was_started(store: Store, proposal_id: str) -> bool:
    return any(e.step == RUN_STEP for e in store.journal(proposal_id))


def latest_run(store: Store, proposal_id: str, principal: str, default: StageSettings) -> RunRecord:
    """The last run's stage and targets, with the stage settings of the first run that recorded
    them; for a proposal never run: production, its principal and `default`."""
    runs = [e for e in store.journal(proposal_id) if e.step == RUN_STEP]
    if not runs:
        return RunRecord(Stage.PRODUCTION, (principal,), default)
    last = runs[-1].payload
    return RunRecord(Stage(last["through"]), tuple(last["targets"]), _kept_stages(runs, default))


def _kept_stages(runs: list[JournalEntry], default: StageSettings) -> StageSettings:
    kept = next((e.payload["stages"] for e in runs if "stages" in e.payload), None)
    # A store written before runs kept their settings: the settings in force.
    return default if kept is None else StageSettings.from_payload(kept)
