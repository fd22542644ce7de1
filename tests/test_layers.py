"""The layers of docs/architecture.md, checked on the source: the core does no I/O of its own
choosing (no SDK, no command-line library, no environment), the application renders nothing,
and nothing below an interface imports one."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "alpha"
CORE = (
    "account",
    "catalog",
    "generate",
    "guardrails",
    "iac",
    "org",
    "policy",
    "reasoning",
    "rollout",
    "scan",
    "store",
    "usage",
)
INTERFACES = (
    "alpha.cli",
    "alpha.demo",
    "alpha.slack",
    "alpha.lambdas",
    "alpha.web",
    "alpha.agentcore",
)
SDKS = ("boto3", "botocore", "slack_bolt", "slack_sdk", "github")
RENDERING = ("click", "rich")


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def _reads_environment(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"))
        or (isinstance(node, ast.Name) and node.id in ("environ", "getenv"))
    ]


def _offending(paths: list[Path], banned: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(SRC)}:{line} imports {name}"
        for path in paths
        for line, name in _imports(path)
        if any(name == b or name.startswith(f"{b}.") for b in banned)
    ]


@pytest.mark.parametrize("package", CORE)
def test_the_core_imports_no_sdk_renderer_adapter_or_interface(package: str) -> None:
    banned = (*SDKS, *RENDERING, "alpha.adapters", "alpha.app", *INTERFACES)
    assert _offending(_modules(package), banned) == []


@pytest.mark.parametrize("package", [*CORE, "app"])
def test_the_core_and_the_application_read_no_environment(package: str) -> None:
    found = {str(p.relative_to(SRC)): _reads_environment(p) for p in _modules(package)}
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_application_renders_nothing_and_knows_no_interface() -> None:
    assert _offending(_modules("app"), (*RENDERING, *INTERFACES)) == []


def test_adapters_know_no_application_or_interface() -> None:
    assert _offending(_modules("adapters"), ("alpha.app", *INTERFACES, *RENDERING)) == []


def test_the_checks_see_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom rich.table import Table\nx = os.environ['A']\n")
    assert _reads_environment(bad) == [3]
    assert [name for _, name in _imports(bad)] == ["os", "rich.table"]
