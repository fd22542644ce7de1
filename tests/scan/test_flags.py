from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from alpha.account import ManagedPolicy, Role, User
from alpha.catalog import Catalog
from alpha.scan import AdminEquivalent, EscalationRisk, PrincipalScore, UnusedPrincipal, scan
from alpha.scan.flags import ALL_ACTIONS, IAM_ADMIN
from alpha.usage.aggregate import UsageRow
from alpha.usage.ports import TimeWindow
from tests.scan.factories import (
    END,
    START,
    allow,
    allow_not,
    managed,
    policy_arn,
    role,
    role_arn,
    snapshot,
    used,
    user,
)


def score_of(
    catalog: Catalog,
    *principals: Role | User,
    policies: Sequence[ManagedPolicy] = (),
    rows: list[UsageRow] | None = None,
) -> PrincipalScore:
    report = scan(
        snapshot(*principals, policies=policies), rows or [], catalog, TimeWindow(START, END)
    )
    return report.scores[0]


def admin_flag(score: PrincipalScore) -> AdminEquivalent | None:
    return next((f for f in score.flags if isinstance(f, AdminEquivalent)), None)


def escalation_names(score: PrincipalScore) -> list[str]:
    flag = next((f for f in score.flags if isinstance(f, EscalationRisk)), None)
    return [] if flag is None else [m.name for m in flag.methods]


class TestAdminEquivalent:
    def test_aws_managed_administrator_access(self, catalog: Catalog) -> None:
        admin = managed(policy_arn("AdministratorAccess", aws=True), allow("*"))
        score = score_of(catalog, role("ops", managed=[admin.arn]), policies=[admin])
        flag = admin_flag(score)
        assert flag is not None
        assert flag.reason == ALL_ACTIONS
        assert flag.via == (f"managed policy {admin.arn} Statement[0].Action[0]",)

    def test_not_action_that_leaves_nothing_out_with_another_statement(
        self, catalog: Catalog
    ) -> None:
        score = score_of(catalog, role("ops", allow_not(["s3:*"]), allow("s3:*")))
        flag = admin_flag(score)
        assert flag is not None
        assert flag.reason == ALL_ACTIONS
        assert flag.via == ("inline policy 'ops-inline' Statement[0].NotAction",)

    def test_not_action_that_keeps_iam_is_admin_through_iam(self, catalog: Catalog) -> None:
        score = score_of(catalog, role("ops", allow_not(["s3:*", "ec2:*"])))
        flag = admin_flag(score)
        assert flag is not None
        assert flag.reason == IAM_ADMIN
        assert flag.via[0].endswith("Statement[0].NotAction")

    def test_iam_star_on_star(self, catalog: Catalog) -> None:
        full = managed(policy_arn("IAMFullAccess", aws=True), allow("iam:*"))
        score = score_of(catalog, role("ci", managed=[full.arn]), policies=[full])
        flag = admin_flag(score)
        assert flag is not None
        assert (flag.reason, flag.via) == (
            IAM_ADMIN,
            (f"managed policy {full.arn} Statement[0].Action[0]",),
        )

    @pytest.mark.parametrize(
        "statements",
        [
            [allow_not(["iam:*", "organizations:*", "account:*"])],  # PowerUserAccess
            [allow("iam:*", "arn:aws:iam::111122223333:role/app-*")],
            [allow(["s3:*", "iam:Get*", "iam:List*"])],
        ],
    )
    def test_broad_but_not_admin(
        self, catalog: Catalog, statements: list[dict[str, object]]
    ) -> None:
        assert admin_flag(score_of(catalog, role("app", *statements))) is None

    def test_a_boundary_takes_admin_away(self, catalog: Catalog) -> None:
        boundary = managed(policy_arn("boundary"), allow(["s3:*"]))
        score = score_of(
            catalog, role("ops", allow("*"), boundary=boundary.arn), policies=[boundary]
        )
        assert admin_flag(score) is None
        assert escalation_names(score) == []


class TestEscalation:
    @pytest.mark.parametrize(
        ("actions", "resources", "expected"),
        [
            (["iam:CreatePolicyVersion"], "*", ["iam:CreatePolicyVersion"]),
            (["iam:PutRolePolicy"], "arn:aws:iam::111122223333:role/x", ["iam:PutRolePolicy"]),
            (["iam:PassRole", "ec2:RunInstances"], "*", ["iam:PassRole + ec2:RunInstances"]),
            (
                ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
                "*",
                ["iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction"],
            ),
            (["ec2:RunInstances"], "*", []),
            (["sts:AssumeRole"], "*", ["sts:AssumeRole"]),
            # sts:AssumeRole on `*` contains the trust-policy method: only the simpler is named
            (["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], "*", ["sts:AssumeRole"]),
            (["s3:GetObject"], "*", []),
        ],
    )
    def test_methods_are_named(
        self, catalog: Catalog, actions: list[str], resources: str, expected: list[str]
    ) -> None:
        assert (
            escalation_names(score_of(catalog, role("app", allow(actions, resources)))) == expected
        )

    def test_pass_role_on_one_named_role_is_a_deliberate_grant(self, catalog: Catalog) -> None:
        score = score_of(
            catalog,
            role(
                "app",
                allow("iam:PassRole", "arn:aws:iam::111122223333:role/worker"),
                allow("ec2:RunInstances"),
            ),
        )
        assert escalation_names(score) == []

    def test_requirements_may_come_from_different_policies(self, catalog: Catalog) -> None:
        passing = managed(policy_arn("pass"), allow("iam:PassRole"))
        score = score_of(
            catalog,
            role("app", allow("ec2:RunInstances"), managed=[passing.arn]),
            policies=[passing],
        )
        flag = next(f for f in score.flags if isinstance(f, EscalationRisk))
        (method,) = flag.methods
        assert method.name == "iam:PassRole + ec2:RunInstances"
        assert method.where == f"managed policy {passing.arn} Statement[0].Action[0]"
        assert "pass" in method.how


class TestUnused:
    def test_a_role_with_calls_is_not_flagged(self, catalog: Catalog) -> None:
        score = score_of(
            catalog,
            role("app", allow("s3:GetObject")),
            rows=used(role_arn("app"), ["s3:GetObject"]),
        )
        assert score.flags == ()

    @pytest.mark.parametrize(
        ("last_used", "expected"),
        [
            (None, "IAM records no use of the role"),
            (START - timedelta(days=40), "before the window"),
            (START + timedelta(days=3), "inside the window"),
        ],
    )
    def test_last_used_is_the_evidence(
        self, catalog: Catalog, last_used: datetime | None, expected: str
    ) -> None:
        score = score_of(catalog, role("idle", allow("s3:GetObject"), last_used=last_used))
        (flag,) = score.flags
        assert isinstance(flag, UnusedPrincipal)
        assert flag.last_used == last_used
        assert expected in flag.evidence
        assert flag.to_dict()["code"] == "unused"

    def test_users_have_no_last_used_date(self, catalog: Catalog) -> None:
        (flag,) = score_of(catalog, user("bob", allow("s3:GetObject"))).flags
        assert isinstance(flag, UnusedPrincipal)
        assert flag.last_used is None
        assert "users" in flag.evidence
