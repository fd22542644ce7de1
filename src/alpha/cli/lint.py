"""`alpha lint` (findings for policy files) and `alpha normalise` (canonical form).

Lint reports problems as findings, including documents that are not JSON or not policies: that
is its job. Only a file it cannot read at all is an error (exit 2).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import click

from alpha.catalog import Catalog
from alpha.cli.paths import UserPath
from alpha.guardrails import GUARDRAIL_RULES, GuardrailConfig, Violation, check_text
from alpha.policy.errors import PolicyError
from alpha.policy.findings import POLICY_FINDINGS, Finding, Severity
from alpha.policy.user_files import read_input, shown, write_output
from alpha.policy.validate import InlineOwner, PolicyPlacement, inline_size_findings, validate

_SEVERITY_COLOURS = MappingProxyType(
    {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
)


@dataclass(frozen=True, slots=True)
class FileFinding:
    """A finding in a named file (`file` is "" for one about several files together)."""

    file: str
    finding: Finding

    def as_json(self) -> dict[str, str]:
        f = self.finding
        return {
            "file": self.file,
            "path": f.path,
            "code": f.code,
            "severity": f.severity.value,
            "title": _title(f.code),
            "message": f.message,
        }


def _title(code: str) -> str:
    for registry in (POLICY_FINDINGS, GUARDRAIL_RULES):
        if code in registry:
            return registry[code].title
    return ""


DEFAULT_CONFIG = Path("alpha.toml")


def guardrail_config(path: Path | None) -> GuardrailConfig:
    """Guardrails from `path`, else `./alpha.toml` when present, else the defaults; the
    `ALPHA_*` environment variables override the file."""
    from alpha.guardrails import load_config

    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    return load_config(path, os.environ)


def guardrail_violations(
    texts: dict[str, str], catalog: Catalog, config: GuardrailConfig
) -> dict[str, tuple[Violation, ...]]:
    return {name: tuple(check_text(text, catalog, config)) for name, text in texts.items()}


def read_text(path: Path) -> str:
    """The file's text; a file that cannot be read is a PolicyError naming it."""
    return read_input(path, PolicyError)


def lint_files(
    texts: dict[str, str], catalog: Catalog, kind: PolicyPlacement, owner: InlineOwner
) -> list[FileFinding]:
    """Findings for every file; with kind INLINE the files are one principal's inline
    policies, so their size together is checked as well.

    Other checkers (the guardrails' `--guardrails`, later) add their findings to this list.
    """
    found = [
        FileFinding(name, finding)
        for name, text in texts.items()
        for finding in validate(text, catalog, kind=kind, inline_owner=owner)
    ]
    if kind is PolicyPlacement.INLINE and len(texts) > 1:
        together = inline_size_findings(texts.values(), owner)
        found.extend(FileFinding("", f) for f in together)
    return found


def render_text(found: list[FileFinding], files: int, colour: bool) -> str:
    lines = []
    for item in found:
        f = item.finding
        where = ":".join(part for part in (item.file or "(all files)", f.path) if part)
        severity = (
            click.style(f.severity.value, fg=_SEVERITY_COLOURS[f.severity])
            if colour
            else f.severity.value
        )
        lines.append(f"{where}: {severity} {f.code}: {f.message}")
    counts = {s: sum(1 for i in found if i.finding.severity is s) for s in Severity}
    lines.append(
        f"{counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings, "
        f"{counts[Severity.INFO]} notes in {files} file{'s' if files != 1 else ''}"
    )
    return "\n".join(lines)


@click.command()
@click.argument("files", nargs=-1, required=True, type=UserPath(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice([k.value for k in PolicyPlacement]),
    default=PolicyPlacement.IDENTITY.value,
    show_default=True,
    help="Where the policies are used: decides required elements and the size quota.",
)
@click.option(
    "--inline-owner",
    type=click.Choice([o.value for o in InlineOwner]),
    default=InlineOwner.ROLE.value,
    show_default=True,
    help="With --kind inline: whose inline policies these are (the quotas differ).",
)
@click.option(
    "--guardrails",
    "with_guardrails",
    is_flag=True,
    help="Also check the organisation's guardrails (see --config).",
)
@click.option(
    "--config",
    type=UserPath(dir_okay=False, path_type=Path),
    help="Guardrail settings ([guardrails] table); default ./alpha.toml when present.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
)
def lint(  # noqa: PLR0917 - click passes every option positionally
    files: tuple[Path, ...],
    kind: str,
    inline_owner: str,
    with_guardrails: bool,
    config: Path | None,
    output: str,
) -> None:
    """Check policy FILES: structure, actions, ARNs and condition keys against the IAM
    catalog, and size quotas; with --guardrails, the organisation's rules too. Exit 1 when
    any finding is an error or a guardrail violation blocks."""
    from alpha.catalog import load_catalog

    catalog = load_catalog()
    texts = {shown(path): read_text(path) for path in files}  # names in one printable line
    found = lint_files(texts, catalog, PolicyPlacement(kind), InlineOwner(inline_owner))
    violations: dict[str, tuple[Violation, ...]] = {}
    if with_guardrails:
        violations = guardrail_violations(texts, catalog, guardrail_config(config))
        found.extend(FileFinding(n, v.as_finding()) for n, vs in violations.items() for v in vs)
    if output == "sarif":
        click.echo(json.dumps(_sarif(texts, found, violations), indent=2))
    elif output == "json":
        click.echo(json.dumps([item.as_json() for item in found], indent=2))
    else:
        colour = sys.stdout.isatty()
        click.echo(render_text(found, len(texts), colour=colour))
    blocking = any(v.blocks for vs in violations.values() for v in vs)
    if blocking or any(item.finding.severity is Severity.ERROR for item in found):
        raise click.exceptions.Exit(1)


def _sarif(
    texts: dict[str, str],
    found: list[FileFinding],
    violations: dict[str, tuple[Violation, ...]],
) -> dict[str, object]:
    from alpha.guardrails import SarifFile, to_sarif

    guardrail_codes = {v.code for vs in violations.values() for v in vs}
    files = [
        SarifFile(
            name,
            violations.get(name, ()),
            tuple(
                i.finding
                for i in found
                if i.file == name
                and not (i.finding.code in guardrail_codes and i.finding.code in GUARDRAIL_RULES)
            ),
            text,
        )
        for name, text in texts.items()
    ]
    return to_sarif(files)


@click.command()
@click.argument("file", type=UserPath(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=UserPath(dir_okay=False, path_type=Path),
    help="Write here instead of to standard output.",
)
def normalise(file: Path, output: Path | None) -> None:
    """Write FILE's policy in canonical form, with exactly the same meaning: duplicates and
    patterns covered by a wildcard dropped, values sorted, action names in catalog casing."""
    from alpha.catalog import load_catalog
    from alpha.policy.normalise import normalise as normalise_policy
    from alpha.policy.parse import read_policy_file
    from alpha.policy.serialize import to_json

    text = to_json(normalise_policy(read_policy_file(file), load_catalog())) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    write_output(output, text, PolicyError)
