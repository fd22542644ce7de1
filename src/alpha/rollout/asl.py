"""The Step Functions definition (Amazon States Language, JSONPath), generated from the one
transition table in `alpha.rollout.workflow`.

The shape, per principal:

- Generate, Reason, Guardrails and Persist are one Task, `Propose`: the generation plan
  reasons and checks guardrails inline for each proposal, so four Lambdas would hand whole
  policies and evidence between states (Step Functions caps a payload at 256 KB) and ingest
  the usage again. The task's outcomes are the table's edges out of Persist plus the error
  edges of all four.
- WaitForApproval is a `.waitForTaskToken` task: the RequestApproval function stores the token
  with the proposal (an `approval.requested` audit event) and notifies; whichever interface
  approves answers it (SendTaskSuccess with `{"event": "approved"}`, SendTaskFailure with
  `ALPHA.Rejected` for a rejection). Its timeout comes from the data (the approval expiry) and
  routes to Expired.
- Approved passes to Sandbox, whose task starts the rollout (the table's `started`).
- Each stage task answers `passed`, `failed` or `baking`; `baking` goes to a Wait state whose
  length is the rest of the bake (`$.result.wait_seconds`) and back to the task.
- Every Task retries Lambda's transient errors and catches everything else into
  RecordFailure, which audits the error, then Failed.

The top level runs that machine in a Distributed Map over `$.principals` (one item for a
single principal); without `principals` a FindPrincipals task lists those in scope first (the
schedule's periodic re-analysis, and `--all`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alpha.rollout.workflow import (
    TRANSITIONS,
    Event,
    Transition,
    Trigger,
    WorkflowState,
    terminal_states,
)

__all__ = [
    "BAKING",
    "FUNCTIONS",
    "PROPOSE_STATES",
    "REJECTED_ERROR",
    "RESULT_KEYS",
    "function_placeholders",
    "to_asl",
]

S = WorkflowState
JsonDict = dict[str, Any]

PROPOSE = "Propose"
FIND = "FindPrincipals"
RECORD_FAILURE = "RecordFailure"
EACH = "EachPrincipal"
BAKING = "baking"
REJECTED_ERROR = "ALPHA.Rejected"
PROPOSE_STATES = (S.GENERATE, S.REASON, S.GUARDRAILS, S.PERSIST)
_STAGES = (S.SANDBOX, S.CANARY, S.PRODUCTION)
# The Lambda function behind each task (a key of `functions`).
FUNCTIONS = (
    FIND,
    PROPOSE,
    "RequestApproval",
    "Sandbox",
    "Canary",
    "Production",
    "Rollback",
    RECORD_FAILURE,
)
_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
_CAUGHT_ERRORS = {Event.REJECTED: REJECTED_ERROR, Event.EXPIRED: "States.Timeout"}
_FAILED_TERMINALS = {S.FAILED, S.REJECTED, S.EXPIRED, S.ROLLED_BACK}


def function_placeholders() -> dict[str, str]:
    """`${<Name>FunctionArn}` for each function: SAM's DefinitionSubstitutions fill them."""
    return {name: f"${{{name}FunctionArn}}" for name in FUNCTIONS}


def to_asl(
    functions: Mapping[str, str] | None = None,
    table: tuple[Transition, ...] = TRANSITIONS,
    *,
    max_concurrency: int = 10,
) -> JsonDict:
    """The deployable definition; `functions` maps each name in `FUNCTIONS` to an ARN."""
    arns = dict(function_placeholders() if functions is None else functions)
    missing = [name for name in FUNCTIONS if name not in arns]
    if missing:
        raise ValueError(f"no function ARN for {', '.join(missing)}")
    payload = {"by.$": "$.by", "step": _STEP}
    find = _task(arns[FIND], payload, next_state="UseFound", result_path="$.found")
    find["ResultSelector"] = {"principals.$": "$.Payload.principals"}
    find["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "FindFailed"}]
    return {
        "Comment": "ALPHA least-privilege workflow (generated from the transition table)",
        "StartAt": "PrincipalsGiven?",
        "States": {
            "PrincipalsGiven?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.principals", "IsPresent": True, "Next": EACH}],
                "Default": FIND,
            },
            FIND: find,
            "UseFound": {
                "Type": "Pass",
                "Parameters": {"principals.$": "$.found.principals", "by.$": "$.by"},
                "Next": EACH,
            },
            "FindFailed": {"Type": "Fail", "Error": "ALPHA.FindFailed", "Cause": "see the logs"},
            EACH: _each_principal(principal_states(arns, table), max_concurrency),
        },
    }


def _each_principal(states: JsonDict, max_concurrency: int) -> JsonDict:
    return {
        "Type": "Map",
        "Label": EACH,
        "ItemsPath": "$.principals",
        "ItemSelector": {"principal.$": "$$.Map.Item.Value", "by.$": "$.by"},
        "MaxConcurrency": max_concurrency,
        # One principal's failure is its own execution's; the others carry on.
        "ToleratedFailurePercentage": 100.0,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": PROPOSE,
            "States": states,
        },
        # Each principal's outcome is in its own child execution and the store; 500 outputs
        # would pass the 256 KB state payload limit.
        "ResultPath": None,
        "End": True,
    }


def principal_states(arns: Mapping[str, str], table: tuple[Transition, ...]) -> JsonDict:
    """The per-principal machine: every state of the table, Propose standing for the four
    states before approval."""
    finals = terminal_states(table)
    states: JsonDict = {PROPOSE: _propose(arns[PROPOSE]), f"{PROPOSE}?": _propose_choice(table)}
    states.update(_approval(arns["RequestApproval"], table))
    states[S.APPROVED.value] = _approved(table)
    for stage in _STAGES:
        states.update(_stage(stage, arns[stage.value], table))
    states[S.ROLLBACK.value] = _step_task(arns["Rollback"], S.ROLLBACK)
    states[f"{S.ROLLBACK.value}?"] = _choice(S.ROLLBACK, table)
    states[RECORD_FAILURE] = _record_failure(arns[RECORD_FAILURE])
    for state in sorted(finals, key=list(WorkflowState).index):
        states[state.value] = _final(state)
    return states


def _propose(arn: str) -> JsonDict:
    payload = {"principal.$": "$.principal", "by.$": "$.by", "step": _STEP}
    task = _task(arn, payload, next_state=f"{PROPOSE}?")
    task["Comment"] = "Generate, Reason, Guardrails and Persist (one generation plan)"
    return task


def _propose_choice(table: tuple[Transition, ...]) -> JsonDict:
    edges = [e for e in table if e.source is S.PERSIST and e.trigger is Trigger.WORKFLOW]
    return _choice_of(edges)


def _approval(arn: str, table: tuple[Transition, ...]) -> JsonDict:
    name = S.WAIT_FOR_APPROVAL.value
    payload = {"proposal_id.$": "$.result.proposal_id", "task_token.$": "$$.Task.Token"}
    task = _task(arn, {**payload, "step": _STEP}, next_state=f"{name}?", wait_for_token=True)
    task["TimeoutSecondsPath"] = "$.result.approval_timeout_seconds"
    edges = [e for e in table if e.source is S.WAIT_FOR_APPROVAL]
    caught = [
        {"ErrorEquals": [_CAUGHT_ERRORS[e.event]], "ResultPath": "$.error", "Next": e.target.value}
        for e in edges
        if e.event in _CAUGHT_ERRORS
    ]
    task["Catch"] = caught + task["Catch"]
    answered = [e for e in edges if e.event not in _CAUGHT_ERRORS]
    return {name: task, f"{name}?": _choice_of(answered)}


def _approved(table: tuple[Transition, ...]) -> JsonDict:
    started = next(e for e in table if e.source is S.APPROVED and e.event is Event.STARTED)
    return {
        "Type": "Pass",
        "Comment": "the next task starts the rollout (an approval expired since is refused)",
        "Next": started.target.value,
    }


def _stage(stage: WorkflowState, arn: str, table: tuple[Transition, ...]) -> JsonDict:
    bake = f"{stage.value}Bake"
    choice = _choice(stage, table)
    choice["Choices"].append({"Variable": "$.result.event", "StringEquals": BAKING, "Next": bake})
    return {
        stage.value: _step_task(arn, stage),
        f"{stage.value}?": choice,
        bake: {"Type": "Wait", "SecondsPath": "$.result.wait_seconds", "Next": stage.value},
    }


def _step_task(arn: str, state: WorkflowState) -> JsonDict:
    payload = {"proposal_id.$": "$.result.proposal_id", "step": _STEP}
    return _task(arn, payload, next_state=f"{state.value}?")


def _choice(state: WorkflowState, table: tuple[Transition, ...]) -> JsonDict:
    return _choice_of([e for e in table if e.source is state and e.trigger is Trigger.WORKFLOW])


def _choice_of(edges: list[Transition]) -> JsonDict:
    return {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.result.event", "StringEquals": e.event.value, "Next": e.target.value}
            for e in edges
        ],
        "Default": RECORD_FAILURE,
    }


def _record_failure(arn: str) -> JsonDict:
    payload = {"input.$": "$", "step": _STEP}
    task = _task(arn, payload, next_state=S.FAILED.value)
    task["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": S.FAILED.value}]
    return task


def _final(state: WorkflowState) -> JsonDict:
    if state in _FAILED_TERMINALS:
        return {"Type": "Fail", "Error": f"ALPHA.{state.value}", "Cause": f"ended {state.value}"}
    return {"Type": "Succeed"}


# What makes a step's idempotency key: the execution, the state, and when it was entered (a
# Retry keeps it; a bake loop entering the state again gets a new one).
# Every step answers all of these (the ResultSelector needs each to be present).
RESULT_KEYS = ("event", "proposal_id", "wait_seconds", "approval_timeout_seconds")
_STEP = {
    "execution.$": "$$.Execution.Id",
    "state.$": "$$.State.Name",
    "entered.$": "$$.State.EnteredTime",
}


def _task(
    arn: str,
    payload: JsonDict,
    *,
    next_state: str,
    result_path: str = "$.result",
    wait_for_token: bool = False,
) -> JsonDict:
    resource = "arn:aws:states:::lambda:invoke"
    task: JsonDict = {
        "Type": "Task",
        "Resource": resource + (".waitForTaskToken" if wait_for_token else ""),
        "Parameters": {"FunctionName": arn, "Payload": payload},
        "ResultPath": result_path,
        "Retry": [
            {
                "ErrorEquals": _TRANSIENT,
                "IntervalSeconds": 2,
                "MaxAttempts": 6,
                "BackoffRate": 2.0,
                "JitterStrategy": "FULL",
            }
        ],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": RECORD_FAILURE}],
        "Next": next_state,
    }
    if not wait_for_token:  # the callback's output is the result itself, unwrapped
        task["ResultSelector"] = {f"{key}.$": f"$.Payload.{key}" for key in RESULT_KEYS}
    return task
