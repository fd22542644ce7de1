"""The fields of a CloudTrail record that ALPHA reads, as typed structs decoded by msgspec.

Only these fields are decoded; everything else in a record is skipped by the decoder, which is
what makes reading a million events a second-scale job. Unknown fields are ignored, missing
ones take their defaults, and a field of the wrong type fails the record (the reader then
counts that record as skipped, with its reason).

`LazyEvent` is the ingest's lighter twin of `CloudTrailEvent`: only the fields the
interpretation reads, and `requestParameters` kept as raw JSON, decoded only for the few events
whose actions or resources depend on it (most events name their resources in `resources[]`).
The nested structs hold no reference cycles, so they are exempt from the cyclic GC (`gc=False`):
the GC would otherwise rescan millions of them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec

__all__ = [
    "CloudTrailEvent",
    "EventResource",
    "OnBehalfOf",
    "SessionContext",
    "SessionIssuer",
    "UserIdentity",
]


class SessionIssuer(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    type: str | None = None
    arn: str | None = None
    userName: str | None = None  # noqa: N815 - CloudTrail's field name
    accountId: str | None = None  # noqa: N815


class SessionContext(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    sessionIssuer: SessionIssuer | None = None  # noqa: N815
    # set at the first AssumeRole of a chain and kept by every later one: names who acts
    sourceIdentity: str | None = None  # noqa: N815


class OnBehalfOf(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """An identity-enhanced session's IAM Identity Center user (trusted identity
    propagation): the identity store's user id, and the store."""

    userId: str | None = None  # noqa: N815
    identityStoreArn: str | None = None  # noqa: N815


class UserIdentity(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    type: str | None = None
    arn: str | None = None
    accountId: str | None = None  # noqa: N815
    principalId: str | None = None  # noqa: N815
    userName: str | None = None  # noqa: N815
    invokedBy: str | None = None  # noqa: N815
    sessionContext: SessionContext | None = None  # noqa: N815
    onBehalfOf: OnBehalfOf | None = None  # noqa: N815


class EventResource(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
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
    # What the call returned: the ids a call made (RunInstances' subnet and security groups
    # when the request left them to defaults). Read only where the request does not say.
    responseElements: Any = None  # noqa: N815 (any JSON: never makes a record unreadable)
    # What the service adds (S3's `SSEKMSKeyARN`, the key of an SSE-KMS object); any JSON
    additionalEventData: Any = None  # noqa: N815
    resources: list[EventResource] | None = None
    recipientAccountId: str | None = None  # noqa: N815
    eventType: str | None = None  # noqa: N815
    eventCategory: str | None = None  # noqa: N815
    managementEvent: bool | str | None = None  # noqa: N815
    readOnly: bool | str | None = None  # noqa: N815
    eventID: str | None = None  # noqa: N815


NO_REQUEST = msgspec.Raw(b"null")
_REQUEST_TYPE = dict[str, Any] | None


class LazyEvent(msgspec.Struct, frozen=True, gc=False):
    """A CloudTrail record as the ingest reads it; `full()` is the same record as a
    `CloudTrailEvent` (with `requestParameters` decoded)."""

    eventTime: str | None = None  # noqa: N815
    eventSource: str | None = None  # noqa: N815
    eventName: str | None = None  # noqa: N815
    awsRegion: str | None = None  # noqa: N815
    sourceIPAddress: str | None = None  # noqa: N815
    errorCode: str | None = None  # noqa: N815
    errorMessage: str | None = None  # noqa: N815
    userIdentity: UserIdentity | None = None  # noqa: N815
    requestParameters: msgspec.Raw = NO_REQUEST  # noqa: N815
    responseElements: msgspec.Raw = NO_REQUEST  # noqa: N815
    additionalEventData: msgspec.Raw = NO_REQUEST  # noqa: N815
    resources: list[EventResource] | None = None
    recipientAccountId: str | None = None  # noqa: N815
    eventType: str | None = None  # noqa: N815

    def request_is_valid(self) -> bool:
        """Whether `requestParameters` is what `CloudTrailEvent` accepts: an object or null
        (the raw JSON is valid JSON already, so its first byte tells)."""
        return memoryview(self.requestParameters)[0] in _OBJECT_OR_NULL

    def full(
        self, *, request: bool = True, resources: bool = True, response: bool = True
    ) -> CloudTrailEvent:
        """This record with everything the interpretation reads, request parameters decoded.
        `request`, `resources` and `response` False leave out its request (and
        additionalEventData), resources[] or response: what the meaning of its group does not
        depend on (`fast_tally`), so the interpretation cannot read them."""
        return CloudTrailEvent(
            eventTime=self.eventTime,
            eventSource=self.eventSource,
            eventName=self.eventName,
            awsRegion=self.awsRegion,
            sourceIPAddress=self.sourceIPAddress,
            errorCode=self.errorCode,
            errorMessage=self.errorMessage,
            userIdentity=self.userIdentity,
            requestParameters=_request_decoder().decode(self.requestParameters)
            if request
            else None,
            responseElements=_response_of(self.responseElements) if response else None,
            additionalEventData=_response_of(self.additionalEventData) if request else None,
            resources=self.resources if resources else None,
            recipientAccountId=self.recipientAccountId,
            eventType=self.eventType,
        )


_OBJECT_OR_NULL = frozenset(b"{n")


@cache
def _request_decoder() -> msgspec.json.Decoder[dict[str, Any] | None]:
    return msgspec.json.Decoder(_REQUEST_TYPE)


def _response_of(raw: msgspec.Raw) -> Any:
    """The response decoded; bad bytes as none: only a few mappings read it, and a response
    never makes a record unreadable."""
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
