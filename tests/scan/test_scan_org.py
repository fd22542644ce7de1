"""Scan under the organization's SCP/RCP levels: a grant they deny is not granted, so it is
neither excess nor behind a flag; service-linked roles and the management account are exempt."""

from __future__ import annotations

from alpha.account import Role
from alpha.catalog import Catalog
from alpha.policy.org_policies import OrgGuardrails
from alpha.scan import PrincipalScore, scan
from alpha.usage.ports import TimeWindow
from tests.policy.org_examples import prod_guardrails, s3_only_sandbox
from tests.scan.factories import END, START, allow, role, snapshot


def run(catalog: Catalog, org: OrgGuardrails, *roles: Role) -> dict[str, PrincipalScore]:
    report = scan(snapshot(*roles), [], catalog, TimeWindow(START, END), org)
    return {s.principal.rpartition("/")[2]: s for s in report.scores}


def grants_of(catalog: Catalog, action: str) -> int:
    found = catalog.action(action)
    assert found is not None
    return len(catalog.resource_types_of(found)) or 1


def test_an_unconditional_scp_deny_takes_the_grant_away(catalog: Catalog) -> None:
    actions = ["organizations:LeaveOrganization", "organizations:DescribeOrganization"]
    plain = run(catalog, OrgGuardrails(), role("app", allow(actions)))["app"]
    under = run(catalog, prod_guardrails(), role("app", allow(actions)))["app"]
    leave = grants_of(catalog, "organizations:LeaveOrganization")
    assert under.granted == plain.granted - leave
    assert under.unused_grants == plain.unused_grants - leave
    assert under.blocked_by_org == leave
    assert under.to_dict()["blocked_by_org"] == leave
    assert "blocked_by_org" not in plain.to_dict()


def test_an_unconditional_rcp_deny_takes_the_grant_away(catalog: Catalog) -> None:
    actions = ["s3:DeleteBucket", "s3:GetObject"]
    under = run(catalog, prod_guardrails(), role("app", allow(actions)))["app"]
    assert under.blocked_by_org == grants_of(catalog, "s3:DeleteBucket")
    assert under.granted == grants_of(catalog, "s3:GetObject")


def test_conditional_denies_take_nothing_away(catalog: Catalog) -> None:
    # DenyRegions, RequireIMDSv2, DenyRootUser, EnforceSecureTransport: all conditional
    actions = ["ec2:RunInstances", "ec2:DescribeInstances", "s3:GetObject", "kms:Decrypt"]
    plain = run(catalog, OrgGuardrails(), role("app", allow(actions)))["app"]
    under = run(catalog, prod_guardrails(), role("app", allow(actions)))["app"]
    assert under.granted == plain.granted
    assert under.blocked_by_org == 0


def test_a_level_without_an_allow_leaves_only_what_it_allows(catalog: Catalog) -> None:
    under = run(catalog, s3_only_sandbox(), role("app", allow(["s3:GetObject", "ec2:*"])))["app"]
    assert under.granted == grants_of(catalog, "s3:GetObject")
    assert under.blocked_by_org > 0


def test_admin_and_escalation_flags_follow_the_levels(catalog: Catalog) -> None:
    admin = role("admin", allow("*"))
    plain = run(catalog, OrgGuardrails(), admin)["admin"]
    assert {"admin", "escalation"} <= set(plain.flag_codes)
    # S3 only: no IAM, so neither admin-equivalent nor able to escalate
    sandboxed = run(catalog, s3_only_sandbox(), admin)["admin"]
    assert "admin" not in sandboxed.flag_codes
    assert "escalation" not in sandboxed.flag_codes
    # Prod: every action but LeaveOrganization; IAM admin is still admin-equivalent
    prod = run(catalog, prod_guardrails(), admin)["admin"]
    assert "admin" in prod.flag_codes
    assert prod.granted < plain.granted


def test_service_linked_roles_and_the_management_account_are_exempt(catalog: Catalog) -> None:
    linked = role("AWSServiceRoleForSupport", allow("organizations:LeaveOrganization"))
    ordinary = role("app", allow("organizations:LeaveOrganization"))
    scores = run(catalog, prod_guardrails(), linked, ordinary)
    assert scores["AWSServiceRoleForSupport"].granted == 1
    assert scores["app"].granted == 0
    management = run(catalog, prod_guardrails(management=True), ordinary)
    assert management["app"].granted == 1
