"""The real CloudTrail samples the AWS adapter tests use.

Their origin and licences: tests/data/cloudtrail/ATTRIBUTION.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fakes.cloudtrail_logs import SAMPLES


def invictus_files() -> list[Path]:
    """The real trail (one account, us-east-1, 2023-07-10) in S3 delivery file names."""
    return sorted((SAMPLES / "invictus_aws_dataset").glob("*.json"))


def records_of(path: Path) -> list[dict[str, Any]]:
    """A sample file's records, whatever its shape ({"Records": [...]} or a bare array)."""
    data = json.loads(path.read_bytes())
    records = data["Records"] if isinstance(data, dict) else data
    return [record for record in records if isinstance(record, dict)]


def all_sample_records() -> list[dict[str, Any]]:
    return [record for path in sample_files() for record in records_of(path)]


def sample_files() -> list[Path]:
    return sorted(SAMPLES.rglob("*.json"))
