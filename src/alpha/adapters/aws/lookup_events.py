"""CloudTrail's `LookupEvents` API as a usage source: management events of the last 90 days,
for one account and region, without a trail.

A batch is a closed slice of time (one hour by default), aligned to the epoch so that a slice's
key names the same hour in every run. The slice is never clipped to the window: the store keys
what it ingested by batch, so a batch must hold the same events whatever window asked for it
(the reader filters records by the window). A slice is "closed" once it ended more than
CloudTrail's delivery delay ago (about 15 minutes); until then its version is the current time,
so a later run reads it again.

LookupEvents allows 2 requests a second per account and region. Requests are paced to that
rate here, and botocore's retry mode (adaptive, from `make_cloudtrail_client`) backs off when
CloudTrail still answers `ThrottlingException`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from alpha.adapters.aws.clients import DEFAULT_MAX_ATTEMPTS, make_client
from alpha.adapters.aws.errors import AwsSourceError
from alpha.usage.ports import LogBatch, TimeWindow

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_cloudtrail.type_defs import LookupEventsResponseTypeDef

__all__ = ["lookup_source_for"]


log = logging.getLogger(__name__)

MAX_RESULTS = 50  # the API's ceiling per call
RETENTION = timedelta(days=90)
DEFAULT_SLICE = timedelta(hours=1)
DELIVERY_DELAY = timedelta(minutes=15)
REQUESTS_PER_SECOND = 2.0  # per account per region
CLOSED = "closed"
EMPTY_SLICE = b'{"Records": []}'
ATTRIBUTE_KEYS = frozenset(
    {
        "EventId",
        "EventName",
        "ReadOnly",
        "Username",
        "ResourceType",
        "ResourceName",
        "EventSource",
        "AccessKeyId",
    }
)
LOOKUP_SCHEME = "lookup://"
_REGION = re.compile(r"[a-z0-9-]+")
_SLICE_START = re.compile(r":(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$")


def make_cloudtrail_client(
    *,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> CloudTrailClient:
    """A CloudTrail client with adaptive retries (backs off on `ThrottlingException`)."""
    client: CloudTrailClient = make_client(
        "cloudtrail",
        region=region,
        profile=profile,
        endpoint_url=endpoint_url,
        max_attempts=max_attempts,
    )
    return client


@dataclass(frozen=True, slots=True)
class LookupTarget:
    """A SOURCE argument `lookup://[PROFILE@]REGION`: whose events, in which region."""

    region: str
    profile: str | None = None

    @classmethod
    def parse(cls, text: str) -> LookupTarget:
        rest = text.removeprefix(LOOKUP_SCHEME)
        profile, _, region = rest.rpartition("@")
        if not text.startswith(LOOKUP_SCHEME) or not _REGION.fullmatch(region):
            raise AwsSourceError(f"{text}: expected {LOOKUP_SCHEME}[PROFILE@]REGION")
        return cls(region, profile or None)


def lookup_source_for(text: str, *, endpoint_url: str | None = None) -> LookupEventsSource:
    """The source a `lookup://[PROFILE@]REGION` argument names. Batches are labelled with the
    profile, or without one with the account of the credentials (STS GetCallerIdentity, which
    needs no permission), so two accounts' slices never share a key in one store."""
    target = LookupTarget.parse(text)
    client = make_cloudtrail_client(
        region=target.region, profile=target.profile, endpoint_url=endpoint_url
    )
    label = target.profile or _caller_account(target)
    return LookupEventsSource(client, account=label, region=target.region)


def _caller_account(target: LookupTarget) -> str:
    sts = make_client("sts", region=target.region, profile=target.profile)
    try:
        return str(sts.get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as error:
        raise AwsSourceError(
            f"{LOOKUP_SCHEME}{target.region}: no usable credentials: {error}"
        ) from error


@dataclass(frozen=True, slots=True)
class LookupAttribute:
    """The one attribute LookupEvents can filter on (the API accepts a single one)."""

    key: str
    value: str

    def __post_init__(self) -> None:
        if self.key not in ATTRIBUTE_KEYS:
            known = ", ".join(sorted(ATTRIBUTE_KEYS))
            raise AwsSourceError(f"LookupEvents attribute {self.key!r}: expected one of {known}")


class RequestPacer:
    """Spaces calls at least `1 / rate` seconds apart (a client-side rate limit)."""

    def __init__(
        self,
        rate: float = REQUESTS_PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LookupEventsSource:
    """A `UsageSource` over LookupEvents for one account (or profile) and region.

    `account` only labels the batches (`lookup:<account>:<region>:<slice start>`); the client
    decides which account is read. Pass one `RequestPacer` to every source that shares an
    account and region, so that together they stay under the API's rate.
    """

    def __init__(
        self,
        client: CloudTrailClient,
        *,
        account: str,
        region: str | None = None,
        attribute: LookupAttribute | None = None,
        slice_length: timedelta = DEFAULT_SLICE,
        delivery_delay: timedelta = DELIVERY_DELAY,
        pacer: RequestPacer | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if slice_length < timedelta(minutes=1):
            raise ValueError(f"slice_length must be at least a minute, not {slice_length}")
        self._client = client
        self._region = region or client.meta.region_name
        self._attribute = attribute
        self._slice = slice_length
        self._delay = delivery_delay
        self._pacer = pacer or RequestPacer()
        self._clock = clock
        label = f"lookup:{account}:{self._region}"
        self._prefix = f"{label}:{attribute.key}={attribute.value}" if attribute else label
        self._name = label

    @property
    def name(self) -> str:
        return self._name

    def batches(self, window: TimeWindow) -> Iterator[LogBatch]:
        now = self._clock()
        oldest = now - RETENTION
        start = max(window.since, oldest) if window.since is not None else oldest
        end = min(window.until, now) if window.until is not None else now
        current = self._slice_start(start)
        while current < end:
            closed = current + self._slice + self._delay <= now
            version = CLOSED if closed else f"open:{_iso(now)}"
            yield LogBatch(f"{self._prefix}:{_iso(current)}", 0, version)
            current += self._slice

    def read(self, batch: LogBatch) -> bytes:
        start = self._start_of(batch)
        end = start + self._slice
        lines = [
            # A record's JSON never holds a raw newline inside a string, only between tokens.
            text.replace("\r", " ").replace("\n", " ")
            for text in self._event_texts(batch.key, start, end)
        ]
        if not lines:
            return EMPTY_SLICE  # an empty slice is no problem: zero records, not an empty file
        return ("\n".join(lines) + "\n").encode()

    def _event_texts(self, key: str, start: datetime, end: datetime) -> Iterator[str]:
        request: dict[str, Any] = {"StartTime": start, "EndTime": end, "MaxResults": MAX_RESULTS}
        if self._attribute is not None:
            request["LookupAttributes"] = [
                {"AttributeKey": self._attribute.key, "AttributeValue": self._attribute.value}
            ]
        while True:
            response = self._lookup(key, request)
            for event in response.get("Events", []):
                # Both ends of the API's range are inclusive; a slice is half-open.
                moment = event.get("EventTime")
                text = event.get("CloudTrailEvent")
                if text and moment is not None and start <= moment < end:
                    yield text
            token = response.get("NextToken")
            if not token:
                return
            request["NextToken"] = token

    def _lookup(self, key: str, request: dict[str, Any]) -> LookupEventsResponseTypeDef:
        self._pacer.wait()
        try:
            response = self._client.lookup_events(**request)
        except ClientError as error:
            details = error.response.get("Error", {})
            problem = f"{details.get('Code', 'error')} {details.get('Message', '')}".strip()
            raise AwsSourceError(f"{key}: LookupEvents failed: {problem}") from error
        except BotoCoreError as error:
            raise AwsSourceError(f"{key}: LookupEvents failed: {error}") from error
        return response

    def _slice_start(self, moment: datetime) -> datetime:
        step = int(self._slice.total_seconds())
        seconds = int(moment.timestamp())
        return datetime.fromtimestamp(seconds - seconds % step, UTC)

    def _start_of(self, batch: LogBatch) -> datetime:
        match = _SLICE_START.search(batch.key)
        if not batch.key.startswith(f"{self._prefix}:") or match is None:
            raise AwsSourceError(f"{batch.key}: not a batch of {self._prefix}")
        if batch.key != f"{self._prefix}:{match.group(1)}":
            raise AwsSourceError(f"{batch.key}: not a batch of {self._prefix}")
        return datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
