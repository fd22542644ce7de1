"""The local reasoner: deterministic rationale, risk and remediation notes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from alpha.catalog import AccessLevel, Catalog, load_catalog
from alpha.reasoning import Evidence, GuardrailSummary, InferredPermission, LocalReasoner, Reasoner
from tests.reasoning.factories import diff, evidence, obs, steady, with_window

W, PM, R = AccessLevel.WRITE, AccessLevel.PERMISSIONS_MANAGEMENT, AccessLevel.READ


@pytest.fixture(scope="module")
def reasoner() -> LocalReasoner:
    return LocalReasoner(load_catalog())


def rich_evidence() -> Evidence:
    return evidence(
        [
            obs("s3:ListAllMyBuckets", 900, days=30, span=29.9),
            obs("sqs:ReceiveMessage", 300, days=22, span=21),
            obs("ec2:DescribeVpcs", 1),
            obs("iam:GetRole", 1),
            obs("sts:GetCallerIdentity", 32, days=4, span=21, denied=3),
        ],
        window_days=30,
        data_events=False,
        removed=diff(
            [
                ("s3:GetObject", R),
                ("s3:PutObject", W),
                ("iam:PutRolePolicy", PM),
                ("lambda:InvokeFunction", W),
            ],
            {W: (120, 80), PM: (12, 4), R: (60, 30)},
        ),
        replay=(1234, 1230),
        inferred=[InferredPermission("s3:ListBucket", "pagination of ListObjectsV2")],
        guardrails=[
            GuardrailSummary("WILDCARD_ACTION", "Wildcard actions not allowed", True),
            GuardrailSummary("MISSING_REQUIRED_CONDITION", "aws:RequestedRegion missing", False),
        ],
    )


def test_the_local_reasoner_implements_the_port(reasoner: LocalReasoner) -> None:
    port: Reasoner = reasoner
    assert port.reason(rich_evidence()).risk_signal.probability_of_break > 0


def test_same_input_gives_byte_identical_output(reasoner: LocalReasoner) -> None:
    first = json.dumps(reasoner.reason(rich_evidence()).to_dict(), sort_keys=True)
    again = json.dumps(
        LocalReasoner(load_catalog()).reason(rich_evidence()).to_dict(), sort_keys=True
    )
    assert first == again


def test_the_rationale_states_the_figures(reasoner: LocalReasoner) -> None:
    text = reasoner.reason(rich_evidence()).rationale
    assert text.startswith(
        "Based on 30 days of activity (2026-10-01 to 2026-10-31), "
        "arn:aws:iam::123456789012:role/app made 1,234 allowed calls of 5 actions "
        "in 3 named sessions."
    )
    assert "Kept the 5 used actions: s3:ListAllMyBuckets (900 calls), " in text
    assert "Removed 4 actions never used (Permissions management 1, Read 1, Write 2): " in text
    assert "114 of 192 grants (59.38%)" in text
    assert "s3:ListBucket (pagination of ListObjectsV2)" in text
    assert "blocking: WILDCARD_ACTION; not blocking: MISSING_REQUIRED_CONDITION" in text


def test_the_risk_rationale_states_the_figures(reasoner: LocalReasoner) -> None:
    risk = reasoner.reason(rich_evidence()).risk_signal
    assert "N1/N = 2/1,234 = 0.16%" in risk.rationale
    assert "Removed 80 Write and 4 Permissions management grants" in risk.rationale
    assert "1,230 of 1,234 observed calls are allowed" in risk.rationale
    assert "3 calls were denied (of 1,237 attempted)" in risk.rationale
    assert len(risk.warnings) == 1


def test_remediation_notes_follow_from_the_evidence(reasoner: LocalReasoner) -> None:
    notes = reasoner.reason(rich_evidence()).remediation_notes
    assert notes[0] == (
        "Blocking guardrail violation WILDCARD_ACTION must be fixed before approval: "
        "Wildcard actions not allowed"
    )
    expected = [
        "Data events were not logged for S3; enable S3 data events on the trail and observe "
        "again before removing s3:GetObject, s3:PutObject.",
        "Data events were not logged for Lambda; enable Lambda data events on the trail and "
        "observe again before removing lambda:InvokeFunction.",
        "4 of 1,234 observed calls are not allowed by the proposal: confirm they are no longer "
        "needed before approval.",
        "Extend the window to 90 days (now 30): the longest observed recurrence is 7 days, and "
        "a periodic job is only seen by a window longer than its period.",
        "Actions seen once: re-check ec2:DescribeVpcs, iam:GetRole before production.",
        "4 Permissions management grants are removed: confirm no deployment or break-glass "
        "process uses this principal to manage IAM.",
        "s3:ListBucket kept although CloudTrail does not show it: pagination of ListObjectsV2.",
        "Guardrail MISSING_REQUIRED_CONDITION (not blocking): aws:RequestedRegion missing",
    ]
    for note in expected:
        assert note in notes
    assert any(n.startswith("Calls to sts:GetCallerIdentity were denied") for n in notes)


def test_a_clean_long_window_needs_no_notes(reasoner: LocalReasoner) -> None:
    ev = evidence(steady(3), window_days=120)
    result = reasoner.reason(ev)
    assert result.remediation_notes == ()
    assert "Removed nothing" in result.rationale
    assert "No guardrail is violated." in result.rationale


def test_the_window_target_follows_the_longest_recurrence(reasoner: LocalReasoner) -> None:
    # seen on 2 days, 100 days apart: a window must be twice that to see it recur
    ev = evidence([*steady(2), obs("x:Rare", 3, days=2, span=100)], window_days=110)
    (note,) = reasoner.reason(ev).remediation_notes
    assert note.startswith(
        "Extend the window to 200 days (now 110): the longest observed recurrence is 100 days"
    )
    assert reasoner.reason(with_window(ev, 200)).remediation_notes == ()


def test_logged_data_events_give_no_data_note(reasoner: LocalReasoner) -> None:
    ev = replace(rich_evidence(), data_events_logged=True)
    result = reasoner.reason(ev)
    assert not any("Data events were not logged" in n for n in result.remediation_notes)
    assert result.risk_signal.warnings == ()


def test_catalog_is_passed_in() -> None:
    catalog: Catalog = load_catalog()
    assert LocalReasoner(catalog).reason(evidence(steady(1))).rationale
