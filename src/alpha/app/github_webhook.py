"""GitHub's webhook (`pull_request` and `pull_request_review` events) doing what `alpha pr
sync` does for the one pull request an event names. Interfaces (a web server, a Lambda)
hand it the headers and the raw body; it answers a status and a message.

The body is trusted only once its `X-Hub-Signature-256` is the HMAC-SHA256 of the raw bytes
under the shared secret (compared in constant time). Even then the event only says which pull
request to look at: its state and reviews are read from the API, never taken from the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, ValidationError

from alpha.app.pull_requests import PullRequests, SyncOutcome

__all__ = ["EVENTS", "WebhookReply", "handle_github_webhook", "signature_of"]

EVENTS = ("pull_request", "pull_request_review")


@dataclass(frozen=True, slots=True)
class WebhookReply:
    status: int
    message: str
    outcomes: tuple[SyncOutcome, ...] = ()


class _Named(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Repository(_Named):
    full_name: str


class _PullRequest(_Named):
    number: int


class _Event(_Named):
    repository: _Repository
    pull_request: _PullRequest


def signature_of(secret: str, body: bytes) -> str:
    """What GitHub sends as `X-Hub-Signature-256` for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def handle_github_webhook(
    pulls: PullRequests, headers: Mapping[str, str], body: bytes
) -> WebhookReply:
    secret = pulls.app.settings.github.webhook_secret
    if not secret:
        return WebhookReply(503, "no webhook secret is set (ALPHA_GITHUB_WEBHOOK_SECRET)")
    lowered = {k.lower(): v for k, v in headers.items()}
    given = lowered.get("x-hub-signature-256", "")
    if not hmac.compare_digest(given.encode(), signature_of(secret, body).encode()):
        return WebhookReply(401, "the signature does not match the body")
    event = lowered.get("x-github-event", "")
    if event == "ping":
        return WebhookReply(200, "pong")
    if event not in EVENTS:
        return WebhookReply(202, f"event {event!r} ignored")
    try:
        named = _Event.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        return WebhookReply(400, f"not a {event} event: {first}")
    outcomes = pulls.sync_pull(named.repository.full_name, named.pull_request.number)
    reference = f"{named.repository.full_name}#{named.pull_request.number}"
    if not outcomes:
        return WebhookReply(202, f"{reference} is not a pull request alpha opened")
    said = "; ".join(f"{o.status}: {o.detail}" for o in outcomes)
    return WebhookReply(200, f"{reference}: {said}", tuple(outcomes))
