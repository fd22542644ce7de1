"""The fields of a CloudTrail record that ALPHA reads, as typed structs decoded by msgspec.

Only these fields are decoded; everything else in a record is skipped by the decoder, which is
what makes reading a million events a second-scale job. Unknown fields are ignored, missing
ones take their defaults, and a field of the wrong type fails the record (the reader then
counts that record as skipped, with its reason).
"""

from __future__ import annotations

from typing import Any

import msgspec


class SessionIssuer(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str | None = None
    arn: str | None = None
    userName: str | None = None  # noqa: N815 - CloudTrail's field name
    accountId: str | None = None  # noqa: N815


class SessionContext(msgspec.Struct, frozen=True, omit_defaults=True):
    sessionIssuer: SessionIssuer | None = None  # noqa: N815


class UserIdentity(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str | None = None
    arn: str | None = None
    accountId: str | None = None  # noqa: N815
    principalId: str | None = None  # noqa: N815
    userName: str | None = None  # noqa: N815
    invokedBy: str | None = None  # noqa: N815
    sessionContext: SessionContext | None = None  # noqa: N815


class EventResource(msgspec.Struct, frozen=True, omit_defaults=True):
    ARN: str | None = None
    accountId: str | None = None  # noqa: N815
    type: str | None = None


class CloudTrailEvent(msgspec.Struct, frozen=True, omit_defaults=True):
    """One CloudTrail record (management or data event)."""

    eventTime: str | None = None  # noqa: N815
    eventSource: str | None = None  # noqa: N815
    eventName: str | None = None  # noqa: N815
    awsRegion: str | None = None  # noqa: N815
    sourceIPAddress: str | None = None  # noqa: N815
    userAgent: str | None = None  # noqa: N815
    errorCode: str | None = None  # noqa: N815
    errorMessage: str | None = None  # noqa: N815
    userIdentity: UserIdentity | None = None  # noqa: N815
    requestParameters: dict[str, Any] | None = None  # noqa: N815
    resources: list[EventResource] | None = None
    recipientAccountId: str | None = None  # noqa: N815
    eventType: str | None = None  # noqa: N815
    eventCategory: str | None = None  # noqa: N815
    managementEvent: bool | str | None = None  # noqa: N815
    readOnly: bool | str | None = None  # noqa: N815
    eventID: str | None = None  # noqa: N815
