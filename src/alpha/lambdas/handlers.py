"""One handler per Task of the state machine (`alpha.rollout.asl.FUNCTIONS`): parse the event,
call one step of `alpha.app.workflow_steps`, return its JSON.

Generate, Reason, Guardrails and Persist are one handler, `propose`: the generation plan runs
the reasoner and the guardrails inline for each proposal (see `alpha.rollout.asl`). The
account is `ALPHA_ACCOUNT` and the CloudTrail location `ALPHA_LOGS` (the one the monitor
watches), both set by the deployment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from alpha.app import Application
from alpha.app.monitoring import NotifiedObject
from alpha.app.workflow_steps import (
    find_principals as find,
)
from alpha.app.workflow_steps import (
    propose_step,
    record_failure,
    rollback_step,
    stage_step,
)
from alpha.lambdas.events import (
    ApprovalRequestEvent,
    FailureEvent,
    FindEvent,
    ObjectCreatedEvent,
    ProposalEvent,
    ProposeEvent,
)
from alpha.lambdas.runtime import LambdaEventError, run_step
from alpha.store.model import Stage

__all__ = [
    "HANDLERS",
    "canary",
    "find_principals",
    "production",
    "propose",
    "publish_delivery",
    "record_failure_handler",
    "request_approval",
    "rollback",
    "sandbox",
]

ACCOUNT = "ALPHA_ACCOUNT"


def _account(app: Application, env: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    account = env.get(ACCOUNT, "").strip()
    if not account:
        raise LambdaEventError(f"{ACCOUNT} is not set: which account to read")
    if not app.settings.logs:
        raise LambdaEventError("ALPHA_LOGS is not set: where the CloudTrail logs are")
    return account, app.settings.logs


def find_principals(event: dict[str, Any], context: Any) -> dict[str, Any]:
    env = os.environ

    def step(app: Application, _: FindEvent) -> dict[str, Any]:
        return {"principals": find(app, *_account(app, env))}

    return run_step("FindPrincipals", FindEvent, step, event, context=context, env=env)


def propose(event: dict[str, Any], context: Any) -> dict[str, Any]:
    env = os.environ

    def step(app: Application, parsed: ProposeEvent) -> dict[str, Any]:
        account, sources = _account(app, env)
        return propose_step(app, account, sources, parsed.principal, parsed.by).to_dict()

    return run_step("Propose", ProposeEvent, step, event, context=context, env=env)


def request_approval(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Keep the task token with the proposal; the approver's decision answers it."""

    def step(app: Application, parsed: ApprovalRequestEvent) -> dict[str, Any]:
        found = app.record_approval_request(
            parsed.proposal_id, parsed.task_token, parsed.step.execution
        )
        return {"event": "requested", "proposal_id": found}

    return run_step(
        "RequestApproval", ApprovalRequestEvent, step, event, context=context, env=os.environ
    )


def _stage_handler(stage: Stage) -> Any:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        def step(app: Application, parsed: ProposalEvent) -> dict[str, Any]:
            return stage_step(app, parsed.proposal_id, stage).to_dict()

        name = stage.value.capitalize()
        return run_step(name, ProposalEvent, step, event, context=context, env=os.environ)

    handler.__name__ = stage.value
    handler.__doc__ = f"Run the rollout through {stage.value} once."
    return handler


sandbox = _stage_handler(Stage.SANDBOX)
canary = _stage_handler(Stage.CANARY)
production = _stage_handler(Stage.PRODUCTION)


def rollback(event: dict[str, Any], context: Any) -> dict[str, Any]:
    def step(app: Application, parsed: ProposalEvent) -> dict[str, Any]:
        return rollback_step(app, parsed.proposal_id).to_dict()

    return run_step("Rollback", ProposalEvent, step, event, context=context, env=os.environ)


def record_failure_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    def step(app: Application, parsed: FailureEvent) -> dict[str, Any]:
        return record_failure(app, parsed.input, parsed.step.execution).to_dict()

    return run_step("RecordFailure", FailureEvent, step, event, context=context, env=os.environ)


def publish_delivery(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A CloudTrail delivery to the trail bucket (EventBridge `Object Created`): its calls
    published as the `ALPHA/IAM` metrics, once."""

    def step(app: Application, parsed: ObjectCreatedEvent) -> dict[str, Any]:
        found = parsed.detail
        notice = NotifiedObject(
            found.bucket.name, found.object.key, found.object.size, found.object.etag
        )
        report = app.publish_objects([notice])
        return {"event": "published" if report.deliveries else "skipped", **report.to_dict()}

    return run_step(
        "PublishDelivery",
        ObjectCreatedEvent,
        step,
        event,
        context=context,
        env=os.environ,
        key="detail",
    )


# The function of each Task in the definition, by its name in `alpha.rollout.asl.FUNCTIONS`.
HANDLERS = {
    "FindPrincipals": "alpha.lambdas.handlers.find_principals",
    "Propose": "alpha.lambdas.handlers.propose",
    "RequestApproval": "alpha.lambdas.handlers.request_approval",
    "Sandbox": "alpha.lambdas.handlers.sandbox",
    "Canary": "alpha.lambdas.handlers.canary",
    "Production": "alpha.lambdas.handlers.production",
    "Rollback": "alpha.lambdas.handlers.rollback",
    "RecordFailure": "alpha.lambdas.handlers.record_failure_handler",
}
