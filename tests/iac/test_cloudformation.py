"""CloudFormation templates in YAML and JSON: the proposal is written where the principal's
policies are, and every other byte of the template stays as it was."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from alpha.iac.place import place
from tests.iac.helpers import NEW_POLICY, change, changed_lines, lines_between, repository, step

YAML_FILE = "cloudformation/shop.yaml"
JSON_FILE = "cloudformation/shop.json"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def load(path: str, text: str) -> Any:
    return json.loads(text) if path.endswith(".json") else YAML(typ="rt").load(StringIO(text))


ORDERS = change(
    "orders-api",
    step("delete", "orders-api-access"),
    step("delete", "orders-api-legacy"),
    step("detach", "AdministratorAccess", "managed", ADMIN),
)


@pytest.mark.parametrize("path", [YAML_FILE, JSON_FILE])
def test_the_role_s_inline_policies_become_the_proposal(path: str) -> None:
    files = repository(path)
    placement = place(ORDERS, files)
    assert placement.complete, placement.unplaced
    [edit] = placement.edits
    role = load(path, edit.after)["Resources"]["OrdersApiRole"]["Properties"]
    assert [p["PolicyName"] for p in role["Policies"]] == ["alpha-least-privilege"]
    assert json.loads(json.dumps(role["Policies"][0]["PolicyDocument"])) == NEW_POLICY
    assert len(role["ManagedPolicyArns"]) == 1  # AdministratorAccess detached, the Ref kept
    assert "LoggingPolicy" in str(role["ManagedPolicyArns"][0])
    # Nothing outside the role's two policy lists changed, byte for byte.
    allowed = lines_between(edit.before, "ManagedPolicyArns", "Tags")
    assert changed_lines(edit.before, edit.after) <= allowed


def test_yaml_keeps_comments_tags_quotes_and_spacing_outside_the_policy() -> None:
    files = repository(YAML_FILE)
    [edit] = place(ORDERS, files).edits
    after = edit.after
    for kept in (
        "# The shop's application roles.",
        "      RoleName: orders-api\n",
        "            Principal: { Service: lambda.amazonaws.com }\n",
        "        - !Ref LoggingPolicy\n",
        '          Value: !Sub "${Env}-orders"\n',
        "    Value: !GetAtt OrdersApiRole.Arn\n",
        "    AllowedValues: [dev, prod]  # no staging yet\n",
    ):
        assert kept in after
    assert "AdministratorAccess" not in after
    assert "# kept from the monolith" not in after  # it spoke of the removed policy
    assert '            Version: "2012-10-17"\n' in after  # quoted as the file quotes


def test_an_attached_aws_iam_policy_is_rewritten_in_place() -> None:
    for path in (YAML_FILE, JSON_FILE):
        name = "shop-ReportBuilderRole-1QW2E3R4T5Y6" if path == JSON_FILE else "report-builder"
        proposal = change(name, step("delete", "report-builder-access"))
        files = repository(path)
        [edit] = place(proposal, files).edits
        policy = load(path, edit.after)["Resources"]["ReportBuilderPolicy"]["Properties"]
        assert policy["PolicyName"] == "alpha-least-privilege"
        assert json.loads(json.dumps(policy["PolicyDocument"])) == NEW_POLICY
        first, last = ("ReportBuilderPolicy", "OrdersQueue")
        allowed = lines_between(edit.before, first, last)
        assert changed_lines(edit.before, edit.after) <= allowed


@pytest.mark.parametrize("path", [YAML_FILE, JSON_FILE])
def test_a_role_without_inline_policies_gets_one_added(path: str) -> None:
    """The report builder's JSON role has no RoleName: its logical id matches a generated
    name; the plan only detaches a policy the repository does not attach."""
    principal = "shop-ReportBuilderRole-1QW2E3R4T5Y6" if path == JSON_FILE else "report-builder"
    proposal = change(principal, step("detach", "ReadOnlyAccess", "managed"))
    files = repository(path)
    placement = place(proposal, files)
    [edit] = placement.edits
    role = load(path, edit.after)["Resources"]["ReportBuilderRole"]["Properties"]
    assert json.loads(json.dumps(role["Policies"])) == [
        {"PolicyName": "alpha-least-privilege", "PolicyDocument": NEW_POLICY}
    ]
    assert [u.what for u in placement.unplaced] == ["detach ReadOnlyAccess"]
    assert load(path, edit.before)["Resources"].keys() == load(path, edit.after)["Resources"].keys()


def test_a_shared_aws_iam_policy_is_only_detached_from_the_role() -> None:
    template: dict[str, Any] = {
        "Resources": {
            "A": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "a"}},
            "B": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "b"}},
            "Both": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": "both",
                    "Roles": [{"Ref": "A"}, {"Ref": "B"}],
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": []},
                },
            },
        }
    }
    text = json.dumps(template, indent=2) + "\n"
    placement = place(change("a", step("delete", "both")), {"t.json": text})
    after = json.loads(placement.edits[0].after)["Resources"]
    assert after["Both"]["Properties"]["Roles"] == [{"Ref": "B"}]
    assert (
        after["Both"]["Properties"]["PolicyDocument"]
        == template["Resources"]["Both"]["Properties"]["PolicyDocument"]
    )
    assert after["A"]["Properties"]["Policies"][0]["PolicyName"] == "alpha-least-privilege"


def test_a_one_line_json_template_stays_on_one_line() -> None:
    template: dict[str, Any] = {
        "Resources": {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [{"PolicyName": "old", "PolicyDocument": {"Statement": []}}]
                },
            }
        }
    }
    text = json.dumps(template)
    [edit] = place(change("R", step("delete", "old")), {"r.json": text}).edits
    assert "\n" not in edit.after
    assert json.loads(edit.after)["Resources"]["R"]["Properties"]["Policies"] == [
        {"PolicyName": "alpha-least-privilege", "PolicyDocument": NEW_POLICY}
    ]


def test_a_role_named_with_sub_and_a_user_are_found() -> None:
    text = (
        "Resources:\n"
        "  Api:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        '      RoleName: !Sub "${Env}-api"\n'
        "  Deployer:\n"
        "    Type: AWS::IAM::User\n"
        "    Properties:\n"
        "      UserName: deployer\n"
        "      Policies:\n"
        "      - PolicyName: deploy\n"
        "        PolicyDocument: {}\n"
    )
    role = place(change("prod-api"), {"t.yaml": text})
    assert role.edits
    assert "PolicyName: alpha-least-privilege" in role.edits[0].after
    user = change("arn:aws:iam::111122223333:user/ci/deployer", step("delete", "deploy"))
    [edit] = place(user, {"t.yaml": text}).edits
    assert "      - PolicyName: alpha-least-privilege\n        PolicyDocument:\n" in edit.after
    assert changed_lines(text, edit.after) <= set(range(11, 13))


POLICY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
POLICIES = st.fixed_dictionaries(
    {
        "Version": st.just("2012-10-17"),
        "Statement": st.lists(
            st.fixed_dictionaries(
                {
                    "Effect": st.sampled_from(["Allow", "Deny"]),
                    "Action": st.one_of(POLICY_TEXT, st.lists(POLICY_TEXT, min_size=1, max_size=3)),
                    "Resource": POLICY_TEXT,
                    "Condition": st.dictionaries(
                        POLICY_TEXT,
                        st.dictionaries(POLICY_TEXT, POLICY_TEXT, max_size=2),
                        max_size=2,
                    ),
                }
            ),
            min_size=1,
            max_size=3,
        ),
    }
)


@settings(max_examples=60, deadline=None)
@given(POLICIES, st.sampled_from([YAML_FILE, JSON_FILE]))
def test_any_policy_text_round_trips_and_touches_only_its_span(
    policy: dict[str, Any], path: str
) -> None:
    proposal = change("orders-api", step("delete", "orders-api-access"), document=policy)
    [edit] = place(proposal, repository(path)).edits
    role = load(path, edit.after)["Resources"]["OrdersApiRole"]["Properties"]
    assert json.loads(json.dumps(role["Policies"][0]["PolicyDocument"])) == policy
    first, last = ("orders-api-access", "orders-api-legacy")
    assert changed_lines(edit.before, edit.after) <= lines_between(edit.before, first, last)
