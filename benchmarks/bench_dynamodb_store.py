"""What the DynamoDB store asks of DynamoDB for each command of the workflow: requests by
operation, and the request units they cost at on-demand pricing (counted from the items'
sizes as DynamoDB meters them), on the demo's sample (3 roles) against moto over HTTP.

    PYTHONPATH=src python benchmarks/bench_dynamodb_store.py

docs/aws/dynamodb.md multiplies these per-role figures out to a month of 500 roles.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import alpha.adapters.aws.dynamodb_clients as clients
from alpha.demo.sample import ROLLOUT_AT, write_sample

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.cli.workflow_helpers import alpha


class Meter:
    """Requests and request units, through botocore's own event hooks on every client."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.read_units = 0.0
        self.write_units = 0.0

    def attach(self, client: Any) -> None:
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, **kw: Any) -> None:
        self.calls[model.name] += 1
        params = kw.get("context", {}).get("alpha_params", {})
        if model.name in ("GetItem",):
            self.read_units += _units(_size(parsed.get("Item", {})), 4096)
        elif model.name in ("Query", "Scan"):
            total = sum(_size(item) for item in parsed.get("Items", []))
            self.read_units += max(1, _units(total, 4096))
        elif model.name == "PutItem":
            self.write_units += 1
        elif model.name == "TransactWriteItems":
            for action in params.get("TransactItems", []):
                ((_, body),) = action.items()
                self.write_units += 2 * _units(_size(body.get("Item", {})), 1024)
        elif model.name == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    item = request.get("PutRequest", {}).get("Item", {})
                    self.write_units += _units(_size(item), 1024)
        elif model.name == "DeleteItem":
            self.write_units += 1

    def keep_params(self, client: Any) -> None:
        def keep(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            context["alpha_params"] = params

        client.meta.events.register("before-parameter-build.dynamodb.*", keep)


def _size(value: Any) -> int:
    """An item's size as DynamoDB meters it, near enough: names and values' bytes."""
    if isinstance(value, dict):
        return sum(len(k) * (k not in _TAGS) + _size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_size(v) for v in value) + 3
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, str):
        return len(value.encode())
    return 1


_TAGS = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


def main() -> None:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    meter = Meter()
    made = clients.make_dynamodb_client

    def metered(**kwargs: Any) -> Any:
        client = made(**kwargs)
        meter.keep_params(client)
        meter.attach(client)
        return client

    clients.make_dynamodb_client = metered
    env = {
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ALPHA_STORE": "dynamodb://bench",
        "ALPHA_STORE_REPLAY": "true",
        "ALPHA_BAKE": "6h",
        "ALPHA_LOGS": "cloudtrail,cloudtrail-bake",
    }
    os.environ.update(env)
    with tempfile.TemporaryDirectory() as folder:
        paths = write_sample(Path(folder))
        os.chdir(folder)

        def at(hours: float) -> str:
            return (ROLLOUT_AT + timedelta(hours=hours)).isoformat()

        steps = [
            ("propose --all (3 roles)", ["propose", "--all", "--usage", "cloudtrail",
             "--account", paths.account.name, "--by", "dana", "--now", at(-2)]),
            ("proposals list", ["proposals", "list", "--format", "json", "--now", at(-1.9)]),
        ]  # fmt: skip
        report(meter, steps)
        listed = json.loads(alpha("proposals", "list", "--format", "json").out)
        found = {row["principal"].rpartition("/")[2]: row["id"] for row in listed}
        steps = [
            ("approve (1 proposal)", ["approve", found["orders-api"], "--by", "sam",
             "--now", at(-1)]),
            ("rollout --stage all (1 proposal)", ["rollout", found["orders-api"], "--stage",
             "all", "--now", at(0)]),
            ("status", ["status", "--now", at(6.5)]),
            ("rollback (1 proposal)", ["rollback", found["orders-api"], "--by", "sam",
             "--reason", "bench", "--now", at(7)]),
        ]  # fmt: skip
        report(meter, steps)
    server.stop()


def report(meter: Meter, steps: list[tuple[str, list[str]]]) -> None:
    for name, argv in steps:
        meter.calls.clear()
        meter.read_units = meter.write_units = 0.0
        ran = alpha(*argv)
        if ran.code not in (0, 1):
            raise SystemExit(f"{name}: {ran.err}")
        shown = ", ".join(f"{op} {n}" for op, n in sorted(meter.calls.items()))
        print(f"{name}: {sum(meter.calls.values())} requests, "
              f"{meter.read_units:.0f} RRU, {meter.write_units:.0f} WRU ({shown})")  # fmt: skip


if __name__ == "__main__":
    main()
