"""The console's pages: proposals, a proposal, status; and the forms that decide."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from alpha.app import Application
from alpha.app.console import UNKNOWN_LEVEL
from alpha.app.org_report_file import load_org_report
from alpha.app.views import policy_text
from alpha.catalog import AccessLevel
from alpha.errors import AlphaError
from alpha.store.errors import ProposalNotFoundError
from alpha.store.model import ProposalState
from alpha.store.summaries import SummaryQuery
from alpha.web import charts
from alpha.web.diffing import side_by_side
from alpha.web.security import request_origin
from alpha.web.server import Console, console_of

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
LEVELS = [level.value for level in AccessLevel] + [UNKNOWN_LEVEL]
INLINE_ACTIONS = 40
"""Up to this many granted actions of a service are named on the proposal page; every action
(a proposal may remove thousands) is on the service's own page."""
DONE = {
    "approved": "Approved.",
    "rejected": "Rejected.",
    "rolled_out": "Rollout advanced.",
    "rolled_back": "Rolled back.",
}


def _render(
    console: Console, request: Request, name: str, status: int = 200, **values: Any
) -> Response:
    user = values.pop("user", None)
    page = console.templates.get_template(name).render(
        request=request,
        user=user,
        csrf=console.identity.token(user) if user else "",
        **values,
    )
    return HTMLResponse(page, status_code=status)


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/proposals", status_code=303)


@router.get("/proposals")
async def proposals(
    request: Request,
    state: Annotated[ProposalState | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    console = console_of(request)
    user = console.user(request)
    query = SummaryQuery(state, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    found = await console.worker.run(lambda app: app.summaries(query))
    pages = max(1, -(-found.total // PAGE_SIZE))
    return _render(
        console,
        request,
        "list.html",
        user=user,
        page=found,
        state=state,
        number=page,
        pages=pages,
        now=datetime.now(UTC),
        states=[s.value for s in ProposalState],
    )


def _proposal_page(app: Application, proposal_id: str, user: str) -> dict[str, Any]:
    proposal, shown = app.show(proposal_id)
    diff = proposal.document.get("diff") or {}
    return {
        "proposal": proposal,
        "shown": shown,
        "document": proposal.document,
        "rows": side_by_side(
            policy_text(diff.get("existing_policy")), policy_text(proposal.proposed_policy)
        ),
        "services": app.action_changes(proposal),
        "options": app.options(proposal.id, user),
        "inline": INLINE_ACTIONS,
        "levels": LEVELS,
    }


async def _show(
    console: Console, request: Request, user: str, proposal_id: str, status: int = 200, **more: Any
) -> Response:
    values = await console.worker.run(lambda app: _proposal_page(app, proposal_id, user))
    return _render(console, request, "proposal.html", status, user=user, **values, **more)


@router.get("/proposals/{proposal_id}")
async def proposal(request: Request, proposal_id: str, done: str | None = None) -> Response:
    console = console_of(request)
    user = console.user(request)
    return await _show(console, request, user, proposal_id, notice=DONE.get(done or ""))


@router.get("/proposals/{proposal_id}/actions/{service}")
async def service_actions(request: Request, proposal_id: str, service: str) -> Response:
    """Every removed, added and kept action of one service, by access level."""
    console = console_of(request)
    user = console.user(request)

    def call(app: Application) -> dict[str, Any]:
        found = app.proposal(proposal_id)
        changes = [s for s in app.action_changes(found) if s.service == service.lower()]
        return {"proposal": found, "changes": changes}

    values = await console.worker.run(call)
    return _render(console, request, "actions.html", user=user, service=service, **values)


async def _act(
    request: Request,
    proposal_id: str,
    csrf: str | None,
    done: str,
    call: Callable[[Application, str], str],
) -> Response:
    """Check the post, run `call(app, user)`; the page again with the refusal, or on to it."""
    console = console_of(request)
    user = console.user(request)
    origin = request_origin(request.headers.get("origin"), request.headers.get("referer"))
    console.identity.check_post(user, csrf, origin, console.own_origin(request))
    try:
        full_id = await console.worker.run(lambda app: call(app, user))
    except ProposalNotFoundError:
        raise
    except AlphaError as exc:
        return await _show(console, request, user, proposal_id, 409, refused=str(exc))
    return RedirectResponse(f"/proposals/{full_id}?done={done}", status_code=303)


Text = Annotated[str, Form(max_length=2_000)]
Token = Annotated[str | None, Form()]


@router.post("/proposals/{proposal_id}/approve")
async def approve(
    request: Request, proposal_id: str, expected: Annotated[ProposalState | None, Form()] = None,
    comment: Text = "", csrf: Token = None,
) -> Response:  # fmt: skip
    return await _act(
        request, proposal_id, csrf, "approved",
        lambda app, user: app.approve(proposal_id, user, comment, expected=expected).proposal_id,
    )  # fmt: skip


@router.post("/proposals/{proposal_id}/reject")
async def reject(
    request: Request, proposal_id: str, expected: Annotated[ProposalState | None, Form()] = None,
    comment: Text = "", csrf: Token = None,
) -> Response:  # fmt: skip
    return await _act(
        request, proposal_id, csrf, "rejected",
        lambda app, user: app.reject(proposal_id, user, comment, expected=expected).proposal_id,
    )  # fmt: skip


@router.post("/proposals/{proposal_id}/rollout")
async def roll_out(request: Request, proposal_id: str, csrf: Token = None) -> Response:
    return await _act(
        request, proposal_id, csrf, "rolled_out",
        lambda app, user: app.roll_out(proposal_id).proposal_id,
    )  # fmt: skip


@router.post("/proposals/{proposal_id}/rollback")
async def roll_back(
    request: Request, proposal_id: str, reason: Text = "", csrf: Token = None
) -> Response:
    return await _act(
        request, proposal_id, csrf, "rolled_back",
        lambda app, user: app.roll_back(proposal_id, user, reason or "by hand").proposal_id,
    )  # fmt: skip


@router.get("/status")
async def status(request: Request) -> Response:
    console = console_of(request)
    user = console.user(request)
    found = await console.worker.run(lambda app: app.overview())
    return _render(
        console,
        request,
        "status.html",
        user=user,
        overview=found,
        metrics=found.metrics.to_dict(),
        removed=charts.removed_chart(found.removed_over_time),
        by_state=charts.states_chart(found.metrics.by_state),
        rollouts=[(w, charts.error_rate_chart(w)) for w in found.rollouts],
    )


@router.get("/org")
async def organization(request: Request) -> Response:
    """The latest saved organisation report, its principals linked to their proposals."""
    console = console_of(request)
    user = console.user(request)
    saved = await run_in_threadpool(load_org_report, console.org_report)
    proposals: dict[str, str] = {}
    if saved is not None:
        proposals = await console.worker.run(_newest_proposals)
    return _render(
        console,
        request,
        "org.html",
        user=user,
        saved=saved,
        report=saved.report if saved else None,
        proposals=proposals,
        path=console.org_report,
    )


def _newest_proposals(app: Application) -> dict[str, str]:
    """Each principal's newest proposal's id (the summaries come newest first)."""
    newest: dict[str, str] = {}
    for summary in app.summaries(SummaryQuery(limit=None)).items:
        newest.setdefault(summary.principal, summary.id)
    return newest
