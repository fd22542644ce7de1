"""`MetricLog` as CloudWatch embedded metric format (EMF): one JSON object per line, which
CloudWatch Logs turns into metrics when the line reaches a log group (in Lambda, anything
written to stdout does). Locally the lines go to `metrics.jsonl` beside the store, where
they can be read, or shipped by the CloudWatch agent.

    {"_aws": {"Timestamp": 1689000000000, "CloudWatchMetrics": [{"Namespace": "ALPHA/IAM",
      "Dimensions": [[]], "Metrics": [{"Name": "ApprovalTime", "Unit": "Seconds"}]}]},
     "ApprovalTime": 5400.0, "proposal": "3f2a...", "principal": "arn:aws:iam::..."}

The metrics have no dimension (`[[]]`): a dimension per proposal or principal would make a
custom metric each. What an event concerns goes in as plain members, which Logs Insights
searches.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from alpha.rollout.metric_ports import NAMESPACE, WorkflowEvent

__all__ = ["EmfLog", "emf_document", "emf_log_beside"]

log = logging.getLogger(__name__)
METRICS_LOG = "metrics.jsonl"


def emf_document(event: WorkflowEvent, namespace: str = NAMESPACE) -> dict[str, Any]:
    """The event as one EMF object. Properties never overwrite the metrics or `_aws`."""
    document: dict[str, Any] = {
        name: value
        for name, value in event.properties
        if name != "_aws" and name not in {m.name for m in event.measures}
    }
    document["_aws"] = {
        "Timestamp": int(event.at.timestamp() * 1000),
        "CloudWatchMetrics": [
            {
                "Namespace": namespace,
                "Dimensions": [[]],
                "Metrics": [{"Name": m.name, "Unit": m.unit} for m in event.measures],
            }
        ],
    }
    document.update({m.name: m.value for m in event.measures})
    return document


class EmfLog:
    """Writes each event as one EMF line to `stream`, flushed at once."""

    def __init__(self, stream: TextIO, namespace: str = NAMESPACE) -> None:
        self._stream = stream
        self._namespace = namespace

    def emit(self, event: WorkflowEvent) -> None:
        line = json.dumps(emf_document(event, self._namespace), separators=(",", ":"))
        try:
            self._stream.write(line + "\n")
            self._stream.flush()
        except (OSError, ValueError) as exc:  # a full disk, a closed stream
            log.warning("could not write a workflow metric: %s", exc)


@contextmanager
def emf_log_beside(store_path: Path) -> Iterator[EmfLog]:
    """An `EmfLog` appending to `metrics.jsonl` in the store's folder while the block runs."""
    with (store_path.parent / METRICS_LOG).open("a", encoding="utf-8") as stream:
        yield EmfLog(stream)
