"""The one error of the AWS adapters."""

from __future__ import annotations

from alpha.usage.errors import UsageError


class AwsSourceError(UsageError):
    """An AWS source could not be read: bad location, access denied, missing bucket, a query
    that failed. The message names the source (`s3://bucket/key`, the LookupEvents slice, the
    Athena query id) and AWS's error code."""
