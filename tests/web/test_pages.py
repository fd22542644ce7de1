"""The pages' forms through the app: the CSRF token and the Origin check, the local user, the
loopback rule, and the settings that name the proxy's header."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alpha.app import Flags, SettingsError, load_settings
from alpha.web import WebError, check_bind
from tests.web.conftest import HEADER, World

OWN = "http://testserver"


def token_of(client: TestClient, path: str, headers: dict[str, str]) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(path, headers=headers).text)
    assert found is not None
    return found.group(1)


def state_of(client: TestClient, pid: str, headers: dict[str, str]) -> str:
    return str(client.get(f"/api/proposals/{pid}", headers=headers).json()["state"])


@pytest.mark.parametrize(
    ("form", "origin", "referer"),
    [
        ({}, OWN, None),  # no token
        ({"csrf": "0" * 64}, OWN, None),  # another's token
        ({"csrf": None}, "https://evil.example", None),  # the right token, from elsewhere
        ({"csrf": None}, None, "https://evil.example/page"),
        ({"csrf": None}, None, None),  # no Origin, no Referer
        ({"csrf": None}, "null", None),  # a sandboxed or file page
    ],
)
def test_a_form_post_without_token_and_own_origin_is_403(
    fresh: World, form: dict[str, str | None], origin: str | None, referer: str | None
) -> None:
    user = {HEADER: "sam"}
    pid = fresh.ids["orders-api"]
    with TestClient(fresh.app()) as client:
        token = token_of(client, f"/proposals/{pid}", user)
        data = {k: token if v is None else v for k, v in form.items()}
        headers = dict(user)
        headers |= {"Origin": origin} if origin else {}
        headers |= {"Referer": referer} if referer else {}
        answer = client.post(f"/proposals/{pid}/approve", data=data, headers=headers)
        assert answer.status_code == 403
        assert "refused" in answer.text
        assert state_of(client, pid, user) == "proposed"


def test_a_form_post_with_token_and_referer_from_the_console_decides(fresh: World) -> None:
    user = {HEADER: "sam"}
    pid = fresh.ids["orders-api"]
    with TestClient(fresh.app(), follow_redirects=False) as client:
        token = token_of(client, f"/proposals/{pid}", user)
        answer = client.post(
            f"/proposals/{pid}/approve",
            data={"csrf": token, "comment": "ok", "expected": "proposed"},
            headers={**user, "Referer": f"{OWN}/proposals/{pid}"},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/proposals/{pid}?done=approved"
        # A token is the user's: lee cannot post with sam's.
        stolen = client.post(
            f"/proposals/{pid}/reject",
            data={"csrf": token},
            headers={HEADER: "lee", "Origin": OWN},
        )
        assert stolen.status_code == 403
        assert state_of(client, pid, user) == "approved"


def test_a_refused_form_post_shows_the_proposal_with_why(fresh: World) -> None:
    user = {HEADER: "dana"}
    pid = fresh.ids["orders-api"]
    with TestClient(fresh.app()) as client:
        page = client.get(f"/proposals/{pid}", headers=user).text
        assert "separation of duties" in page  # said before the button is pressed
        token = token_of(client, f"/proposals/{pid}", user)
        answer = client.post(
            f"/proposals/{pid}/approve", data={"csrf": token}, headers={**user, "Origin": OWN}
        )
        assert answer.status_code == 409
        assert 'id="refused"' in answer.text
        assert "separation of duties" in answer.text


def test_without_a_header_the_console_acts_as_the_local_user(proposed: World) -> None:
    with TestClient(proposed.app(env={}, user="lee")) as client:
        page = client.get("/proposals")
        assert page.status_code == 200
        assert '<b id="user">lee</b>' in page.text
        # A header a proxy might add means nothing when no proxy is configured.
        assert '<b id="user">lee</b>' in client.get("/proposals", headers={HEADER: "x"}).text


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_the_local_user_is_served_on_loopback(host: str) -> None:
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_the_local_user_is_never_served_beyond_loopback(host: str) -> None:
    with pytest.raises(WebError, match="only on loopback"):
        check_bind(host, None)
    check_bind(host, "X-Forwarded-User")  # behind a proxy that names the user


def test_the_header_comes_from_the_variable_then_alpha_toml(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text('[web]\nuser_header = "X-Auth-Request-User"\n')
    assert load_settings(Flags(), {}, tmp_path).web_user_header == "X-Auth-Request-User"
    env = {"ALPHA_WEB_USER_HEADER": "X-Forwarded-User"}
    assert load_settings(Flags(), env, tmp_path).web_user_header == "X-Forwarded-User"
    with pytest.raises(SettingsError, match="ALPHA_WEB_USER_HEADER: 'X User' is not a header"):
        load_settings(Flags(), {"ALPHA_WEB_USER_HEADER": "X User"}, tmp_path)
    (tmp_path / "alpha.toml").write_text('[web]\nuser_header = "a:b"\n')
    with pytest.raises(SettingsError, match=r"line 2: web\.user_header"):
        load_settings(Flags(), {}, tmp_path)


def test_the_list_filters_and_pages(demo: World) -> None:
    user = {HEADER: "sam"}
    with TestClient(demo.app()) as client:
        every = client.get("/proposals", headers=user).text
        assert every.count("<tr data-id=") == 3
        assert "page 1 of 1" in every
        only = client.get("/proposals?state=succeeded", headers=user).text
        assert re.findall(r'data-state="(\w+)"', only) == ["succeeded"]
        assert client.get("/proposals?page=0", headers=user).status_code == 422
        empty = client.get("/proposals?page=9", headers=user).text
        assert "No proposals" in empty


def test_a_service_page_lists_every_action_the_proposal_changes(proposed: World) -> None:
    user = {HEADER: "sam"}
    pid = proposed.ids["ci-deployer"]  # removes nearly every AWS action
    with TestClient(proposed.app()) as client:
        page = client.get(f"/proposals/{pid}", headers=user).text
        assert len(page) < 600_000  # counts per service; names on each service's page
        ec2 = client.get(f"/proposals/{pid}/actions/ec2", headers=user).text
        diff = client.get(f"/api/proposals/{pid}/diff", headers=user).json()
        removed = [a for a in diff["removed_actions"] if a.startswith("ec2:")]
        assert removed
        assert all(f"<li>{a}</li>" in ec2 for a in removed)
        none = client.get(f"/proposals/{pid}/actions/nosuchservice", headers=user).text
        assert "changes no action of nosuchservice" in none


def test_what_users_wrote_is_shown_as_text_never_as_markup(fresh: World) -> None:
    pid = fresh.ids["report-builder"]
    comment = '<script>alert("x")</script>'
    with TestClient(fresh.app()) as client:
        client.post(
            f"/api/proposals/{pid}/reject", json={"comment": comment}, headers={HEADER: "sam"}
        )
        page = client.get(f"/proposals/{pid}", headers={HEADER: "sam"}).text
    assert comment not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
