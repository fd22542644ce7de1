"""CloudFormation templates in JSON, edited by spans: the policy's document (and name) is
replaced where it is, an item or a resource removed with its comma, a new inline policy
appended; every other byte of the file stays as it was, indentation style included."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence

from alpha.iac.cfn import CfnLocator, PathStep, is_template, may_define, template_sites
from alpha.iac.json_spans import JsonNode, dump_at, dump_relative, parse_spans
from alpha.iac.model import Action, Add, PolicyChange, Remove, Rewrite, Site
from alpha.iac.spans import Edit, append_item, apply_edits, indent_unit, remove_items

__all__ = ["edit_json_template", "json_template_sites"]


def json_template_sites(change: PolicyChange, path: str, text: str) -> list[Site]:
    if '"Resources"' not in text or "AWS::IAM::" not in text or not may_define(change.name, text):
        return []
    document, _ = parse_spans(text, path)
    return template_sites(change, path, document) if is_template(document) else []


def edit_json_template(path: str, text: str, actions: Sequence[Action]) -> str:
    _, root = parse_spans(text, path)
    edits: list[Edit] = []
    removals: dict[tuple[PathStep, ...], set[PathStep]] = defaultdict(set)
    for action in actions:
        locator: CfnLocator = action.site.locator
        if isinstance(action, Rewrite):
            edits.extend(_rewrite(text, root, locator, action.name, action.document))
        elif isinstance(action, Remove) and locator.remove is not None:
            removals[locator.remove[:-1]].add(locator.remove[-1])
        elif isinstance(action, Add) and locator.properties is not None:
            item = {"PolicyName": action.name, "PolicyDocument": action.document}
            edits.append(_add(text, root.at(locator.properties), item))
    for parent, steps in removals.items():
        edits.extend(_remove(root.at(parent), steps))
    return apply_edits(text, edits, path)


def _rewrite(
    text: str, root: JsonNode, locator: CfnLocator, name: str, document: dict[str, object]
) -> list[Edit]:
    assert locator.document is not None
    assert locator.name is not None
    body = root.at(locator.document)
    edits = [Edit(body.span.start, body.span.end, dump_at(text, body.span.start, document))]
    named = root.at(locator.name)
    if json.loads(text[named.span.start : named.span.end]) != name:
        edits.append(Edit(named.span.start, named.span.end, json.dumps(name)))
    return edits


def _add(text: str, properties: JsonNode, item: Mapping[str, object]) -> Edit:
    unit = indent_unit(text)
    policies = properties.member("Policies")
    if policies is not None and policies.kind == "array":
        spans = [node.span for node in policies.items]
        return append_item(text, spans, policies.inside, dump_relative(text, item), unit)
    member = f'"Policies": {dump_relative(text, [item])}'
    spans = [span for _, span, _ in properties.members]
    return append_item(text, spans, properties.inside, member, unit)


def _remove(parent: JsonNode, steps: set[PathStep]) -> list[Edit]:
    if parent.kind == "array":
        indices = {s for s in steps if isinstance(s, int)}
        return remove_items([node.span for node in parent.items], indices, parent.inside)
    keys = [key for key, _, _ in parent.members]
    indices = {keys.index(s) for s in steps if isinstance(s, str) and s in keys}
    return remove_items([span for _, span, _ in parent.members], indices, parent.inside)
