"""SARIF 2.1.0 output: the structure code-scanning tools require, rules from both registries,
results with levels, messages and locations (lines where the path can be found)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alpha.catalog import Catalog
from alpha.guardrails import (
    GUARDRAIL_RULES,
    GuardrailConfig,
    SarifFile,
    Violation,
    check_text,
    to_sarif,
)
from alpha.guardrails.locate import line_of, value_offsets
from alpha.policy.findings import POLICY_FINDINGS, Finding, Severity
from alpha.policy.validate import validate

POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Read",
      "Effect": "Allow",
      "Action": ["s3:GetObject"],
      "Resource": "arn:aws:s3:::data/*"
    },
    {
      "Effect": "Allow",
      "Action": [
        "s3:GetObject",
        "iam:PassRole"
      ],
      "Resource": "*"
    }
  ]
}
"""


def sarif_for(catalog: Catalog, text: str = POLICY) -> dict[str, Any]:
    violations = check_text(text, catalog, GuardrailConfig())
    findings = validate(text, catalog)
    return to_sarif([SarifFile("policies/app.json", violations, findings, text)])


def test_required_top_level_structure(catalog: Catalog) -> None:
    log = sarif_for(catalog)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "alpha"
    assert isinstance(driver["version"], str)
    json.dumps(log)  # JSON-ready throughout


def test_rules_come_from_both_registries(catalog: Catalog) -> None:
    rules = sarif_for(catalog)["runs"][0]["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    assert set(ids) == {k.id for k in GUARDRAIL_RULES} | {k.id for k in POLICY_FINDINGS}
    passrole = next(rule for rule in rules if rule["id"] == "PASSROLE_UNSCOPED")
    assert passrole["shortDescription"]["text"] == GUARDRAIL_RULES["PASSROLE_UNSCOPED"].title
    assert passrole["help"]["text"] == GUARDRAIL_RULES["PASSROLE_UNSCOPED"].help
    assert passrole["defaultConfiguration"]["level"] == "error"
    for rule in rules:
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}


def test_results_have_rule_level_message_and_location(catalog: Catalog) -> None:
    log = sarif_for(catalog)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    results = log["runs"][0]["results"]
    assert results
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note"}
        assert result["message"]["text"]
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "policies/app.json"
    passrole = next(r for r in results if r["ruleId"] == "PASSROLE_UNSCOPED")
    assert passrole["level"] == "error"
    assert passrole["properties"] == {"blocksApproval": True}
    location = passrole["locations"][0]
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "Statement[1].Action[1]"
    assert location["physicalLocation"]["region"]["startLine"] == 14  # "iam:PassRole"


def test_policy_findings_are_results_too(catalog: Catalog) -> None:
    finding = Finding("DUPLICATE_SID", Severity.WARNING, "Sid 'x' again", "Statement[1].Sid")
    log = to_sarif([SarifFile("p.json", findings=(finding,), text=None)])
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "DUPLICATE_SID"
    assert result["level"] == "warning"
    assert "region" not in result["locations"][0]["physicalLocation"]  # no text, no lines


def test_info_is_a_note_and_document_wide_has_no_logical_location() -> None:
    violation = Violation("SIZE_QUOTA", "too big", "", Severity.INFO)
    log = to_sarif([SarifFile("p.json", violations=(violation,), text="{}")])
    (result,) = log["runs"][0]["results"]
    assert result["level"] == "note"
    assert "logicalLocations" not in result["locations"][0]
    assert result["properties"] == {"blocksApproval": False}


def test_unparsable_policy_has_no_violations_but_keeps_findings(catalog: Catalog) -> None:
    log = sarif_for(catalog, '{"Statement": [')
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"NOT_JSON"}


# Lines ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("Version", 2),
        ("Statement", 3),
        ("Statement[0]", 4),
        ("Statement[0].Sid", 5),
        ("Statement[0].Action[0]", 7),
        ("Statement[0].Resource[0]", 8),  # a plain string: its member's line
        ("Statement[1].Action", 12),
        ("Statement[1].Action[0]", 13),
        ("Statement[1].Resource[0]", 16),
        ("Statement[1].Condition", 10),  # absent: the statement's line
        ("Statement[7].Action[0]", 3),  # no such statement: the list
        ("Nothing", None),
        ("", None),
    ],
)
def test_line_of_a_path(path: str, line: int | None) -> None:
    assert line_of(POLICY, path) == line


def test_single_statement_object_maps_statement_zero() -> None:
    text = '{\n "Statement": {\n  "Effect": "Allow",\n  "Action": "s3:*"\n }\n}'
    assert line_of(text, "Statement[0].Action[0]") == 4


def test_text_that_is_not_json_gives_what_was_read() -> None:
    offsets = value_offsets('{"Version": "2012-10-17", "Statement": [{"Effect": oops')
    assert "Version" in offsets
    assert "Statement[0].Effect" in offsets
    assert "Statement[0].Action" not in offsets
    assert value_offsets("") == {}
    assert value_offsets("not json") == {"": 0}
