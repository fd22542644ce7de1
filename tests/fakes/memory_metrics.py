"""The metric ports in memory: `MemoryMetricSink` (keeps every data point put, by namespace),
`MemoryDeliveryLedger` and `MemoryMetricLog` (keeps the events emitted)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from alpha.rollout.metric_ports import MetricDatum, PublishedDelivery, WorkflowEvent


@dataclass
class MemoryMetricSink:
    """`fail_after`: raise once this many points were taken (a request that failed)."""

    points: dict[str, list[MetricDatum]] = field(default_factory=dict)
    requests: int = 0
    fail_after: int | None = None

    def put(self, namespace: str, data: Sequence[MetricDatum]) -> None:
        taken = sum(len(p) for p in self.points.values())
        if self.fail_after is not None and taken + len(data) > self.fail_after:
            raise RuntimeError("the metrics service refused the request")
        self.requests += 1
        self.points.setdefault(namespace, []).extend(data)

    def named(self, name: str, namespace: str = "ALPHA/IAM") -> list[MetricDatum]:
        return [p for p in self.points.get(namespace, []) if p.name == name]


@dataclass
class MemoryDeliveryLedger:
    published: dict[str, PublishedDelivery] = field(default_factory=dict)

    def versions(self, keys: Collection[str]) -> dict[str, str]:
        return {k: self.published[k].version for k in keys if k in self.published}

    def record(self, deliveries: Sequence[PublishedDelivery]) -> None:
        for delivery in deliveries:
            self.published[delivery.key] = delivery

    def keys(self) -> list[str]:
        return sorted(self.published)


@dataclass
class MemoryMetricLog:
    events: list[WorkflowEvent] = field(default_factory=list)

    def emit(self, event: WorkflowEvent) -> None:
        self.events.append(event)
