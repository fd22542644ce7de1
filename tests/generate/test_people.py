"""A proposal says whose work it might break: the people behind a shared role most exposed,
in the document, its notes, the reasoner's evidence and `alpha show`."""

from __future__ import annotations

from datetime import timedelta

from alpha.catalog import load_catalog
from alpha.cli.workflow_render import people_lines
from alpha.generate import ProposalGenerator, UsageContext
from alpha.guardrails import parse_config
from alpha.reasoning import LocalReasoner, build_evidence
from alpha.reasoning.prompt import evidence_document
from alpha.usage.people import PersonUse
from tests.generate.factories import ALLOW_ALL, ROLE, T0, T1, row, single_role


def use(person: str, action: str, calls: int, days_before_end: int) -> PersonUse:
    seen = T1 - timedelta(days=days_before_end)
    return PersonUse(ROLE, person, action, calls, 0, seen, seen)


PEOPLE = (
    use("ann@example.com", "s3:GetObject", 40, 1),
    use("bob@example.com", "s3:GetObject", 30, 1),
    use("bob@example.com", "s3:PutObject", 1, 1),  # rare, and only bob
)


def test_the_proposal_names_the_people_at_risk() -> None:
    context = UsageContext(
        (T0, T1), events=100, principals=1, data_events_logged=True, people={ROLE: PEOPLE}
    )
    generator = ProposalGenerator(load_catalog(), single_role(ALLOW_ALL), parse_config("", "t", {}))
    rows = [row("s3:GetObject", "arn:aws:s3:::b/k", 70), row("s3:PutObject", "arn:aws:s3:::b/k")]
    proposal = generator.propose(ROLE, rows, context)

    at_risk = proposal.people_at_risk
    assert at_risk is not None
    assert [(p.person, p.reasons) for p in at_risk.top] == [
        ("bob@example.com", ("rare: s3:PutObject", "only user of s3:PutObject"))
    ]
    document = proposal.to_dict()
    assert document["people_at_risk"]["people"] == 2
    assert document["people_at_risk"]["at_risk"][0]["person"] == "bob@example.com"
    assert any(n.startswith("May break the work of bob@example.com") for n in document["notes"])
    assert people_lines(document) == [
        "may break the work of (of 2 people using this role):",
        "  bob@example.com: rare: s3:PutObject; only user of s3:PutObject",
    ]


def test_the_reasoners_evidence_carries_them() -> None:
    context = UsageContext(
        (T0, T1), events=100, principals=1, data_events_logged=True, people={ROLE: PEOPLE}
    )
    catalog = load_catalog()
    generator = ProposalGenerator(catalog, single_role(ALLOW_ALL), parse_config("", "t", {}))
    rows = [row("s3:GetObject", "arn:aws:s3:::b/k", 70), row("s3:PutObject", "arn:aws:s3:::b/k")]
    proposal = generator.propose(ROLE, rows, context)
    assert proposal.people_at_risk is not None
    evidence = build_evidence(
        principal=ROLE,
        window=(T0, T1),
        rows=rows,
        diff=proposal.diff,
        catalog=catalog,
        data_events_logged=True,
        replay=(2, 2),
        people=proposal.people_at_risk,
    )
    found = evidence_document(evidence, LocalReasoner(catalog).reason(evidence))
    assert found["usage"]["people_at_risk"]["at_risk"][0]["person"] == "bob@example.com"


def test_a_role_no_person_used_says_nothing_of_people() -> None:
    context = UsageContext((T0, T1), events=100, principals=1, data_events_logged=True)
    generator = ProposalGenerator(load_catalog(), single_role(ALLOW_ALL), parse_config("", "t", {}))
    proposal = generator.propose(ROLE, [row("s3:GetObject", "arn:aws:s3:::b/k")], context)
    assert proposal.people_at_risk is None
    assert "people_at_risk" not in proposal.to_dict()
    assert people_lines(proposal.to_dict()) == []
