"""The application as deployed, run: moto in server mode executes the real definition
(Distributed Map, Lambda tasks, the `.waitForTaskToken` approval), its Lambda invocations call
the real handlers in-process (moto's Lambda runs no code without Docker) with the environment
the template gives every function, the store is the template's DynamoDB tables, the account is
live IAM (moto), the trail is in S3, the reasoner is Bedrock (a Converse fake speaking the
wire protocol), and the approval is sent by the command line's `alpha approve` as
SendTaskSuccess (`alpha reject`: SendTaskFailure). One execution is approved to success, one
rolled back on the AccessDenied its canary causes, one rejected, one fails on a principal
that does not exist; a CloudTrail delivery is published to `ALPHA/IAM`. IAM, the tables and
CloudWatch are checked afterwards.

Every AWS call each function made is recorded (tests/deploy/recorded_calls.py), and each
function's role in the template, evaluated by ALPHA's own evaluator, must allow every one of
them on the resources they touched, and grant no action none of them needed."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.aws.clients import make_client
from alpha.adapters.aws.dynamodb_store import DynamoDBStore
from alpha.app.approval_requests import pending_request
from alpha.lambdas.handlers import HANDLERS
from alpha.policy.evaluate import Request
from alpha.rollout.asl import FUNCTIONS, to_asl
from alpha.store.model import ProposalState
from alpha.usage.mapping import EventMapper
from tests.cli.test_live_iam import role_state
from tests.deploy.aws_world import (
    ROLES,
    SCOPE,
    SHARED,
    T0,
    TRAIL_BUCKET,
    calls,
    deliver,
    make_roles,
    make_tables,
    make_trail,
    role_arn,
)
from tests.deploy.recorded_calls import (
    ENGINE,
    Account,
    CallRecorder,
    Needed,
    needed,
    recording,
)
from tests.deploy.template_model import Resolved, load_template
from tests.fakes.cloudtrail_logs import ACCOUNT
from tests.lambdas.conftest import LambdaContext
from tests.wire.bedrock_converse import running_bedrock
from tests.wire.moto_executing import executing_moto

pytestmark = pytest.mark.slow

PREFIX = "alpha"  # the template's StorePrefix
# Calls the Lambda runtime makes for every function (its logs), not the handler.
RUNTIME = {"logs:CreateLogStream", "logs:PutLogEvents"}
# What Step Functions itself needs to run a Distributed Map's child executions (the Step
# Functions developer guide, "IAM policies for using Distributed Map states"); moto runs the
# map in-process, so these are not among the recorded calls.
TMP_VARIABLES = ("ALPHA_USAGE_STORE", "ALPHA_WORK_DIR")
DISTRIBUTED_MAP = {"states:StartExecution", "states:DescribeExecution", "states:StopExecution"}
# Calls the functions make on paths these executions do not take.
NOT_RUN_HERE = {
    "dynamodb:DeleteItem": "Powertools deletes the idempotency record of a step that raised",
    "dynamodb:BatchWriteItem": "the store keeps large values in its blobs table, in batches "
    "(adapters/aws/dynamodb_tables.py: put_now, delete_now)",
    "iam:AttachRolePolicy": "a rollback after production re-attaches the managed policies "
    "production detached (here the canary fails, before anything is detached)",
}


@dataclass
class Deployed:
    sfn: Any
    iam: Any
    dynamodb: Any
    cloudwatch: Any
    machine: str
    template: Resolved
    recorder: CallRecorder
    before: dict[str, dict[str, Any]]
    executions: dict[str, str]
    proposals: dict[str, str]


def _invoker(recorder: CallRecorder) -> Any:
    # One invocation at a time: they share this process's /tmp (the usage store), as the
    # invocations of one Lambda container do.
    container = threading.Lock()

    def run_handler(self: Any, event: Any, *_: Any, **__: Any) -> tuple[str, bool, str]:
        """moto's Lambda invoking the function's handler in this process, as Lambda would."""
        module, _, name = self.handler.rpartition(".")
        payload = json.loads(event) if isinstance(event, str) else event
        function = self.function_name.removeprefix(f"{PREFIX}-")
        try:
            with container, _in_container(recorder, function):
                answer = getattr(importlib.import_module(module), name)(payload, LambdaContext())
        except Exception as exc:  # Lambda reports any error as the function's error
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return json.dumps(error), True, ""
        return json.dumps(answer), False, ""

    return run_handler


@contextlib.contextmanager
def _in_container(recorder: CallRecorder, function: str) -> Iterator[None]:
    """`function` running in a container of its own: its own /tmp (the usage store it reads
    the trail into), as each function's containers have on Lambda."""
    tmp = Path(os.environ["ALPHA_WORK_DIR"]).parent / function
    tmp.mkdir(exist_ok=True)
    before = {name: os.environ[name] for name in TMP_VARIABLES}
    os.environ.update(
        {"ALPHA_USAGE_STORE": str(tmp / "alpha-usage.duckdb"), "ALPHA_WORK_DIR": str(tmp)}
    )
    try:
        with recorder.running(function):
            yield
    finally:
        os.environ.update(before)


def _environment(template: Resolved, folder: Path, endpoint: str) -> dict[str, str]:
    """The template's function environment; the files Lambda keeps in /tmp in `folder`."""
    return {
        **template.function_environment(),
        "ALPHA_USAGE_STORE": str(folder / "test" / "alpha-usage.duckdb"),
        "ALPHA_WORK_DIR": str(folder / "test"),
        "ALPHA_NOW": T0.isoformat(),
        "ALPHA_STORE_REPLAY": "true",  # the trail's logs are from their own time
        "AWS_ENDPOINT_URL": endpoint,
        "MOTO_ACCOUNT_ID": ACCOUNT,
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "false",
    }


def _create_functions(client: Any, role: str) -> dict[str, str]:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as written:
        written.writestr("README", "the handlers are ALPHA's, imported in-process")
    return {
        name: client("lambda").create_function(
            FunctionName=f"{PREFIX}-{name}",
            Runtime="python3.11",
            Role=role,
            Handler=HANDLERS[name],
            Code={"ZipFile": archive.getvalue()},
        )["FunctionArn"]
        for name in FUNCTIONS
    }


def _poll(read: Any, seconds: float = 180) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = read()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError("timed out")


def _waiting_proposal(store: DynamoDBStore, principal: str) -> str:
    def waiting() -> str | None:
        found = [p for p in store.proposals() if p.principal == principal]
        return found[0].id if found and pending_request(store, found[0].id) else None

    return str(_poll(waiting))


def _ended(sfn: Any, execution: str) -> str:
    def status() -> str | None:
        found = sfn.describe_execution(executionArn=execution)["status"]
        return None if found == "RUNNING" else str(found)

    return str(_poll(status))


def _start(sfn: Any, machine: str, name: str, principal: str) -> str:
    body = {"by": "dana", "principals": [principal]}
    started = sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(body))
    return str(started["executionArn"])


def _alpha(*argv: str) -> tuple[int, str]:
    """`alpha ARGV` as a user runs it: its exit code and what it printed."""
    from alpha.cli.main import main

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        try:
            main(list(argv))
            code = 0
        except SystemExit as exited:
            code = int(exited.code or 0)
    return code, printed.getvalue()


def _run_executions(sfn: Any, machine: str) -> tuple[dict[str, str], dict[str, str]]:
    executions = {
        "app": _start(sfn, machine, "approved", role_arn("app")),
        "batch": _start(sfn, machine, "rolled-back", role_arn("batch")),
        "report": _start(sfn, machine, "rejected", role_arn("report")),
    }
    store = DynamoDBStore(make_client("dynamodb"), PREFIX, create=False)
    proposals = {role: _waiting_proposal(store, role_arn(role)) for role in ROLES}
    # Once the store has its first proposal (and so its clock: the trail's replayed time).
    executions["ghost"] = _start(sfn, machine, "no-such-role", role_arn("ghost"))
    for role, proposal in proposals.items():
        decision = "reject" if role == "report" else "approve"
        code, out = _alpha(decision, proposal[:12], "--by", "sam")
        assert code == 0, out
        assert f"answered the waiting execution {executions[role]}" in out
    return executions, proposals


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory, aws_env: None) -> Iterator[Deployed]:
    from moto.awslambda.models import LambdaFunction

    folder = tmp_path_factory.mktemp("deployed")
    (folder / "test").mkdir()
    template = Resolved(load_template(), ACCOUNT)
    with (
        pytest.MonkeyPatch.context() as patch,
        running_bedrock() as bedrock,
        executing_moto(patch) as endpoint,
        recording(patch) as recorder,
    ):
        patch.setattr(LambdaFunction, "_invoke_lambda", _invoker(recorder))
        for name, value in _environment(template, folder, endpoint).items():
            patch.setenv(name, value)
        patch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock.endpoint_url)
        patch.delenv("ALPHA_CONFIG", raising=False)
        patch.chdir(folder)

        def client(service: str) -> Any:
            return make_client(service, region="us-east-1")

        make_tables(client("dynamodb"), template)
        make_roles(client("iam"))
        make_trail(client("s3"), denied_role="batch")
        before = {role: role_state(client("iam"), role) for role in ROLES}
        role = client("iam").create_role(
            RoleName="alpha-functions",  # moto neither assumes nor checks it
            Path="/alpha-self/",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        arns = _create_functions(client, role)
        sfn = client("stepfunctions")
        machine = sfn.create_state_machine(
            name=f"{PREFIX}-workflow", definition=json.dumps(to_asl(arns)), roleArn=role
        )["stateMachineArn"]
        deployed_find = _find(recorder)  # a cold container: the trail not read yet
        executions, proposals = _run_executions(sfn, machine)
        deployed = Deployed(
            sfn,
            client("iam"),
            client("dynamodb"),
            client("cloudwatch"),
            machine,
            template,
            recorder,
            before,
            executions,
            proposals,
        )
        for execution in executions.values():
            _ended(sfn, execution)
        assert deployed_find >= {role_arn(role) for role in ROLES}
        _publish(deployed)
        yield deployed


def _find(recorder: CallRecorder) -> set[str]:
    """FindPrincipals, which the executions here skip (they name their principals), as the
    schedule's execution calls it."""
    from alpha.lambdas.handlers import find_principals

    step = {"execution": "arn:x:find", "state": "FindPrincipals", "entered": T0.isoformat()}
    with _in_container(recorder, "FindPrincipals"):
        found = find_principals({"by": "alpha-schedule", "step": step}, LambdaContext())
    return set(found["principals"])


def _publish(deployed: Deployed) -> None:
    """PublishDelivery, as EventBridge's `Object Created` from the trail bucket calls it."""
    from alpha.lambdas.handlers import publish_delivery

    s3 = make_client("s3", region="us-east-1")
    hour_before = T0 - timedelta(hours=1)  # what CloudWatch takes: the last 14 days
    key = deliver(s3, hour_before, "app", calls("app", hour_before, 1))
    head = s3.head_object(Bucket=TRAIL_BUCKET, Key=key)
    detail = {
        "bucket": {"name": TRAIL_BUCKET},
        "object": {"key": key, "size": head["ContentLength"], "etag": head["ETag"].strip('"')},
    }
    event = {"detail-type": "Object Created", "source": "aws.s3", "detail": detail}
    with _in_container(deployed.recorder, "PublishDelivery"):
        answer = publish_delivery(event, LambdaContext())
    assert answer["deliveries"] == 1, answer


def _state(deployed: Deployed, role: str) -> ProposalState:
    store = DynamoDBStore(deployed.dynamodb, PREFIX, create=False)
    state = store.proposal_state(deployed.proposals[role])
    assert state is not None
    return state


def test_the_approved_execution_rolls_out_to_success(deployed: Deployed) -> None:
    assert _ended(deployed.sfn, deployed.executions["app"]) == "SUCCEEDED"
    assert _state(deployed, "app") is ProposalState.SUCCEEDED
    app = role_state(deployed.iam, "app")
    assert list(app["inline"]) == ["alpha-least-privilege"]
    assert (app["attached"], app["boundary"]) == ([], None)
    approvals = deployed.dynamodb.scan(TableName=f"{PREFIX}-approvals")["Items"]
    decided = {
        (i["proposal_id"]["S"], i["approver"]["S"], i["approved"]["BOOL"]) for i in approvals
    }
    assert decided == {(deployed.proposals[role], "sam", role != "report") for role in ROLES}


def test_the_execution_whose_canary_is_denied_rolls_back(deployed: Deployed) -> None:
    assert _ended(deployed.sfn, deployed.executions["batch"]) == "SUCCEEDED"  # tolerated
    assert _state(deployed, "batch") is ProposalState.ROLLED_BACK
    batch = role_state(deployed.iam, "batch")
    assert batch == deployed.before["batch"]  # restored exactly
    assert SHARED in batch["attached"]
    assert [c.function for c in deployed.recorder.calls].count("Rollback") > 0


def test_the_rejected_execution_changes_nothing(deployed: Deployed) -> None:
    assert _ended(deployed.sfn, deployed.executions["report"]) == "SUCCEEDED"  # tolerated
    assert _state(deployed, "report") is ProposalState.REJECTED
    assert role_state(deployed.iam, "report") == deployed.before["report"]


def test_the_execution_of_a_missing_principal_records_its_failure(deployed: Deployed) -> None:
    assert _ended(deployed.sfn, deployed.executions["ghost"]) == "SUCCEEDED"  # tolerated
    assert deployed.recorder.of("RecordFailure")


def test_a_delivery_is_published_to_the_iam_metrics(deployed: Deployed) -> None:
    metrics = deployed.cloudwatch.list_metrics(Namespace="ALPHA/IAM")["Metrics"]
    published = {(m["MetricName"], *(d["Value"] for d in m["Dimensions"])) for m in metrics}
    assert {("DeliveredUntil",), ("Calls", role_arn("app"))} <= published, published


# -- Each function's role allows exactly what its handler called ---------------------------


def _roles_of_functions(template: Resolved) -> dict[str, set[str]]:
    """Each role in the template, and the functions (by handler name) that run as it."""
    by_handler = {path: name for name, path in HANDLERS.items()}
    by_handler["alpha.lambdas.handlers.publish_delivery"] = "PublishDelivery"
    roles: dict[str, set[str]] = {"StatesRole": {ENGINE}}
    for props in template.of_type("AWS::Serverless::Function").values():
        role = props["Role"]["Fn::GetAtt"][0]
        roles.setdefault(role, set()).add(by_handler[props["Handler"]])
    return roles


@pytest.fixture(scope="module")
def recorded_needs(deployed: Deployed, mapper: EventMapper) -> dict[str, set[Needed]]:
    paths = dict.fromkeys((*ROLES, "ghost"), SCOPE)
    account = Account(ACCOUNT, paths)
    return {
        role: {
            need
            for function in functions
            for call in deployed.recorder.of(function)
            for need in needed(call, mapper, account)
        }
        for role, functions in _roles_of_functions(deployed.template).items()
    }


def test_every_function_ran_and_called_aws(recorded_needs: dict[str, set[Needed]]) -> None:
    assert all(recorded_needs.values()), {r: len(n) for r, n in recorded_needs.items()}


def _refused(template: Resolved, role: str, needs: set[Needed]) -> list[tuple[str, str]]:
    evaluator = template.evaluator(role)
    return sorted(
        (n.action, n.resource)
        for n in needs
        if not evaluator.evaluate(
            Request(n.action, n.resource, {k: (v,) for k, v in n.context})
        ).allowed
    )


def _undoes_rollouts(needs: dict[str, set[Needed]]) -> set[Needed]:
    """What Rollback does when the failing stage could not restore the role itself (here the
    canary restored it, so Rollback only confirmed): what the rollout does, but read logs."""
    return {n for n in needs["RolloutRole"] if not n.action.startswith("s3:")}


def test_each_role_allows_every_call_its_functions_made(
    deployed: Deployed, recorded_needs: dict[str, set[Needed]]
) -> None:
    refused = {
        role: _refused(deployed.template, role, needs) for role, needs in recorded_needs.items()
    }
    refused["RollbackRole"] += _refused(
        deployed.template, "RollbackRole", _undoes_rollouts(recorded_needs)
    )
    assert {role: found for role, found in refused.items() if found} == {}


def _granted(template: Resolved, role: str) -> set[str]:
    return {
        action
        for document in template.identity_policies(role)
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }


def test_each_role_grants_no_action_its_functions_did_not_need(
    deployed: Deployed, recorded_needs: dict[str, set[Needed]]
) -> None:
    unused = {}
    for role, needs in recorded_needs.items():
        made = {n.action for n in needs}
        if role == "RollbackRole":
            made |= {n.action for n in _undoes_rollouts(recorded_needs)}
        allowed = DISTRIBUTED_MAP if role == "StatesRole" else RUNTIME | set(NOT_RUN_HERE)
        unused[role] = sorted(_granted(deployed.template, role) - made - allowed)
    assert {role: found for role, found in unused.items() if found} == {}
