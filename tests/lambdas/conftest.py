"""The handlers run as Lambda runs them: the environment the template sets, the idempotency
table in DynamoDB (moto over HTTP), the demo's account and CloudTrail sample as the account
and the trail, and a Lambda context object."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from alpha.adapters.aws.clients import make_client
from alpha.demo.sample import ROLLOUT_AT, SamplePaths, write_sample


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the context object the Lambda runtime passes a handler."""

    function_name: str = "alpha-step"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:alpha-step"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


def function_env(
    folder: Path, sample: SamplePaths, idempotency_table: str, now: datetime
) -> dict[str, str]:
    """What the template sets for every function, over local files in `folder`."""
    return {
        "ALPHA_STORE": str(folder / "alpha.db"),
        "ALPHA_USAGE_STORE": str(folder / "usage.duckdb"),
        "ALPHA_ACCOUNT": str(sample.account),
        "ALPHA_LOGS": str(sample.observed),
        "ALPHA_USER": "alpha",
        "ALPHA_NOW": now.isoformat(),
        "ALPHA_STORE_REPLAY": "true",  # the sample's logs are from its own time
        "ALPHA_IDEMPOTENCY_TABLE": idempotency_table,
        "POWERTOOLS_SERVICE_NAME": "alpha",
    }


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SamplePaths:
    return write_sample(tmp_path_factory.mktemp("sample"))


@pytest.fixture
def idempotency_table(moto_endpoint: str) -> str:
    name = f"alpha-idempotency-{uuid.uuid4().hex[:8]}"
    make_client("dynamodb", region="us-east-1", endpoint_url=moto_endpoint).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def lambda_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    sample: SamplePaths,
    moto_endpoint: str,
    idempotency_table: str,
) -> Path:
    """The function's environment; the store's path."""
    store = tmp_path / "alpha.db"
    for name, value in function_env(tmp_path, sample, idempotency_table, ROLLOUT_AT).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint)
    monkeypatch.delenv("ALPHA_CONFIG", raising=False)
    return store
