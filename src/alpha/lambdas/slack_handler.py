"""The Slack app as an AWS Lambda function behind API Gateway or a function URL:
`alpha.lambdas.slack_handler.handler`. Settings come from the function's environment; the
Bolt app is built on the first request and kept for the container's life. Listeners finish
before the response (`process_before_response`), as Lambda freezes the container after it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

__all__ = ["handler"]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    answer: dict[str, Any] = _bolt_handler()(event, context)
    return answer


@functools.cache
def _bolt_handler() -> Callable[[dict[str, Any], Any], Any]:
    from slack_bolt.adapter.aws_lambda import SlackRequestHandler

    from alpha.app import Flags, application_for, load_settings
    from alpha.app.backends import slack_web_client
    from alpha.lambdas.runtime import work_dir
    from alpha.slack.bolt_app import build_app

    settings = load_settings(Flags(), os.environ, work_dir(os.environ))
    application = application_for(settings, os.environ)
    bolt = build_app(application, slack_web_client(settings))
    return SlackRequestHandler(bolt).handle
