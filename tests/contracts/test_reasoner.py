"""The `Reasoner` port, run against every implementation: the local reasoner, the rule-based
fake, and the Bedrock reasoner over HTTP against the Converse fake (a careful model). What
any reasoner must do: explain the principal's proposal, deterministically, with a probability
of break in [0, 1] that a proposal denying observed calls raises."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from alpha.adapters.aws.bedrock_reasoner import DEFAULT_MODEL, BedrockReasoner, make_bedrock_client
from alpha.catalog import AccessLevel, Catalog
from alpha.reasoning import Evidence, GuardrailSummary, LocalReasoner, Reasoner
from alpha.reasoning.evidence import ReplayCoverage
from tests.fakes.rule_reasoner import RuleReasoner
from tests.reasoning.factories import diff, evidence, obs, steady
from tests.wire.bedrock_converse import running_bedrock

EVIDENCE: dict[str, Evidence] = {
    "no calls": evidence(window_days=1),
    "steady use": evidence(steady(3), window_days=120),
    "rare and denied calls": evidence(
        [obs("s3:GetObject", 40, days=3, span=20), obs("iam:GetRole", 1, denied=9)],
        data_events=False,
        removed=diff(
            [("s3:PutObject", AccessLevel.WRITE), ("iam:PutRolePolicy", None)],
            {AccessLevel.WRITE: (30, 12)},
        ),
        replay=(41, 30),
        guardrails=[GuardrailSummary("WILDCARD_ACTION", "no wildcards", True)],
    ),
    "denied only": evidence([obs("kms:Decrypt", 0, denied=5)], replay=(0, 0)),
}


@pytest.fixture(params=["local", "rule", "bedrock"])
def make_reasoner(
    request: pytest.FixtureRequest, catalog: Catalog
) -> Iterator[Callable[[], Reasoner]]:
    if request.param == "local":
        yield lambda: LocalReasoner(catalog)
    elif request.param == "rule":
        yield RuleReasoner
    else:
        request.getfixturevalue("aws_env")
        with running_bedrock() as fake:
            client = make_bedrock_client(region="us-east-1", endpoint_url=fake.endpoint_url)
            yield lambda: BedrockReasoner(client, DEFAULT_MODEL, LocalReasoner(catalog))
            assert fake.calls, "the Bedrock reasoner never called the service"


@pytest.mark.parametrize("given", EVIDENCE.values(), ids=EVIDENCE.keys())
def test_the_same_evidence_gives_the_same_reasoning(
    make_reasoner: Callable[[], Reasoner], given: Evidence
) -> None:
    reasoner = make_reasoner()
    first = json.dumps(reasoner.reason(given).to_dict(), sort_keys=True)
    assert json.dumps(reasoner.reason(given).to_dict(), sort_keys=True) == first
    assert json.dumps(make_reasoner().reason(given).to_dict(), sort_keys=True) == first


@pytest.mark.parametrize("given", EVIDENCE.values(), ids=EVIDENCE.keys())
def test_the_risk_is_a_probability_and_explained(
    make_reasoner: Callable[[], Reasoner], given: Evidence
) -> None:
    risk = make_reasoner().reason(given).risk_signal
    assert 0.0 <= risk.probability_of_break <= 1.0
    assert all(0.0 <= factor.probability <= 1.0 for factor in risk.factors)
    assert risk.factors
    assert risk.rationale


@pytest.mark.parametrize("given", EVIDENCE.values(), ids=EVIDENCE.keys())
def test_the_rationale_names_the_principal_and_the_notes_are_sentences(
    make_reasoner: Callable[[], Reasoner], given: Evidence
) -> None:
    reasoning = make_reasoner().reason(given)
    assert given.principal in reasoning.rationale
    assert isinstance(reasoning.remediation_notes, tuple)
    assert all(isinstance(note, str) and note for note in reasoning.remediation_notes)


@pytest.mark.parametrize("allowed", [0, 50, 99])
def test_a_proposal_denying_observed_calls_is_riskier(
    make_reasoner: Callable[[], Reasoner], allowed: int
) -> None:
    clean = evidence(steady(2), window_days=120, replay=(100, 100))
    missing = replace(clean, replay=ReplayCoverage(100, allowed))
    reasoner = make_reasoner()
    safe = reasoner.reason(clean)
    risky = reasoner.reason(missing)
    assert risky.risk_signal.probability_of_break > safe.risk_signal.probability_of_break
    assert len(risky.remediation_notes) > len(safe.remediation_notes)
