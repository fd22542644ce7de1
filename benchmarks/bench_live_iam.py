"""Benchmark: live IAM, in IAM calls (what AWS throttles and CloudTrail records) and in time
against moto in server mode (local HTTP: the times say what ALPHA itself costs, not AWS).

1. The live read: ROLES roles (each with a trust policy, one inline policy, one attached
   customer-managed policy of 50) read with `GetAccountAuthorizationDetails` into a snapshot:
   wall time, requests (moto answers in one page; AWS pages by 1,000 entities at most).
2. One rollout of one role through every stage, and its rollback, on the boto3 changer: the
   IAM requests of each, split into reads and writes, counted through botocore's event hooks.

Run: .venv/bin/python benchmarks/bench_live_iam.py [--roles 2000]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"
T0 = datetime(2024, 5, 1, tzinfo=UTC)
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
WIDE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sqs:*"], "Resource": "*"}],
}
PROPOSED = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}],
}
WRITES = ("Put", "Delete", "Attach", "Detach", "Create", "Set", "Add", "Remove")


@dataclass
class QuietMonitor:
    """The role's calls: allowed, logs covering every bake."""

    def error_rate(self, principal: str, since: datetime, until: datetime) -> Any:
        from alpha.rollout.iam_ports import ErrorRate

        return ErrorRate(10, 0, T0 + timedelta(days=30))

    def calls(self, principal: str, since: datetime, until: datetime) -> list[Any]:
        from alpha.rollout.iam_ports import MonitoredCall

        return [MonitoredCall("s3:GetObject", "arn:aws:s3:::data/a", "eu-west-1", 5)]

    def covered_until(self) -> datetime:
        return T0 + timedelta(days=30)


class Requests:
    def __init__(self, client: Any) -> None:
        self.counts: Counter[str] = Counter()
        client.meta.events.register("before-call.iam.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.counts[model.name] += 1

    def take(self) -> tuple[int, int, dict[str, int]]:
        counts, self.counts = dict(self.counts), Counter()
        writes = sum(n for op, n in counts.items() if op.startswith(WRITES))
        return sum(counts.values()) - writes, writes, counts


def report(what: str, requests: Requests, started: float, state: str) -> None:
    reads, writes, counts = requests.take()
    seconds = time.perf_counter() - started
    written = sorted(op for op in counts if op.startswith(WRITES))
    print(f"{what:>10}: {reads:3d} reads, {writes:2d} writes, {seconds:.2f} s {state} {written}")


def make_account(client: Any, roles: int) -> None:
    arns = [
        client.create_policy(PolicyName=f"shared-{i}", PolicyDocument=json.dumps(WIDE))["Policy"][
            "Arn"
        ]
        for i in range(50)
    ]
    for i in range(roles):
        name = f"role-{i:05d}"
        client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
        client.put_role_policy(
            RoleName=name, PolicyName="old-inline", PolicyDocument=json.dumps(WIDE)
        )
        client.attach_role_policy(RoleName=name, PolicyArn=arns[i % 50])


def rollout(client: Any, folder: Path) -> None:
    from alpha.adapters.aws.iam_changer import LiveIam
    from alpha.adapters.local.sqlite_store import SQLiteStore
    from alpha.rollout.engine import RolloutEngine, RolloutSettings
    from alpha.rollout.stages import StageSettings
    from alpha.store.model import Approval, ProposalState, Stage, StoredProposal

    principal = f"arn:aws:iam::{ACCOUNT}:role/role-00000"
    iam = LiveIam(client, ACCOUNT)
    plan = {
        "steps": [
            {"action": "delete", "kind": "inline", "name": "old-inline"},
            {
                "action": "detach",
                "kind": "managed",
                "name": "shared-0",
                "arn": f"arn:aws:iam::{ACCOUNT}:policy/shared-0",
            },
            {"action": "attach", "kind": "inline", "name": "alpha-least-privilege"},
        ],
        "baseline": {principal: iam.principal_state(principal)},
    }
    document = {
        "principal": principal,
        "proposed_policy": PROPOSED,
        "diff": {"removed_actions": ["s3:PutObject"]},
    }
    made = StoredProposal.create(
        principal=principal, document=document, plan=plan, created_by="dana", created_at=T0
    )
    store = SQLiteStore(folder / "alpha.db")
    store.save_proposal(made)
    store.record_approval(Approval(made.id, T0, True, "sam"))
    store.set_state(made.id, ProposalState.APPROVED, ProposalState.PROPOSED)
    settings = RolloutSettings(stages=StageSettings(bake=timedelta(hours=1)))
    engine = RolloutEngine(store, iam, QuietMonitor(), lambda: T0, settings)
    requests = Requests(client)
    for stage in (Stage.SANDBOX, Stage.CANARY, Stage.PRODUCTION):
        started = time.perf_counter()
        state = engine.run(made.id, stage).state.value
        report(stage.value, requests, started, f"({state})")
    started = time.perf_counter()
    engine.rollback(made.id, "sam")
    report("rollback", requests, started, "")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=2_000)
    args = parser.parse_args()
    os.environ.update(
        MOTO_ACCOUNT_ID=ACCOUNT, MOTO_IAM_LOAD_MANAGED_POLICIES="false", AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/nonexistent",
    )  # fmt: skip
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.server import ThreadedMotoServer

    from alpha.adapters.aws.clients import make_client
    from alpha.adapters.aws.iam_account import LiveAccount

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = make_client("iam", endpoint_url=f"http://{host}:{port}")
        started = time.perf_counter()
        make_account(client, args.roles)
        print(f"made {args.roles} roles in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        requests = Requests(client)
        started = time.perf_counter()
        snapshot = LiveAccount(client).snapshot()
        reads, _, _ = requests.take()
        print(
            f"live read: {len(snapshot.roles)} roles, {len(snapshot.policies)} policies, "
            f"{reads} request(s), {time.perf_counter() - started:.2f} s"
        )
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            rollout(client, Path(folder))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
