"""The fixture repository under tests/iac/data and the proposals placed in it."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from alpha.iac.model import PolicyChange, policy_change

DATA = Path(__file__).resolve().parent / "data"
ACCOUNT = "111122223333"
NEW_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
            "Resource": f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}},
        }
    ],
}


def repository(*paths: str) -> dict[str, str]:
    """The fixture files (all of them when none are named), by path relative to DATA."""
    found = [p for p in DATA.rglob("*") if p.is_file()]
    files = {p.relative_to(DATA).as_posix(): p.read_text(encoding="utf-8") for p in found}
    return {k: v for k, v in files.items() if not paths or k in paths}


def step(action: str, name: str, kind: str = "inline", arn: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"action": action, "kind": kind, "name": name}
    if arn is not None:
        out["arn"] = arn
    return out


def change(
    principal: str, *steps: dict[str, Any], document: dict[str, Any] | None = None
) -> PolicyChange:
    arn = principal if principal.startswith("arn:") else f"arn:aws:iam::{ACCOUNT}:role/{principal}"
    plan = {"steps": [*steps, step("attach", "alpha-least-privilege")]}
    return policy_change("ab" * 32, arn, {"proposed_policy": document or NEW_POLICY}, plan)


def changed_lines(before: str, after: str) -> set[int]:
    """The 1-based lines of `before` a diff to `after` removes or replaces (an insertion
    counts against the line it follows)."""
    old, new = before.split("\n"), after.split("\n")
    lines: set[int] = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            lines.update(range(i1 + 1, i2 + 1) if i2 > i1 else {i1})
    return lines


def lines_between(text: str, first: str, last: str) -> set[int]:
    """The lines from the one holding `first` to the one holding `last` (after it)."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if first in line)
    end = next(i for i in range(start, len(lines)) if last in lines[i])
    return set(range(start + 1, end + 2))
