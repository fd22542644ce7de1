"""The resource ARNs an action was used on, from an event's resources[] or requestParameters."""

from __future__ import annotations

from alpha.catalog import Catalog
from alpha.usage.events import CloudTrailEvent

UNKNOWN_RESOURCE = "*"
