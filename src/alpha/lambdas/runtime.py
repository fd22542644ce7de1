"""What every handler does around its step: validate the event, log with the execution as
the correlation id, count the step's outcome in CloudWatch (embedded metric format), and run
the step at most once per state entry (Powertools idempotency on DynamoDB: a retried
invocation gets the first one's answer, so a change is never applied twice).

Powertools objects are built per invocation, not at import: a handler module does no work
when loaded, and tests can give each call its own environment."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from alpha.app import AppError, Application, Flags, application_for, load_settings

__all__ = [
    "IDEMPOTENCY_TABLE",
    "METRICS_NAMESPACE",
    "WORK_DIR",
    "LambdaEventError",
    "run_step",
    "work_dir",
]

IDEMPOTENCY_TABLE = "ALPHA_IDEMPOTENCY_TABLE"
# The folder a function may write (on Lambda only /tmp is writable): relative settings, and
# the files kept beside the store (its JSON logs, the metric log), resolve there.
WORK_DIR = "ALPHA_WORK_DIR"
METRICS_NAMESPACE = "ALPHA/Workflow"
# A step's answer is kept this long: longer than any Retry of one state entry.
_KEEP_ANSWER_SECONDS = 24 * 3600

Event = TypeVar("Event", bound=BaseModel)
Step = Callable[[Application, Event], dict[str, Any]]


class LambdaEventError(AppError):
    """The event is not what the state machine sends."""


def run_step(
    name: str,
    model: type[Event],
    step: Step[Event],
    raw: Mapping[str, Any],
    *,
    context: Any,
    env: Mapping[str, str],
    key: str = "step",
) -> dict[str, Any]:
    """`step` once per idempotency `key` (a JMESPath into the event: by default the state
    machine's `step` context)."""
    event = _parse(model, raw)
    with _invocation_logger() as logger:
        return _logged_step(name, event, step, logger, context=context, env=env, key=key)


def work_dir(env: Mapping[str, str]) -> Path:
    given = env.get(WORK_DIR, "").strip()
    return Path(given) if given else Path.cwd()


def _logged_step(
    name: str,
    event: Event,
    step: Step[Event],
    logger: Any,
    *,
    context: Any,
    env: Mapping[str, str],
    key: str,
) -> dict[str, Any]:
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    step_context = getattr(event, "step", None)
    logger.set_correlation_id(getattr(step_context, "execution", None))
    logger.append_keys(step=name, proposal_id=getattr(event, "proposal_id", None))
    metrics = Metrics(namespace=env.get("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE))
    metrics.add_dimension(name="step", value=name)
    try:
        answer = _once(step, event, context, env, key)
        outcome = str(answer.get("event", "done"))
        metrics.add_metric(name=f"Step_{outcome}", unit=MetricUnit.Count, value=1)
        logger.info("step answered", extra={"answer": answer})
        return answer
    except Exception:
        metrics.add_metric(name="StepError", unit=MetricUnit.Count, value=1)
        logger.exception("step failed")
        raise
    finally:
        metrics.flush_metrics()


@contextmanager
def _invocation_logger() -> Iterator[Any]:
    """Powertools' JSON logger on the `alpha` logger (so the library's own logs carry the
    correlation id too) for this invocation only: the logger's handlers, level and flags, and
    the root handlers' filters Powertools adds, are put back after it."""
    from aws_lambda_powertools import Logger

    library = logging.getLogger("alpha")
    handlers, level, propagate = list(library.handlers), library.level, library.propagate
    attributes = dict(vars(library))
    filters = {handler: list(handler.filters) for handler in logging.root.handlers}
    try:
        yield Logger(service="alpha", stream=sys.stdout)
    finally:
        library.handlers[:] = handlers
        library.setLevel(level)
        library.propagate = propagate
        for added in set(vars(library)) - set(attributes):
            delattr(library, added)
        for handler, kept in filters.items():
            handler.filters[:] = kept


def _parse(model: type[Event], raw: Mapping[str, Any]) -> Event:
    try:
        return model.model_validate(dict(raw))
    except ValidationError as error:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}" for e in error.errors()
        )
        raise LambdaEventError(f"{model.__name__}: {where}") from error


def _once(
    step: Step[Event], event: Event, context: Any, env: Mapping[str, str], key: str
) -> dict[str, Any]:
    """The step, through Powertools idempotency keyed on the event's `key`."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    table = env.get(IDEMPOTENCY_TABLE, "").strip()
    if not table:
        raise LambdaEventError(f"{IDEMPOTENCY_TABLE} is not set: no step runs without it")
    config = IdempotencyConfig(
        event_key_jmespath=key,
        raise_on_no_idempotency_key=True,
        expires_after_seconds=_KEEP_ANSWER_SECONDS,
    )
    config.register_lambda_context(context)

    def run(payload: dict[str, Any]) -> dict[str, Any]:
        app = application_for(load_settings(Flags(), env, work_dir(env)), env)
        # Round-tripped so the answer kept for a retry is exactly the one returned.
        answer: dict[str, Any] = json.loads(json.dumps(step(app, event)))
        return answer

    once = idempotent_function(
        run,
        data_keyword_argument="payload",
        persistence_store=DynamoDBPersistenceLayer(table_name=table),
        config=config,
    )
    result: dict[str, Any] = once(payload=event.model_dump(mode="json"))
    return result
