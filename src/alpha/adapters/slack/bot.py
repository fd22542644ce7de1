"""`SlackBotSender`: notifications through the Web API as the bot (`chat.postMessage`,
`chat.update`), given a `WebClient` made with the bot token and the API's base URL.

A new proposal is posted to the channel and its message (channel and `ts`) kept as an anchor
in the outbox, so every later event about it is posted in its thread, after a restart too.
A decision updates the message (no more buttons; who decided) and says so in the thread. A
failed stage or rollback is also shown in the channel (`reply_broadcast`). Events about a
proposal whose message was never posted (Slack was set up later) are posted on their own.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from alpha.adapters.local.outbox import SQLiteOutbox
from alpha.adapters.slack.event_json import event_from_json, event_to_json
from alpha.adapters.slack.messages import (
    Message,
    decided_message,
    event_line,
    proposal_message,
)
from alpha.adapters.slack.notifier import DeliveryError, RateLimitedError, retry_after_of
from alpha.rollout.notify_ports import (
    NotifyEvent,
    ProposalApproved,
    ProposalCreated,
    ProposalRejected,
    RollbackFailed,
    StageFailed,
)

__all__ = ["SlackBotSender", "anchor_key", "delivery_error"]

_GONE = {"message_not_found", "cant_update_message", "cannot_reply_to_message", "thread_not_found"}
"""The message a proposal was posted as is gone (deleted): carry on without it."""


_REFUSED_CONTENT = {
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "invalid_metadata_format",
    "invalid_metadata_schema",
    "metadata_too_large",
}
"""Slack refuses the message's blocks or metadata, not the message: sent again as text alone,
so one odd proposal cannot hold up the queue behind it."""
_TEXT_LIMIT = 3000


class _GoneError(DeliveryError):
    pass


class _ContentError(DeliveryError):
    pass


def anchor_key(proposal_id: str) -> str:
    return f"proposal:{proposal_id}"


class SlackBotSender:
    def __init__(self, client: WebClient, channel: str) -> None:
        self.client = client
        self.channel = channel

    def send(self, event: NotifyEvent, outbox: SQLiteOutbox) -> None:
        if isinstance(event, ProposalCreated):
            self._post_proposal(event, outbox)
            return
        anchor = outbox.anchor(anchor_key(event.proposal_id))
        if isinstance(event, ProposalApproved | ProposalRejected) and anchor is not None:
            created = event_from_json(anchor["event"])
            assert isinstance(created, ProposalCreated)
            self._update(anchor, decided_message(created, event))
        self._in_thread(event, anchor)

    def _post_proposal(self, event: ProposalCreated, outbox: SQLiteOutbox) -> None:
        key = anchor_key(event.proposal_id)
        if outbox.anchor(key) is not None:
            return  # posted before a crash kept it queued
        message = proposal_message(event, buttons=True)
        response = self._call(
            "chat_postMessage",
            channel=self.channel,
            text=message.text,
            blocks=message.blocks_list(),
            metadata=_metadata(event),
            unfurl_links=False,
        )
        anchor = {"channel": response["channel"], "ts": response["ts"]}
        outbox.set_anchor(key, {**anchor, "event": event_to_json(event)})

    def _update(self, anchor: dict[str, Any], message: Message) -> None:
        with suppress(_GoneError):  # the thread line still says who decided
            self._call(
                "chat_update",
                channel=anchor["channel"],
                ts=anchor["ts"],
                text=message.text,
                blocks=message.blocks_list(),
            )

    def _in_thread(self, event: NotifyEvent, anchor: dict[str, Any] | None) -> None:
        loud = isinstance(event, StageFailed | RollbackFailed)
        threaded = {} if anchor is None else {"thread_ts": anchor["ts"], "reply_broadcast": loud}
        channel = self.channel if anchor is None else anchor["channel"]
        try:
            self._post_line(event, channel, threaded, standalone=anchor is None)
        except _GoneError:
            self._post_line(event, self.channel, {}, standalone=True)

    def _post_line(
        self, event: NotifyEvent, channel: str, threaded: dict[str, Any], *, standalone: bool
    ) -> None:
        self._call(
            "chat_postMessage",
            channel=channel,
            text=event_line(event, standalone=standalone),
            metadata=_metadata(event),
            unfurl_links=False,
            **threaded,
        )

    def _call(self, method: str, **arguments: Any) -> SlackResponse:
        try:
            return self._call_once(method, **arguments)
        except _ContentError:
            if not {"blocks", "metadata"} & arguments.keys():
                raise
            plain = {k: v for k, v in arguments.items() if k not in ("blocks", "metadata")}
            plain["text"] = str(plain["text"])[:_TEXT_LIMIT]
            return self._call_once(method, **plain)

    def _call_once(self, method: str, **arguments: Any) -> SlackResponse:
        try:
            response: SlackResponse = getattr(self.client, method)(**arguments)
        except SlackApiError as exc:
            raise delivery_error(method.replace("_", "."), exc.response) from exc
        except OSError as exc:  # no connection, a timeout (urllib's errors are OSErrors)
            raise DeliveryError(f"{method.replace('_', '.')}: {exc}") from exc
        return response


def delivery_error(method: str, response: SlackResponse) -> DeliveryError:
    """What a refused call means: wait `Retry-After` (429), the message is gone, or not now."""
    if response.status_code == 429:
        return RateLimitedError(retry_after_of(response.headers))
    if response.status_code != 200:
        return DeliveryError(f"{method}: HTTP {response.status_code}")
    error = response.data.get("error") if isinstance(response.data, dict) else None
    if error in _GONE:
        return _GoneError(f"{method}: {error}")
    if error in _REFUSED_CONTENT:
        return _ContentError(f"{method}: {error}")
    return DeliveryError(f"{method}: {error}")


def _metadata(event: NotifyEvent) -> dict[str, Any]:
    """Slack message metadata: which proposal and event a message is about."""
    kind = str(event_to_json(event)["kind"])
    return {"event_type": f"alpha_{kind}", "event_payload": {"proposal_id": event.proposal_id}}
