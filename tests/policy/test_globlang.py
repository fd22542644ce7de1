"""Glob languages: witnesses, emptiness and the cheap inclusion tests, against brute force."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpha.policy.action_space import ActionSpec, action_signatures
from alpha.policy.globlang import (
    AutomatonLimitError,
    Budget,
    Glob,
    contains,
    disjoint,
    find_string,
    glob,
    is_subset,
    wildcard_regex,
)
from alpha.policy.patterns import PatternSet

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


def matches_by_table(pattern: str, value: str) -> bool:
    """The glob by dynamic programming over (pattern, value) prefixes, without regexes."""
    reach = [True] + [False] * len(value)  # reach[j]: the pattern so far matches value[:j]
    for token in pattern:
        if token == "*":
            reach = list(itertools.accumulate(reach, lambda seen, here: seen or here))
        else:
            fits = [token in ("?", c) for c in value]
            reach = [False] + [reach[j] and fits[j] for j in range(len(value))]
    return reach[-1]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab*?", max_size=12), st.text(alphabet="ab", max_size=14))
def test_glob_regex_agrees_with_the_table(pattern: str, value: str) -> None:
    assert glob(pattern).matches(value) == matches_by_table(pattern, value)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="ab*?", max_size=8),
    st.text(alphabet="ab", max_size=3),
    st.text(alphabet="ab*?", max_size=8),
    st.text(alphabet="ab", max_size=14),
)
def test_patterns_with_variables_agree_with_the_table(
    before: str, name: str, after: str, value: str
) -> None:
    patterns = PatternSet([f"{before}${{aws:username}}{after}"], variables=True)
    expected = matches_by_table(before + name + after, value)
    assert patterns.matches(value, {"aws:username": (name,)}) == expected


@pytest.mark.parametrize(
    ("pattern", "canonical"),
    [
        ("*?*?", "??*"),
        ("?*?*", "??*"),
        ("***", "*"),
        ("a*?b?*c", "a?*b?*c"),
        ("*a?", "*a?"),
        ("?", "?"),
    ],
)
def test_wildcard_runs_are_canonical(pattern: str, canonical: str) -> None:
    assert glob(pattern).text == canonical
    assert glob(pattern) == glob(canonical)


@pytest.mark.parametrize(
    ("pattern", "star", "one", "regex"),
    [
        ("abc", ".*", ".", "abc"),
        ("a*", ".*", ".", "a.*"),
        ("a*b*c", ".*", ".", "a(?>.*?b).*c"),
        ("*a*b*", ".*", ".", "(?>.*?a)(?>.*?b).*"),
        # thirty `*?` pairs: one `*` left, so nothing to backtrack into
        ("*?" * 30 + "x", ".*", ".", "." * 30 + ".*x"),
        ("a*?b", "[^:]*", "[^:]", "a[^:][^:]*b"),
        ("*a*b", "[^:]*", "[^:]", "(?>[^:]*?a)[^:]*b"),
    ],
)
def test_the_regex_never_backtracks_into_an_earlier_star(
    pattern: str, star: str, one: str, regex: str
) -> None:
    assert wildcard_regex(glob(pattern).tokens, star, one) == regex


def test_thirty_wildcard_pairs_take_few_automaton_steps() -> None:
    budget = Budget()
    specs = [ActionSpec(False, ("s3:getobject",)), ActionSpec(False, ("s3:" + "*?" * 30 + "x",))]
    assert set(action_signatures(specs, [1], budget)) == {frozenset({1})}
    assert budget.spent < 200


def test_a_search_stops_at_its_budget() -> None:
    # `*a` then twenty `?` has no small automaton (it must remember where each `a` was)
    hard = glob("*a" + "?" * 20)
    budget = Budget(50_000)
    with pytest.raises(AutomatonLimitError, match="50,000"):
        find_string([[glob("*a" + "?" * 20 + "*")], [glob("*b*")]], [hard], budget=budget)
    assert budget.limit < budget.spent < 2 * budget.limit
