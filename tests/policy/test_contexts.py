"""Contexts that make conditions true, including tests whose values are policy variables."""

from __future__ import annotations

import pytest

from alpha.policy.conditions import compile_conditions
from alpha.policy.contexts import satisfying_context
from alpha.policy.model import Condition


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (
            Condition("StringEquals", "aws:ResourceAccount", ("${aws:PrincipalAccount}",)),
            {"aws:principalaccount": ("123456789012",), "aws:resourceaccount": ("123456789012",)},
        ),
        (
            Condition("StringLike", "s3:prefix", ("home/${aws:username}/*",)),
            {"aws:username": ("alpha-example",), "s3:prefix": ("home/alpha-example/",)},
        ),
        (
            Condition("StringEquals", "aws:PrincipalTag/team", ("${aws:RequestTag/team, 'x'}",)),
            {"aws:requesttag/team": ("x",), "aws:principaltag/team": ("x",)},
        ),
        (Condition("StringEquals", "aws:username", ("alice",)), {"aws:username": ("alice",)}),
    ],
)
def test_satisfying_context(condition: Condition, expected: dict[str, tuple[str, ...]]) -> None:
    context = satisfying_context([condition])
    assert context == expected
    assert all(test(context) for test in compile_conditions((condition,), True))
