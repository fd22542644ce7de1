"""The real state machine definition, run: moto in server mode executes it (Distributed Map,
Lambda tasks, the `.waitForTaskToken` approval), its Lambda invocations call the real
handlers in-process (moto's Lambda runs no code without Docker), and the approval is sent by
the command line's `alpha approve` / `alpha reject` as SendTaskSuccess / SendTaskFailure.
The store and IAM are the local adapters (SQLite, the store's working copy of the account)."""

from __future__ import annotations

import importlib
import io
import json
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.aws.clients import make_client
from alpha.adapters.local.sqlite_store import SQLiteStore
from alpha.app.approval_requests import pending_request
from alpha.demo.sample import ROLLOUT_AT, SamplePaths, write_sample
from alpha.lambdas.handlers import HANDLERS
from alpha.rollout.asl import FUNCTIONS, to_asl
from alpha.store.model import ProposalState, Stage
from tests.cli.helpers import run_cli
from tests.lambdas.conftest import LambdaContext, function_env
from tests.wire.moto_executing import executing_moto

pytestmark = pytest.mark.slow

ROLE = "arn:aws:iam::111122223333:role/{}"
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


def _run_handler(self: Any, event: Any, *_: Any, **__: Any) -> tuple[str, bool, str]:
    """moto's Lambda invoking the function's handler in this process, as Lambda would."""
    module, _, name = self.handler.rpartition(".")
    payload = json.loads(event) if isinstance(event, str) else event
    try:
        answer = getattr(importlib.import_module(module), name)(payload, LambdaContext())
    except Exception as exc:  # Lambda reports any error as the function's error
        return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}), True, ""
    return json.dumps(answer), False, ""


@dataclass
class Deployed:
    sfn: Any
    machine: str
    store: Path
    sample: SamplePaths


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory, aws_env: None) -> Iterator[Deployed]:
    from moto.awslambda.models import LambdaFunction

    folder = tmp_path_factory.mktemp("e2e")
    sample = write_sample(folder)
    with pytest.MonkeyPatch.context() as patch, executing_moto(patch) as endpoint:
        patch.setattr(LambdaFunction, "_invoke_lambda", _run_handler)

        def client(service: str) -> Any:
            return make_client(service, region="us-east-1", endpoint_url=endpoint)

        client("dynamodb").create_table(
            TableName="alpha-idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        store = folder / "alpha.db"
        started = ROLLOUT_AT - timedelta(hours=2)
        for name, value in function_env(folder, sample, "alpha-idempotency", started).items():
            patch.setenv(name, value)
        patch.setenv("AWS_ENDPOINT_URL", endpoint)  # the approve command's Step Functions too
        patch.delenv("ALPHA_CONFIG", raising=False)
        role = client("iam").create_role(
            RoleName="alpha-functions",
            Path="/alpha-self/",
            AssumeRolePolicyDocument=json.dumps(TRUST),
        )["Role"]["Arn"]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as written:
            written.writestr("README", "the handlers are ALPHA's, imported in-process")
        arns = {
            name: client("lambda").create_function(
                FunctionName=f"alpha-{name}",
                Runtime="python3.11",
                Role=role,
                Handler=HANDLERS[name],
                Code={"ZipFile": archive.getvalue()},
            )["FunctionArn"]
            for name in FUNCTIONS
        }
        sfn = client("stepfunctions")
        machine = sfn.create_state_machine(
            name="alpha-workflow", definition=json.dumps(to_asl(arns)), roleArn=role
        )["stateMachineArn"]
        yield Deployed(sfn, machine, store, sample)


def _poll(read: Any, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = read()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError("timed out")


def _store_read(store: Path, read: Any) -> Any:
    opened = SQLiteStore(store)
    try:
        return read(opened)
    finally:
        opened.close()


def _waiting_proposal(deployed: Deployed, principal: str) -> str:
    """The proposal for `principal` once its execution waits for the decision."""

    def waiting(store: SQLiteStore) -> str | None:
        found = [p for p in store.proposals() if p.principal == principal]
        return found[0].id if found and pending_request(store, found[0].id) else None

    return str(_poll(lambda: _store_read(deployed.store, waiting)))


def _run(deployed: Deployed, name: str, role: str) -> tuple[str, str]:
    execution = deployed.sfn.start_execution(
        stateMachineArn=deployed.machine,
        name=name,
        input=json.dumps({"by": "dana", "principals": [ROLE.format(role)]}),
    )["executionArn"]
    return execution, _waiting_proposal(deployed, ROLE.format(role))


def _ended(deployed: Deployed, execution: str) -> str:
    def status() -> str | None:
        found = deployed.sfn.describe_execution(executionArn=execution)["status"]
        return None if found == "RUNNING" else str(found)

    return str(_poll(status))


def _role(account: Any, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in account["RoleDetailList"] if r["RoleName"] == name)
    return found


def test_an_approved_execution_rolls_out_to_success(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    execution, proposal = _run(deployed, "approved", "orders-api")
    code, out, err = run_cli(["approve", proposal[:12], "--by", "sam", "--format", "json"], capsys)
    assert code == 0, err
    # (the executions' JSON logs run on meanwhile, on the same stdout)
    own = [line for line in out.splitlines() if not line.startswith(('{"level"', '{"_aws"'))]
    decision = json.loads("\n".join(own))
    assert decision["answered_execution"].startswith(
        "arn:aws:states:us-east-1:123456789012:execution:alpha-workflow"
    )
    assert _ended(deployed, execution) == "SUCCEEDED"
    state = _store_read(deployed.store, lambda s: s.proposal_state(proposal))
    assert state is ProposalState.SUCCEEDED
    # IAM (the store's working copy of the account) now has the proposal's policy on the role.
    copy = _store_read(deployed.store, lambda s: s.account_copy("account-111122223333"))
    before = json.loads(deployed.sample.account.read_text())
    assert _role(copy, "orders-api") != _role(before, "orders-api")
    policy = _store_read(deployed.store, lambda s: s.proposal(proposal)).proposed_policy
    statements = json.dumps(policy["Statement"], sort_keys=True)
    assert statements in json.dumps(_role(copy, "orders-api"), sort_keys=True)


def test_a_rejected_execution_ends_in_rejected(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    execution, proposal = _run(deployed, "rejected", "report-builder")
    code, out, err = run_cli(["reject", proposal[:12], "--by", "sam", "--comment", "no"], capsys)
    assert code == 0, err
    assert f"answered the waiting execution {execution}" in out
    assert _ended(deployed, execution) == "SUCCEEDED"  # the parent tolerates a child's end
    audit = _store_read(deployed.store, lambda s: [e.action for e in s.audit(proposal)])
    assert audit[-1] == "approval.answered"
    assert (
        _store_read(deployed.store, lambda s: s.proposal_state(proposal)) is ProposalState.REJECTED
    )


def _stage_state(deployed: Deployed, proposal: str, stage: Stage) -> str | None:
    record = _store_read(deployed.store, lambda s: s.stage(proposal, stage))
    return None if record is None else str(record.state.value)


def test_an_execution_whose_canary_fails_rolls_back(
    deployed: Deployed,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The sandbox bakes (the logs do not reach its end yet) in the definition's Wait loop;
    meanwhile the clock passes the approval's expiry, so the canary may not start: the engine
    fails it and restores the role, Canary answers `failed`, Rollback confirms `restored`."""
    deployed = replace(deployed, store=tmp_path / "alpha.db")  # a store of its own
    monkeypatch.setenv("ALPHA_STORE", str(deployed.store))
    config = tmp_path / "alpha.toml"
    config.write_text('[rollout]\npoll_interval = "1s"\n')
    monkeypatch.setenv("ALPHA_CONFIG", str(config))
    monkeypatch.setenv("ALPHA_NOW", ROLLOUT_AT.isoformat())  # the observed logs end before
    monkeypatch.setenv("ALPHA_BAKE", "1s")
    execution, proposal = _run(deployed, "rolled-back", "orders-api")
    assert run_cli(["approve", proposal[:12], "--by", "sam"], capsys)[0] == 0
    _poll(lambda: _stage_state(deployed, proposal, Stage.SANDBOX) == "baking")
    monkeypatch.setenv("ALPHA_NOW", (ROLLOUT_AT + timedelta(days=8)).isoformat())
    monkeypatch.setenv("ALPHA_LOGS", f"{deployed.sample.observed},{deployed.sample.bake}")
    assert _ended(deployed, execution) == "SUCCEEDED"  # the parent tolerates a child's end
    state = _store_read(deployed.store, lambda s: s.proposal_state(proposal))
    assert state is ProposalState.ROLLED_BACK
    copy = _store_read(deployed.store, lambda s: s.account_copy("account-111122223333"))
    before = json.loads(deployed.sample.account.read_text())
    assert _role(copy, "orders-api") == _role(before, "orders-api")  # restored exactly
    # The execution went through the definition's Rollback task (its handler's log says so).
    answers = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith('{"level"') and '"step answered"' in line
    ]
    steps = [(a["step"], a["answer"]["event"]) for a in answers if a["correlation_id"] == execution]
    assert ("Sandbox", "baking") in steps
    assert steps[-2:] == [("Canary", "failed"), ("Rollback", "restored")]
