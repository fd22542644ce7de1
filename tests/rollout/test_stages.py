from __future__ import annotations

import pytest

from alpha.rollout.errors import RolloutError
from alpha.rollout.stages import canary_deny_document, waves
from tests.rollout.factories import PROPOSED


@pytest.mark.parametrize(
    ("count", "fraction", "expected"),
    [(1, 0.5, [1]), (2, 0.5, [1, 1]), (5, 0.2, [1, 4]), (4, 1.0, [4]), (3, 0.01, [1, 2])],
)
def test_waves(count: int, fraction: float, expected: list[int]) -> None:
    targets = [f"t{i}" for i in range(count)]
    found = waves(targets, fraction)
    assert [len(w) for w in found] == expected
    assert [t for w in found for t in w] == targets


def test_deny_collapses_wholly_removed_services() -> None:
    deny = canary_deny_document(PROPOSED, ["s3:PutObject", "ec2:RunInstances", "ec2:Stop"], 10_000)
    assert deny is not None
    assert deny["Statement"][0]["Action"] == ["ec2:*", "s3:PutObject"]


def test_deny_falls_back_to_not_action_when_too_big() -> None:
    removed = [f"s3:Action{i}" for i in range(500)]
    deny = canary_deny_document(PROPOSED, removed, 1_000)
    assert deny is not None
    assert deny["Statement"][0]["NotAction"] == ["s3:GetObject"]
    assert canary_deny_document(PROPOSED, [], 1_000) is None
    with pytest.raises(RolloutError, match="does not fit"):
        canary_deny_document(PROPOSED, None, 50)
