"""`athena://WORKGROUP/DATABASE.TABLE` as a usage source: the Athena query of
`athena_usage` run one UTC day at a time, its groups folded into the usage store's rows.

Each day of the window is one batch, keyed `athena://WORKGROUP/DATABASE.TABLE/YYYY-MM-DD`.
Its version is the slice of time it covers, and for a slice whose logs may still be arriving
(until an hour after it ends, CloudTrail's delivery delay with room) also the time it was
asked: a closed day is queried once and kept, today's again on each run, and a day asked
over another part of it than before is asked again. A window without a start begins 90 days back
(the default retention of CloudTrail's own event history; an Athena table may hold more:
give `--since`).

Athena counts the calls itself (one row per group of identical calls), so a batch's usage
comes from `tallied`, not from bytes; `read` refuses (there is no log file to publish from).

Options after `?`: `partition=COLUMN` (the table's partition-projection date column,
`yyyy/MM/dd`, so a day's query reads only that day), `output=s3://...` (where Athena
writes results, when the workgroup does not say) and `people=yes` (the table has AWS's current
`onbehalfof` and `sessioncontext.sourceidentity` columns: the stronger names of the person behind
a shared role; without them the person is the Identity Center session name, see docs/people.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from urllib.parse import parse_qs

from alpha.adapters.aws.athena_usage import (
    DELIVERY_SLACK,
    AthenaRunner,
    CloudTrailTable,
    athena_usage,
    make_athena_client,
)
from alpha.adapters.aws.errors import AwsSourceError
from alpha.usage.aggregate import BatchUsage
from alpha.usage.mapping import EventMapper
from alpha.usage.ports import LogBatch, TimeWindow

__all__ = ["ATHENA_SCHEME", "AthenaLocation", "AthenaUsageSource", "athena_source_for"]

ATHENA_SCHEME = "athena://"
DEFAULT_LOOKBACK = timedelta(days=90)
_DAY = timedelta(days=1)
_WORKGROUP = re.compile(r"[A-Za-z0-9._-]{1,128}")
_OPTIONS = frozenset({"partition", "output", "people"})


@dataclass(frozen=True, slots=True)
class AthenaLocation:
    workgroup: str
    table: CloudTrailTable
    output: str | None = None

    @classmethod
    def parse(cls, url: str) -> AthenaLocation:
        """`athena://WORKGROUP/DATABASE.TABLE[?partition=COLUMN&output=s3://...]`; the error
        names the URL."""
        usage = "expected athena://WORKGROUP/DATABASE.TABLE"
        if not url.startswith(ATHENA_SCHEME):
            raise AwsSourceError(f"{url}: not an Athena URL ({usage})")
        path, _, query = url[len(ATHENA_SCHEME) :].partition("?")
        workgroup, _, name = path.partition("/")
        database, dot, table = name.strip("/").partition(".")
        if not _WORKGROUP.fullmatch(workgroup) or not dot:
            raise AwsSourceError(f"{url}: {usage}")
        options = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            known = ", ".join(sorted(_OPTIONS))
            raise AwsSourceError(f"{url}: unknown option {unknown[0]!r} ({known})")
        try:
            found = CloudTrailTable(
                database,
                table,
                options.get("partition") or None,
                person_columns=_yes(url, "people", options.get("people", "no")),
            )
        except AwsSourceError as exc:
            raise AwsSourceError(f"{url}: {exc}") from exc
        return cls(workgroup, found, options.get("output") or None)

    @property
    def url(self) -> str:
        return f"{ATHENA_SCHEME}{self.workgroup}/{self.table.database}.{self.table.table}"


def athena_source_for(text: str, *, endpoint_url: str | None = None) -> AthenaUsageSource:
    location = AthenaLocation.parse(text)
    client = make_athena_client(endpoint_url=endpoint_url)
    runner = AthenaRunner(client, workgroup=location.workgroup, output_location=location.output)
    return AthenaUsageSource(runner, location)


def _yes(url: str, option: str, value: str) -> bool:
    if value not in {"yes", "no"}:
        raise AwsSourceError(f"{url}: option {option!r} takes yes or no, not {value!r}")
    return value == "yes"


def _default_mapper() -> EventMapper:
    from alpha.usage.ingest import MapperInterpreter, default_interpreter

    interpreter = default_interpreter()
    if not isinstance(interpreter, MapperInterpreter):  # pragma: no cover - ALPHA's own is
        raise AwsSourceError("Athena's groups need ALPHA's own interpretation of events")
    return interpreter.mapper


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AthenaUsageSource:
    """A `UsageSource` (and `TalliedSource`) over one CloudTrail table through Athena."""

    def __init__(
        self,
        runner: AthenaRunner,
        location: AthenaLocation,
        *,
        mapper: Callable[[], EventMapper] = _default_mapper,
        clock: Callable[[], datetime] = _utc_now,
        lookback: timedelta = DEFAULT_LOOKBACK,
    ) -> None:
        self._runner = runner
        self._location = location
        self._make_mapper = mapper
        self._clock = clock
        self._lookback = lookback

    @property
    def name(self) -> str:
        return self._location.url

    @cached_property
    def _mapper(self) -> EventMapper:
        return self._make_mapper()

    def batches(self, window: TimeWindow) -> Iterator[LogBatch]:
        now = self._clock()
        start = window.since if window.since is not None else now - self._lookback
        end = min(window.until, now) if window.until is not None else now
        day = datetime(start.year, start.month, start.day, tzinfo=UTC)
        while day < end:
            since, until = max(day, start), min(day + _DAY, end)
            version = f"{_iso(since)}/{_iso(until)}"
            if until + DELIVERY_SLACK > now:
                version += f" asked {_iso(now)}"  # its logs may still be arriving
            yield LogBatch(f"{self.name}/{day:%Y-%m-%d}", 0, version)
            day += _DAY

    def tallied(self, batch: LogBatch) -> BatchUsage:
        window = _slice_of(batch)
        return athena_usage(self._runner, self._location.table, window, self._mapper)

    def read(self, batch: LogBatch) -> bytes:
        raise AwsSourceError(
            f"{batch.key}: Athena gives counted usage, not log files (publish from the "
            "trail's S3 bucket instead)"
        )


def _slice_of(batch: LogBatch) -> TimeWindow:
    since, _, until = batch.version.split(" ", 1)[0].partition("/")
    return TimeWindow(_parse(since), _parse(until))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
