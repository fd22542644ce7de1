from __future__ import annotations

from datetime import UTC, datetime

from alpha.usage.aggregate import BatchTally, HourlyUsage, UsageQuery, usage_rows
from alpha.usage.interpret import ActionUse, EventUsage, IgnoredEvent, SkippedEvent, UnmappedEvent
from alpha.usage.ports import TimeWindow

ROLE = "arn:aws:iam::111122223333:role/app"


def used(at: str, *, denied: bool = False, session: str | None = None) -> EventUsage:
    return EventUsage(
        principal=ROLE,
        session=session,
        time=datetime.fromisoformat(at),
        region="eu-west-1",
        source_ip=None,
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
        UnmappedEvent("x.amazonaws.com", "Do", ROLE, datetime(2024, 3, 10, tzinfo=UTC)),
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
    assert batch.row_count == len(hourly) == 4
    noon = int(datetime(2024, 3, 10, 12, tzinfo=UTC).timestamp())
    get_noon = next(r for r in hourly if r.action == "s3:GetObject" and r.session is None)
    assert get_noon == HourlyUsage(
        ROLE, None, "s3:GetObject", "arn:aws:s3:::b/k", noon // 3600, 2, 1, noon + 300, noon + 3000
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
