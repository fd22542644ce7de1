"""The Bolt app: Approve and Reject buttons, the reject modal (its comment), and `/alpha`.

Every decision goes through `Application.approve` or `.reject`, so it is bound to the
proposal's content, refused for its proposer and while guardrails block, and audited, as on
the command line. Who decides is the approver name the Slack user id is mapped to; an unmapped
user can do nothing. A refusal is an ephemeral reply saying why (in the modal, under the
comment). Bolt checks each request's signature and timestamp first: a forged or stale request
gets 401 and reaches none of this. Listeners finish before the response
(`process_before_response`), the same over HTTP and in Lambda.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from alpha.adapters.slack.messages import APPROVE_ACTION, REJECT_ACTION, short
from alpha.app import Application, SettingsError
from alpha.errors import AlphaError
from alpha.slack.replies import USAGE, Reply, decided_reply, show_reply, status_reply

__all__ = ["REJECT_VIEW", "build_app"]

log = logging.getLogger(__name__)

REJECT_VIEW = "alpha_reject_modal"
COMMENT_BLOCK, COMMENT_INPUT = "comment", "text"
_REPLY_LIMIT = 2900


def build_app(application: Application, client: WebClient) -> App:
    """The Bolt app over `application`, calling Slack through `client`."""
    secret = application.settings.slack.signing_secret
    if not secret:
        raise SettingsError(
            "set SLACK_SIGNING_SECRET (the app's Basic Information page) to verify requests"
        )
    app = App(
        client=client,
        signing_secret=secret,
        process_before_response=True,
        logger=_bolt_logger(),
    )
    listeners = Listeners(application)
    app.action(APPROVE_ACTION)(listeners.approve_clicked)
    app.action(REJECT_ACTION)(listeners.reject_clicked)
    app.view(REJECT_VIEW)(listeners.reject_submitted)
    app.command("/alpha")(listeners.command)
    return app


class Listeners:
    def __init__(self, application: Application) -> None:
        self.application = application
        self.slack = application.settings.slack

    # Buttons -----------------------------------------------------------------------------
    def approve_clicked(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user, proposal_id = body["user"]["id"], body["actions"][0]["value"]
        try:
            self.application.approve(proposal_id, self.slack.approver(user))
        except AlphaError as exc:
            _refuse(respond, body, exc)

    def reject_clicked(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        user, proposal_id = body["user"]["id"], body["actions"][0]["value"]
        try:
            self.slack.approver(user)  # before asking why: an unmapped user can do nothing
        except AlphaError as exc:
            _refuse(respond, body, exc)
            return
        client.views_open(trigger_id=body["trigger_id"], view=_reject_view(proposal_id))

    def reject_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        proposal_id = json.loads(view["private_metadata"])["proposal_id"]
        comment = view["state"]["values"][COMMENT_BLOCK][COMMENT_INPUT]["value"] or ""
        try:
            by = self.slack.approver(body["user"]["id"])
            self.application.reject(proposal_id, by, comment.strip())
        except AlphaError as exc:
            ack(response_action="errors", errors={COMMENT_BLOCK: _cut(str(exc), 150)})
            return
        ack()

    # /alpha ------------------------------------------------------------------------------
    def command(self, ack: Ack, command: dict[str, Any]) -> None:
        try:
            reply = self._answer(command["user_id"], str(command.get("text") or ""))
        except AlphaError as exc:
            reply = Reply(f":no_entry: {_cut(str(exc), _REPLY_LIMIT)}")
        ack(**reply.fields())

    def _answer(self, user: str, text: str) -> Reply:
        by = self.slack.approver(user)
        verb, _, rest = text.strip().partition(" ")
        proposal_id, _, comment = rest.strip().partition(" ")
        if verb == "status" and not rest.strip():
            return status_reply(self.application)
        if verb == "show" and proposal_id and not comment:
            return show_reply(self.application, proposal_id)
        if verb == "approve" and proposal_id:
            decision = self.application.approve(proposal_id, by, comment.strip())
            return decided_reply(True, decision.proposal_id, decision.state.value)
        if verb == "reject" and proposal_id:
            decision = self.application.reject(proposal_id, by, comment.strip())
            return decided_reply(False, decision.proposal_id, decision.state.value)
        return Reply(USAGE if verb in ("", "help") else f"Unknown `{_cut(text, 60)}`. {USAGE}")


def _refuse(respond: Respond, body: dict[str, Any], exc: AlphaError) -> None:
    """Tell only the one who clicked why nothing happened (through the action's response URL,
    which works in any channel the message is in, the bot a member or not)."""
    action, user = body["actions"][0]["action_id"], body["user"]["id"]
    log.info("refused %s from Slack user %s: %s", action, user, exc)
    respond(text=f":no_entry: {exc}", response_type="ephemeral", replace_original=False)


class _ClientGiven(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that the client given (which holds that
    same token, and the API's base URL) is used instead: noise at every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger(f"{__name__}.bolt")
    if not any(isinstance(f, _ClientGiven) for f in logger.filters):
        logger.addFilter(_ClientGiven())
    return logger


def _reject_view(proposal_id: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": REJECT_VIEW,
        "private_metadata": json.dumps({"proposal_id": proposal_id}),
        "title": {"type": "plain_text", "text": "Reject proposal"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": COMMENT_BLOCK,
                "label": {
                    "type": "plain_text",
                    "text": f"Why reject {short(proposal_id)}?",
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": COMMENT_INPUT,
                    "multiline": True,
                    "max_length": 2000,
                },
            }
        ],
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
