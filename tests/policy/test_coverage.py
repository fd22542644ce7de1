from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpha.policy.coverage import covers, redundant


@pytest.mark.parametrize(
    ("general", "specific", "ignore_case", "expected"),
    [
        ("*", "anything", False, True),
        ("s3:Get*", "s3:GetObject", True, True),
        ("s3:Get*", "S3:GETOBJECT", True, True),
        ("s3:Get*", "S3:GETOBJECT", False, False),
        ("s3:Get*", "s3:Get?bject", True, True),
        ("s3:Get*", "s3:*", True, False),
        ("s3:*Object", "s3:GetObject", True, True),
        ("s3:*Object", "s3:Get*Object", True, False),  # sound but incomplete: not proven
        ("s3:G?tObject", "s3:GetObject", True, True),
        ("s3:GetObject", "s3:GetObject", True, True),
        ("s3:GetObject", "s3:PutObject", True, False),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/${aws:username}/*", False, True),
        ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/x/y", False, False),
        ("arn:aws:s3:::b/a*", "arn:aws:s3:::b/*", False, False),
        ("arn:aws:s3:::b/a*", "arn:aws:s3:::b/${x}a", False, False),
    ],
)
def test_covers(general: str, specific: str, ignore_case: bool, expected: bool) -> None:
    assert covers(general, specific, ignore_case=ignore_case) is expected


def test_redundant_keeps_the_first_of_equals_and_follows_chains() -> None:
    patterns = ["s3:GetObject", "s3:Get*", "S3:GET*", "s3:*", "ec2:Run*"]
    assert redundant(patterns, ignore_case=True) == {0: 3, 1: 3, 2: 3}
    assert redundant(["a", "a", "b"], ignore_case=False) == {1: 0}


def _matches(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


GLOBS = st.text(alphabet="ab*?", min_size=0, max_size=5)


@settings(max_examples=300, deadline=None)
@given(GLOBS, GLOBS, st.text(alphabet="abAB", max_size=6), st.booleans())
def test_covers_is_sound(general: str, specific: str, value: str, ignore_case: bool) -> None:
    """Whenever `covers` says yes, every string the specific pattern matches, the general does."""
    if covers(general, specific, ignore_case=ignore_case) and _matches(
        specific, value, ignore_case
    ):
        assert _matches(general, value, ignore_case)
