"""Glob languages: witnesses, emptiness and the cheap inclusion tests, against brute force."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpha.policy.globlang import Glob, contains, disjoint, find_string, glob, is_subset

globs = st.text(alphabet="ab*?", max_size=4).map(glob)
# A bounded check: every string up to length 7 over the globs' letters and one letter none of
# them names (short globs that differ, differ on short strings).
UNIVERSE = ["".join(p) for n in range(8) for p in itertools.product("abc", repeat=n)]


def member(value: str, includes: list[list[Glob]], excludes: list[Glob]) -> bool:
    return all(any(g.matches(value) for g in union) for union in includes) and not any(
        g.matches(value) for g in excludes
    )


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.lists(globs, min_size=1, max_size=2), min_size=1, max_size=2),
    st.lists(globs, max_size=3),
)
def test_find_string_agrees_with_brute_force(
    includes: list[list[Glob]], excludes: list[Glob]
) -> None:
    found = find_string(includes, excludes)
    if found is not None:
        assert member(found, includes, excludes)
    else:
        assert not any(member(s, includes, excludes) for s in UNIVERSE)


@settings(max_examples=400, deadline=None)
@given(globs, globs)
def test_cheap_tests_never_contradict_the_languages(general: Glob, specific: Glob) -> None:
    verdict = contains(general, specific)
    truth = not any(specific.matches(s) and not general.matches(s) for s in UNIVERSE)
    if verdict is not None:
        assert verdict == truth
    assert is_subset(specific, [general]) == truth
    if disjoint(general, specific):
        assert not any(general.matches(s) and specific.matches(s) for s in UNIVERSE)


@pytest.mark.parametrize(
    ("specific", "general", "inside"),
    [
        ("arn:aws:s3:::b/x*", ["arn:aws:s3:::b/*"], True),
        ("arn:aws:s3:::b/*", ["arn:aws:s3:::b/x*"], False),
        ("arn:aws:s3:::b/?", ["arn:aws:s3:::b/*"], True),
        ("arn:aws:s3:::b/x/y", ["arn:aws:s3:::*"], True),
        ("arn:aws:s3:::b/?*", ["arn:aws:s3:::b/?", "arn:aws:s3:::b/??*"], True),
        ("arn:aws:s3:::b/*", ["arn:aws:s3:::b/?", "arn:aws:s3:::b/??*"], False),
        ("arn:aws:s3:us-east-1:1:app/*", ["arn:aws:s3:*:*:*"], True),
        ("*", ["?*"], False),
    ],
)
def test_inclusion_examples(specific: str, general: list[str], inside: bool) -> None:
    assert is_subset(glob(specific), [glob(g) for g in general]) == inside


def test_prefer_gives_a_realistic_witness() -> None:
    wanted = find_string(
        [[glob("arn:aws:s3:::*")]], [glob("arn:aws:s3:::b/*")], ["x", "arn:aws:s3:::c/k"]
    )
    assert wanted == "arn:aws:s3:::c/k"
