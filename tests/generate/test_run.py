"""`plan_generation` and `propose_each`: one ingest, then proposals made as they are asked for,
in principal order, with memory holding what is in flight rather than the whole run."""

from __future__ import annotations

import pytest

from alpha.catalog import Catalog
from alpha.generate.model import PolicyProposal
from alpha.generate.run import GenerationPlan, collect, plan_generation
from alpha.guardrails import load_config
from alpha.usage.aggregate import UsageQuery, UsageRow
from alpha.usage.ports import TimeWindow
from tests.fakes.cloudtrail_logs import record
from tests.fakes.memory_usage_source import MemoryUsageSource
from tests.fakes.memory_usage_store import MemoryUsageStore
from tests.generate.factories import T0, role, snapshot

ROLES = [f"app{n:03d}" for n in range(100)]
READ = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}
PART = 10  # stored rows per query: each role here has one


class RecordingStore(MemoryUsageStore):
    """Which principals each report query asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[frozenset[str] | None] = []

    def usage(self, query: UsageQuery) -> list[UsageRow]:
        self.asked.append(query.principals)
        return super().usage(query)


def _plan(
    catalog: Catalog, workers: int, store: MemoryUsageStore | None = None
) -> tuple[GenerationPlan, MemoryUsageSource]:
    source = MemoryUsageSource()
    source.put("trail.json", [record(role=name) for name in ROLES])
    plan = plan_generation(
        snapshot([role(name, inline=[[READ]]) for name in ROLES]),
        catalog,
        load_config(None, {}),
        sources=[source],
        store=store or MemoryUsageStore(),
        window=TimeWindow(),
        workers=workers,
        rows_per_part=PART,
    )
    return plan, source


@pytest.mark.parametrize("workers", [1, 2])
def test_proposals_come_one_by_one_in_principal_order(catalog: Catalog, workers: int) -> None:
    store = RecordingStore()
    plan, _ = _plan(catalog, workers, store)
    assert plan.principals == len(ROLES)
    assert store.asked == []  # the outline only: no rows read yet
    outcomes = plan.outcomes()
    first = next(outcomes)
    assert isinstance(first, PolicyProposal)
    assert first.principal.endswith("/app000")
    # Only the parts what is in flight needs have been read: never the whole run at once.
    in_flight = 1 if workers == 1 else workers * 3 * 8  # chunks of 8, 3 per worker
    assert len(store.asked) == -(-in_flight // PART)
    rest = list(outcomes)
    names = [o.principal.rpartition("/")[2] for o in [first, *rest]]
    assert names == ROLES
    asked = [sorted(p.rpartition("/")[2] for p in part or ()) for part in store.asked]
    assert asked == [ROLES[n : n + PART] for n in range(0, len(ROLES), PART)]


def test_the_stream_gives_what_the_whole_run_gives(catalog: Catalog) -> None:
    streamed = [o.to_dict() for o in _plan(catalog, workers=2)[0].outcomes()]
    whole = collect(_plan(catalog, workers=1)[0].outcomes())
    assert streamed == [p.to_dict() for p in whole.proposals]
    assert whole.failures == ()


def test_a_principal_with_many_rows_is_proposed_for_alone_in_order(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `ALONE_ROWS` report rows a principal is proposed for in this process (its rows
    are not sent to a worker and held twice), between the chunks before and after it."""
    from alpha.generate import run

    rows: dict[int, list[UsageRow]] = {n: [] for n in range(13)}
    rows[2] = rows[11] = [UsageRow("p", "s3:GetObject", "*", 1, 0, T0, T0, ())] * 3
    jobs: list[run.Job] = [(f"p{n}", rows[n] or rows[2][:1], {}) for n in range(13)]
    monkeypatch.setattr(run, "ALONE_ROWS", 2)
    pieces = list(run._pieces(iter(jobs)))
    shown = [[j[0] for j in p] if isinstance(p, list) else p[0] for p in pieces]
    assert shown == [["p0", "p1"], "p2", [f"p{n}" for n in range(3, 11)], "p11", ["p12"]]
    monkeypatch.setattr(run, "ALONE_ROWS", 0)  # every principal alone, workers idle
    alone = [o.to_dict() for o in _plan(catalog, workers=2)[0].outcomes()]
    whole = collect(_plan(catalog, workers=1)[0].outcomes())
    assert alone == [p.to_dict() for p in whole.proposals]
