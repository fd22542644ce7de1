"""Lines about who reasoned and which engine wrote a proposal, from its document (a fresh
proposal's `to_dict()` or a stored one), escaped: model text and log-derived names are never
read as Rich markup."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

__all__ = ["engine_lines", "reasoner_lines"]


def reasoner_lines(document: dict[str, Any]) -> list[str]:
    run = document.get("reasoner")
    if not isinstance(run, dict):
        return []
    tokens = run.get("tokens") or {}
    spent = f"{tokens.get('input', 0):,} input and {tokens.get('output', 0):,} output tokens"
    model = escape(str(run.get("model")))
    local = _pct(run.get("local_probability_of_break"))
    if run.get("fallback_reason"):
        return [
            f"reasoner: [yellow]{escape(str(run.get('name')))} {model} did not answer, "
            f"the local reasoner did[/yellow]: {escape(str(run['fallback_reason']))} ({spent})"
        ]
    return [
        f"reasoner: {escape(str(run.get('name')))} {model}; model risk "
        f"{_pct(run.get('model_probability_of_break'))}, local risk {local} ({spent})"
    ]


def engine_lines(document: dict[str, Any]) -> list[str]:
    engine = document.get("engine")
    if not isinstance(engine, dict):
        return []
    lines = [f"engine: {escape(str(engine.get('name')))} (job {escape(str(engine.get('job_id')))})"]
    disagreements = engine.get("disagreements") or {}
    for side, label in (
        ("only_access_analyzer", "only Access Analyzer"),
        ("only_alpha", "only ALPHA"),
    ):
        for item in disagreements.get(side) or []:
            lines.append(f"  {label} grants {escape(str(item))}")
    for finding in engine.get("placeholders") or []:
        lines.append(f"  [yellow]placeholder[/yellow] {escape(str(finding.get('message')))}")
    for name, proof in (engine.get("proofs") or {}).items():
        lines.append(f"  proof {escape(str(name))}: {escape(str(proof.get('result')))}")
    for finding in engine.get("validation") or []:
        colour = "red" if finding.get("blocks") else "yellow"
        lines.append(
            f"  [{colour}]ValidatePolicy {escape(str(finding.get('type')))}[/] "
            f"{escape(str(finding.get('issue_code')))}: {escape(str(finding.get('detail')))}"
        )
    return lines


def _pct(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) else "n/a"
