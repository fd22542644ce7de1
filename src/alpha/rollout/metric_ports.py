"""The ports ALPHA's metrics leave through: `MetricSink` (data points into a metrics service,
CloudWatch's `PutMetricData`), `DeliveryLedger` (which CloudTrail deliveries were published, so
none is published twice) and `MetricLog` (the workflow's metrics as log lines that the metrics
service turns into metrics: CloudWatch's embedded metric format).

Every value here is plain data; what a metric means is decided in `alpha.app.monitoring`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = [
    "NAMESPACE",
    "DeliveryLedger",
    "MetricDatum",
    "MetricLog",
    "MetricSink",
    "PublishedDelivery",
    "WorkflowEvent",
    "WorkflowMeasure",
]

NAMESPACE = "ALPHA/IAM"


@dataclass(frozen=True, slots=True)
class MetricDatum:
    """One data point. `dimensions` are (name, value) pairs; `unit` a CloudWatch unit name
    (`Count`, `Percent`, `Seconds`, `None`)."""

    name: str
    value: float
    timestamp: datetime
    dimensions: tuple[tuple[str, str], ...] = ()
    unit: str = "Count"


class MetricSink(Protocol):
    def put(self, namespace: str, data: Sequence[MetricDatum]) -> None:
        """Publish every data point, in order (a later one is never visible before an earlier
        one was accepted); an error when any could not be published."""
        ...


@dataclass(frozen=True, slots=True)
class PublishedDelivery:
    """A delivery (a log batch: key and version) whose metrics were published, and when."""

    key: str
    version: str
    published_at: datetime


class DeliveryLedger(Protocol):
    def versions(self, keys: Collection[str]) -> dict[str, str]:
        """The published version of each of these keys that was published before."""
        ...

    def record(self, deliveries: Sequence[PublishedDelivery]) -> None:
        """Remember these as published (replacing earlier versions of their keys)."""
        ...

    def keys(self) -> list[str]:
        """Every key published, in key order."""
        ...


@dataclass(frozen=True, slots=True)
class WorkflowMeasure:
    name: str
    value: float
    unit: str = "None"


@dataclass(frozen=True, slots=True)
class WorkflowEvent:
    """Something the workflow did, with what it measured (`measures`, the metrics) and what it
    concerns (`properties`: proposal, principal, stage; searchable, never metric dimensions)."""

    at: datetime
    measures: tuple[WorkflowMeasure, ...]
    properties: tuple[tuple[str, str], ...] = ()


class MetricLog(Protocol):
    def emit(self, event: WorkflowEvent) -> None:
        """Write the event where the metrics service reads logs; never raises for a full
        disk or a closed stream (a metric is not worth a failed approval): it logs instead."""
        ...
