"""`alpha simulate`: the IAM decision for one request, or for a batch of cases (JSON lines)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel, ConfigDict, ValidationError

from alpha.cli.paths import UserPath
from alpha.policy.errors import PolicyError
from alpha.policy.evaluate import (
    PolicyLayer,
    PolicySet,
    Request,
    Result,
    StatementRef,
    compile_policy_set,
)
from alpha.policy.model import Policy
from alpha.policy.parse import parse_policy, read_policy_file
from alpha.policy.user_files import InputTextError, decode_json, one_line, read_input, shown


@dataclass(frozen=True, slots=True)
class _Labels:
    """How to name each policy of a PolicySet in output: file names, or places in a case."""

    identity: tuple[str, ...]
    boundary: str = "boundary"
    scps: tuple[str, ...] = ()
    resource_policy: str = "resource_policy"
    rcps: tuple[str, ...] = ()

    def of(self, ref: StatementRef) -> str:
        if ref.kind is PolicyLayer.IDENTITY:
            return self.identity[ref.policy]
        if ref.kind is PolicyLayer.SCP:
            return self.scps[ref.policy]
        if ref.kind is PolicyLayer.RCP:
            return self.rcps[ref.policy]
        return self.boundary if ref.kind is PolicyLayer.BOUNDARY else self.resource_policy


@click.command()
@click.option(
    "--policy",
    "policies",
    multiple=True,
    type=UserPath(path_type=Path),
    help="Identity-based policy (JSON); repeat for several.",
)
@click.option("--boundary", type=UserPath(path_type=Path), help="Permissions boundary.")
@click.option(
    "--scp",
    "scps",
    multiple=True,
    type=UserPath(path_type=Path),
    help="Service control policy; each one is a level that must allow.",
)
@click.option(
    "--rcp",
    "rcps",
    multiple=True,
    type=UserPath(path_type=Path),
    help="Resource control policy of the resource's account; each one is a level.",
)
@click.option(
    "--resource-policy",
    type=UserPath(path_type=Path),
    help="Resource-based policy of the resource (a KMS key policy for kms: actions).",
)
@click.option("--action", help="The action, e.g. s3:GetObject.")
@click.option("--resource", help="The resource ARN.")
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="KEY=VALUE",
    help="A request context value; repeat a key for a multivalued key.",
)
@click.option("--principal", help="The caller's ARN (for Principal in a resource policy).")
@click.option(
    "--cases",
    type=UserPath(path_type=Path),
    help="A batch: one JSON case per line; prints one JSON decision per line.",
)
@click.option(
    "--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def simulate(
    *,
    policies: tuple[Path, ...],
    boundary: Path | None,
    scps: tuple[Path, ...],
    rcps: tuple[Path, ...],
    resource_policy: Path | None,
    action: str | None,
    resource: str | None,
    contexts: tuple[str, ...],
    principal: str | None,
    cases: Path | None,
    output: str,
) -> None:
    """Decide whether a request is allowed, and say which statements or layer decided it."""
    if cases is not None:
        single = (policies, boundary, scps, rcps, resource_policy, action, resource, contexts)
        if any(single):
            raise click.UsageError("--cases cannot be combined with a single request's options")
        lines = list(run_cases(cases))  # all or nothing: bad input prints no partial batch
        for line in lines:
            click.echo(line)
        return
    if not policies or action is None or resource is None:
        raise click.UsageError("give --policy, --action and --resource (or --cases FILE)")
    policy_set = PolicySet(
        identity=tuple(read_policy_file(p) for p in policies),
        boundary=None if boundary is None else read_policy_file(boundary),
        scps=tuple(read_policy_file(p) for p in scps),
        resource_policy=None if resource_policy is None else read_policy_file(resource_policy),
        rcps=tuple(read_policy_file(p) for p in rcps),
    )
    labels = _Labels(
        tuple(map(str, policies)),
        str(boundary),
        tuple(map(str, scps)),
        str(resource_policy),
        tuple(map(str, rcps)),
    )
    request = Request(action, resource, parse_context_options(contexts), principal=principal)
    result = compile_policy_set(policy_set).evaluate(request)
    if output == "json":
        click.echo(json.dumps(result_document(result, labels)))
    else:
        click.echo(render_text(result, request, labels))


def parse_context_options(options: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """`key=value` options; a key given again (in any case) adds a value."""
    context: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for option in options:
        key, equals, value = option.partition("=")
        if not equals or not key.strip():
            raise PolicyError(f"--context {option!r}: expected KEY=VALUE")
        name = names.setdefault(key.strip().lower(), key.strip())
        context.setdefault(name, []).append(value)
    return {key: tuple(values) for key, values in context.items()}


def render_text(result: Result, request: Request, labels: _Labels) -> str:
    lines = [f"{result.decision.value}: {request.action} on {request.resource}"]
    if result.missing is not None:
        lines.append(f"  {result.missing}")
    if result.allowed and not result.statements:  # only an action that needs no permission
        lines.append("  allowed whatever the policies say: the action needs no permission")
    verb = "denied by" if result.decision.value == "ExplicitlyDenied" else "allowed by"
    for ref in result.statements:
        sid = f" (Sid {ref.sid})" if ref.sid else ""
        lines.append(f"  {verb} {ref.kind} {labels.of(ref)} Statement[{ref.statement}]{sid}")
    return "\n".join(lines)


def result_document(result: Result, labels: _Labels) -> dict[str, Any]:
    return {
        "decision": result.decision.value,
        "statements": [
            {
                "policy": labels.of(ref),
                "kind": ref.kind.value,
                "statement": ref.statement,
                "sid": ref.sid,
                "effect": ref.effect.value,
            }
            for ref in result.statements
        ],
        "missing": None
        if result.missing is None
        else {
            "layer": result.missing.layer.value,
            "level": result.missing.level,
            "reason": str(result.missing),
        },
    }


class _Case(BaseModel):
    """One line of a --cases file (untrusted input); policies are checked by the parser."""

    model_config = ConfigDict(extra="ignore")

    policies: list[Any]
    boundary: Any = None
    scps: list[Any] = []
    rcps: list[Any] = []
    resource_policy: Any = None
    action: str
    resource: str
    context: dict[str, Any] = {}
    principal: str | None = None


def run_cases(path: Path) -> Iterator[str]:
    """Decide every case of a JSON-lines file, in order; blank lines are skipped. Bad input
    raises PolicyError naming the file, the line and the place."""
    text = read_input(path, PolicyError)
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield json.dumps(_decide_case(line, f"{shown(path)}: line {number}"))


def _decide_case(line: str, where: str) -> dict[str, Any]:
    try:  # as strict as a policy file: a case holds policies
        raw = decode_json(line)
    except InputTextError as exc:
        column = f" (column {exc.column})" if exc.column else ""
        raise PolicyError(f"{where}: {exc.message}{column}") from exc
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: a case must be a JSON object")
    try:
        case = _Case.model_validate(raw, strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        place = one_line(_place(error["loc"]))  # keys of the case are quoted
        raise PolicyError(f"{where}: {place}: {error['msg']}") from exc
    policy_set = PolicySet(
        identity=tuple(
            _policy(doc, f"{where}: policies[{i}]") for i, doc in enumerate(case.policies)
        ),
        boundary=None if case.boundary is None else _policy(case.boundary, f"{where}: boundary"),
        scps=tuple(_policy(doc, f"{where}: scps[{i}]") for i, doc in enumerate(case.scps)),
        resource_policy=None
        if case.resource_policy is None
        else _policy(case.resource_policy, f"{where}: resource_policy"),
        rcps=tuple(_policy(doc, f"{where}: rcps[{i}]") for i, doc in enumerate(case.rcps)),
    )
    labels = _Labels(
        tuple(f"policies[{i}]" for i in range(len(case.policies))),
        scps=tuple(f"scps[{i}]" for i in range(len(case.scps))),
        rcps=tuple(f"rcps[{i}]" for i in range(len(case.rcps))),
    )
    context = _case_context(case.context, where)
    request = Request(case.action, case.resource, context, principal=case.principal)
    return result_document(compile_policy_set(policy_set).evaluate(request), labels)


def _policy(document: object, source: str) -> Policy:
    return parse_policy(document, source)


def _case_context(raw: Mapping[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    """Values as strings, as IAM compares them; a list makes a multivalued key."""
    context: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        items = value if isinstance(value, list) else [value]
        strings: list[str] = []
        for i, item in enumerate(items):
            if isinstance(item, bool):
                strings.append("true" if item else "false")
            elif isinstance(item, str | int | float):
                strings.append(str(item))
            else:
                place = f"context.{key}[{i}]" if isinstance(value, list) else f"context.{key}"
                message = f"{where}: {place}: must be a string or a list of strings"
                raise PolicyError(one_line(message))
        context[key] = (*context.get(key, ()), *strings)
    return context


def _place(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "case"
