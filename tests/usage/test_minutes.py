"""`tally_minutes` and `tally_delivery`: a delivery's calls per principal and minute, counted
as the ingest counts them, over the real trail."""

from __future__ import annotations

import json
from collections import defaultdict

from alpha.usage.aggregate import usage_rows
from alpha.usage.ingest import default_interpreter
from alpha.usage.mapping import EventMapper
from alpha.usage.minutes import tally_delivery, tally_minutes
from tests.adapters.aws.samples import invictus_files, records_of


def test_minutes_add_up_to_the_ingests_rows_per_principal() -> None:
    for path in invictus_files()[:12]:
        data = path.read_bytes()
        hourly, minutes = tally_delivery(path.name, data, default_interpreter)
        assert hourly is not None
        by_principal: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for row in usage_rows(hourly.hourly()):
            by_principal[row.principal][0] += row.count + row.denied
            by_principal[row.principal][1] += row.denied
        from_minutes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for minute in minutes.minutes:
            from_minutes[minute.principal][0] += minute.calls
            from_minutes[minute.principal][1] += minute.denied
        assert from_minutes == by_principal, path.name
        rows = usage_rows(hourly.hourly())
        assert minutes.latest == max((r.last_seen for r in rows), default=None)


def test_each_call_falls_in_the_minute_it_was_made(mapper: EventMapper) -> None:
    path = invictus_files()[0]
    records = records_of(path)
    minutes = tally_minutes(path.name, path.read_bytes(), mapper)
    assert all(m.minute.second == 0 for m in minutes.minutes)
    for minute in minutes.minutes:
        made = [
            r
            for r in records
            if r["eventTime"].startswith(minute.minute.strftime("%Y-%m-%dT%H:%M"))
        ]
        assert made, minute
    assert minutes.unread == 0
    assert minutes.readable


def test_the_error_rate_is_denied_calls_per_call(mapper: EventMapper) -> None:
    denied = [
        m
        for p in invictus_files()
        for m in tally_minutes(p.name, p.read_bytes(), mapper).minutes
        if m.denied
    ]
    assert denied
    assert all(m.error_rate == m.denied / m.calls for m in denied)


def test_what_cannot_be_read_is_counted(mapper: EventMapper) -> None:
    records = [*records_of(invictus_files()[0]), {"eventTime": 5}, "not a record"]
    minutes = tally_minutes("f.json", json.dumps({"Records": records}).encode(), mapper)
    assert minutes.unread == 2
    broken = tally_minutes("g.json", b"\x1f\x8b not gzip", mapper)
    assert not broken.readable
    assert broken.minutes == ()
    assert broken.latest is None
    empty = tally_minutes("h.json", b'{"Records": []}', mapper)
    assert empty.readable
    assert empty.latest is None
