"""Hypothesis strategies for documents a hostile or careless user hands ALPHA: JSON-ish text
(policies, account snapshots) and TOML (alpha.toml), nested deeply, with numbers past what
Python converts, NaN, duplicate keys and strange characters, some of it shaped like the real
thing so that the parsers get past their first check. And the property they are used for."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from alpha.errors import AlphaError

BIG = "<5,000 digits>"  # json.dumps cannot write such an int: substituted into the text
WEIRD = [
    "\x00",
    "\t",
    "\n",
    "\u2028",  # a line separator
    "\u202e",  # right-to-left override
    "\ufeff",
    "e\u0301",  # a combining accent
    "\U0001f600",
    "\ud800",  # half a surrogate pair: json.dumps escapes it as \ud800
    "漢字",
    "[/]",  # a closing tag to Rich
    "${aws:username}",
]
strings = (
    st.text(max_size=12)
    | st.sampled_from(WEIRD)
    | st.sampled_from(
        ["*", "s3:*", "s3:Get*", "arn:aws:s3:::b/*", "Allow", "Deny", "2012-10-17", "", "1h"]
    )
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.just(BIG)
    | st.floats()  # NaN and Infinity included: json.dumps writes them
    | strings
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings, inner, max_size=3),
    max_leaves=12,
)


def encode(value: Any) -> str:
    return json.dumps(value).replace(json.dumps(BIG), "9" * 5_000)


@st.composite
def damaged(draw: st.DrawFn, document: Any) -> str:
    """The document's text, perhaps damaged: nested deeply, a key repeated, cut short."""
    text = encode(document)
    how = draw(st.sampled_from(["as is", "deep", "duplicate", "cut", "junk"]))
    if how == "deep":
        depth = draw(st.sampled_from([50, 600, 5_000, 100_000]))
        return "[" * depth + text + "]" * depth
    if how == "duplicate" and text.startswith("{") and len(text) > 2:
        return '{"Statement": 1, "Statement": 2, ' + text[1:]
    if how == "cut":
        return text[: draw(st.integers(0, len(text)))]
    if how == "junk":
        return text + draw(st.sampled_from(["NaN", "}", "\x00", "-Infinity", ",", "1e999"]))
    return text


def statements() -> st.SearchStrategy[dict[str, Any]]:
    keys = ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal"]
    keys += ["Condition"]
    shaped = {
        "Effect": st.sampled_from(["Allow", "Deny"]) | values,
        "Action": st.sampled_from(["s3:GetObject", "*", ["s3:Get*", "?*?*"]]) | values,
        "Resource": st.sampled_from(["*", "arn:aws:s3:::b/${aws:username}"]) | values,
        "Condition": st.dictionaries(
            st.sampled_from(["StringLike", "DateLessThan", "NumericEquals", "Bogus"]),
            st.dictionaries(strings, values, max_size=2),
            max_size=2,
        )
        | values,
    }
    return st.fixed_dictionaries({}, optional={key: shaped.get(key, values) for key in keys})


def policies() -> st.SearchStrategy[Any]:
    shaped = st.fixed_dictionaries(
        {"Statement": st.lists(statements(), max_size=3) | values},
        optional={"Version": st.just("2012-10-17") | values, "Id": values},
    )
    return shaped | values


@st.composite
def accounts(draw: st.DrawFn) -> Any:
    name = draw(st.sampled_from(["app", "a\nb", "[/]", "x" * 70]) | strings)
    document = draw(policies())
    role: dict[str, Any] = {
        "RoleName": name,
        "Arn": draw(
            st.sampled_from([f"arn:aws:iam::111122223333:role/{name}", "arn:aws:iam::x:role/y"])
            | strings
        ),
        "AssumeRolePolicyDocument": draw(
            st.sampled_from([document, encode(document), quote(encode(document))])
        ),
    }
    optional = {
        "Path": strings,
        "CreateDate": st.sampled_from(
            ["2024-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"]
        )
        | strings,
        "RoleLastUsed": st.fixed_dictionaries({"LastUsedDate": strings}) | values,
        "RolePolicyList": st.lists(
            st.fixed_dictionaries({"PolicyName": strings, "PolicyDocument": policies()}),
            max_size=2,
        )
        | values,
        "AttachedManagedPolicies": values,
        "PermissionsBoundary": values,
        "Tags": values,
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            role[key] = draw(strategy)
    lists = draw(
        st.fixed_dictionaries(
            {"RoleDetailList": st.just([role])},
            optional={"Policies": values, "UserDetailList": values, "GroupDetailList": values},
        )
    )
    return draw(st.sampled_from([lists, [lists]]) | values)


def toml_values() -> st.SearchStrategy[str]:
    words = st.sampled_from(
        [
            '"1h"',
            '"99999999999w"',
            '"' + "9" * 5_000 + 'h"',
            "9" * 5_000,
            "-5",
            "nan",
            "inf",
            "1e999",
            "86400000000000",
            "1979-05-27T07:32:00+25:00",
            "0001-01-01T00:00:00Z",
            '"\\ud800"',
            '"a\\nb"',
            "true",
            "[" * 2_000 + "]" * 2_000,
            '{ canary = "6h", bogus = 1 }',
            '["sam", "lee"]',
            '"x',
        ]
    )
    return words | st.text(max_size=10).map(json.dumps)


@st.composite
def settings_files(draw: st.DrawFn) -> str:
    tables = {
        "store": ["path", "replay"],
        "rollout": ["logs", "bake", "bakes", "canary_fraction", "max_new_denials", "max_wait"],
        "approvals": ["approvers", "expiry", "separation_of_duties"],
        "guardrails": ["blocked_actions", "max_policy_size", "rules"],
    }
    lines: list[str] = []
    for table in draw(st.lists(st.sampled_from([*tables, '"we\\nird"']), max_size=3)):
        lines.append(f"[{table}]")
        for key in draw(st.lists(st.sampled_from([*tables.get(table, ["k"]), '"a\\nb"']))):
            lines.append(f"{key} = {draw(toml_values())}")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n[rollout", "\n= 1"]))


def value_or_one_line_error(call: Callable[[], object], error: type[AlphaError]) -> None:
    """`call` returns, or raises `error` (an AlphaError) whose message is one printable line;
    any other exception fails the test."""
    try:
        call()
    except error as exc:
        message = str(exc)
        assert message
        assert not re.search(r"[^\S ]", message), repr(message)  # no line break, tab or the like
        assert all(ch.isprintable() for ch in message), repr(message)
