"""The `MetricLog` port: the in-memory fake and the embedded-metric-format log, through the
same cases. The EMF lines are parsed back as CloudWatch reads them: `_aws.CloudWatchMetrics`
names each metric, its value is the member of that name, the rest are properties."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.local.emf_log import EmfLog, emf_log_beside
from alpha.rollout.metric_ports import MetricLog, WorkflowEvent, WorkflowMeasure
from tests.fakes.memory_metrics import MemoryMetricLog

AT = datetime(2023, 7, 10, 12, 30, 15, 250000, tzinfo=UTC)
Read = tuple[datetime, dict[str, tuple[float, str]], dict[str, str]]


@dataclass
class Rig:
    log: MetricLog
    read: Callable[[], list[Read]]


def parse_emf(text: str) -> list[Read]:
    found = []
    for line in text.splitlines():
        document: dict[str, Any] = json.loads(line)
        meta = document.pop("_aws")
        [directive] = meta["CloudWatchMetrics"]
        assert directive["Namespace"] == "ALPHA/IAM"
        assert directive["Dimensions"] == [[]]
        names = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
        metrics = {name: (document.pop(name), unit) for name, unit in names.items()}
        moment = datetime.fromtimestamp(meta["Timestamp"] / 1000, UTC)
        found.append((moment, metrics, document))
    return found


def read_memory(log: MemoryMetricLog) -> list[Read]:
    return [
        (e.at, {m.name: (m.value, m.unit) for m in e.measures}, dict(e.properties))
        for e in log.events
    ]


@pytest.fixture(params=["memory", "emf"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    if request.param == "memory":
        memory = MemoryMetricLog()
        yield Rig(memory, lambda: read_memory(memory))
        return
    stream = io.StringIO()
    yield Rig(EmfLog(stream), lambda: parse_emf(stream.getvalue()))


EVENT = WorkflowEvent(
    AT,
    (WorkflowMeasure("ApprovalTime", 5400.0, "Seconds"),),
    (("proposal", "3f2a"), ("principal", "arn:aws:iam::123456789012:role/orders-api")),
)


def test_an_event_reads_back_as_its_metrics_and_properties(rig: Rig) -> None:
    rig.log.emit(EVENT)
    [(moment, metrics, properties)] = rig.read()
    assert moment == AT.replace(microsecond=250000)
    assert metrics == {"ApprovalTime": (5400.0, "Seconds")}
    assert properties == {
        "proposal": "3f2a",
        "principal": "arn:aws:iam::123456789012:role/orders-api",
    }


def test_several_metrics_in_one_event_and_events_in_order(rig: Rig) -> None:
    second = WorkflowEvent(
        AT,
        (
            WorkflowMeasure("GenerationSuccess", 1),
            WorkflowMeasure("PrivilegeReduction", 62.5, "Percent"),
        ),
    )
    rig.log.emit(EVENT)
    rig.log.emit(second)
    found = rig.read()
    assert [sorted(m) for _, m, _ in found] == [
        ["ApprovalTime"],
        ["GenerationSuccess", "PrivilegeReduction"],
    ]
    assert found[1][1]["PrivilegeReduction"] == (62.5, "Percent")


def test_emf_lines_go_beside_the_store(tmp_path: Path) -> None:
    with emf_log_beside(tmp_path / "alpha.db") as log:
        log.emit(EVENT)
    with emf_log_beside(tmp_path / "alpha.db") as log:
        log.emit(EVENT)
    assert len(parse_emf((tmp_path / "metrics.jsonl").read_text())) == 2


def test_a_property_never_hides_a_metric() -> None:
    stream = io.StringIO()
    clash = WorkflowEvent(
        AT, (WorkflowMeasure("RolloutFailure", 1),), (("RolloutFailure", "x"), ("_aws", "y"))
    )
    EmfLog(stream).emit(clash)
    [(_, metrics, properties)] = parse_emf(stream.getvalue())
    assert metrics == {"RolloutFailure": (1, "None")}
    assert properties == {}


def test_a_closed_stream_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    stream.close()
    EmfLog(stream).emit(EVENT)
    assert "could not write a workflow metric" in caplog.text
