"""An S3 client on the session's moto server (tests/conftest.py), and a recorder of API calls."""

from __future__ import annotations

from typing import Any

import pytest

from alpha.adapters.aws.s3_cloudtrail import make_s3_client


@pytest.fixture
def s3_client(moto_endpoint: str) -> Any:
    return make_s3_client(region="us-east-1", endpoint_url=moto_endpoint)


class CallRecorder:
    """Records an operation's parameters through the client's own event hooks (no mocking)."""

    def __init__(self, client: Any, operation: str) -> None:
        self.calls: list[dict[str, Any]] = []
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-parameter-build.{service}.{operation}", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(dict(params))
