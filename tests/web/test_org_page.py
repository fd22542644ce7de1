"""The /org page over a saved organisation report: the ranking, the worst principals linked to
their proposals, unused roles, escalation paths, the accounts not covered, when it was made;
the empty state; and names an attacker chose shown as text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from alpha.app import Flags, load_settings
from alpha.app.org_report_file import ORG_REPORT_NAME, save_org_report
from tests.org.small_report import BIG, REFUSED, SMALL, small_report
from tests.web.conftest import HEADER, PROXIED, World

SAM = {HEADER: "sam"}
MADE = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)


def principal_of(world: World, role: str) -> str:
    return next(arn for arn in _principals(world) if arn.endswith(f"/{role}"))


def _principals(world: World) -> list[str]:
    from alpha.app import application_for

    app = application_for(load_settings(Flags(), {}, world.folder), {})
    return [str(row["principal"]) for row in app.list_proposals()]


def saved(world: World, path: Path) -> Path:
    save_org_report(path, small_report(principal_of(world, "report-builder")), MADE)
    return path


def test_the_page_ranks_accounts_and_links_the_worst_to_their_proposals(
    proposed: World, tmp_path: Path
) -> None:
    path = saved(proposed, tmp_path / "org.json")
    with TestClient(proposed.app(org_report=path)) as client:
        page = client.get("/org", headers=SAM)
    assert page.status_code == 200
    html = page.text
    ranked = re.findall(r'<tr data-account="(\d+)">\s*<td class="num">(\d+)</td>', html)
    assert ranked == [(BIG, "1"), (SMALL, "2")]
    assert "2026-12-07 17:00 UTC" in html
    worst = html.split('id="worst"')[1].split("</table>")[0]
    assert f'href="/proposals/{proposed.ids["report-builder"]}"' in worst
    assert worst.count('class="proposal"') == 1  # the user ci has no proposal: no link
    assert "role/idle" in html.split('id="unused"')[1].split("</table>")[0]
    escalation = html.split('id="escalation"')[1].split("</table>")[0]
    assert "iam:PassRole + lambda:CreateFunction" in escalation
    assert f'<tr data-account="{REFUSED}"' in html.split('id="not-covered"')[1]
    assert '<a href="/org">Organisation</a>' in html


def test_names_an_attacker_chose_are_text(proposed: World, tmp_path: Path) -> None:
    path = saved(proposed, tmp_path / "org.json")
    with TestClient(proposed.app(org_report=path)) as client:
        html = client.get("/org", headers=SAM).text
    assert "<script" not in html
    # the account's name in its row, its OU, beside its three findings, the refusal's reason
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") == 6


def test_without_a_saved_report_the_page_says_which_command_makes_one(fresh: World) -> None:
    settings = load_settings(Flags(), PROXIED, fresh.folder)
    default = settings.store.parent / ORG_REPORT_NAME
    with TestClient(fresh.app()) as client:
        empty = client.get("/org", headers=SAM)
        assert empty.status_code == 200
        assert 'id="no-report"' in empty.text
        assert "alpha scan --org DIR|aws --usage SOURCE --save" in empty.text
        assert str(default) in empty.text
        save_org_report(default, small_report(), MADE)  # the store's folder: shown at once
        assert f'<tr data-account="{BIG}">' in client.get("/org", headers=SAM).text


def test_a_damaged_saved_report_is_an_error_naming_the_file(
    proposed: World, tmp_path: Path
) -> None:
    path = tmp_path / "org.json"
    path.write_text("{", encoding="utf-8")
    with TestClient(proposed.app(org_report=path)) as client:
        page = client.get("/org", headers=SAM)
    assert page.status_code == 409
    assert str(path) in page.text
