"""The JSON API under /api/: the same operations as the pages and the command line, documented
by the OpenAPI schema at /openapi.json (and /docs). Bodies are checked by pydantic; a refused
decision is 409 with `{"error": why}`, an unknown proposal 404, no user 401, a post from
another site 403."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from alpha.app import Application
from alpha.app.console import Overview, RolloutWatch
from alpha.app.views import diff_view
from alpha.store.model import ProposalState, Stage
from alpha.store.summaries import ProposalSummary, SummaryQuery
from alpha.web.security import CsrfError
from alpha.web.server import Console, console_of

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["proposals"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionBody(_Body):
    comment: str = Field(default="", max_length=2_000, description="Why.")
    expected_state: ProposalState | None = Field(
        default=None,
        description="The state you saw: refused (409) if the proposal has moved since.",
    )


class RolloutBody(_Body):
    through: Stage = Field(default=Stage.PRODUCTION, description="The last stage to run.")


class RollbackBody(_Body):
    reason: str = Field(default="by hand", min_length=1, max_length=2_000)


def _user(console: Console, request: Request, *, posting: bool) -> str:
    user = console.user(request)
    origin = request.headers.get("origin")
    # Browsers name the page a cross-site request comes from; scripts and curl send none.
    if posting and origin is not None and origin.lower() != console.own_origin(request).lower():
        raise CsrfError(f"refused: the request comes from {origin}, not from the console")
    return user


def _summary(s: ProposalSummary, now: datetime) -> dict[str, Any]:
    return {
        "id": s.id,
        "short_id": s.short_id,
        "principal": s.principal,
        "state": s.state.value,
        "created_at": s.created_at.isoformat(),
        "created_by": s.created_by,
        "age_seconds": max(0, int((now - s.created_at).total_seconds())),
        "privilege_reduction": s.privilege_reduction,
        "probability_of_break": s.probability_of_break,
        "blocked": s.blocked,
        "guardrail_violations": s.violations,
    }


@router.get("/proposals", summary="List proposals, newest first, a page at a time")
async def list_proposals(
    request: Request,
    state: ProposalState | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    console = console_of(request)
    _user(console, request, posting=False)
    found = await console.worker.run(
        lambda app: (app.summaries(SummaryQuery(state, offset, limit)), app.backends.clock()())
    )
    page, now = found
    return {
        "items": [_summary(s, now) for s in page.items],
        "total": page.total,
        "offset": offset,
        "limit": limit,
        "by_state": page.by_state,
    }


@router.get("/proposals/{proposal_id}", summary="A proposal and everything about it")
async def show(request: Request, proposal_id: str) -> dict[str, Any]:
    console = console_of(request)
    _user(console, request, posting=False)
    return await console.worker.run(lambda app: app.show(proposal_id)[1])


@router.get("/proposals/{proposal_id}/diff", summary="Existing and proposed policy, by action")
async def diff(request: Request, proposal_id: str) -> dict[str, Any]:
    console = console_of(request)
    _user(console, request, posting=False)

    def call(app: Application) -> dict[str, Any]:
        found = app.proposal(proposal_id)
        services = app.action_changes(found)
        return {
            **diff_view(found),
            "by_service": [
                {
                    "service": s.service,
                    "name": s.name,
                    "levels": [
                        {
                            "level": lv.level,
                            "removed": lv.removed,
                            "added": lv.added,
                            "kept": lv.kept,
                        }
                        for lv in s.levels
                    ],
                }
                for s in services
            ],
        }

    return await console.worker.run(call)


@router.post("/proposals/{proposal_id}/approve", summary="Approve (not your own, not blocked)")
async def approve(request: Request, proposal_id: str, body: DecisionBody) -> dict[str, Any]:
    console = console_of(request)
    user = _user(console, request, posting=True)
    decided = await console.worker.run(
        lambda app: app.approve(proposal_id, user, body.comment, expected=body.expected_state)
    )
    return decided.to_dict()


@router.post("/proposals/{proposal_id}/reject", summary="Reject, with a comment")
async def reject(request: Request, proposal_id: str, body: DecisionBody) -> dict[str, Any]:
    console = console_of(request)
    user = _user(console, request, posting=True)
    decided = await console.worker.run(
        lambda app: app.reject(proposal_id, user, body.comment, expected=body.expected_state)
    )
    return decided.to_dict()


@router.post("/proposals/{proposal_id}/rollout", summary="Start or continue a rollout")
async def roll_out(request: Request, proposal_id: str, body: RolloutBody) -> dict[str, Any]:
    console = console_of(request)
    _user(console, request, posting=True)
    result = await console.worker.run(lambda app: app.roll_out(proposal_id, body.through))
    return result.to_dict()


@router.post("/proposals/{proposal_id}/rollback", summary="Restore the state from before")
async def roll_back(request: Request, proposal_id: str, body: RollbackBody) -> dict[str, Any]:
    console = console_of(request)
    user = _user(console, request, posting=True)
    result = await console.worker.run(lambda app: app.roll_back(proposal_id, user, body.reason))
    return result.to_dict()


@router.get("/status", summary="The metrics, privilege removed over time, rollout checks")
async def status(request: Request) -> dict[str, Any]:
    console = console_of(request)
    _user(console, request, posting=False)
    found: Overview = await console.worker.run(lambda app: app.overview())
    return {
        "metrics": found.metrics.to_dict(),
        "removed_over_time": [
            {"at": p.at.isoformat(), "proposed": p.proposed, "applied": p.applied}
            for p in found.removed_over_time
        ],
        "rollouts": [_watch(w) for w in found.rollouts],
    }


def _watch(watch: RolloutWatch) -> dict[str, Any]:
    return {
        "id": watch.proposal_id,
        "principal": watch.principal,
        "state": watch.state.value,
        "max_new_denials": watch.max_new_denials,
        "max_error_rate": watch.max_error_rate,
        "stages": [
            {
                "stage": s.stage.value,
                "state": s.state,
                "bake_since": None if s.bake_since is None else s.bake_since.isoformat(),
                "bake_until": None if s.bake_until is None else s.bake_until.isoformat(),
                "checks": [
                    {
                        "at": c.at.isoformat(),
                        "calls": c.calls,
                        "denied": c.denied,
                        "error_rate": c.error_rate,
                    }
                    for c in s.checks
                ],
            }
            for s in watch.stages
        ],
    }
