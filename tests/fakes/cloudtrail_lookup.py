"""A small CloudTrail `LookupEvents` service on 127.0.0.1, speaking the real JSON 1.1 protocol.

boto3 talks to it over HTTP like to AWS (signed requests, `X-Amz-Target`, JSON bodies with
epoch timestamps); it serves the CloudTrail records it is given, for the region named in each
request's SigV4 credential scope, and behaves like the API where the adapter depends on it:

- newest events first, `StartTime` and `EndTime` both inclusive, management events only;
- `MaxResults` 1..50 (default 50), an opaque `NextToken` bound to the query it came from;
- one `LookupAttributes` entry at most;
- `ThrottlingException` (HTTP 400, `__type`) for the next `throttle_next` requests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.local_http import FakeServer, serving

TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
CONTENT_TYPE = "application/x-amz-json-1.1"
ERROR_NAMESPACE = "com.amazonaws.cloudtrail.v20131101#"
_REGION_IN_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/cloudtrail/aws4_request")
_ATTRIBUTES: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
    "EventId": lambda r: [r.get("eventID")],
    "EventName": lambda r: [r.get("eventName")],
    "EventSource": lambda r: [r.get("eventSource")],
    "ReadOnly": lambda r: [str(r.get("readOnly")).lower()],
    "Username": lambda r: [_username(r)],
    "AccessKeyId": lambda r: [(r.get("userIdentity") or {}).get("accessKeyId")],
    "ResourceType": lambda r: [res.get("type") for res in r.get("resources") or []],
    "ResourceName": lambda r: [res.get("ARN") for res in r.get("resources") or []],
}


class ServiceError(Exception):
    """A CloudTrail error answer: its `__type` and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SeenRequest:
    region: str | None
    body: dict[str, Any]
    arrived: float  # time.monotonic()
    throttled: bool
    signed: bool


@dataclass
class FakeCloudTrail:
    """The service's state. `records` are CloudTrail records (as in a delivered log file)."""

    records: list[dict[str, Any]]
    throttle_next: int = 0
    requests: list[SeenRequest] = field(default_factory=list)
    endpoint_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _newest_first: list[tuple[float, dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._newest_first = _newest_first(self.records)

    def add(self, *records: dict[str, Any]) -> None:
        """Events that reach the API later (CloudTrail's delivery delay): served from the next
        request on."""
        with self._lock:
            self.records.extend(records)
            self._newest_first = _newest_first(self.records)

    def handle(self, target: str, region: str | None, body: dict[str, Any], signed: bool) -> Any:
        """The response body for one request, or raises `ServiceError`."""
        with self._lock:
            now = time.monotonic()
            throttled = self.throttle_next > 0
            self.throttle_next -= throttled
            self.requests.append(SeenRequest(region, body, now, throttled, signed))
        if throttled:
            raise ServiceError("ThrottlingException", "Rate exceeded")
        if target != TARGET:
            raise ServiceError("UnknownOperationException", f"unknown target {target}")
        return self._lookup(region, body)

    def _lookup(self, region: str | None, body: dict[str, Any]) -> dict[str, Any]:
        limit = body.get("MaxResults", 50)
        if not isinstance(limit, int) or not 1 <= limit <= 50:
            raise ServiceError("InvalidMaxResultsException", "MaxResults must be 1 to 50")
        start, end = body.get("StartTime"), body.get("EndTime")
        if start is not None and end is not None and start > end:
            raise ServiceError("InvalidTimeRangeException", "StartTime is after EndTime")
        matching = list(self._matching(region, start, end, body.get("LookupAttributes") or []))
        query = _fingerprint(body)
        offset = _offset_of(body.get("NextToken"), query)
        page = matching[offset : offset + limit]
        response: dict[str, Any] = {"Events": page}
        if offset + limit < len(matching):
            response["NextToken"] = _token(offset + limit, query)
        return response

    def _matching(
        self, region: str | None, start: float | None, end: float | None, attributes: list[Any]
    ) -> Iterator[dict[str, Any]]:
        """The API's view of each matching record, newest first."""
        if len(attributes) > 1:
            raise ServiceError("InvalidLookupAttributesException", "one attribute at most")
        wanted = attributes[0] if attributes else None
        if wanted is not None and wanted.get("AttributeKey") not in _ATTRIBUTES:
            raise ServiceError("InvalidLookupAttributesException", "unknown AttributeKey")
        for moment, record, api_event in self._newest_first:
            if record.get("awsRegion") != region or not _is_management(record):
                continue
            if (start is not None and moment < start) or (end is not None and moment > end):
                continue
            if wanted is not None:
                values = _ATTRIBUTES[wanted["AttributeKey"]](record)
                if wanted.get("AttributeValue") not in values:
                    continue
            yield api_event

    @property
    def served(self) -> list[SeenRequest]:
        return [request for request in self.requests if not request.throttled]


def _newest_first(
    records: list[dict[str, Any]],
) -> list[tuple[float, dict[str, Any], dict[str, Any]]]:
    timed = [(_epoch(r["eventTime"]), r, _api_event(r)) for r in records]
    return sorted(timed, key=lambda entry: entry[0], reverse=True)


def _is_management(record: dict[str, Any]) -> bool:
    return record.get("managementEvent") is not False and record.get("eventCategory") != "Data"


def _username(record: dict[str, Any]) -> str | None:
    identity = record.get("userIdentity") or {}
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
    name = identity.get("userName") or issuer.get("userName")
    return name if isinstance(name, str) else None


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _api_event(record: dict[str, Any]) -> dict[str, Any]:
    identity = record.get("userIdentity") or {}
    return {
        "EventId": record.get("eventID", ""),
        "EventName": record.get("eventName", ""),
        "ReadOnly": str(record.get("readOnly", "")).lower(),
        "AccessKeyId": identity.get("accessKeyId", ""),
        "EventTime": _epoch(record["eventTime"]),
        "EventSource": record.get("eventSource", ""),
        "Username": _username(record) or "",
        "Resources": [
            {"ResourceType": res.get("type", ""), "ResourceName": res.get("ARN", "")}
            for res in record.get("resources") or []
        ],
        "CloudTrailEvent": json.dumps(record),
    }


def _fingerprint(body: dict[str, Any]) -> str:
    query = {k: v for k, v in body.items() if k != "NextToken"}
    return hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:16]


def _token(offset: int, query: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, query]).encode()).decode()


def _offset_of(token: str | None, query: str) -> int:
    if token is None:
        return 0
    try:
        offset, bound_to = json.loads(base64.urlsafe_b64decode(token))
    except (ValueError, TypeError) as error:
        raise ServiceError("InvalidNextTokenException", "invalid NextToken") from error
    if bound_to != query or not isinstance(offset, int):
        raise ServiceError("InvalidNextTokenException", "NextToken of another query")
    return offset


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        fake = self.server.fake
        if self.headers.get("Content-Type") != CONTENT_TYPE:
            self._reply(400, {"__type": "SerializationException", "message": "content type"})
            return
        authorization = self.headers.get("Authorization") or ""
        scope = _REGION_IN_SCOPE.search(authorization)
        try:
            body = json.loads(raw or b"{}")
            result = fake.handle(
                self.headers.get("X-Amz-Target") or "",
                scope.group(1) if scope else None,
                body,
                signed=authorization.startswith("AWS4-HMAC-SHA256 "),
            )
        except ServiceError as error:
            self._reply(400, {"__type": ERROR_NAMESPACE + error.code, "message": error.message})
            return
        self._reply(200, result)

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read `FakeCloudTrail.requests` instead."""


@contextmanager
def running_fake(records: Iterable[dict[str, Any]]) -> Iterator[FakeCloudTrail]:
    """Start the fake on a free port in a thread; `fake.endpoint_url` is where it listens."""
    fake = FakeCloudTrail(list(records))
    with serving(_Handler, fake) as url:
        fake.endpoint_url = url
        yield fake
