"""Each package's public surface, pinned: the names its `__init__` exports, and for the modules
other packages reach into, their own `__all__`. Imports between packages in src/ take only
names on those surfaces, never a private one, and importing a package imports none of its
modules until a name is used. (`alpha.app` pins its own surface.)"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

PACKAGES: dict[str, list[str]] = {
    "alpha.account": [
        "AccountError",
        "AccountSnapshot",
        "AccountState",
        "AppliedPolicy",
        "AttachedPolicy",
        "EffectivePolicies",
        "Group",
        "InlinePolicy",
        "LastUsed",
        "ManagedPolicy",
        "MissingGroup",
        "PolicyOrigin",
        "PolicyOriginKind",
        "Principal",
        "PrincipalNotFoundError",
        "Role",
        "Tag",
        "Unresolved",
        "UnresolvedPolicy",
        "User",
        "is_aws_managed_arn",
    ],
    "alpha.adapters.aws": [],
    "alpha.adapters.github": [],
    "alpha.adapters.local": [],
    "alpha.adapters.slack": [],
    "alpha.catalog": [
        "AccessLevel",
        "Action",
        "Catalog",
        "CatalogError",
        "ConditionKey",
        "ResourceType",
        "load_catalog",
        "open_catalog",
        "read_catalog",
    ],
    "alpha.cli": [],
    "alpha.demo": [],
    "alpha.generate": [
        "GenerateError",
        "GenerationSettings",
        "ObservedCall",
        "ProposalGenerator",
        "UsageContext",
    ],
    "alpha.guardrails": [
        "GUARDRAIL_RULES",
        "RULES",
        "GuardrailConfig",
        "GuardrailError",
        "GuardrailResult",
        "SarifFile",
        "Violation",
        "check",
        "check_text",
        "enforce",
        "load_config",
        "parse_config",
        "to_sarif",
    ],
    "alpha.lambdas": [],
    "alpha.iac": [],
    "alpha.org": [
        "AccountFilter",
        "AccountReadFailure",
        "OrgAccount",
        "OrgAccountState",
        "OrgError",
        "OrgUnit",
        "Organization",
        "OrganizationSource",
    ],
    "alpha.policy": [],
    "alpha.reasoning": [
        "Evidence",
        "GuardrailSummary",
        "InferredPermission",
        "LocalReasoner",
        "ModelRun",
        "Reasoner",
        "Reasoning",
        "build_evidence",
    ],
    "alpha.rollout": [],
    "alpha.scan": [
        "ACCESS_WEIGHTS",
        "UNUSED",
        "AdminEquivalent",
        "EscalationRisk",
        "PrincipalScore",
        "ScanReport",
        "UnusedPrincipal",
        "scan",
        "scan_account",
    ],
    "alpha.slack": [],
    "alpha.store": [],
    "alpha.usage": [],
    "alpha.web": ["WebError", "check_bind", "create_app"],
}
OWN_SURFACE = "alpha.app"


@dataclass(frozen=True, slots=True)
class CrossImport:
    """`from <module> import <name>` in a module of another package."""

    where: str
    module: str
    name: str


def _package_of(module: str) -> str:
    """The package in PACKAGES (or `alpha.app`, or `alpha` for the top-level modules) that
    holds `module`."""
    for package in sorted([*PACKAGES, OWN_SURFACE], key=len, reverse=True):
        if module == package or module.startswith(f"{package}."):
            return package
    return "alpha"


def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(SRC).with_suffix("").parts)
    return name.removesuffix(".__init__")


def _cross_imports() -> Iterator[CrossImport]:
    for path in sorted((SRC / "alpha").rglob("*.py")):
        importer = _package_of(_module_name(path))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if not node.module.startswith("alpha.") or _package_of(node.module) == importer:
                continue
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            yield from (CrossImport(where, node.module, alias.name) for alias in node.names)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_each_package_exports_its_pinned_surface(package: str) -> None:
    exported = importlib.import_module(package).__all__
    assert len(set(exported)) == len(exported), f"{package}.__all__ names something twice"
    assert sorted(exported) == sorted(PACKAGES[package])


def test_every_exported_name_exists() -> None:
    modules = sorted(
        _module_name(path)
        for path in (SRC / "alpha").rglob("*.py")
        if _package_of(_module_name(path)) != OWN_SURFACE
    )
    missing = [
        f"{name}.{exported}"
        for name in modules
        for exported in getattr(importlib.import_module(name), "__all__", ())
        if not hasattr(importlib.import_module(name), exported)
    ]
    assert missing == []


def test_nothing_imports_a_private_name_from_another_package() -> None:
    private = [
        f"{i.where}: {i.name} from {i.module}" for i in _cross_imports() if _is_private(i.name)
    ]
    assert private == []


def test_imports_between_packages_take_only_names_on_a_surface() -> None:
    """What a module of another package imports is in the `__all__` of the module it comes
    from: a new import across packages puts the name on that module's surface first."""
    off_surface = [
        f"{i.where}: {i.name} from {i.module}"
        for i in _cross_imports()
        if _package_of(i.module) != OWN_SURFACE
        and not _is_private(i.name)  # the test above names those
        and i.name not in getattr(importlib.import_module(i.module), "__all__", ())
    ]
    assert off_surface == [], "add each name to the __all__ of the module it comes from"


def test_importing_a_package_imports_none_of_its_modules() -> None:
    """Each `__init__` does no work at import time: the modules behind its names load on
    first use (in a fresh interpreter, since this one has imported them all by now)."""
    script = (
        "import importlib, sys\n"
        f"packages = {sorted(PACKAGES)!r}\n"
        "for package in packages:\n"
        "    importlib.import_module(package)\n"
        "loaded = [m for m in sys.modules if m.startswith('alpha.')]\n"
        "print('\\n'.join(sorted(set(loaded) - set(packages))))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert ran.stdout.split() == ["alpha.adapters", "alpha.lazy_exports"]
