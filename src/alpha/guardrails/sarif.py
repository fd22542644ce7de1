"""Findings as SARIF 2.1.0, the format code-scanning tools (GitHub, GitLab, IDEs) read.

One run, one tool (`alpha`), whose rules are the guardrail rules and the policy finding kinds;
one result per guardrail violation or policy finding, located by the file, a logical location
(the path inside the document, `Statement[0].Action[1]`) and, when the file's text is given and
the path can be found in it, the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from alpha import __version__
from alpha.guardrails.locate import line_of, value_offsets
from alpha.guardrails.model import Violation
from alpha.guardrails.registry import GUARDRAIL_RULES
from alpha.policy.findings import POLICY_FINDINGS, Finding, FindingKind, Severity

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVELS = MappingProxyType(
    {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
)


@dataclass(frozen=True, slots=True)
class SarifFile:
    """What was found in one file. `uri` as the scanning tool should see it (a path relative to
    the repository root); `text` lets results carry line numbers."""

    uri: str
    violations: tuple[Violation, ...] = ()
    findings: tuple[Finding, ...] = ()
    text: str | None = None


def to_sarif(files: Iterable[SarifFile], tool_version: str = __version__) -> dict[str, Any]:
    """The SARIF log (a JSON-ready dict) for `files`."""
    kinds = [*_tagged(GUARDRAIL_RULES, "guardrail"), *_tagged(POLICY_FINDINGS, "policy")]
    index = {kind.id: number for number, (kind, _) in enumerate(kinds)}
    results = [result for f in files for result in _results(f, index)]
    driver = {
        "name": "alpha",
        "version": tool_version,
        "semanticVersion": tool_version,
        "rules": [_rule(kind, tag) for kind, tag in kinds],
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }


def _tagged(kinds: Iterable[FindingKind], tag: str) -> Iterator[tuple[FindingKind, str]]:
    return ((kind, tag) for kind in kinds)


def _rule(kind: FindingKind, tag: str) -> dict[str, Any]:
    return {
        "id": kind.id,
        "name": "".join(word.capitalize() for word in kind.id.split("_")),
        "shortDescription": {"text": kind.title},
        "fullDescription": {"text": kind.help},
        "help": {"text": kind.help},
        "defaultConfiguration": {"level": _LEVELS[kind.severity]},
        "properties": {"tags": ["security", "iam", tag]},
    }


def _results(file: SarifFile, index: dict[str, int]) -> Iterator[dict[str, Any]]:
    offsets = value_offsets(file.text) if file.text is not None else None
    for violation in file.violations:
        properties = {"blocksApproval": violation.blocks}
        yield _result(file, offsets, index, violation.as_finding(), properties)
    for finding in file.findings:
        yield _result(file, offsets, index, finding)


def _result(
    file: SarifFile,
    offsets: dict[str, int] | None,
    index: dict[str, int],
    finding: Finding,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    path = finding.path
    physical: dict[str, Any] = {"artifactLocation": {"uri": file.uri}}
    if file.text is not None and offsets is not None and path:
        line = line_of(file.text, path, offsets)
        if line is not None:
            physical["region"] = {"startLine": line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if path:
        location["logicalLocations"] = [{"fullyQualifiedName": path, "kind": "member"}]
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [location],
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    if properties:
        result["properties"] = properties
    return result
