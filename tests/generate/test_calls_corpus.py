"""The done-means corpus of issue 10 (tests/data/calls): for each real call, the proposal made
from it allows every authorisation AWS performs (checked by the evaluator), grants no write on
the call's resources that the call did not need, and the sandbox replays the call as generation
read it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from alpha.catalog import AccessLevel, Catalog
from alpha.generate import ProposalGenerator, UsageContext
from alpha.guardrails import parse_config
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.model import ActionList
from alpha.policy.serialize import to_document
from alpha.rollout.stages import StageSettings, Verdict, judge_sandbox
from alpha.usage.aggregate import UsageRow
from alpha.usage.authorisations import passed_to_services
from alpha.usage.events import CloudTrailEvent
from alpha.usage.interpret import EventUsage, interpret
from alpha.usage.mapping import EventMapper
from tests.fakes.scripted_monitor import Call, ScriptedMonitor
from tests.generate.factories import ALLOW_ALL, T0, T1, role, snapshot

CORPUS = Path(__file__).parents[1] / "data" / "calls" / "calls.json"
CASES: list[dict[str, Any]] = json.loads(CORPUS.read_text())["cases"]
CONTEXT = UsageContext((T0, T1), events=1, principals=1, data_events_logged=True)
_WRITES = {AccessLevel.WRITE, AccessLevel.PERMISSIONS_MANAGEMENT, AccessLevel.TAGGING}


def concrete(resource: str) -> str:
    """One resource the expected pattern stands for (`*` alone is the request's own `*`)."""
    return resource if resource == "*" else resource.replace("*", "example0")


def caller_of(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    account = event["recipientAccountId"]
    arn = f"arn:aws:iam::{account}:role/caller"
    identity = {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{account}:assumed-role/caller/s",
        "accountId": account,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": arn}},
    }
    return arn, {**event, "userIdentity": identity}


def test_the_corpus_holds_at_least_sixty_kinds() -> None:
    kinds = {c["kind"] for c in CASES}
    assert len(kinds) == len(CASES) >= 60
    assert all(c["authorisations"] and c["origin"] and c["basis"] for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["kind"] for c in CASES])
def test_each_call_keeps_working_and_gains_no_write(
    case: dict[str, Any], mapper: EventMapper, catalog: Catalog
) -> None:
    arn, event = caller_of(case["event"])
    region = event["awsRegion"]
    seen = interpret(msgspec.convert(event, CloudTrailEvent), mapper)
    assert isinstance(seen, EventUsage), seen
    rows = [UsageRow(arn, u.action, u.resource, 1, 0, T0, T1, ("s",), (region,)) for u in seen.uses]
    account = role("caller", inline=[[ALLOW_ALL]])
    account["Arn"] = arn
    generator = ProposalGenerator(catalog, snapshot([account]), parse_config("", "t.toml", {}))
    proposal = generator.propose(arn, rows, CONTEXT)
    evaluator = compile_policy_set(PolicySet(identity=(proposal.proposed_policy,)))
    context = {"aws:RequestedRegion": (region,)}
    # a role is passed to the service the passing call hands it to (iam:PassedToService, the
    # model's PASSED_TO), or for a call the model names no service of, its own
    services = passed_to_services(a for a, _ in case["authorisations"])
    passing = {**context, "iam:PassedToService": services or (event["eventSource"],)}

    def allowed(action: str, resource: str) -> bool:
        known = passing if action == "iam:PassRole" else context
        return evaluator.evaluate(Request(action, resource, known, principal=arn)).allowed

    expected = [(a, concrete(r)) for a, r in case["authorisations"]]
    missing = [pair for pair in expected if not allowed(*pair)]
    assert not missing, f"{case['kind']}: the proposal denies {missing}"
    writes = {
        action.key
        for statement in proposal.proposed_policy.statements
        if isinstance(statement.action, ActionList)
        for pattern in statement.action.patterns
        for action in catalog.expand(pattern)
        if action.access_level in _WRITES
    }
    wanted = {(a.lower(), r) for a, r in expected}
    extra = [
        (w, r)
        for w in sorted(writes)
        for r in sorted({r for _, r in expected})
        if (w.lower(), r) not in wanted and allowed(w, r)
    ]
    assert not extra, f"{case['kind']}: the proposal grants writes the call did not need: {extra}"
    sandbox_reads_it_alike(arn, seen, proposal.proposed_policy)


def sandbox_reads_it_alike(arn: str, seen: EventUsage, policy: Any) -> None:
    monitor = ScriptedMonitor()
    monitor.add(*(Call(arn, T0 + timedelta(minutes=1), u.action, u.resource) for u in seen.uses))
    monitor.covered = T0 + timedelta(hours=2)
    judged = judge_sandbox(
        monitor, [arn], to_document(policy), T0, StageSettings(bake=timedelta(hours=1))
    )
    assert judged.verdict is Verdict.PASSED, judged.detail
