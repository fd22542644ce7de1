"""`SlackWebhookSender`: notifications through an incoming webhook (no bot), given a
`WebhookClient` for its URL. A webhook can only post: every event is a message of its own,
naming its proposal, and a new proposal's message has no buttons (approve with
`alpha approve ID`, or install the Slack app for buttons and `/alpha`)."""

from __future__ import annotations

from typing import Any

from slack_sdk.webhook import WebhookClient

from alpha.adapters.local.outbox import SQLiteOutbox
from alpha.adapters.slack.messages import event_line, proposal_message, short
from alpha.adapters.slack.notifier import DeliveryError, RateLimitedError, retry_after_of
from alpha.rollout.notify_ports import NotifyEvent, ProposalCreated

__all__ = ["SlackWebhookSender"]


class SlackWebhookSender:
    def __init__(self, client: WebhookClient) -> None:
        self.client = client

    def send(self, event: NotifyEvent, outbox: SQLiteOutbox) -> None:
        if isinstance(event, ProposalCreated):
            message = proposal_message(event, buttons=False)
            hint = f"\n`alpha approve {short(event.proposal_id)}` to approve"
            self._post(message.text + hint, message.blocks_list())
        else:
            self._post(event_line(event, standalone=True), None)

    def _post(self, text: str, blocks: list[dict[str, Any]] | None) -> None:
        try:
            response = self.client.send(text=text, blocks=blocks, unfurl_links=False)
        except OSError as exc:
            raise DeliveryError(f"webhook: {exc}") from exc
        if response.status_code == 429:
            raise RateLimitedError(retry_after_of(response.headers))
        if response.status_code != 200:
            raise DeliveryError(f"webhook: HTTP {response.status_code}: {response.body[:200]}")
