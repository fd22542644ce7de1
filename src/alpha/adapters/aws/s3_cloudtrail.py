"""CloudTrail log files in an S3 bucket, in the layout CloudTrail delivers them:

    [prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz
    [prefix/]AWSLogs/<o-org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz

Never a full-bucket scan: accounts and regions are discovered with delimiter listings (one
call per folder level), then only the day folders inside the time window are listed, one
prefix per day per account and region.

The day folder is the day a file was *delivered* (UTC), which is a few minutes after its
events. So the window's last day is extended by `delivery_slack` (default one hour: CloudTrail
delivers within about 15 minutes), and a file delivered before the window starts (its name
carries the delivery minute) cannot hold events of the window and is not read.

An open start (`since=None`) has no day to start from: then the year, month and day folders
that exist are discovered level by level with delimiter listings, up to the window's end, so
the cost is one call per year and month present, never one per object outside the window.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from alpha.adapters.aws.clients import make_client
from alpha.adapters.aws.errors import AwsSourceError
from alpha.usage.ports import LogBatch, TimeWindow

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ListObjectsV2OutputTypeDef, ObjectTypeDef

__all__ = ["S3CloudTrailSource", "S3Location", "make_s3_client"]


log = logging.getLogger(__name__)

LOGS_FOLDER = "AWSLogs"
TRAIL_FOLDER = "CloudTrail"
LOG_SUFFIXES = (".json.gz", ".json")
DEFAULT_DELIVERY_SLACK = timedelta(hours=1)
# ..._CloudTrail_us-east-1_20230710T1205Z_AbCd.json.gz: the minute the file was delivered.
_DELIVERY_STAMP = re.compile(r"_(\d{8}T\d{4})Z_[^/]*$")


def make_s3_client(
    *, region: str | None = None, profile: str | None = None, endpoint_url: str | None = None
) -> S3Client:
    """An S3 client with adaptive retries (backs off on `SlowDown` and throttling)."""
    client: S3Client = make_client("s3", region=region, profile=profile, endpoint_url=endpoint_url)
    return client


@dataclass(frozen=True, slots=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ending in "/"

    @classmethod
    def parse(cls, url: str) -> S3Location:
        """`s3://bucket[/prefix]` to a location; the error names the URL."""
        if not url.startswith("s3://"):
            raise AwsSourceError(f"{url}: not an S3 URL (expected s3://bucket/prefix)")
        bucket, _, prefix = url[len("s3://") :].partition("/")
        if not bucket:
            raise AwsSourceError(f"{url}: no bucket name (expected s3://bucket/prefix)")
        prefix = prefix.strip("/")
        return cls(bucket, f"{prefix}/" if prefix else "")

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def day_range(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def delivered_at(key: str) -> datetime | None:
    """The delivery minute in a CloudTrail file name, or None for a name not in that form."""
    match = _DELIVERY_STAMP.search(key)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class S3CloudTrailSource:
    """A `UsageSource` over `s3://bucket/prefix` in the CloudTrail delivery layout.

    `prefix` is the folder above `AWSLogs/`, or may go down into it (`.../AWSLogs/<account>/`,
    `.../AWSLogs/o-org/<account>/CloudTrail/<region>/`) to fix those levels. `accounts` and
    `regions` narrow the discovery further.
    """

    def __init__(
        self,
        client: S3Client,
        location: S3Location,
        *,
        accounts: Iterable[str] | None = None,
        regions: Iterable[str] | None = None,
        delivery_slack: timedelta = DEFAULT_DELIVERY_SLACK,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._client = client
        self._location = location
        self._accounts = frozenset(accounts) if accounts is not None else None
        self._regions = frozenset(regions) if regions is not None else None
        self._slack = delivery_slack
        self._clock = clock
        self._root, self._fixed = _split_at_logs_folder(location)

    @property
    def name(self) -> str:
        return self._location.url

    def batches(self, window: TimeWindow) -> Iterator[LogBatch]:
        now = self._clock()
        last = now if window.until is None else min(window.until + self._slack, now)
        for region_prefix in self.region_prefixes():
            for day_prefix in self._day_prefixes(region_prefix, window.since, last.date()):
                yield from self._log_files(day_prefix, window.since)

    def read(self, batch: LogBatch) -> bytes:
        bucket, key = _split_s3_url(batch.key)
        try:
            # IfMatch: the bytes must be the version that was listed, or the store would record
            # an ETag for content it never read.
            response = self._client.get_object(Bucket=bucket, Key=key, IfMatch=f'"{batch.version}"')
            body = response["Body"]
            try:
                return body.read()
            finally:
                body.close()
        except ClientError as error:
            raise AwsSourceError(f"{batch.key}: cannot read: {_describe(error)}") from error
        except BotoCoreError as error:
            raise AwsSourceError(f"{batch.key}: cannot read: {error}") from error

    def region_prefixes(self) -> Iterator[str]:
        """`.../AWSLogs/[o-org/]<account>/CloudTrail/<region>/` for every trail folder found."""
        for account_prefix in self._account_prefixes():
            trail_prefix = f"{account_prefix}{TRAIL_FOLDER}/"
            given_region = self._fixed.region
            regions = [given_region] if given_region else self._children(trail_prefix)
            for region in regions:
                if self._regions is None or region in self._regions:
                    yield f"{trail_prefix}{region}/"

    def _account_prefixes(self) -> Iterator[str]:
        fixed = self._fixed
        owners = [fixed.owner] if fixed.owner else self._children(self._root)
        for owner in owners:
            if not owner.startswith("o-"):
                if self._wanted_account(owner):
                    yield f"{self._root}{owner}/"
                continue
            org_prefix = f"{self._root}{owner}/"
            accounts = [fixed.account] if fixed.account else self._children(org_prefix)
            for account in accounts:
                if self._wanted_account(account):
                    yield f"{org_prefix}{account}/"

    def _wanted_account(self, account: str) -> bool:
        return self._accounts is None or account in self._accounts

    def _day_prefixes(self, region_prefix: str, since: datetime | None, last: date) -> list[str]:
        if since is not None:
            return [f"{region_prefix}{day:%Y/%m/%d}/" for day in day_range(since.date(), last)]
        return self._discovered_days(region_prefix, last)

    def _discovered_days(self, region_prefix: str, last: date) -> list[str]:
        """The day folders that exist up to `last`, found one level at a time."""
        found = []
        for year in self._children(region_prefix):
            if not (year.isdigit() and int(year) <= last.year):
                continue
            for month in self._children(f"{region_prefix}{year}/"):
                if not (month.isdigit() and (int(year), int(month)) <= (last.year, last.month)):
                    continue
                month_prefix = f"{region_prefix}{year}/{month}/"
                for day in self._children(month_prefix):
                    if day.isdigit() and (int(year), int(month), int(day)) <= last.timetuple()[:3]:
                        found.append(f"{month_prefix}{day}/")
        return found

    def _log_files(self, day_prefix: str, since: datetime | None) -> Iterator[LogBatch]:
        # A file delivered in the minute before `since` may still hold events of that minute.
        earliest = since - timedelta(minutes=1) if since is not None else None
        for item in self._list(day_prefix, delimited=False):
            key = item.get("Key", "")
            if not key.endswith(LOG_SUFFIXES):
                continue
            stamp = delivered_at(key)
            if earliest is not None and stamp is not None and stamp < earliest:
                continue
            etag = item.get("ETag", "").strip('"')
            yield LogBatch(f"s3://{self._location.bucket}/{key}", item.get("Size", 0), etag)

    def _children(self, prefix: str) -> list[str]:
        """The sub-folder names directly under `prefix`."""
        names = []
        for page in self._pages(prefix, delimited=True):
            for common in page.get("CommonPrefixes", []):
                names.append(common.get("Prefix", "")[len(prefix) :].rstrip("/"))
        return names

    def _list(self, prefix: str, *, delimited: bool) -> Iterator[ObjectTypeDef]:
        for page in self._pages(prefix, delimited=delimited):
            yield from page.get("Contents", [])

    def _pages(self, prefix: str, *, delimited: bool) -> Iterator[ListObjectsV2OutputTypeDef]:
        paginator = self._client.get_paginator("list_objects_v2")
        bucket = self._location.bucket
        try:
            if delimited:
                yield from paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
            else:
                yield from paginator.paginate(Bucket=bucket, Prefix=prefix)
        except ClientError as error:
            raise AwsSourceError(
                f"s3://{bucket}/{prefix}: cannot list: {_describe(error)}"
            ) from error
        except BotoCoreError as error:
            raise AwsSourceError(f"s3://{bucket}/{prefix}: cannot list: {error}") from error


@dataclass(frozen=True, slots=True)
class _FixedLevels:
    """Levels of the layout the user's prefix already names (below `AWSLogs/`)."""

    owner: str | None = None  # an account id, or an organisation id `o-...`
    account: str | None = None  # the account inside an organisation folder
    region: str | None = None


def _split_at_logs_folder(location: S3Location) -> tuple[str, _FixedLevels]:
    """The `.../AWSLogs/` prefix and the levels the user's prefix fixes below it."""
    parts = location.prefix.rstrip("/").split("/") if location.prefix else []
    if LOGS_FOLDER not in parts:
        return f"{location.prefix}{LOGS_FOLDER}/", _FixedLevels()
    at = parts.index(LOGS_FOLDER)
    root = "/".join([*parts[: at + 1], ""])
    below = parts[at + 1 :]
    owner = below[0] if below else None
    org = owner is not None and owner.startswith("o-")
    account = below[1] if org and len(below) > 1 else None
    rest = below[2:] if org else below[1:]
    if (rest and rest[0] != TRAIL_FOLDER) or len(rest) > 2:
        raise AwsSourceError(
            f"{location.url}: expected [prefix/]AWSLogs/<account>/CloudTrail/<region>/; "
            "give dates with --since/--until rather than in the prefix"
        )
    region = rest[1] if len(rest) == 2 else None
    return root, _FixedLevels(owner, account, region)


def _split_s3_url(url: str) -> tuple[str, str]:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return bucket, key


def _describe(error: ClientError) -> str:
    details = error.response.get("Error", {})
    code = details.get("Code", "error")
    message = details.get("Message", "")
    return f"{code} {message}".strip()
