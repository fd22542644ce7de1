"""JSON-ready views of stored proposals, the same for every interface: the command line's
`--format json`, and the pages and messages of the web console and Slack."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from alpha.rollout.service import ProposalStatus
from alpha.store.model import Approval, AuditEvent, StoredProposal

__all__ = ["audit_row", "diff_view", "list_row", "policy_text", "show_view"]


def list_row(status: ProposalStatus) -> dict[str, Any]:
    document = status.proposal.document
    return {
        "id": status.proposal.id,
        "short_id": status.proposal.short_id,
        "principal": status.proposal.principal,
        "state": status.state.value,
        "created_at": status.proposal.created_at.isoformat(),
        "created_by": status.proposal.created_by,
        "approval": status.approval.status.value,
        "blocked": bool(document.get("blocked")),
        "privilege_reduction": (document.get("diff") or {}).get("privilege_reduction"),
        "stages": {r.stage.value: r.state.value for r in status.stages},
    }


def diff_view(proposal: StoredProposal) -> dict[str, Any]:
    diff = proposal.document.get("diff") or {}
    return {
        "id": proposal.id,
        "principal": proposal.principal,
        "existing_policy": diff.get("existing_policy"),
        "proposed_policy": proposal.proposed_policy,
        "added_actions": diff.get("added_actions", []),
        "removed_actions": diff.get("removed_actions", []),
        "change_summary": diff.get("change_summary"),
        "privilege_reduction": diff.get("privilege_reduction"),
    }


def show_view(
    status: ProposalStatus, approvals: Sequence[Approval], audit: Sequence[AuditEvent]
) -> dict[str, Any]:
    return {
        **status.to_dict(),
        "proposal": status.proposal.document,
        "approvals": [
            {
                "approved": a.approved,
                "by": a.approver,
                "at": a.timestamp.isoformat(),
                "comments": a.comments,
                "binds": a.binds(status.proposal),
            }
            for a in approvals
        ],
        "audit": [audit_row(e) for e in audit],
    }


def audit_row(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "reason": event.reason,
        "details": event.details,
    }


def policy_text(document: object) -> str:
    """The policy as people read it, in IAM's element order (the store keeps canonical JSON,
    keys sorted); `(none)` when there is none."""
    if document is None:
        return "(none)"
    from alpha.policy.errors import PolicyError
    from alpha.policy.parse import parse_policy
    from alpha.policy.serialize import to_json

    try:
        return to_json(parse_policy(document, "stored proposal"))
    except PolicyError:
        return json.dumps(document, indent=2)
