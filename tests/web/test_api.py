"""The JSON API through the real app (FastAPI's TestClient, in-process), on stores made by the
real propose flow and the demo: the same decisions as the command line."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alpha.app import Flags, application_for, load_settings
from tests.web.conftest import HEADER, World, ids_of

ORIGIN = "http://testserver"


def as_user(name: str) -> dict[str, str]:
    return {HEADER: name}


@pytest.fixture
def client(fresh: World) -> Iterator[TestClient]:
    with TestClient(fresh.app()) as client:
        yield client


def audit_of(world: World, proposal_id: str) -> list[dict[str, object]]:
    app = application_for(load_settings(Flags(), {}, world.folder), {})
    return list(app.show(proposal_id)[1]["audit"])


def test_the_list_pages_and_filters_on_the_server(proposed: World, demo: World) -> None:
    with TestClient(demo.app()) as client:
        every = client.get("/api/proposals", headers=as_user("sam")).json()
        assert every["total"] == 3
        assert every["by_state"]["succeeded"] == 1
        assert {i["principal"].rpartition("/")[2] for i in every["items"]} == set(demo.ids)
        page = client.get("/api/proposals?limit=1&offset=1", headers=as_user("sam")).json()
        assert [i["id"] for i in page["items"]] == [every["items"][1]["id"]]
        rolled = client.get("/api/proposals?state=rolled_back", headers=as_user("sam")).json()
        assert [i["id"] for i in rolled["items"]] == [demo.ids["report-builder"]]
        blocked = next(i for i in every["items"] if i["blocked"])
        assert blocked["id"] == demo.ids["ci-deployer"]
        assert blocked["guardrail_violations"] >= 1
        assert 0 < blocked["probability_of_break"] < 1
        bad = client.get("/api/proposals?state=nonsense", headers=as_user("sam"))
        assert bad.status_code == 422


def test_show_and_diff_give_the_proposal_and_its_actions_by_service(proposed: World) -> None:
    with TestClient(proposed.app()) as client:
        pid = proposed.ids["report-builder"]
        shown = client.get(f"/api/proposals/{pid[:12]}", headers=as_user("sam")).json()
        assert shown["id"] == pid
        assert shown["state"] == "proposed"
        assert shown["audit"][0]["action"] == "proposal.created"
        diff = client.get(f"/api/proposals/{pid}/diff", headers=as_user("sam")).json()
        s3 = next(s for s in diff["by_service"] if s["service"] == "s3")
        kept = {a for level in s3["levels"] for a in level["kept"]}
        assert kept == {"s3:GetObject", "s3:ListBucket", "s3:PutObject"}
        removed = {a for s in diff["by_service"] for lv in s["levels"] for a in lv["removed"]}
        assert removed == set(diff["removed_actions"])
        assert {lv["level"] for lv in s3["levels"]} >= {"Read", "Write", "List"}
        missing = client.get("/api/proposals/abcdef123456", headers=as_user("sam"))
        assert missing.status_code == 404


def test_approve_as_another_user_is_recorded_and_audited(client: TestClient, fresh: World) -> None:
    pid = fresh.ids["orders-api"]
    answer = client.post(
        f"/api/proposals/{pid}/approve",
        json={"comment": "looks right", "expected_state": "proposed"},
        headers=as_user("sam"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"at": None} == {
        "id": pid, "approved": True, "by": "sam", "at": None, "comments": "looks right",
        "state": "approved",
    }  # fmt: skip
    event = audit_of(fresh, pid)[-1]
    assert (event["actor"], event["action"], event["reason"]) == ("sam", "approve", "looks right")


@pytest.mark.parametrize(
    ("role", "user", "why"),
    [
        ("orders-api", "dana", "separation of duties"),
        ("orders-api", "DANA", "separation of duties"),
        ("ci-deployer", "sam", "blocking guardrail violations"),
    ],
)
def test_refused_approvals_say_why_and_change_nothing(
    client: TestClient, fresh: World, role: str, user: str, why: str
) -> None:
    pid = fresh.ids[role]
    before = audit_of(fresh, pid)
    answer = client.post(f"/api/proposals/{pid}/approve", json={}, headers=as_user(user))
    assert answer.status_code == 409
    assert why in answer.json()["error"]
    assert audit_of(fresh, pid) == before


def test_reject_keeps_the_comment(client: TestClient, fresh: World) -> None:
    pid = fresh.ids["report-builder"]
    answer = client.post(
        f"/api/proposals/{pid}/reject", json={"comment": "window too short"}, headers=as_user("lee")
    )
    assert answer.json()["state"] == "rejected"
    shown = client.get(f"/api/proposals/{pid}", headers=as_user("lee")).json()
    assert shown["approvals"][-1] | {"at": None} == {
        "approved": False, "by": "lee", "at": None, "comments": "window too short", "binds": True,
    }  # fmt: skip


def test_a_decision_on_a_proposal_that_moved_since_is_refused(
    client: TestClient, fresh: World
) -> None:
    pid = fresh.ids["orders-api"]
    client.post(f"/api/proposals/{pid}/reject", json={"comment": "no"}, headers=as_user("lee"))
    late = client.post(
        f"/api/proposals/{pid}/approve",
        json={"expected_state": "proposed"},
        headers=as_user("sam"),
    )
    assert late.status_code == 409
    assert "changed since you saw it" in late.json()["error"]
    assert client.get(f"/api/proposals/{pid}", headers=as_user("sam")).json()["state"] == "rejected"


def test_a_post_from_another_origin_changes_nothing(client: TestClient, fresh: World) -> None:
    pid = fresh.ids["orders-api"]
    answer = client.post(
        f"/api/proposals/{pid}/approve",
        json={},
        headers={**as_user("sam"), "Origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    assert client.get(f"/api/proposals/{pid}", headers=as_user("sam")).json()["state"] == "proposed"


@pytest.mark.parametrize("value", [None, "", "  ", "sam\u200b", "sam\x01"])
def test_a_request_without_identity_is_401(client: TestClient, value: str | None) -> None:
    headers = {} if value is None else {HEADER.encode(): value.encode()}
    for path in ("/api/proposals", "/proposals", "/status"):
        assert client.get(path, headers=headers).status_code == 401


def test_a_user_named_in_utf8_by_the_proxy_is_read_as_utf8(client: TestClient) -> None:
    answer = client.get("/proposals", headers={HEADER.encode(): "José".encode()})
    assert answer.status_code == 200
    assert ">José</b>" in answer.text


def test_bodies_are_checked(client: TestClient, fresh: World) -> None:
    pid = fresh.ids["orders-api"]
    for body in ({"comment": 3}, {"surprise": 1}, {"expected_state": "nowhere"}):
        answer = client.post(f"/api/proposals/{pid}/approve", json=body, headers=as_user("sam"))
        assert answer.status_code == 422, body
    answer = client.post(
        f"/api/proposals/{pid}/rollback", json={"reason": ""}, headers=as_user("sam")
    )
    assert answer.status_code == 422


def test_roll_out_and_back_through_the_api(client: TestClient, fresh: World) -> None:
    pid = fresh.ids["orders-api"]
    refused = client.post(f"/api/proposals/{pid}/rollout", json={}, headers=as_user("sam"))
    assert refused.status_code == 409
    assert "only an approved proposal" in refused.json()["error"]
    client.post(f"/api/proposals/{pid}/approve", json={}, headers=as_user("sam"))
    ran = client.post(
        f"/api/proposals/{pid}/rollout", json={"through": "sandbox"}, headers=as_user("sam")
    )
    assert ran.status_code == 200, ran.text
    assert ran.json()["stage"] == "sandbox"
    early = client.post(f"/api/proposals/{pid}/rollback", json={}, headers=as_user("sam"))
    assert early.status_code == 409
    assert "cannot go from Sandbox" in early.json()["error"]


def test_roll_back_a_finished_rollout(demo_master: Path, tmp_path: Path) -> None:
    shutil.copytree(demo_master, tmp_path / "demo")
    world = World(tmp_path / "demo", ids_of(tmp_path / "demo"))
    pid = world.ids["orders-api"]
    with TestClient(world.app()) as client:
        back = client.post(
            f"/api/proposals/{pid}/rollback", json={"reason": "drill"}, headers=as_user("sam")
        )
        assert back.status_code == 200, back.text
        assert back.json()["state"] == "rolled_back"
    assert "drill" in [e["reason"] for e in audit_of(world, pid)]  # as `alpha rollback` records it


def test_status_has_the_metrics_and_each_rollouts_checks(demo: World) -> None:
    with TestClient(demo.app()) as client:
        status = client.get("/api/status", headers=as_user("sam")).json()
    assert status["metrics"]["by_state"]["rolled_back"] == 1
    assert status["metrics"]["rollout_failure_rate"] == 0.5
    rolled = next(r for r in status["rollouts"] if r["id"] == demo.ids["report-builder"])
    canary = next(s for s in rolled["stages"] if s["stage"] == "canary")
    assert canary["checks"][-1]["denied"] > rolled["max_new_denials"] == 0
    removed = status["removed_over_time"]
    assert removed[-1]["applied"] > 0
    assert removed[-1]["proposed"] >= removed[-1]["applied"]


def test_the_api_is_documented_by_its_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/proposals", "/api/proposals/{proposal_id}", "/api/proposals/{proposal_id}/diff",
        "/api/proposals/{proposal_id}/approve", "/api/proposals/{proposal_id}/reject",
        "/api/proposals/{proposal_id}/rollout", "/api/proposals/{proposal_id}/rollback",
        "/api/status",
    } <= set(paths)  # fmt: skip
    assert "/proposals" not in paths  # pages are not the API


def test_the_status_metrics_are_those_of_alpha_status(demo: World, proposed: World) -> None:
    """The overview reads summaries, not every proposal: the same figures all the same."""
    for world in (demo, proposed):
        app = application_for(load_settings(Flags(), {}, world.folder), {})
        assert app.overview().metrics == app.status().metrics
