"""What ALPHA's Slack messages say: a new proposal (Block Kit, with Approve and Reject buttons
whose value is the proposal id), the same message once decided, and one line for each
decision, rollout stage and rollback. Pure functions: the senders post what these return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alpha.rollout.notify_ports import (
    NotifyEvent,
    ProposalApproved,
    ProposalCreated,
    ProposalRejected,
    RolledBack,
    StageFailed,
    StagePassed,
    StageStarted,
)

__all__ = [
    "APPROVE_ACTION",
    "REJECT_ACTION",
    "Message",
    "decided_message",
    "escape",
    "event_line",
    "percent",
    "proposal_message",
    "short",
]

APPROVE_ACTION = "alpha_approve"
REJECT_ACTION = "alpha_reject"
ACTIONS_BLOCK = "alpha_decision"
FINDINGS_SHOWN = 10
SECTION_LIMIT = 2900  # Slack refuses a section's text over 3000 characters

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    """A message's fallback text (notifications, screen readers) and its blocks."""

    text: str
    blocks: tuple[Block, ...] = ()

    def blocks_list(self) -> list[Block]:
        return list(self.blocks)


def short(proposal_id: str) -> str:
    return proposal_id[:12]


def escape(text: str) -> str:
    """Text as Slack shows it literally: its three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def percent(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.1%}"


def _name(principal: str) -> str:
    return principal.rpartition(":")[2] or principal


def proposal_message(event: ProposalCreated, *, buttons: bool) -> Message:
    text = (
        f"New least-privilege proposal {short(event.proposal_id)} for {_name(event.principal)}: "
        f"privilege reduction {percent(event.privilege_reduction)}, "
        f"risk of breaking {percent(event.risk_of_break)}"
        + (", blocked by guardrails" if event.blocked else "")
    )
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"Proposal {short(event.proposal_id)}"},
        },
        {"type": "section", "fields": _facts(event)},
        _section(f"*Guardrails*\n{_findings(event)}"),
        _section(f"*Change* ({escape(event.change_summary or 'no summary')})\n{_diff(event)}"),
    ]
    if event.people:
        blocks.append(_section(f"*People*\n{escape(_cut(event.people, 2900))}"))
    if buttons:
        blocks.append(_buttons(event.proposal_id))
        blocks.append(_context(f"`/alpha show {short(event.proposal_id)}` for everything"))
    return Message(_cut(text, 3000), tuple(blocks))


def decided_message(
    created: ProposalCreated, decision: ProposalApproved | ProposalRejected
) -> Message:
    """The proposal's message once decided: no buttons, and who decided."""
    posted = proposal_message(created, buttons=False)
    blocks = [b for b in posted.blocks if b.get("type") != "context"]
    blocks.append(_section(_decision_line(decision)))
    return Message(f"{posted.text} ({_decided(decision)})", tuple(blocks))


def event_line(event: NotifyEvent, *, standalone: bool) -> str:
    """One line for an event after the proposal's message; `standalone` names the proposal
    too (a webhook, or a proposal whose message was never posted)."""
    line = _line(event)
    if not standalone:
        return line
    return f"{short(event.proposal_id)} ({escape(_name(event.principal))}): {line}"


def _line(event: NotifyEvent) -> str:
    if isinstance(event, ProposalCreated):
        return proposal_message(event, buttons=False).text
    if isinstance(event, ProposalApproved | ProposalRejected):
        return _decision_line(event)
    if isinstance(event, StageStarted):
        return f":arrow_forward: {event.stage.value} stage started"
    if isinstance(event, StagePassed):
        return f":white_check_mark: {event.stage.value} stage passed: {escape(event.detail)}"
    if isinstance(event, StageFailed):
        return f":x: {event.stage.value} stage failed: {escape(event.detail)}"
    if isinstance(event, RolledBack):
        return (
            f":rewind: rolled back by {escape(event.by)}: {escape(event.reason)}; the "
            "principal's IAM is as it was before the rollout"
        )
    return (
        f":rotating_light: rollback by {escape(event.by)} FAILED: {escape(event.error)}. "
        "The principal may be left half-changed: look now, then `alpha rollback` again"
    )


def _decided(decision: ProposalApproved | ProposalRejected) -> str:
    verb = "approved" if isinstance(decision, ProposalApproved) else "rejected"
    return f"{verb} by {decision.by}"


def _decision_line(decision: ProposalApproved | ProposalRejected) -> str:
    mark = ":heavy_check_mark:" if isinstance(decision, ProposalApproved) else ":no_entry_sign:"
    when = decision.at.strftime("%Y-%m-%d %H:%M UTC")
    said = f": {escape(decision.comment)}" if decision.comment else ""
    return f"{mark} *{escape(_decided(decision)).capitalize()}* at {when}{said}"


def _facts(event: ProposalCreated) -> list[Block]:
    pairs = [
        ("Principal", f"`{escape(event.principal)}`"),
        ("Proposed by", escape(event.proposed_by)),
        ("Privilege reduction", percent(event.privilege_reduction)),
        ("Risk of breaking", percent(event.risk_of_break)),
    ]
    return [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in pairs]


def _findings(event: ProposalCreated) -> str:
    if not event.findings:
        return "no findings"
    lines = [
        f"{':no_entry:' if f.blocks else ':warning:'} `{escape(f.code)}`"
        f"{' (blocks approval)' if f.blocks else ''}: {escape(f.message)}"
        for f in event.findings[:FINDINGS_SHOWN]
    ]
    if len(event.findings) > FINDINGS_SHOWN:
        lines.append(f"and {len(event.findings) - FINDINGS_SHOWN} more")
    return "\n".join(lines)


def _diff(event: ProposalCreated) -> str:
    lines: list[str] = []
    if event.granted:
        more = event.granted_count - len(event.granted)
        lines.append(
            f"  allows: {', '.join(event.granted)}" + (f" and {more} more" if more > 0 else "")
        )
    lines += [f"- {action}" for action in event.removed]
    if event.removed_count > len(event.removed):
        lines.append(f"- ... and {event.removed_count - len(event.removed)} more removed")
    lines += [f"+ {action}" for action in event.added]
    if event.added_count > len(event.added):
        lines.append(f"+ ... and {event.added_count - len(event.added)} more added")
    return "```\n" + escape("\n".join(lines) or "(no actions)") + "\n```"


def _buttons(proposal_id: str) -> Block:
    return {
        "type": "actions",
        "block_id": ACTIONS_BLOCK,
        "elements": [
            {
                "type": "button",
                "action_id": APPROVE_ACTION,
                "style": "primary",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": proposal_id,
            },
            {
                "type": "button",
                "action_id": REJECT_ACTION,
                "style": "danger",
                "text": {"type": "plain_text", "text": "Reject"},
                "value": proposal_id,
            },
        ],
    }


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_LIMIT)}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
