"""Requests as Slack sends them: form bodies signed with the app's signing secret (v0:
HMAC-SHA256 of `v0:<timestamp>:<body>`), for block actions, view submissions and commands."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0ALPHA"


def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, at: int | None = None
) -> dict[str, str]:
    timestamp = str(int(time.time()) if at is None else at)
    base = f"v0:{timestamp}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }


def button_body(
    action_id: str, proposal_id: str, user: str, channel: str, response_url: str
) -> str:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0ALPHA",
        "team": {"id": TEAM},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": channel},
        "channel": {"id": channel},
        "trigger_id": "1234.5678.abcd",
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "alpha_decision",
                "value": proposal_id,
                "action_ts": "1700000001.000000",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def reject_submission_body(proposal_id: str, user: str, comment: str) -> str:
    payload: dict[str, Any] = {
        "type": "view_submission",
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0ALPHA",
        "team": {"id": TEAM},
        "trigger_id": "1234.5678.efgh",
        "view": {
            "id": "V0ALPHA",
            "type": "modal",
            "team_id": TEAM,
            "callback_id": "alpha_reject_modal",
            "private_metadata": json.dumps({"proposal_id": proposal_id}),
            "state": {
                "values": {"comment": {"text": {"type": "plain_text_input", "value": comment}}}
            },
        },
    }
    return urlencode({"payload": json.dumps(payload)})


def command_body(text: str, user: str, channel: str, response_url: str) -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "channel_id": channel,
            "user_id": user,
            "command": "/alpha",
            "text": text,
            "api_app_id": "A0ALPHA",
            "response_url": response_url,
            "trigger_id": "1234.5678.ijkl",
        }
    )
