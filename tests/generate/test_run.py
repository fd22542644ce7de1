"""`plan_generation` and `propose_each`: one ingest, then proposals made as they are asked for,
in principal order, with memory holding what is in flight rather than the whole run."""

from __future__ import annotations

import pytest

from alpha.catalog import Catalog
from alpha.generate.model import PolicyProposal
from alpha.generate.run import GenerationPlan, collect, plan_generation
from alpha.guardrails import load_config
from alpha.usage.ports import TimeWindow
from tests.fakes.cloudtrail_logs import record
from tests.fakes.memory_usage_source import MemoryUsageSource
from tests.fakes.memory_usage_store import MemoryUsageStore
from tests.generate.factories import role, snapshot

ROLES = [f"app{n:03d}" for n in range(100)]
READ = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}


def _plan(catalog: Catalog, workers: int) -> tuple[GenerationPlan, MemoryUsageSource]:
    source = MemoryUsageSource()
    source.put("trail.json", [record(role=name) for name in ROLES])
    plan = plan_generation(
        snapshot([role(name, inline=[[READ]]) for name in ROLES]),
        catalog,
        load_config(None, {}),
        sources=[source],
        store=MemoryUsageStore(),
        window=TimeWindow(),
        workers=workers,
    )
    return plan, source


@pytest.mark.parametrize("workers", [1, 2])
def test_proposals_come_one_by_one_in_principal_order(catalog: Catalog, workers: int) -> None:
    plan, _ = _plan(catalog, workers)
    assert len(plan.jobs) == len(ROLES)
    outcomes = plan.outcomes()
    first = next(outcomes)
    assert isinstance(first, PolicyProposal)
    assert first.principal.endswith("/app000")
    # Only what is in flight has left the queue: never the whole run at once.
    in_flight = 1 if workers == 1 else workers * 3 * 8  # chunks of 8, 3 per worker
    assert len(plan.jobs) == len(ROLES) - in_flight
    rest = list(outcomes)
    assert plan.jobs == type(plan.jobs)()
    names = [o.principal.rpartition("/")[2] for o in [first, *rest]]
    assert names == ROLES


def test_the_stream_gives_what_the_whole_run_gives(catalog: Catalog) -> None:
    streamed = [o.to_dict() for o in _plan(catalog, workers=2)[0].outcomes()]
    whole = collect(_plan(catalog, workers=1)[0].outcomes())
    assert streamed == [p.to_dict() for p in whole.proposals]
    assert whole.failures == ()
