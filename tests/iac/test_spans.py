"""Properties of span editing: replacing or removing any value of any JSON document, however
indented, gives exactly the document Python would make, and the HCL scanner finds an
attribute's whole value whatever strings (braces, quotes, `${`) the policy holds."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from alpha.iac.hcl import hcl_value, parse_hcl
from alpha.iac.json_spans import JsonNode, dump_at, parse_spans
from alpha.iac.spans import Edit, apply_edits, remove_items

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=12))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
INDENTS = st.sampled_from([None, 2, 4, "\t"])


def paths(value: Any, node: JsonNode, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, _, child in node.members:
            found += paths(value[key], child, (*at, key))
    elif isinstance(value, list):
        for index, child in enumerate(node.items):
            found += paths(value[index], child, (*at, index))
    return found


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


@settings(max_examples=150, deadline=None)
@given(VALUES, INDENTS, VALUES, st.data())
def test_replacing_any_value_by_its_span(value: Any, indent: Any, new: Any, data: Any) -> None:
    text = json.dumps({"root": value}, indent=indent)
    document, root = parse_spans(text, "t.json")
    path = data.draw(st.sampled_from(paths(document, root)))
    node = root.at(path)
    edited = apply_edits(
        text, [Edit(node.span.start, node.span.end, dump_at(text, node.span.start, new))], "t.json"
    )
    assert json.loads(edited) == replaced(document, path, new)
    assert edited[: node.span.start] == text[: node.span.start]


@settings(max_examples=150, deadline=None)
@given(st.lists(SCALARS, min_size=1, max_size=6), INDENTS, st.data())
def test_removing_any_items_of_a_list(items: list[Any], indent: Any, data: Any) -> None:
    text = json.dumps({"list": items, "after": 1}, indent=indent)
    _, root = parse_spans(text, "t.json")
    node = root.at(("list",))
    drop = data.draw(st.sets(st.integers(0, len(items) - 1)))
    edits = remove_items([n.span for n in node.items], drop, node.inside)
    edited = apply_edits(text, edits, "t.json")
    assert json.loads(edited) == {
        "list": [v for i, v in enumerate(items) if i not in drop],
        "after": 1,
    }


@settings(max_examples=150, deadline=None)
@given(VALUES)
def test_the_scanner_finds_a_jsonencoded_value_whole(value: Any) -> None:
    encoded = f"jsonencode({hcl_value({'v': value}, '  ', '  ')})"
    text = f'resource "aws_iam_role_policy" "p" {{\n  policy = {encoded}\n  name = "x"\n}}\n'
    [block] = parse_hcl(text)
    policy = block.attributes["policy"].value
    assert text[policy.start : policy.end] == encoded
    name = block.attributes["name"].value
    assert text[name.start : name.end] == '"x"'
