"""What is placed where, and what is reported instead: mapped policy files, policies the
repository does not define, a policy too large to be inline, a plan the repository cannot
take part of."""

from __future__ import annotations

import json

import pytest

from alpha.iac.cfn import may_define
from alpha.iac.errors import IacError
from alpha.iac.model import policy_change
from alpha.iac.place import place
from tests.iac.helpers import NEW_POLICY, change, repository, step

POLICY_FILE = '{\n    "Version": "2012-10-17",\n    "Statement": []\n}\n'


@pytest.mark.parametrize("key", ["orders-api", "arn:aws:iam::111122223333:role/orders-api"])
def test_a_mapped_policy_file_is_rewritten_whole(key: str) -> None:
    files = {**repository(), "policies/orders.json": POLICY_FILE}
    placement = place(change("orders-api"), files, {key: "policies/orders.json"})
    [edit] = placement.edits
    assert edit.path == "policies/orders.json"
    assert json.loads(edit.after) == NEW_POLICY
    assert edit.after.startswith('{\n    "Version"')
    assert edit.after.endswith("}\n")


def test_a_mapped_file_that_is_missing_or_broken_is_said() -> None:
    with pytest.raises(IacError, match="no such file"):
        place(change("orders-api"), {}, {"orders-api": "policies/orders.json"})
    with pytest.raises(IacError, match=r"policies/orders.json: line 1: not valid JSON"):
        place(
            change("orders-api"),
            {"policies/orders.json": "{"},
            {"orders-api": "policies/orders.json"},
        )


def test_nothing_is_removed_when_the_new_policy_has_no_place() -> None:
    """A repository never loses a principal's policies without getting the new one."""
    files = repository("terraform/main.tf")
    proposal = change(
        "nobody-here", step("delete", "x"), step("remove_from_group", "admins", "group")
    )
    placement = place(proposal, files)
    assert placement.edits == ()
    assert [u.what for u in placement.unplaced] == [
        "attach alpha-least-privilege",
        "delete inline policy x",
        "remove_from_group group admins",
    ]
    assert (
        "does not define arn:aws:iam::111122223333:role/nobody-here" in placement.unplaced[0].reason
    )


def test_a_policy_too_large_to_be_inline_is_reported() -> None:
    plan = {
        "steps": [step("delete", "orders-api-access"), step("attach", "big", "customer-managed")]
    }
    proposal = policy_change(
        "cd" * 32,
        "arn:aws:iam::111122223333:role/orders-api",
        {"proposed_policy": NEW_POLICY},
        plan,
    )
    placement = place(proposal, repository("cloudformation/shop.yaml"))
    assert placement.edits == ()
    assert "customer-managed" in placement.unplaced[0].reason


def test_only_roles_and_users_and_plans_that_attach() -> None:
    with pytest.raises(IacError, match="only roles and users"):
        change("arn:aws:iam::111122223333:group/admins")
    with pytest.raises(IacError, match="attaches no policy"):
        policy_change("ef" * 32, "arn:aws:iam::1:role/r", {"proposed_policy": {}}, {"steps": []})


@pytest.mark.parametrize(
    ("text", "may"),
    [
        ("RoleName: prod-orders-api", True),
        ("RoleName: orders-api", False),
        ("  OrdersApi:\n    Type: AWS::IAM::Role", False),
        ('RoleName: !Sub "${Env}-orders-api"', True),
        ('RoleName: !Sub "${Env}-payments"', False),
        ("RoleName: !Sub ${Env}-orders-api  # plain", True),
        ("RoleName: !Sub ${Env}-payments  # plain", False),
        ('"RoleName": {"Fn::Sub": "${Env}-orders-api"}', True),
        ('"RoleName": {"Fn::Sub": "${Env}-payments"}', False),
        ('"RoleName": {"Fn::Sub": ["${Env}-${Name}", {"Name": "x"}]}', True),  # not read: decode
        ("RoleName:\n  Fn::Sub: ${Env}-payments", True),  # not read here: decode
        ('RoleName: !Sub "${Env}-a"\nUserName: !Sub "x-\\"q\\""', True),  # one not read: decode
    ],
)
def test_templates_that_cannot_define_the_principal_are_passed_over(text: str, may: bool) -> None:
    assert may_define("prod-orders-api", text) is may


def test_a_generated_name_needs_its_logical_id_in_the_template() -> None:
    assert may_define("shop-OrdersApi-1A2B3C4D5E6F", "  OrdersApi:\n    Type: AWS::IAM::Role")
    assert not may_define("shop-OrdersApi-1A2B3C4D5E6F", "  Payments:\n    Type: AWS::IAM::Role")


@pytest.mark.parametrize(
    "path", ["cloudformation/shop.yaml", "cloudformation/shop.json", "terraform/main.tf"]
)
def test_crlf_files_keep_crlf(path: str) -> None:
    files = {p: t.replace("\n", "\r\n") for p, t in repository(path).items()}
    proposal = change(
        "orders-api", step("delete", "orders-api-access"), step("delete", "orders-api-legacy")
    )
    [edit] = place(proposal, files).edits
    assert "\n" not in edit.after.replace("\r\n", "")
    unix = place(proposal, repository(path)).edits[0].after
    assert edit.after == unix.replace("\n", "\r\n")
