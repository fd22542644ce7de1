"""`ScanRequest.org` and `GenerateRequest.org` apply through the use cases: scan's counts,
the stored proposal's recorded levels, and the rollout's sandbox replaying under them."""

from __future__ import annotations

from datetime import timedelta

from alpha.app import Application, GenerateRequest, ScanRequest
from alpha.demo.sample import ROLLOUT_AT
from alpha.policy.org_record import recorded_guardrails
from alpha.store.model import Stage
from tests.app.conftest import ACCOUNT, APPROVER, LOGS, PROPOSER
from tests.fakes.memory_backends import MemoryBackends
from tests.fakes.scripted_monitor import Call
from tests.policy.org_examples import prod_guardrails


def test_scan_counts_a_grant_an_scp_denies_as_not_granted(app: Application) -> None:
    plain = {s.principal: s for s in app.scan(ScanRequest(ACCOUNT, (LOGS,))).report.scores}
    under = app.scan(ScanRequest(ACCOUNT, (LOGS,), org=prod_guardrails())).report.scores
    admins = [s for s in under if s.blocked_by_org]
    assert admins  # the sample's ci-deployer holds `*`: LeaveOrganization and DeleteBucket
    for score in admins:
        assert score.granted == plain[score.principal].granted - score.blocked_by_org


def test_proposals_record_the_levels(app: Application) -> None:
    request = GenerateRequest(ACCOUNT, (LOGS,), org=prod_guardrails())
    proposed = app.propose(request, by=PROPOSER).proposed
    assert proposed
    for item in proposed:
        stored = app.proposal(item.id)
        assert recorded_guardrails(stored.document) == prod_guardrails()


def test_the_sandbox_puts_calls_outside_the_regions_on_the_organization(
    app: Application, backends: MemoryBackends
) -> None:
    request = GenerateRequest(ACCOUNT, (LOGS,), org=prod_guardrails())
    proposed = app.propose(request, by=PROPOSER).proposed
    orders = app.proposal(next(p.id for p in proposed if "orders-api" in p.principal))
    app.approve(orders.id, APPROVER)
    table = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders"
    at = ROLLOUT_AT + timedelta(minutes=5)
    backends.monitor.add(
        Call(orders.principal, at, "dynamodb:GetItem", table, region="eu-west-1"),
        Call(orders.principal, at, "dynamodb:Query", table, region="us-east-1"),
    )
    backends.monitor.covered = ROLLOUT_AT + timedelta(days=1)
    app.roll_out(orders.id, Stage.SANDBOX)
    (record,) = backends.store.stages(orders.id)
    metrics = record.metrics["last"]
    assert (metrics["replayed_calls"], metrics["would_be_denied"]) == (1, 0)
    assert metrics["denied_by_org"] == 1
    assert "SCP 'DenyRegions' (p-denyregi) at OU 'Prod'" in metrics["denied_by_org_examples"][0]
