from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from alpha.usage.aggregate import (
    MAX_SOURCE_IPS,
    BatchUsage,
    HourlyUsage,
    SourceIpCount,
    SourceIps,
    UsageQuery,
    source_ips_of,
    usage_rows,
)
from alpha.usage.interpret import ActionUse, EventUsage, IgnoredEvent, SkippedEvent, UnmappedEvent
from alpha.usage.ports import TimeWindow
from alpha.usage.tally import BatchTally

ROLE = "arn:aws:iam::111122223333:role/app"


def used(
    at: str,
    *,
    denied: bool = False,
    session: str | None = None,
    region: str | None = "eu-west-1",
    source_ip: str | None = None,
) -> EventUsage:
    return EventUsage(
        principal=ROLE,
        session=session,
        time=datetime.fromisoformat(at),
        region=region,
        source_ip=source_ip,
        denied=denied,
        error_code="AccessDenied" if denied else None,
        via_service=None,
        uses=(ActionUse("s3:GetObject", "arn:aws:s3:::b/k"), ActionUse("kms:Decrypt", "*")),
    )


def test_a_batch_tallies_per_hour_and_keeps_denials_apart() -> None:
    tally = BatchTally()
    for outcome in (
        used("2024-03-10T12:10:00+00:00"),
        used("2024-03-10T12:50:00+00:00", denied=True),
        used("2024-03-10T12:05:00+00:00"),
        used("2024-03-10T13:00:00+00:00", session="alice"),
        IgnoredEvent("sign-in", "signin.amazonaws.com", "ConsoleLogin"),
        UnmappedEvent(
            "x.amazonaws.com",
            "Do",
            msgspec.structs.replace(
                used("2024-03-10T12:20:00+00:00"),
                uses=(ActionUse("unmapped:x.amazonaws.com/Do", "*"),),
            ),
        ),
        SkippedEvent("missing eventTime"),
    ):
        tally.add(outcome)
    batch = tally.finish()
    assert batch.events == 7
    assert batch.skipped == {"sign-in": 1, "missing eventTime": 1}
    assert [(u.event_source, u.event_name, u.count) for u in batch.unmapped] == [
        ("x.amazonaws.com", "Do", 1)
    ]
    hourly = batch.hourly()
    assert batch.row_count == len(hourly) == 5  # the unmapped call is a row of its own
    noon = int(datetime(2024, 3, 10, 12, tzinfo=UTC).timestamp())
    get_noon = next(r for r in hourly if r.action == "s3:GetObject" and r.session is None)
    assert get_noon == HourlyUsage(
        ROLE,
        None,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        noon // 3600,
        2,
        1,
        noon + 300,
        noon + 3000,
        "eu-west-1",
    )


def test_rows_fold_hours_and_sessions() -> None:
    tally = BatchTally()
    for at, session in (("2024-03-10T12:10:00+00:00", "bob"), ("2024-03-11T09:00:00+00:00", "al")):
        tally.add(used(at, session=session))
    tally.add(used("2024-03-12T09:00:00+00:00", denied=True))
    rows = usage_rows(tally.finish().hourly())
    assert [(r.action, r.count, r.denied, r.sessions) for r in rows] == [
        ("kms:Decrypt", 2, 1, ("al", "bob")),
        ("s3:GetObject", 2, 1, ("al", "bob")),
    ]
    assert rows[0].first_seen == datetime(2024, 3, 10, 12, 10, tzinfo=UTC)
    assert rows[0].last_seen == datetime(2024, 3, 12, 9, tzinfo=UTC)


def test_a_window_selects_the_hours_it_overlaps() -> None:
    window = TimeWindow(
        datetime(2024, 3, 10, 12, 30, tzinfo=UTC), datetime(2024, 3, 10, 14, 0, tzinfo=UTC)
    )
    first, last = UsageQuery((), window=window).hour_range()
    noon = int(datetime(2024, 3, 10, 12, tzinfo=UTC).timestamp()) // 3600
    assert (first, last) == (noon, noon + 2)
    assert UsageQuery(()).hour_range() == (None, None)


def test_regions_key_the_hourly_rows_and_fold_into_the_report() -> None:
    tally = BatchTally()
    tally.add(used("2024-03-10T12:10:00+00:00", region="us-east-1"))
    tally.add(used("2024-03-10T12:20:00+00:00", region="eu-west-1"))
    tally.add(used("2024-03-10T12:30:00+00:00", region="eu-west-1"))
    tally.add(used("2024-03-10T12:40:00+00:00", region=None))
    hourly = tally.finish().hourly()

    gets = sorted(
        ((r.region or "", r.used) for r in hourly if r.action == "s3:GetObject"),
    )
    assert gets == [("", 1), ("eu-west-1", 2), ("us-east-1", 1)]
    [kms, s3] = usage_rows(hourly)
    assert (s3.count, s3.regions) == (4, ("eu-west-1", "us-east-1"))
    assert kms.regions == ("eu-west-1", "us-east-1")


def test_rows_without_a_region_still_build_positionally() -> None:
    row = HourlyUsage(ROLE, None, "s3:GetObject", "*", 1, 1, 0, 0, 0)
    assert row.region is None
    [report] = usage_rows([row])
    assert report.regions == ()


def test_source_ips_keep_the_first_few_per_action_and_count_the_rest() -> None:
    tally = BatchTally()
    for n in range(MAX_SOURCE_IPS + 4):
        tally.add(used("2024-03-10T12:10:00+00:00", source_ip=f"10.0.0.{n}"))
    tally.add(used("2024-03-10T12:11:00+00:00", source_ip="10.0.0.0"))  # a kept one again
    tally.add(used("2024-03-10T12:12:00+00:00", source_ip=None))  # not recorded: overflow
    tally.add(used("2024-03-10T12:13:00+00:00", source_ip="10.9.9.9", denied=True))  # not used
    counts = tally.finish().ip_counts()

    gets = {c.source_ip: c.calls for c in counts if c.action == "s3:GetObject"}
    assert len(gets) == MAX_SOURCE_IPS + 1
    assert gets["10.0.0.0"] == 2
    assert gets[None] == 4 + 1
    assert "10.9.9.9" not in gets
    found = source_ips_of(counts, ROLE)
    assert set(found) == {"kms:Decrypt", "s3:GetObject"}
    assert found["s3:GetObject"].counts[0] == ("10.0.0.0", 2)
    assert found["s3:GetObject"].overflow == 5
    assert len(found["s3:GetObject"].ips) == MAX_SOURCE_IPS


def test_source_ips_over_batches_rank_by_calls_and_overflow_the_rest() -> None:
    rows = [SourceIpCount(ROLE, "s3:GetObject", f"10.0.{n}.1", n + 1) for n in range(20)]
    rows += [SourceIpCount(ROLE, "s3:GetObject", "10.0.0.1", 100)]
    rows += [SourceIpCount(ROLE, "s3:GetObject", None, 7)]
    rows += [SourceIpCount("arn:aws:iam::1:role/other", "s3:GetObject", "1.1.1.1", 1)]

    found = source_ips_of(rows, ROLE)["s3:GetObject"]

    assert found.counts[0] == ("10.0.0.1", 101)
    assert found.counts[1] == ("10.0.19.1", 20)
    assert len(found.counts) == MAX_SOURCE_IPS
    # the four least-used IPs (2, 3, 4, 5 calls) overflow, with the 7 unlisted calls
    assert found.overflow == 7 + 2 + 3 + 4 + 5
    assert source_ips_of(rows, "arn:nobody") == {}
    assert SourceIps((("1.1.1.1", 1),), 0).ips == ("1.1.1.1",)


def test_a_batch_lists_the_names_and_regions_of_its_rows() -> None:
    tally = BatchTally()
    for session, region in (("alice", "eu-west-1"), (None, None), ("bob", "us-east-1")):
        tally.events += 1
        tally.add(used("2024-03-10T12:00:00+00:00", session=session, region=region))
    usage = tally.finish()
    assert usage.names == tuple(sorted({ROLE, "alice", "bob", "s3:GetObject", "kms:Decrypt"}))
    assert usage.regions == ("eu-west-1", "us-east-1")
    again = BatchUsage.of(usage.events, usage.hourly())
    assert (again.names, again.regions) == (usage.names, usage.regions)
