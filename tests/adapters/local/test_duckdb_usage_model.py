"""The DuckDB store against the pure fold (`usage_rows`): whatever rows are saved, in however
many saves, a report over any batches, principal and window is what folding the selected
hourly rows in Python gives, and its JSON documents are those rows encoded."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
from alpha.usage.aggregate import (
    SECONDS_PER_HOUR,
    BatchUsage,
    HourlyUsage,
    StoredBatch,
    UsageQuery,
    usage_rows,
)
from alpha.usage.ports import TimeWindow

HOUR = 475_000
# Few names, so rows share them across batches and saves; some sort differently as text than
# in the order they are first saved, one is also an action, and some need JSON escapes.
NAMES = ("b", "B", "a", "é", "s3:GetObject", 'x "y"\n', "")
KEYS = ("k0", "k1", "k2", "k3")

hourly_rows = st.builds(
    HourlyUsage,
    principal=st.sampled_from(NAMES[:4]),
    session=st.none() | st.sampled_from(NAMES),
    action=st.sampled_from(NAMES[2:]),
    resource=st.sampled_from(NAMES),
    hour=st.integers(HOUR, HOUR + 72),
    used=st.integers(0, 3),  # 0: denied calls only
    denied=st.integers(0, 2),
    first_seen=st.integers(HOUR * SECONDS_PER_HOUR, (HOUR + 73) * SECONDS_PER_HOUR),
    last_seen=st.integers(HOUR * SECONDS_PER_HOUR, (HOUR + 73) * SECONDS_PER_HOUR),
    region=st.none() | st.sampled_from(("us-east-1", "eu-west-1", "é", "")),
)
batch_rows = st.dictionaries(
    st.sampled_from(KEYS), st.lists(hourly_rows, min_size=2, max_size=12), min_size=1
)
minutes = st.integers(0, 80 * 60)


def moment(minute: int) -> datetime:
    return datetime.fromtimestamp(HOUR * SECONDS_PER_HOUR + minute * 60, UTC)


@st.composite
def windows(draw: st.DrawFn) -> TimeWindow:
    """Open, or open at one end, or closed (`since` before `until`)."""
    ends = draw(st.sampled_from(("neither", "since", "until", "both")))
    since = draw(minutes) if ends in ("since", "both") else None
    until = (since or 0) + draw(st.integers(1, 80 * 60)) if ends in ("until", "both") else None
    return TimeWindow(
        None if since is None else moment(since), None if until is None else moment(until)
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, list[HourlyUsage]], UsageQuery]:
    """Saved batches, and a query over some of them (and perhaps a key never saved)."""
    saved = draw(batch_rows)
    keys = st.sampled_from([*saved, "never-saved"])
    return saved, UsageQuery(
        keys=tuple(draw(st.lists(keys, min_size=1, unique=True))),
        principal=draw(st.none() | st.sampled_from(NAMES[:4])),
        window=draw(windows()),
    )


def expected_days(rows: list[HourlyUsage]) -> dict[str, dict[str, int]]:
    days: dict[str, dict[str, set[int]]] = {}
    for row in rows:
        if row.used > 0:
            days.setdefault(row.principal, {}).setdefault(row.action, set()).add(row.hour // 24)
    return {p: {a: len(d) for a, d in actions.items()} for p, actions in days.items()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), split=st.integers(0, 4))
def test_a_report_is_the_fold_of_the_selected_rows(
    case: tuple[dict[str, list[HourlyUsage]], UsageQuery], split: int
) -> None:
    saved, query = case
    batches = [StoredBatch(key, "1", 1, BatchUsage.of(1, rows)) for key, rows in saved.items()]
    selected = [row for key in query.keys for row in saved.get(key, []) if query.selects(row)]
    with (
        tempfile.TemporaryDirectory() as folder,
        DuckDBUsageStore(Path(folder) / "u.duckdb") as store,
    ):
        store.save(batches[:split])  # names met in an earlier save are reused
        store.save(batches[split:])
        rows = store.usage(query)
        documents = [d for part in store.usage_documents(query) for d in part]
        days = store.active_days(query)
    assert rows == usage_rows(selected)
    assert documents == [msgspec.json.encode(row).decode() for row in rows]
    assert days == expected_days(selected)
