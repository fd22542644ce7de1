"""What a pull request and its commit say: the principal, the proposal id, why, the risk of
breaking, the guardrail findings, what was changed where, what could not be placed (with the
policy itself), and the diff."""

from __future__ import annotations

import difflib
import json
import textwrap
from collections.abc import Mapping
from typing import Any

from alpha.iac.model import FileEdit, Placement

__all__ = ["commit_message", "pull_request_body", "pull_request_title", "unified_diff"]

MAX_DIFF = 60_000
"""GitHub refuses a body over 65,536 characters: a longer diff is cut, and says so."""


def pull_request_title(placement: Placement) -> str:
    change = placement.change
    return f"Least privilege for {change.name} (alpha {change.proposal_id[:12]})"


def commit_message(placement: Placement, document: Mapping[str, Any]) -> str:
    change = placement.change
    rationale = str(document.get("rationale") or "").strip()
    paragraphs = [
        f"alpha: least privilege for {change.name} ({change.proposal_id[:12]})",
        textwrap.fill(rationale, 72) if rationale else "",
        "\n".join(f"- {line}" for line in placement.placed),
        f"Proposal: {change.proposal_id}\nPrincipal: {change.principal}",
    ]
    return "\n\n".join(p for p in paragraphs if p) + "\n"


def unified_diff(edits: tuple[FileEdit, ...]) -> str:
    return "".join(
        "".join(
            difflib.unified_diff(
                edit.before.splitlines(keepends=True),
                edit.after.splitlines(keepends=True),
                f"a/{edit.path}",
                f"b/{edit.path}",
            )
        )
        for edit in edits
    )


def pull_request_body(placement: Placement, document: Mapping[str, Any]) -> str:
    change = placement.change
    sections = [
        f"ALPHA proposes a least-privilege policy for `{change.principal}`."
        + (
            "\n\n> **Blocked by guardrails:** merging this pull request will not approve the "
            "proposal; see the findings below."
            if document.get("blocked")
            else ""
        ),
        _summary(change.proposal_id, document),
        "### Why\n\n" + (str(document.get("rationale") or "").strip() or "(no rationale given)"),
        _risk(document),
        "### Guardrail findings\n\n" + _findings(document),
        "### Changes\n\n" + "\n".join(f"- {line}" for line in placement.placed),
    ]
    if placement.unplaced:
        sections.append(_unplaced(placement))
    sections.append(_diff(unified_diff(placement.edits)))
    sections.append(
        "A merged pull request with an approving review stands as the approval: run "
        f"`alpha pr sync {change.proposal_id[:12]}` (or let the webhook do it). The reviewer "
        "is the approver; the author cannot approve."
    )
    return "\n\n".join(sections) + "\n"


def _summary(proposal_id: str, document: Mapping[str, Any]) -> str:
    diff = document.get("diff") or {}
    risk = document.get("risk_signal") or {}
    return "\n".join(
        [
            f"- **Proposal:** `{proposal_id}`",
            f"- **Privilege reduction:** {_percent(diff.get('privilege_reduction'))}",
            f"- **Risk of breaking:** {_percent(risk.get('probability_of_break'))}",
            f"- **Blocked by guardrails:** {'yes' if document.get('blocked') else 'no'}",
        ]
    )


def _risk(document: Mapping[str, Any]) -> str:
    risk = document.get("risk_signal") or {}
    said = str(risk.get("rationale") or "").strip() or "(not given)"
    return (
        "<details><summary>How the risk of breaking was estimated</summary>\n\n"
        f"{said}\n\n</details>"
    )


def _percent(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, int | float) else "unknown"


def _findings(document: Mapping[str, Any]) -> str:
    violations = document.get("guardrail_violations") or []
    if not violations:
        return "None."
    return "\n".join(
        f"- **{v.get('code')}** ({v.get('severity')}"
        + (", blocks approval" if v.get("blocks") else "")
        + f"): {v.get('message')}"
        for v in violations
    )


def _unplaced(placement: Placement) -> str:
    lines = "\n".join(f"- {u.describe()}" for u in placement.unplaced)
    policy = json.dumps(placement.change.document, indent=2)
    return (
        "### Could not be placed in this repository\n\n"
        f"{lines}\n\nMake these by hand. The proposed policy, "
        f"`{placement.change.policy_name}`:\n\n```json\n{policy}\n```"
    )


def _diff(diff: str) -> str:
    if len(diff) > MAX_DIFF:
        diff = diff[:MAX_DIFF] + "\n... (cut: see the pull request's files)\n"
    return f"### Diff\n\n```diff\n{diff}```"
