"""Terraform: `jsonencode`, heredoc and `file()` policies rewritten, resources and list items
removed, a policy added; every byte outside those spans stays as it was."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

from alpha.iac.errors import IacError
from alpha.iac.hcl import parse_hcl
from alpha.iac.place import place
from tests.iac.hcl_reader import read_hcl
from tests.iac.helpers import NEW_POLICY, change, changed_lines, lines_between, repository, step
from tests.iac.test_cloudformation import POLICIES

MAIN = "terraform/main.tf"
REPORTS = "terraform/policies/reports.json"

ENCODED = """  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Action = [
          "dynamodb:GetItem",
          "dynamodb:PutItem",
        ]
        Resource = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders"
        Condition = {
          StringEquals = {
            "aws:PrincipalTag/team" = "$${aws:username}"
          }
        }
      },
    ]
  })
"""


def test_jsonencode_is_rewritten_and_the_rest_removed() -> None:
    proposal = change(
        "orders-api",
        step("delete", "orders-api-access"),
        step("delete", "orders-api-legacy"),
        step(
            "detach",
            "AdministratorAccess",
            "managed",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ),
    )
    placement = place(proposal, repository(MAIN, REPORTS))
    assert placement.complete
    [edit] = placement.edits
    assert edit.path == MAIN
    assert ENCODED in edit.after
    assert '  name = "alpha-least-privilege"\n' in edit.after
    assert "orders_api_legacy" not in edit.after
    assert "orders_api_admin" not in edit.after
    assert "# Everything the API might ever need, for now." in edit.after
    allowed = lines_between(edit.before, 'name = "orders-api-access"', "AdministratorAccess")
    assert changed_lines(edit.before, edit.after) <= allowed | {allowed_end(edit.before) + 1}
    blocks = [b.labels for b in parse_hcl(edit.after) if b.type == "resource"]
    assert ("aws_iam_role_policy", "orders_api_access") in blocks
    assert len(blocks) == len([b for b in parse_hcl(edit.before) if b.type == "resource"]) - 2


def allowed_end(text: str) -> int:
    """The closing brace of the attachment block, which goes with it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "AdministratorAccess" in line)
    return start + 1


def test_a_heredoc_keeps_its_marker_and_indentation() -> None:
    proposal = change("orders-api", step("delete", "orders-api-legacy"))
    [edit] = place(proposal, repository(MAIN)).edits
    start = edit.after.index("<<-EOT\n") + len("<<-EOT\n")
    end = edit.after.index("  EOT\n", start)
    body = edit.after[start:end]
    assert all(line.startswith("    ") for line in body.splitlines())
    assert json.loads(body.replace("$${", "${")) == NEW_POLICY
    assert "$${aws:username}" in body  # a heredoc interpolates: the policy variable is escaped
    allowed = lines_between(edit.before, 'name   = "orders-api-legacy"', "  EOT")
    assert changed_lines(edit.before, edit.after) <= allowed


def test_a_file_policy_rewrites_the_json_file_in_its_own_indentation() -> None:
    proposal = change(
        "report-builder",
        step("delete", "report-builder-access"),
        step(
            "detach", "AmazonS3FullAccess", "managed", "arn:aws:iam::aws:policy/AmazonS3FullAccess"
        ),
    )
    placement = place(proposal, repository(MAIN, REPORTS))
    edits = {e.path: e for e in placement.edits}
    assert sorted(edits) == [MAIN, REPORTS]
    assert json.loads(edits[REPORTS].after) == NEW_POLICY
    assert edits[REPORTS].after.startswith('{\n\t"Version"')
    assert edits[REPORTS].after.endswith("}\n")
    main = edits[MAIN]
    assert '"arn:aws:iam::aws:policy/AmazonS3FullAccess"' not in main.after
    assert "    aws_iam_policy.glue_read.arn,\n  ]\n" in main.after
    assert changed_lines(main.before, main.after) <= (
        lines_between(main.before, "AmazonS3FullAccess", "AmazonS3FullAccess")
        | lines_between(main.before, 'name   = "report-builder-access"', "report-builder-access")
    )


def test_a_managed_policy_defined_here_is_detached_not_edited() -> None:
    proposal = change("report-builder", step("detach", "glue-read", "managed"))
    placement = place(proposal, repository(MAIN))
    assert placement.complete
    [edit] = placement.edits
    assert (
        "aws_iam_policy.glue_read.arn" not in edit.after.split('resource "aws_iam_role_policy"')[0]
    )
    assert 'resource "aws_iam_policy" "glue_read"' in edit.after  # never edited in place
    assert 'resource "aws_iam_role_policy" "report_builder_alpha_least_privilege" {' in edit.after


def test_an_inline_policy_block_role_gets_a_block_and_a_data_source_is_not_guessed() -> None:
    proposal = change("ci-deployer", step("delete", "deploy"))
    placement = place(proposal, repository(MAIN))
    [edit] = placement.edits
    assert "data.aws_iam_policy_document.deploy.json" not in edit.after
    assert '  inline_policy {\n    name   = "alpha-least-privilege"\n' in edit.after
    assert edit.after.count("inline_policy {") == 1


@pytest.mark.parametrize(
    "text",
    [
        'resource "aws_iam_role_policy" "p" {\n  name = "old"\n  role = "orders-api"\n'
        '  policy = "{\\"Version\\": \\"2012-10-17\\", \\"Statement\\": []}"\n}\n',
        'resource "aws_iam_role_policy" "p" {\n  name = "old"\n  role = "orders-api"\n'
        "  policy = <<EOF\n{}\nEOF\n}\n",
    ],
    ids=["json-string", "heredoc"],
)
def test_a_role_named_by_its_literal_name(text: str) -> None:
    [edit] = place(change("orders-api", step("delete", "old")), {"p.tf": text}).edits
    assert 'name = "alpha-least-privilege"' in edit.after
    assert edit.after.endswith("}\n")


def test_a_variable_policy_is_reported_with_the_reason() -> None:
    text = (
        'resource "aws_iam_role_policy" "p" {\n  name = "old"\n  role = "orders-api"\n'
        "  policy = var.policy\n}\n"
    )
    placement = place(change("orders-api", step("delete", "old")), {"p.tf": text})
    assert placement.edits == ()
    [new, *_] = placement.unplaced
    assert "var.policy" in new.reason


def test_a_principal_defined_twice_is_refused_with_both_places() -> None:
    with pytest.raises(IacError, match=r"defined 2 times.*shop.yaml.*main.tf"):
        place(change("report-builder"), repository())


@settings(max_examples=60, deadline=None)
@given(POLICIES)
def test_any_policy_round_trips_through_jsonencode_heredoc_and_file(policy: dict[str, Any]) -> None:
    files = repository(MAIN, REPORTS)
    proposal = change(
        "orders-api",
        step("delete", "orders-api-access"),
        step("delete", "orders-api-legacy"),
        document=policy,
    )
    [edit] = place(proposal, files).edits
    named = edit.after.index('name = "alpha-least-privilege"')
    start = edit.after.index("policy = jsonencode(", named) + len("policy = jsonencode(")
    end = edit.after.index("\n  })\n", start) + len("\n  }")
    assert read_hcl(edit.after[start:end]) == policy
    legacy = change("orders-api", step("delete", "orders-api-legacy"), document=policy)
    [edit] = place(legacy, files).edits
    body = edit.after.split("<<-EOT\n")[1].split("  EOT\n")[0]
    assert json.loads(body.replace("$${", "${").replace("%%{", "%{")) == policy
    reports = change("report-builder", step("delete", "report-builder-access"), document=policy)
    edits = {e.path: e for e in place(reports, files).edits}
    assert json.loads(edits[REPORTS].after) == policy


def test_each_folder_is_a_module_of_its_own() -> None:
    """`aws_iam_role.app` in one folder is not the one in another."""

    def module(name: str) -> str:
        return (
            f'resource "aws_iam_role" "app" {{\n  name = "{name}"\n}}\n\n'
            'resource "aws_iam_role_policy" "access" {\n  name = "access"\n'
            "  role = aws_iam_role.app.id\n  policy = jsonencode({})\n}\n"
        )

    files = {"envs/prod/main.tf": module("app-prod"), "envs/dev/main.tf": module("app-dev")}
    [edit] = place(change("app-prod", step("delete", "access")), files).edits
    assert edit.path == "envs/prod/main.tf"
    assert 'name = "alpha-least-privilege"' in edit.after
