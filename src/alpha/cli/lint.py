"""`alpha lint` (findings for policy files) and `alpha normalise` (canonical form).

Lint reports problems as findings, including documents that are not JSON or not policies: that
is its job. Only a file it cannot read at all is an error (exit 2).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import click

from alpha.catalog import Catalog
from alpha.policy.errors import PolicyError
from alpha.policy.findings import POLICY_FINDINGS, Finding, Severity
from alpha.policy.validate import InlineOwner, PolicyKind, inline_size_findings, validate

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
            "title": POLICY_FINDINGS[f.code].title if f.code in POLICY_FINDINGS else "",
            "message": f.message,
        }


def read_text(path: Path) -> str:
    """The file's text; a file that cannot be read is a PolicyError naming it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read: {exc}") from exc


def lint_files(
    texts: dict[str, str], catalog: Catalog, kind: PolicyKind, owner: InlineOwner
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
    if kind is PolicyKind.INLINE and len(texts) > 1:
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
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice([k.value for k in PolicyKind]),
    default=PolicyKind.IDENTITY.value,
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
    "--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def lint(files: tuple[Path, ...], kind: str, inline_owner: str, output: str) -> None:
    """Check policy FILES: structure, actions, ARNs and condition keys against the IAM
    catalog, and size quotas. Exit 1 when any finding is an error."""
    from alpha.catalog import load_catalog

    texts = {str(path): read_text(path) for path in files}
    found = lint_files(texts, load_catalog(), PolicyKind(kind), InlineOwner(inline_owner))
    if output == "json":
        click.echo(json.dumps([item.as_json() for item in found], indent=2))
    else:
        colour = sys.stdout.isatty()
        click.echo(render_text(found, len(texts), colour=colour))
    if any(item.finding.severity is Severity.ERROR for item in found):
        raise click.exceptions.Exit(1)


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
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
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{output}: cannot write: {exc}") from exc
