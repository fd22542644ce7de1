"""The replay of observed calls against a policy ALPHA did not write, and the differences
between two engines' policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alpha.app.analyzer_engine import analyzer_window
from alpha.app.engine_checks import disagreements, replay_candidate
from alpha.catalog import Catalog
from alpha.policy.parse import parse_policy
from alpha.usage.aggregate import UsageRow

AT = datetime(2026, 10, 1, tzinfo=UTC)
TODAY = parse_policy(
    {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:*", "ec2:Describe*"], "Resource": "*"},
    ]}
)  # fmt: skip


def row(action: str, resource: str, count: int = 3) -> UsageRow:
    return UsageRow("arn:aws:iam::1:role/r", action, resource, count, 0, AT, AT, (), ("eu-west-1",))


def allow(action: str, resource: str) -> dict[str, object]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def test_replay_counts_allowed_missed_unchecked_and_not_granted(catalog: Catalog) -> None:
    candidate = parse_policy(
        {"Version": "2012-10-17", "Statement": [
            allow("s3:GetObject", "arn:aws:s3:::b/k"), allow("ec2:DescribeInstances", "*"),
        ]}
    )  # fmt: skip
    rows = [
        row("s3:GetObject", "arn:aws:s3:::b/k"),
        row("s3:GetObject", "arn:aws:s3:::b/other", 2),
        row("s3:PutObject", "*"),
        row("ec2:DescribeInstances", "*"),
        row("kms:Decrypt", "arn:aws:kms:eu-west-1:1:key/x"),
        row("s3:GetObject", "arn:aws:s3:::b/denied-only", 0),
    ]
    replayed = replay_candidate(candidate, [TODAY], rows, catalog)
    assert (replayed.replay.observed, replayed.replay.allowed) == (3, 2)
    assert (replayed.replay.observed_events, replayed.replay.allowed_events) == (8, 6)
    assert [c.resource for c in replayed.missed] == ["arn:aws:s3:::b/other"]
    assert [c.action for c in replayed.unchecked] == ["s3:PutObject"]
    assert [c.action for c in replayed.replay.not_granted_today] == ["kms:Decrypt"]


def test_disagreements_name_actions_and_resources_only_one_engine_grants(
    catalog: Catalog,
) -> None:
    alpha = parse_policy(
        {"Version": "2012-10-17", "Statement": [
            allow("s3:GetObject", "arn:aws:s3:::b/k"), allow("s3:ListBucket", "arn:aws:s3:::b"),
        ]}
    )  # fmt: skip
    analyzer = parse_policy(
        {"Version": "2012-10-17", "Statement": [
            allow("s3:GetObject", "arn:aws:s3:::b/*"), allow("ec2:DescribeInstances", "*"),
        ]}
    )  # fmt: skip
    found = disagreements(alpha, analyzer, catalog)
    assert found == {
        "only_access_analyzer": ["ec2:DescribeInstances", "s3:GetObject on arn:aws:s3:::b/*"],
        "only_alpha": ["s3:ListBucket", "s3:GetObject on arn:aws:s3:::b/k"],
    }


def test_access_analyzer_reads_the_last_90_days_of_a_longer_window() -> None:
    end = AT + timedelta(days=200)
    assert analyzer_window(AT, end) == (end - timedelta(days=90), end)
    assert analyzer_window(AT, AT + timedelta(days=30)) == (AT, AT + timedelta(days=30))
