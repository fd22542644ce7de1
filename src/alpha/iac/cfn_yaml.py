"""CloudFormation templates in YAML, edited round-trip with ruamel.yaml: comments, key order,
quoting and the short tags (`!Sub`, `!Ref`, `!GetAtt`...) survive; the dump keeps the file's
own indentation of mappings and sequences."""

from __future__ import annotations

import difflib
import io
import itertools
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from alpha.iac.cfn import CfnLocator, PathStep, is_template, may_define, template_sites
from alpha.iac.errors import IacError
from alpha.iac.model import Action, Add, PolicyChange, Remove, Rewrite, Site

__all__ = ["edit_yaml_template", "yaml_template_sites"]

_KEY_LINE = re.compile(r"^( *)[^\s#-][^:#]*:\s*(#.*)?$")
_DASH_LINE = re.compile(r"^( *)- ")
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
"""A line as YAML and git count them (str.splitlines also splits at U+0085, U+2028...)."""
_SPECIAL = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
_RESOLVER = VersionedResolver()
_STR = "tag:yaml.org,2002:str"


def yaml_template_sites(change: PolicyChange, path: str, text: str) -> list[Site]:
    if "Resources" not in text or "AWS::IAM::" not in text or not may_define(change.name, text):
        return []
    document = _load(_yaml(text), text, path)
    return template_sites(change, path, document) if is_template(document) else []


def edit_yaml_template(path: str, text: str, actions: Sequence[Action]) -> str:
    """The edited text, with LF line endings (the caller gives a CRLF file its own back)."""
    text = text.replace("\r\n", "\n")
    yaml = _yaml(text)
    # A control or line-separator character is written escaped (all non-ASCII then is): YAML
    # readers disagree on what U+0085 and U+2028 mean inside a scalar.
    yaml.allow_unicode = not any(_special(a) for a in actions if isinstance(a, Rewrite | Add))
    document = _load(yaml, text, path)
    removals: dict[tuple[PathStep, ...], set[PathStep]] = defaultdict(set)
    for action in actions:
        locator: CfnLocator = action.site.locator
        if isinstance(action, Rewrite):
            assert locator.document is not None
            assert locator.name is not None
            new = _node(action.document)
            _move_blank_lines(_at(document, locator.document), new)
            _set(document, locator.document, new)
            if _at(document, locator.name) != action.name:
                named = _at(document, locator.name[:-1])
                named.ca.items.pop(locator.name[-1], None)  # it spoke of the old policy
                named[locator.name[-1]] = action.name
        elif isinstance(action, Remove) and locator.remove is not None:
            removals[locator.remove[:-1]].add(locator.remove[-1])
        elif isinstance(action, Add) and locator.properties is not None:
            properties = _at(document, locator.properties)
            item = _node({"PolicyName": action.name, "PolicyDocument": action.document})
            _move_blank_lines(properties, item)
            if isinstance(properties.get("Policies"), list):
                properties["Policies"].append(item)
            else:
                properties["Policies"] = CommentedSeq([item])
    for parent, steps in removals.items():
        container = _at(document, parent)
        for step in sorted(steps, key=lambda s: (str(type(s)), s), reverse=True):
            removed = container[step]
            del container[step]
            _move_blank_lines(removed, container)
    return _keep_untouched(text, _dump(yaml, _load(yaml, text, path)), _dump(yaml, document))


def _dump(yaml: YAML, document: Any) -> str:
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _keep_untouched(original: str, baseline: str, changed: str) -> str:
    """The changed dump with every line the change did not touch taken from the original.

    ruamel.yaml keeps comments and order but not every byte (spaces inside `{ a: b }`, some
    quoting): `baseline` is the unchanged template dumped the same way, so the lines that differ
    between it and `changed` are the change itself. Every other line is the original's where
    the baseline has it in a matching place (the same line, or one respaced line for one),
    else the dump's."""
    old, base, new = (_LINE.findall(t) for t in (original, baseline, changed))
    source: dict[int, int] = {}
    for tag, old_from, old_to, base_from, base_to in difflib.SequenceMatcher(
        a=old, b=base, autojunk=False
    ).get_opcodes():
        if tag == "equal" or (tag == "replace" and old_to - old_from == base_to - base_from):
            source.update(zip(range(base_from, base_to), range(old_from, old_to), strict=True))
    merged: list[str] = []
    matcher = difflib.SequenceMatcher(a=base, b=new, autojunk=False)
    for tag, base_from, base_to, new_from, new_to in matcher.get_opcodes():
        if tag != "equal":
            merged.extend(new[new_from:new_to])
            continue
        merged.extend(old[source[j]] if j in source else base[j] for j in range(base_from, base_to))
    return "".join(merged)


def _special(action: Rewrite | Add) -> bool:
    text = json.dumps([action.name, action.document], ensure_ascii=False)
    return any(unicodedata.category(c) in _SPECIAL or c == "\x85" for c in text)


def _yaml(text: str) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the file wrote on one
    mapping, sequence, offset = _indentation(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")
    yaml.explicit_start = first.startswith("---")
    return yaml


def _indentation(text: str) -> tuple[int, int, int]:
    """The file's mapping indent, and how far a sequence's dash sits from its key."""
    lines = text.splitlines()
    mapping = min(
        (len(m.group(1)) for ln in lines if (m := _KEY_LINE.match(ln)) and m.group(1)),
        default=2,
    )
    offset = 2
    for before, line in itertools.pairwise(lines):
        key, dash = _KEY_LINE.match(before), _DASH_LINE.match(line)
        if key and dash:
            offset = len(dash.group(1)) - len(key.group(1))
            break
    return mapping, offset + 2, offset


def _load(yaml: YAML, text: str, path: str) -> Any:
    try:
        return yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise IacError(f"{path}: {line}{problem}") from exc


def _at(document: Any, path: tuple[PathStep, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


def _set(document: Any, path: tuple[PathStep, ...], value: Any) -> None:
    _at(document, path[:-1])[path[-1]] = value


def _last_leaf(node: Any) -> tuple[Any, Any] | None:
    """The innermost last (container, key) under `node`: where ruamel keeps the blank lines
    that follow it."""
    found = None
    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        found, node = (node, key), node[key]
    return found


def _move_blank_lines(old: Any, new: Any) -> None:
    """The blank lines after `old`'s last line move to after `new`'s: they separate what
    follows, which a replaced or removed node must not take away."""
    source, target = _last_leaf(old), _last_leaf(new)
    if source is None or target is None:
        return
    container, key = source
    entry = container.ca.items.get(key)
    slot = 2 if isinstance(container, CommentedMap) else 0
    token = entry[slot] if entry and len(entry) > slot else None
    if token is None or token.value.strip():
        return
    entry[slot] = None
    into, into_key = target
    if isinstance(into, CommentedMap):
        into.ca.items[into_key] = [None, None, token, None]
    else:
        into.ca.items[into_key] = [token, None]


def _node(value: Any) -> Any:
    """Plain JSON as ruamel's round-trip containers, so it is dumped in block style; a string
    YAML would read as something else (`2012-10-17` a date, `true` a boolean) double-quoted,
    as CloudFormation templates write them."""
    if isinstance(value, dict):
        return CommentedMap((k, _node(v)) for k, v in value.items())
    if isinstance(value, list):
        return CommentedSeq(_node(v) for v in value)
    if isinstance(value, str) and _RESOLVER.resolve(ScalarNode, value, (True, False)) != _STR:
        return DoubleQuotedScalarString(value)
    return value
