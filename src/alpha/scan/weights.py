"""How much an unused grant weighs, by the access level of its action.

An unused grant is risk without benefit; how much risk depends on what the action can do.
Permissions management (iam:AttachRolePolicy, kms:PutKeyPolicy, s3:PutBucketPolicy) can change
who may do what, so it weighs most; Write changes or destroys data and resources; Read can leak
data but changes nothing; Tagging only changes tags (which matters where tags drive access,
hence not zero); List reveals names and little else.

    Permissions management 5, Write 3, Read 1, Tagging 1, List 0.5

The weights are a ranking device, not a probability: only the order they put principals in, and
the share of a principal's weight left unused, are meant to be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from alpha.catalog import AccessLevel

ACCESS_WEIGHTS: Mapping[AccessLevel, float] = MappingProxyType(
    {
        AccessLevel.PERMISSIONS_MANAGEMENT: 5.0,
        AccessLevel.WRITE: 3.0,
        AccessLevel.READ: 1.0,
        AccessLevel.TAGGING: 1.0,
        AccessLevel.LIST: 0.5,
    }
)
