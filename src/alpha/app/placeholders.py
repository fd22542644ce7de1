"""Access Analyzer's resource placeholders (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`)
filled from the principal's observed usage.

For each resource with placeholders, the observed resources of the statement's actions that
fit the template say what each placeholder stood for:

- a placeholder with one value in every fitting resource is that value;
- when few resources fit (at most `MAX_LISTED`), each is listed as it was called;
- otherwise a placeholder whose values differ becomes `*` (for example the object key of a
  bucket read in many places), reported as a finding; the never-widen proof that follows
  still holds the result to today's grants;
- a template that no observed resource fits is left out of the policy and reported: the usage
  does not determine it, and a placeholder kept in the policy would be read by IAM as a
  policy variable, not as the resource it stands for.

`${Partition}` alone is always known: the principal's partition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

__all__ = ["Filled", "PlaceholderFinding", "fill_placeholders"]

MAX_LISTED = 5
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


@dataclass(frozen=True, slots=True)
class PlaceholderFinding:
    statement: int
    template: str
    outcome: str  # "filled", "generalised" or "left out"
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "statement": self.statement,
            "template": self.template,
            "outcome": self.outcome,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Filled:
    document: dict[str, Any]
    findings: tuple[PlaceholderFinding, ...]


def fill_placeholders(
    document: dict[str, Any], observed: Sequence[tuple[str, str]], partition: str
) -> Filled:
    """`document` with its placeholders filled from `observed` (action, resource) pairs."""
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    out: list[dict[str, Any]] = []
    findings: list[PlaceholderFinding] = []
    for index, statement in enumerate(statements):
        actions = _listed(statement.get("Action"))
        seen = [r for a, r in observed if any(fnmatchcase(a.lower(), p.lower()) for p in actions)]
        resources: list[str] = []
        for template in _listed(statement.get("Resource")):
            filled, finding = _fill(template, seen, partition, index)
            resources.extend(filled)
            if finding is not None:
                findings.append(finding)
        if resources or "Resource" not in statement:
            kept = dict(statement)
            if "Resource" in statement:
                kept["Resource"] = sorted(dict.fromkeys(resources))
            out.append(kept)
    return Filled({**document, "Statement": out}, tuple(findings))


def _listed(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _fill(
    template: str, seen: Iterable[str], partition: str, index: int
) -> tuple[list[str], PlaceholderFinding | None]:
    template = template.replace("${Partition}", partition)
    names = _PLACEHOLDER.findall(template)
    if not names:
        return [template], None
    pattern = _pattern(template)
    fitting = sorted({r for r in seen if pattern.fullmatch(r)})
    if not fitting:
        return [], PlaceholderFinding(
            index,
            template,
            "left out",
            f"no observed call determines {', '.join(f'${{{n}}}' for n in names)} in "
            f"{template}: left out of the policy (fill it by hand if it is needed)",
        )
    if len(fitting) <= MAX_LISTED:
        return fitting, PlaceholderFinding(
            index, template, "filled", f"{template}: filled from usage as {', '.join(fitting)}"
        )
    return _generalised(template, pattern, fitting, index)


def _generalised(
    template: str, pattern: re.Pattern[str], fitting: list[str], index: int
) -> tuple[list[str], PlaceholderFinding]:
    values: dict[str, set[str]] = {}
    for resource in fitting:
        found = pattern.fullmatch(resource)
        assert found is not None
        for name, value in found.groupdict().items():
            values.setdefault(name, set()).add(value)
    result = template
    varying = []
    for name, seen in values.items():
        placeholder = "${" + name.rsplit("_", 1)[0] + "}"
        value = next(iter(seen)) if len(seen) == 1 else "*"
        if value == "*":
            varying.append(placeholder)
        result = result.replace(placeholder, value, 1)
    return [result], PlaceholderFinding(
        index,
        template,
        "generalised",
        f"{template}: {len(fitting)} observed resources; {', '.join(varying)} differ and "
        f"became *: {result}",
    )


def _pattern(template: str) -> re.Pattern[str]:
    """A regex for the template: a placeholder at the end takes the rest (object keys hold
    `/`), any other one segment."""
    parts: list[str] = []
    position = 0
    for number, found in enumerate(_PLACEHOLDER.finditer(template)):
        parts.append(re.escape(template[position : found.start()]))
        last = found.end() == len(template)
        parts.append(f"(?P<{found.group(1)}_{number}>{'.+' if last else '[^:/]+'})")
        position = found.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts), re.DOTALL)  # an object key may hold a line break
