"""A proposal says whose work it might break: the people behind a shared role most exposed,
in the document, its notes, the reasoner's evidence and `alpha show`."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
from alpha.catalog import load_catalog
from alpha.cli.workflow_render import people_lines
from alpha.generate import ProposalGenerator, UsageContext
from alpha.generate.run import collect, plan_generation
from alpha.guardrails import load_config, parse_config
from alpha.reasoning import LocalReasoner, build_evidence
from alpha.reasoning.prompt import evidence_document
from alpha.usage.people import PersonUse
from alpha.usage.ports import TimeWindow
from tests.fakes.memory_usage_source import MemoryUsageSource
from tests.generate.factories import ALLOW_ALL, ROLE, T0, T1, role, row, single_role, snapshot

SHARED = Path(__file__).resolve().parent.parent / "data" / "people" / "shared_roles.json.gz"
SSO_NAME = "AWSReservedSSO_PowerUserAccess_e80e5005a16af40e"
SSO_ARN = f"arn:aws:iam::726589425873:role/aws-reserved/sso.amazonaws.com/{SSO_NAME}"


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
    assert document["people_at_risk"]["summary"] == (
        "may break the work of bob@example.com (1 rare action, only user of 1)"
        " of 2 people using this role"
    )
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


def test_a_run_over_the_stored_usage_names_whose_work_it_might_break(tmp_path: Path) -> None:
    """From the benchmark generator's Identity Center role through the DuckDB store to the
    proposal: the people come from the store, resolved to the snapshot's role."""
    records = json.loads(gzip.decompress(SHARED.read_bytes()))["Records"]
    source = MemoryUsageSource()
    source.put("trail.json", records)
    sso = {
        **role(SSO_NAME, inline=[[ALLOW_ALL]]),
        "Path": "/aws-reserved/sso.amazonaws.com/",
        "Arn": SSO_ARN,
    }
    with DuckDBUsageStore(tmp_path / "usage.duckdb") as store:
        plan = plan_generation(
            snapshot([sso]),
            load_catalog(),
            load_config(None, {}),
            sources=[source],
            store=store,
            window=TimeWindow(),
            workers=1,
        )
        # rows are read a part at a time as the outcomes are asked for: the store is open
        (proposal,) = collect(plan.outcomes()).proposals
    at_risk = proposal.people_at_risk
    assert at_risk is not None
    assert at_risk.people == 6
    assert at_risk.top
    assert len(at_risk.top) + at_risk.more <= 6
    assert all(p.person.endswith("@acme-corp.com") for p in at_risk.top)
    assert all(
        r.startswith(("rare: ", "only user of ", "last seen "))
        for p in at_risk.top
        for r in p.reasons
    )
    assert proposal.to_dict()["people_at_risk"]["people"] == 6
