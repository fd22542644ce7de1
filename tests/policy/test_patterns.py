from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpha.policy.patterns import GlobSet, PatternSet, compile_glob, parse_template


@pytest.mark.parametrize(
    ("pattern", "value", "ignore_case", "expected"),
    [
        ("s3:GetObject", "s3:GetObject", False, True),
        ("s3:GetObject", "s3:getobject", False, False),
        ("s3:GetObject", "S3:GETOBJECT", True, True),
        ("s3:Get*", "s3:getobjectacl", True, True),
        ("s3:Get*", "s3:PutObject", True, False),
        ("*", "", False, True),
        ("*", "anything:at/all", False, True),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c", False, True),  # `*` crosses `/`
        ("arn:aws:s3:::b*", "arn:aws:s3:::b:x", False, True),  # and `:`
        ("arn:aws:s3:::b/*", "arn:aws:s3:::B/x", False, False),  # resources case-sensitive
        ("*Object", "s3:GetObject", False, True),
        ("*Object", "s3:GetObjects", False, False),
        ("s3:?etObject", "s3:GetObject", False, True),
        ("s3:?etObject", "s3:etObject", False, False),
        ("a*b*c", "abc", False, True),
        ("a*b*c", "a-b-c-", False, False),
        ("a.b", "axb", False, False),  # regex metacharacters are literal
        ("a+[b]", "a+[b]", False, True),
        ("ab*", "ab", False, True),
        ("line*", "line\nbreak", False, True),
    ],
)
def test_compile_glob(pattern: str, value: str, ignore_case: bool, expected: bool) -> None:
    assert compile_glob(pattern, ignore_case)(value) is expected
    assert GlobSet([pattern], ignore_case).matches(value) is expected


def _reference(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


@given(
    st.lists(st.text(alphabet="ab*?:/", max_size=6), max_size=5),
    st.text(alphabet="ab:/", max_size=8),
)
def test_globset_is_any_of_its_patterns(patterns: list[str], value: str) -> None:
    assert GlobSet(patterns).matches(value) == any(_reference(p, value) for p in patterns)


USER = {"aws:username": ("alice",)}


@pytest.mark.parametrize(
    ("pattern", "value", "context", "expected"),
    [
        ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/alice/x", USER, True),
        ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/bob/x", USER, False),
        ("arn:aws:s3:::b/${AWS:UserName}/*", "arn:aws:s3:::b/alice/x", USER, True),
        # a missing key leaves the pattern unresolved: it matches nothing, not even `*`
        ("arn:aws:s3:::b/${aws:username}*", "arn:aws:s3:::b/", {}, False),
        # a multivalued key cannot be a variable
        ("b/${aws:username}", "b/alice", {"aws:username": ("alice", "bob")}, False),
        # defaults apply when the key is missing, and only then
        ("b/${aws:PrincipalTag/team, 'shared'}/*", "b/shared/x", {}, True),
        (
            "b/${aws:PrincipalTag/team, 'shared'}/*",
            "b/shared/x",
            {"aws:principaltag/team": ("red",)},
            False,
        ),
        ("b/${aws:PrincipalTag/team,'it''s'}", "b/it's", {}, True),
        ("b/${ aws:username , 'x}y' }", "b/x}y", {}, True),
        # escapes are literal characters, never wildcards
        ("b/${*}", "b/*", {}, True),
        ("b/${*}", "b/anything", {}, False),
        ("b/${?}", "b/?", {}, True),
        ("b/${?}", "b/x", {}, False),
        ("b/${$}{x}", "b/${x}", {}, True),
        # substituted values are literal text too
        ("b/${aws:username}", "b/anything", {"aws:username": ("*",)}, False),
        ("b/${aws:username}", "b/*", {"aws:username": ("*",)}, True),
        ("b/${aws:username}.txt", "b/aXtxt", {"aws:username": ("a",)}, False),
        # wildcards in the policy's own text still work around variables
        ("b/*/${aws:username}/?", "b/x/y/alice/1", USER, True),
    ],
)
def test_variables_in_patterns(
    pattern: str, value: str, context: dict[str, tuple[str, ...]], expected: bool
) -> None:
    assert PatternSet([pattern], variables=True).matches(value, context) is expected


def test_version_2008_treats_variables_as_literal_text() -> None:
    patterns = PatternSet(["b/${aws:username}"], variables=False)
    assert patterns.matches("b/${aws:username}", USER)
    assert not patterns.matches("b/alice", USER)


@pytest.mark.parametrize(
    "text", ["plain", "no ${ close", "${}", "${key, no-quotes}", "${key, 'unterminated}"]
)
def test_text_without_valid_variables_is_literal(text: str) -> None:
    assert parse_template(text) is None
    assert PatternSet([text], variables=True).matches(text, {})


def test_pattern_set_mixes_static_and_templated_patterns() -> None:
    patterns = PatternSet(["arn:aws:s3:::static/*", "arn:aws:s3:::b/${aws:username}"], True)
    assert patterns.matches("arn:aws:s3:::static/k", {})
    assert patterns.matches("arn:aws:s3:::b/alice", USER)
    assert not patterns.matches("arn:aws:s3:::b/alice", {})
    assert not patterns.is_static
