"""`JsonStream` reads what `decode_json` reads, refuses what it refuses, and never raises
anything but `InputTextError`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpha.policy.json_stream import JsonStream
from alpha.policy.user_files import InputTextError, decode_json

FLOATS = st.floats(allow_nan=False, allow_infinity=False)
SCALARS = st.none() | st.booleans() | st.integers() | FLOATS | st.text()
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def walk(stream: JsonStream, depth: int) -> Any:
    """The value under the cursor: its outer `depth` levels walked, the rest decoded."""
    first = stream.peek()
    if depth and first == "{":
        return {key: walk(stream, depth - 1) for key in stream.members()}
    if depth and first == "[":
        return [walk(stream, depth - 1) for _ in stream.items()]
    return stream.value()


def read(text: str, depth: int) -> Any:
    stream = JsonStream(text)
    found = walk(stream, depth)
    stream.end()
    return found


@settings(max_examples=300)
@given(VALUES, st.integers(0, 3), st.sampled_from([None, 1, 2]))
def test_a_walked_document_is_the_decoded_one(value: Any, depth: int, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)
    assert read(text, depth) == decode_json(text)


@settings(max_examples=500)
@given(VALUES, st.integers(0, 3), st.data())
def test_damaged_text_is_refused_as_decode_json_refuses_it(
    value: Any, depth: int, data: st.DataObject
) -> None:
    """Cut, spliced or padded: either both read the same value or both say InputTextError."""
    text = json.dumps(value)
    cut = data.draw(st.integers(0, len(text)))
    insert = data.draw(st.sampled_from(["", ",", "}", "]", ":", '"a"', "NaN", "x", " 1", "{}"]))
    damaged = text[:cut] + insert + text[cut + data.draw(st.integers(0, 2)) :]
    try:
        expected = decode_json(damaged)
    except InputTextError:
        with pytest.raises(InputTextError):
            read(damaged, depth)
        return
    assert read(damaged, depth) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1, "a": 2}', "line 1 column 10: duplicate key 'a'"),
        ('{"a": [1, 2}', "line 1 column 12: not JSON: Expecting ',' delimiter"),
        ('{"a" 1}', "line 1 column 6: not JSON: Expecting ':' delimiter"),
        ("{1: 2}", "line 1 column 2: not JSON: Expecting property name enclosed in double quotes"),
        ('{"a": []} x', "line 1 column 11: not JSON: Extra data"),
        ('{"a": [NaN]}', "line 1 column 8: not JSON: NaN is not a JSON value"),
        ('{"a": ["\\ud800"]}', "not JSON: half a UTF-16 surrogate pair"),
    ],
)
def test_errors_name_the_line_and_column(text: str, message: str) -> None:
    with pytest.raises(InputTextError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read(text, 2)


def test_a_value_skipped_is_walked_not_built_and_nesting_is_bounded() -> None:
    stream = JsonStream('{"skip": {"deep": [1, {"x": null}]}, "keep": 2}')
    kept = {}
    for key in stream.members():
        if key == "keep":
            kept[key] = stream.value()
        else:
            stream.skip()
    stream.end()
    assert kept == {"keep": 2}
    deep = JsonStream('{"skip": ' + "[" * 600 + "]" * 600 + "}")
    next(deep.members())
    with pytest.raises(InputTextError, match="nested more than 500 levels deep"):
        deep.skip()
