"""The DynamoDB client the store uses: adaptive retries (throttling backs off), and the store's
errors for a profile or region that is not there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError

from alpha.adapters.aws.clients import make_client
from alpha.adapters.aws.errors import AwsSourceError
from alpha.store.errors import StoreError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["make_dynamodb_client"]


def make_dynamodb_client(
    *, region: str | None = None, profile: str | None = None, endpoint_url: str | None = None
) -> DynamoDBClient:
    """`endpoint_url` None: botocore's own resolution (AWS_ENDPOINT_URL_DYNAMODB included)."""
    try:
        client: DynamoDBClient = make_client(
            "dynamodb", region=region, profile=profile, endpoint_url=endpoint_url
        )
    except AwsSourceError as error:
        raise StoreError(str(error)) from error
    except BotoCoreError as error:  # no region: botocore resolves the endpoint here
        raise StoreError(
            f"the DynamoDB store cannot be reached ({error}): set AWS_DEFAULT_REGION (or region "
            "in the AWS profile)"
        ) from error
    return client
