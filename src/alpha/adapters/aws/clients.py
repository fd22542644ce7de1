"""Building boto3 clients with the retry policy every AWS adapter relies on, and the one way
their errors are described."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ProfileNotFound

from alpha.adapters.aws.errors import AwsSourceError

__all__ = ["DEFAULT_MAX_ATTEMPTS", "describe_error", "make_client", "retry_config"]

DEFAULT_MAX_ATTEMPTS = 10


def retry_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Config:
    """`max_attempts` calls in all, the first included. Adaptive retries: exponential backoff
    with jitter on throttling and transient errors, plus a client-side token bucket that slows
    the client down after it was throttled."""
    return Config(retries={"mode": "adaptive", "total_max_attempts": max_attempts})


def make_client(
    service: str,
    *,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    config: Config | None = None,
) -> Any:
    """A client for `service`. `endpoint_url` points it at a local fake or a VPC endpoint; when
    it is None, botocore's own resolution applies (including `AWS_ENDPOINT_URL_<SERVICE>`).
    `config` replaces the adaptive retries (a service with its own timeouts)."""
    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as error:
        raise AwsSourceError(f"AWS profile {profile!r} not found in the AWS config") from error
    return session.client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint_url, config=config or retry_config(max_attempts)
    )


def describe_error(error: Exception) -> str:
    """`Code: Message` of an AWS error answer; the exception's type and text otherwise."""
    if isinstance(error, ClientError):
        details = error.response.get("Error") or {}
        return f"{details.get('Code') or 'error'}: {details.get('Message') or ''}".rstrip(": ")
    return f"{type(error).__name__}: {error}"
