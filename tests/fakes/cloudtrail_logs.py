"""CloudTrail records and log folders for usage tests."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "cloudtrail"
SAMPLE_RECORDS = 3663
ACCOUNT = "111122223333"


def record(
    name: str = "GetObject",
    source: object = "s3.amazonaws.com",  # object: some tests write a malformed record
    *,
    role: str = "app",
    time: object = "2024-03-10T12:30:00Z",
    error: str | None = None,
    account: str = ACCOUNT,
    **extra: Any,
) -> dict[str, Any]:
    """A management/data event by an assumed role (of `account`), with S3 bucket/key
    parameters."""
    event: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/session-1",
            "accountId": account,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": f"arn:aws:iam::{account}:role/{role}",
                    "accountId": account,
                    "userName": role,
                }
            },
        },
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "10.0.0.1",
        "requestParameters": {"bucketName": "data", "key": "a/b.txt"},
        "eventType": "AwsApiCall",
        "recipientAccountId": account,
    }
    if error:
        event["errorCode"] = error
        event["errorMessage"] = "denied"
    event.update(extra)
    return event


def role_arn(role: str = "app") -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{role}"


def delivery_folder(
    root: Path, day: str, region: str = "eu-west-1", account: str = ACCOUNT
) -> Path:
    """`root/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD`, created."""
    year, month, dom = day.split("-")
    folder = root / "AWSLogs" / account / "CloudTrail" / region / year / month / dom
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_log(path: Path, records: list[dict[str, Any]], *, fmt: str = "records") -> Path:
    """Write records as `records` ({"Records": [...]}), `array` or `lines`; gzip if `.gz`."""
    if fmt == "records":
        text = json.dumps({"Records": records})
    elif fmt == "array":
        text = json.dumps(records)
    else:
        text = "\n".join(json.dumps(r) for r in records) + "\n"
    data = text.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path
