"""The console in a real headless Chromium (Playwright driving /usr/bin/chromium) against
uvicorn on a free port: one browser for the module, one context per user (the proxy's header
set on every request, as an authenticating proxy would)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.external_tools import require_tool
from tests.web.conftest import HEADER, Served, World, serve

pytestmark = pytest.mark.slow  # a browser: a few seconds a test

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_tool(CHROMIUM.exists(), "Chromium", "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def console(proposed: World) -> Iterator[Served]:
    yield from serve(proposed.app())


@pytest.fixture(scope="module")
def demo_console(demo: World) -> Iterator[Served]:
    yield from serve(demo.app())


def page_as(browser: Any, user: str | None) -> Any:
    headers = {} if user is None else {HEADER: user}
    return browser.new_context(extra_http_headers=headers).new_page()


def state_of(console: Served, pid: str) -> str:
    found = httpx.get(f"{console.url}/api/proposals/{pid}", headers={HEADER: "sam"})
    return str(found.json()["state"])


def test_the_list_links_to_each_proposal_and_its_diff(
    browser: Any, console: Served, proposed: World
) -> None:
    page = page_as(browser, "sam")
    page.goto(f"{console.url}/")
    rows = page.locator("#proposals tbody tr")
    assert rows.count() == 3
    assert page.locator("#proposals").get_by_text("blocked").count() == 1
    page.get_by_role("link", name="role/report-builder").click()
    assert page.url.endswith(f"/proposals/{proposed.ids['report-builder']}")
    diff = page.locator("#policy-diff")
    assert diff.locator("tr.removed, tr.changed").count() > 0
    assert diff.locator("tr.added, tr.changed").count() > 0
    assert '"s3:GetObject"' in diff.inner_text()
    athena = page.locator('#action-diff tr[data-service="athena"]')
    assert athena.locator("span.removed").count() > 0
    s3 = page.locator('#action-diff tr[data-service="s3"]')
    assert "s3:GetObject" in s3.inner_text()  # what is granted is named
    athena.get_by_role("link", name="athena").click()
    assert page.locator("ul.names.removed li").count() > 10
    page.context.close()


def test_approving_as_another_user(browser: Any, console: Served, proposed: World) -> None:
    page = page_as(browser, "sam")
    pid = proposed.ids["orders-api"]
    page.goto(f"{console.url}/proposals/{pid}")
    page.fill("#comment", "reviewed in the browser")
    page.click("#approve")
    assert page.locator("#notice").inner_text() == "Approved."
    assert "reviewed in the browser" in page.locator("#approvals").inner_text()
    assert page.locator("#rollout").is_visible()
    assert state_of(console, pid) == "approved"
    page.context.close()


def test_the_proposer_is_refused(browser: Any, console: Served, proposed: World) -> None:
    page = page_as(browser, "dana")
    pid = proposed.ids["report-builder"]
    page.goto(f"{console.url}/proposals/{pid}")
    assert "separation of duties" in page.locator("#why-approve").inner_text()
    page.click("#approve")
    assert "separation of duties" in page.locator("#refused").inner_text()
    assert "approve" not in [a.lower() for a in page.locator("#audit td.mono").all_inner_texts()]
    page.context.close()


def test_a_blocked_proposal_is_refused(browser: Any, console: Served, proposed: World) -> None:
    page = page_as(browser, "sam")
    pid = proposed.ids["ci-deployer"]
    page.goto(f"{console.url}/proposals/{pid}")
    assert "PRIVILEGE_ESCALATION" in page.locator("#guardrails").inner_text()
    page.click("#approve")
    refused = page.locator("#refused").inner_text()
    assert "blocking guardrail violations PRIVILEGE_ESCALATION" in refused
    assert state_of(console, pid) == "proposed"
    page.context.close()


def test_reject_with_a_comment(browser: Any, console: Served, proposed: World) -> None:
    page = page_as(browser, "lee")
    pid = proposed.ids["report-builder"]
    page.goto(f"{console.url}/proposals/{pid}")
    page.fill("#comment", "monthly clean-up is missing")
    page.click("#reject")
    assert page.locator("#notice").inner_text() == "Rejected."
    row = page.locator("#audit tbody tr").last.inner_text()
    assert row.split("\t")[2:] == ["lee", "reject", "monthly clean-up is missing"]
    page.context.close()


class _Evil(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        body = (
            f'<form id="f" method="post" action="{self.target}">'
            '<input name="csrf" value="guess"><input name="comment" value="pwned"></form>'
            "<script>document.getElementById('f').submit()</script>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_cross_site_post_is_refused(browser: Any, console: Served, proposed: World) -> None:
    pid = proposed.ids["ci-deployer"]
    handler = type("Evil", (_Evil,), {"target": f"{console.url}/proposals/{pid}/reject"})
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        page = page_as(browser, "sam")  # signed in: the proxy would add the header
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
        assert posted.value.status == 403
        page.wait_for_selector("#error")
        assert "refused" in page.locator("#error").inner_text()
        assert state_of(console, pid) == "proposed"
        page.context.close()
    finally:
        evil.shutdown()
        evil.server_close()


def test_a_request_without_identity_is_refused(browser: Any, console: Served) -> None:
    page = page_as(browser, None)
    answer = page.goto(f"{console.url}/proposals")
    assert answer is not None
    assert answer.status == 401
    assert f"no {HEADER} header" in page.locator("#error").inner_text()
    page.context.close()


def test_the_status_charts_are_drawn(browser: Any, demo_console: Served, demo: World) -> None:
    page = page_as(browser, "sam")
    page.goto(f"{demo_console.url}/status")
    assert "50%" in page.locator("#metrics").inner_text()  # rollout failure rate
    bars = page.locator("#chart-states rect.bar")
    assert sorted(bars.evaluate_all("els => els.map(e => e.dataset.state)")) == [
        "proposed", "rolled_back", "succeeded",
    ]  # fmt: skip
    assert page.locator("#chart-removed polyline").count() == 2
    rolled = page.locator(f'figure.rollout[data-id="{demo.ids["report-builder"]}"]')
    assert rolled.locator("circle.breach").count() >= 1
    assert rolled.locator("line.threshold").count() == 1
    box = rolled.locator("svg").bounding_box()
    assert box is not None
    assert box["width"] > 300  # drawn, not just present
    page.context.close()


def test_the_organisation_page_ranks_accounts_and_links_to_proposals(
    browser: Any, proposed: World, tmp_path: Path
) -> None:
    from alpha.app.org_report_file import save_org_report
    from tests.org.small_report import BIG, HOSTILE, SMALL, small_report
    from tests.web.test_org_page import MADE, principal_of

    path = tmp_path / "org-report.json"
    save_org_report(path, small_report(principal_of(proposed, "report-builder")), MADE)
    with contextmanager(serve)(proposed.app(org_report=path)) as served:
        page = page_as(browser, "sam")
        page.goto(f"{served.url}/proposals")
        page.get_by_role("link", name="Organisation").click()
        rows = page.locator("#accounts tbody tr")
        assert [rows.nth(i).get_attribute("data-account") for i in range(2)] == [BIG, SMALL]
        assert rows.first.locator(".name").inner_text() == HOSTILE  # shown as text, not run
        assert "2026-12-07 17:00 UTC" in page.locator("#made").inner_text()
        page.locator("#worst").get_by_role("link", name="proposal").click()
        assert page.url.endswith(f"/proposals/{proposed.ids['report-builder']}")
        page.context.close()
