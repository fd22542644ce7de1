"""What the Slack app answers: the `/alpha` command's words, and the replies to each (a refusal
says why). Built from `alpha.app`'s answers; the messages' look is the notifications' own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alpha.adapters.slack.messages import escape, percent, proposal_message, short
from alpha.app import Application
from alpha.rollout.notify_ports import ProposalCreated
from alpha.store.model import ProposalState

__all__ = ["USAGE", "Reply", "decided_reply", "show_reply", "status_reply"]

USAGE = (
    "Usage: `/alpha status` | `/alpha show ID` | `/alpha approve ID [comment]` | "
    "`/alpha reject ID [comment]`"
)
STATUS_ROWS = 20
_DONE = {
    ProposalState.REJECTED.value,
    ProposalState.EXPIRED.value,
    ProposalState.SUCCEEDED.value,
    ProposalState.ROLLED_BACK.value,
    ProposalState.FAILED.value,
}


@dataclass(frozen=True, slots=True)
class Reply:
    """An ephemeral answer: only the person who asked sees it."""

    text: str
    blocks: tuple[dict[str, Any], ...] = ()

    def fields(self) -> dict[str, Any]:
        found: dict[str, Any] = {"text": self.text, "response_type": "ephemeral"}
        if self.blocks:
            found["blocks"] = list(self.blocks)
        return found


def status_reply(application: Application) -> Reply:
    """The proposals still open (waiting for a decision, or rolling out), newest first."""
    rows = application.list_proposals()
    open_rows = [r for r in rows if r["state"] not in _DONE]
    open_rows.sort(key=lambda r: str(r["created_at"]), reverse=True)
    closed = len(rows) - len(open_rows)
    lines = [_status_line(r) for r in open_rows[:STATUS_ROWS]]
    if len(open_rows) > STATUS_ROWS:
        lines.append(f"... and {len(open_rows) - STATUS_ROWS} more open")
    head = f"*{len(open_rows)} open proposals* ({closed} done)"
    return Reply("\n".join([head, *lines]) if lines else f"{head}: nothing to decide")


def _status_line(row: dict[str, Any]) -> str:
    name = str(row["principal"]).rpartition(":")[2]
    stages = ", ".join(f"{stage} {state}" for stage, state in row["stages"].items())
    blocked = " :no_entry: blocked" if row["blocked"] else ""
    return (
        f"`{row['short_id']}` {escape(name)}: *{row['state']}*"
        f"{f' ({stages})' if stages else ''}{blocked}, "
        f"privilege reduction {percent(row['privilege_reduction'])}"
    )


def show_reply(application: Application, proposal_id: str) -> Reply:
    """The proposal as its message shows it, with where it stands now."""
    proposal, view = application.show(proposal_id)
    undecided = view["state"] == ProposalState.PROPOSED.value
    message = proposal_message(ProposalCreated.of(proposal), buttons=undecided)
    standing = _standing(view)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": standing}}
    return Reply(f"{message.text}\n{standing}", (*message.blocks, section))


def _standing(view: dict[str, Any]) -> str:
    lines = [f"*State*: {view['state']} (approval {view['approval']['status']})"]
    lines += [
        f"{'Approved' if a['approved'] else 'Rejected'} by {escape(a['by'])} at {a['at']}"
        f"{': ' + escape(a['comments']) if a['comments'] else ''}"
        for a in view["approvals"]
    ]
    lines += [f"{s['stage']}: {s['state']}" for s in view["stages"]]
    return "\n".join(lines)


def decided_reply(approved: bool, proposal_id: str, state: str) -> Reply:
    verb = "Approved" if approved else "Rejected"
    return Reply(f"{verb} {short(proposal_id)}: it is now {state}")
