"""A reader of the HCL expressions `alpha.iac.hcl.hcl_value` writes (objects, tuples, quoted
strings, numbers, true/false/null), to check that what it writes means the JSON it was given.
Only for the tests: Terraform itself is not installed here."""

from __future__ import annotations

import json
import re
from typing import Any

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<punct>[{}\[\],=])|(?P<word>[A-Za-z_][\w-]*)'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?))"
)


def read_hcl(text: str) -> Any:
    tokens = _tokens(text)
    value, rest = _value(tokens)
    if rest:
        raise ValueError(f"left over: {rest[:3]}")
    return value


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    at = 0
    while text[at:].strip():
        match = _TOKEN.match(text, at)
        if match is None or match.lastgroup is None:
            raise ValueError(f"cannot read {text[at : at + 20]!r}")
        found.append((match.lastgroup, match.group(match.lastgroup)))
        at = match.end()
    return found


def _value(tokens: list[tuple[str, str]]) -> tuple[Any, list[tuple[str, str]]]:
    kind, text = tokens[0]
    rest = tokens[1:]
    if kind == "string":
        return _string(text), rest
    if kind == "number":
        return json.loads(text), rest
    if kind == "word":
        return {"true": True, "false": False, "null": None}[text], rest
    if text == "[":
        items: list[Any] = []
        while rest[0] != ("punct", "]"):
            item, rest = _value(rest)
            items.append(item)
            if rest[0] == ("punct", ","):
                rest = rest[1:]
        return items, rest[1:]
    if text == "{":
        members: dict[str, Any] = {}
        while rest[0] != ("punct", "}"):
            key_kind, key = rest[0]
            name = _string(key) if key_kind == "string" else key
            if rest[1] != ("punct", "="):
                raise ValueError(f"no = after {key}")
            members[name], rest = _value(rest[2:])
        return members, rest[1:]
    raise ValueError(f"unexpected {text!r}")


def _string(quoted: str) -> str:
    if re.search(r"(?<!\$)\$\{|(?<!%)%\{", quoted.replace("$${", "").replace("%%{", "")):
        raise ValueError(f"an unescaped template in {quoted}")
    text: str = json.loads(quoted.replace("$${", "${").replace("%%{", "%{"))
    return text
