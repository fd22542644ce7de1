from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from alpha.account import AccountSnapshot
from alpha.catalog import AccessLevel, Catalog
from alpha.scan import (
    ACCESS_WEIGHTS,
    UNUSED,
    PrincipalScore,
    ScanReport,
    UnusedPrincipal,
    scan,
    scan_account,
)
from alpha.usage.aggregate import BatchUsage, HourlyUsage, StoredBatch, UsageQuery, UsageRow
from alpha.usage.authorisations import unmapped_action
from alpha.usage.ports import TimeWindow
from tests.fakes.memory_account import MemoryAccount
from tests.fakes.memory_usage_store import MemoryUsageStore
from tests.scan.factories import (
    END,
    START,
    allow,
    deny,
    managed,
    policy_arn,
    role,
    role_arn,
    snapshot,
    used,
    user,
)


def grants_of(catalog: Catalog, action: str) -> int:
    """How many grants one action held on `*` makes: one per resource type, or one."""
    found = catalog.action(action)
    assert found is not None
    return len(catalog.resource_types_of(found)) or 1


def weight_of(catalog: Catalog, action: str) -> float:
    found = catalog.action(action)
    assert found is not None
    return ACCESS_WEIGHTS[found.access_level] * grants_of(catalog, action)


def by_name(report: ScanReport) -> dict[str, PrincipalScore]:
    return {s.principal.rpartition("/")[2]: s for s in report.scores}


def run(
    catalog: Catalog, account: AccountSnapshot, rows: list[UsageRow] | None = None
) -> dict[str, PrincipalScore]:
    return by_name(scan(account, rows or [], catalog, TimeWindow(START, END)))


def test_unused_grants_are_weighted_by_access_level(catalog: Catalog) -> None:
    actions = ["s3:GetObject", "s3:PutObject", "s3:ListAllMyBuckets", "iam:PutRolePolicy"]
    account = snapshot(role("app", allow(actions)))
    score = run(catalog, account, used(role_arn("app"), ["s3:GetObject"]))["app"]
    unused = actions[1:]
    expected = sum(weight_of(catalog, a) for a in unused)
    total = expected + weight_of(catalog, "s3:GetObject")
    assert score.score == pytest.approx(expected)
    assert score.unused_share == pytest.approx(expected / total)
    assert score.granted == sum(grants_of(catalog, a) for a in actions)
    assert score.unused_grants == sum(grants_of(catalog, a) for a in unused)
    assert score.used == 1
    levels = {lv.access_level: lv for lv in score.by_access_level}
    assert levels[AccessLevel.PERMISSIONS_MANAGEMENT].unused == 1
    assert levels[AccessLevel.READ].unused == 0
    assert levels[AccessLevel.READ].granted == grants_of(catalog, "s3:GetObject")


def test_ranking_puts_most_weighted_excess_first(catalog: Catalog) -> None:
    account = snapshot(
        role("reader", allow(["s3:ListAllMyBuckets", "s3:ListBucket"])),
        role("admin-ish", allow(["iam:AttachRolePolicy", "iam:PutRolePolicy"])),
        role("tidy", allow(["s3:GetObject"])),
        role("writer", allow(["sqs:SendMessage", "sqs:DeleteMessage"])),
    )
    rows = used(role_arn("tidy"), ["s3:GetObject"])
    rows += used(role_arn("reader"), ["s3:ListAllMyBuckets"])
    report = scan(account, rows, catalog, TimeWindow(START, END))
    order = [s.principal.rpartition("/")[2] for s in report.scores]
    assert order == ["admin-ish", "writer", "reader", "tidy"]
    assert [s.rank for s in report.scores] == [1, 2, 3, 4]
    assert report.scores[-1].score == 0
    assert all(a.score >= b.score for a, b in zip(report.scores, report.scores[1:], strict=False))


def test_ties_are_broken_by_share_then_arn(catalog: Catalog) -> None:
    account = snapshot(
        role("b", allow("sqs:SendMessage")),
        role("a", allow("sqs:SendMessage")),
        role("c", allow(["sqs:SendMessage", "s3:GetObject"])),
    )
    rows = used(role_arn("c"), ["s3:GetObject"])
    report = scan(account, rows, catalog, TimeWindow(START, END))
    assert [s.principal.rpartition("/")[2] for s in report.scores] == ["a", "b", "c"]


def test_denied_calls_are_not_use(catalog: Catalog) -> None:
    account = snapshot(role("app", allow(["s3:GetObject", "s3:PutObject"])))
    rows = used(role_arn("app"), {"s3:PutObject": 0}, denied=3)
    score = run(catalog, account, rows)["app"]
    assert score.used == 0
    assert score.unused_grants == score.granted
    (flag,) = score.flags
    assert isinstance(flag, UnusedPrincipal)
    assert flag.denied == 3
    assert "3 denied calls" in flag.evidence


def test_usage_matches_a_role_whatever_its_path(catalog: Catalog) -> None:
    app = role("app", allow("s3:GetObject"))
    app = replace(app, arn="arn:aws:iam::111122223333:role/service-role/app", path="/service-role/")
    rows = used(role_arn("app"), ["s3:GetObject"])  # no path, as some sources write it
    score = run(catalog, snapshot(app), rows)["app"]
    assert score.used == 1
    assert score.score == 0
    assert not score.flags


def test_callers_outside_the_snapshot_are_listed_not_scored(catalog: Catalog) -> None:
    account = snapshot(role("app", allow("s3:GetObject")))
    rows = used("arn:aws:iam::111122223333:root", ["s3:GetObject"])
    rows += used("arn:aws:iam::999999999999:role/app", ["s3:GetObject"])
    report = scan(account, rows, catalog)
    assert report.unknown_principals == (
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::999999999999:role/app",
    )
    assert [s.principal for s in report.scores] == [role_arn("app")]
    assert UNUSED in report.scores[0].flag_codes


def test_users_are_scored_too(catalog: Catalog) -> None:
    account = snapshot(user("alice", allow(["s3:GetObject", "s3:DeleteObject"])))
    rows = used("arn:aws:iam::111122223333:user/alice", ["s3:GetObject"])
    (score,) = scan(account, rows, catalog).scores
    assert score.kind == "user"
    assert score.score == pytest.approx(weight_of(catalog, "s3:DeleteObject"))
    assert not score.flags


class TestBoundary:
    def test_a_grant_counts_only_when_the_boundary_allows_it(self, catalog: Catalog) -> None:
        boundary = managed(policy_arn("boundary"), allow("s3:Get*"))
        account = snapshot(
            role("bounded", allow("s3:*"), boundary=boundary.arn),
            role("plain", allow("s3:Get*")),
            policies=[boundary],
        )
        scores = run(catalog, account)
        assert scores["bounded"].granted == scores["plain"].granted > 0
        assert scores["bounded"].score == scores["plain"].score
        assert scores["bounded"].boundary == boundary.arn

    def test_escalation_outside_the_boundary_is_not_flagged(self, catalog: Catalog) -> None:
        boundary = managed(policy_arn("boundary"), allow("s3:*"))
        account = snapshot(
            role("bounded", allow(["iam:PutRolePolicy", "s3:GetObject"]), boundary=boundary.arn),
            role("free", allow(["iam:PutRolePolicy", "s3:GetObject"])),
            policies=[boundary],
        )
        rows = used(role_arn("bounded"), ["s3:GetObject"]) + used(
            role_arn("free"), ["s3:GetObject"]
        )
        scores = run(catalog, account, rows)
        assert scores["bounded"].flag_codes == ()
        assert scores["free"].flag_codes == ("escalation",)

    def test_an_unreadable_boundary_limits_nothing_and_is_reported(self, catalog: Catalog) -> None:
        account = snapshot(role("app", allow("s3:GetObject"), boundary=policy_arn("gone")))
        score = run(catalog, account)["app"]
        assert score.granted == grants_of(catalog, "s3:GetObject")
        assert score.unresolved == (
            f"permissions boundary {policy_arn('gone')} is not in the snapshot",
        )


def test_a_deny_in_one_policy_removes_what_another_grants(catalog: Catalog) -> None:
    guard = managed(policy_arn("no-delete"), deny("s3:DeleteObject"))
    account = snapshot(
        role("guarded", allow(["s3:GetObject", "s3:DeleteObject"]), managed=[guard.arn]),
        role("open", allow(["s3:GetObject", "s3:DeleteObject"])),
        policies=[guard],
    )
    scores = run(catalog, account)
    assert scores["guarded"].granted == grants_of(catalog, "s3:GetObject")
    assert scores["open"].granted == scores["guarded"].granted + grants_of(
        catalog, "s3:DeleteObject"
    )


def test_shared_policies_give_equal_scores(catalog: Catalog) -> None:
    shared = managed(policy_arn("shared"), allow(["s3:*", "sqs:*"]))
    account = snapshot(*(role(f"r{i}", managed=[shared.arn]) for i in range(5)), policies=[shared])
    scores = run(catalog, account)
    assert len({(s.granted, s.score) for s in scores.values()}) == 1


def stored_call(key: str, principal: str, action: str, at: datetime) -> StoredBatch:
    """A batch holding one allowed call."""
    second = int(at.timestamp())
    row = HourlyUsage(principal, None, action, "*", second // 3600, 1, 0, second, second)
    return StoredBatch(key, "1", 1, BatchUsage.of(1, [row]))


def test_scan_account_reads_the_ports_with_the_query(catalog: Catalog) -> None:
    account = snapshot(role("early", allow("s3:GetObject")), role("late", allow("s3:GetObject")))
    store = MemoryUsageStore()
    store.save(
        [
            stored_call("day1", role_arn("early"), "s3:GetObject", START - timedelta(days=2)),
            stored_call("day9", role_arn("late"), "s3:GetObject", START + timedelta(days=9)),
            stored_call("other", role_arn("early"), "s3:GetObject", START + timedelta(days=3)),
        ]
    )
    query = UsageQuery(("day1", "day9"), None, TimeWindow(START, END))
    report = scan_account(MemoryAccount(account), store, query, catalog)
    scores = by_name(report)
    assert scores["early"].flag_codes == (UNUSED,)  # its calls: before the window, or not asked
    assert scores["late"].flag_codes == ()
    assert report.window == TimeWindow(START, END)


def test_an_open_window_is_closed_at_the_usage_it_holds(catalog: Catalog) -> None:
    account = snapshot(role("app", allow("s3:GetObject")))
    first, last = START + timedelta(days=2), START + timedelta(days=5)
    rows = used(role_arn("app"), ["s3:GetObject"], at=first)
    rows += used(role_arn("app"), ["s3:GetObject"], at=last)
    report = scan(account, rows, catalog)
    assert report.window.since == first
    assert report.window.until is not None
    assert last < report.window.until <= last + timedelta(seconds=1)


def test_an_unmapped_call_keeps_its_principal_used_and_its_services_grants(
    catalog: Catalog,
) -> None:
    actions = ["rds-data:ExecuteStatement", "s3:PutObject"]
    account = snapshot(role("app", allow(actions)))
    stand_in = unmapped_action("rdsdata.amazonaws.com", "SomethingNew")
    score = run(catalog, account, used(role_arn("app"), [stand_in]))["app"]
    assert not any(isinstance(f, UnusedPrincipal) for f in score.flags)
    assert score.unused_grants == grants_of(catalog, "s3:PutObject")


def test_get_caller_identity_is_never_an_unused_grant(catalog: Catalog) -> None:
    # Allowed whatever the policies say: granting it is no privilege, so no excess either.
    account = snapshot(role("app", allow(["s3:GetObject", "sts:GetCallerIdentity"])))
    score = run(catalog, account, used(role_arn("app"), ["s3:GetObject"]))["app"]
    assert score.granted == grants_of(catalog, "s3:GetObject")
    assert score.unused_grants == 0
    assert score.score == 0


@pytest.mark.parametrize("window", [TimeWindow(), TimeWindow(START, None)], ids=["open", "since"])
def test_an_outline_and_the_snapshots_rows_scan_as_every_row_does(
    catalog: Catalog, window: TimeWindow
) -> None:
    account = snapshot(role("app", allow(["s3:GetObject", "s3:PutObject"])), role("idle"))
    store = MemoryUsageStore()
    store.save(
        [
            stored_call("k1", role_arn("app"), "s3:GetObject", START + timedelta(days=1)),
            stored_call("k2", "arn:aws:iam::999999999999:role/app", "s3:PutObject", START),
            stored_call("k3", "arn:aws:iam::111122223333:root", "s3:GetObject", END),
        ]
    )
    query = UsageQuery(("k1", "k2", "k3"), None, window)
    whole = scan(account, store.usage(query), catalog, window)
    mine = store.usage(query.among(frozenset({role_arn("app")})))
    outlined = scan(account, iter(mine), catalog, window, outline=store.outline(query))
    assert outlined == whole
    assert len(outlined.unknown_principals) == 2
