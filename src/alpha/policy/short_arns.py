"""Resource ARNs with fewer than six `:`-separated fields, read as IAM is observed to read them.

IAM's documentation says a resource ARN has six fields, yet it accepts shorter ones and gives
them a meaning that depends on the kind of policy. cloud-copilot's iam-simulate records what
was observed (src/resource/resource.ts, "short ARN" settings per policy type), and ALPHA
follows the same table:

| policy layer | no `*` in the ARN | with a `*` |
| --- | --- | --- |
| identity, permissions boundary | padded with `*` fields | padded |
| resource-based policy, KMS key policy | matches nothing | padded |
| SCP | matches nothing (rejected) | padded when the last field ends in `*`, else rejected |
| RCP | rejected | rejected |

So `arn:aws:sqs` in an identity policy means `arn:aws:sqs:*:*:*`, every SQS ARN.

In `NotResource` the reading is one-sided: a padded (or rejected) short ARN that does not
match a request never proves the request lies outside the `NotResource` set, so such a
statement applies to no request at all. Only a short ARN that simply matches nothing (the
resource-policy case) is left out of the set, which is then what the rest of the list says.

Fields are counted outside policy variables: the `:` of `${aws:username}` is not a separator.
"""

from __future__ import annotations

import re
from enum import StrEnum

from alpha.policy.model import NotResourceList, ResourceList

__all__ = ["ShortArnReading", "read_short_arns", "short_arn_reading"]

_FIELDS = 6
_VARIABLE = re.compile(r"\$\{[^}]*\}")


class ShortArnReading(StrEnum):
    """What a short ARN in one policy layer stands for."""

    PADDED = "padded"  # as if the missing fields were `*`
    NOTHING = "nothing"  # matches no request; in NotResource, leaves no request out
    REJECTED = "rejected"  # invalid there: matches no request and proves nothing


# Keyed by the value of `PolicyLayer` (a StrEnum), which this module cannot import without a
# cycle: (without a wildcard, with one, only a `*` ending the last field counts as one).
_TABLE: dict[str, tuple[ShortArnReading, ShortArnReading, bool]] = {
    "identity": (ShortArnReading.PADDED, ShortArnReading.PADDED, False),
    "boundary": (ShortArnReading.PADDED, ShortArnReading.PADDED, False),
    "resource": (ShortArnReading.NOTHING, ShortArnReading.PADDED, False),
    "kms-key-policy": (ShortArnReading.NOTHING, ShortArnReading.PADDED, False),
    "scp": (ShortArnReading.REJECTED, ShortArnReading.PADDED, True),
    "rcp": (ShortArnReading.REJECTED, ShortArnReading.REJECTED, True),
}
_UNKNOWN_LAYER = (ShortArnReading.REJECTED, ShortArnReading.REJECTED, True)


def field_count(pattern: str) -> int:
    """The `:`-separated fields of `pattern`, a policy variable counting as plain text."""
    return _VARIABLE.sub("x", pattern).count(":") + 1


def is_short_arn(pattern: str) -> bool:
    return pattern.startswith("arn:") and field_count(pattern) < _FIELDS


def padded(pattern: str) -> str:
    """`arn:aws:sqs` -> `arn:aws:sqs:*:*:*`."""
    return pattern + ":*" * (_FIELDS - field_count(pattern))


def short_arn_reading(pattern: str, layer: str) -> ShortArnReading | None:
    """How `layer` reads `pattern`; None when it is not a short ARN (read as written)."""
    if not is_short_arn(pattern):
        return None
    plain, wild, at_end_only = _TABLE.get(layer, _UNKNOWN_LAYER)
    last = _VARIABLE.sub("x", pattern).rsplit(":", 1)[-1]
    has_wildcard = last.endswith("*") if at_end_only else "*" in pattern
    return wild if has_wildcard else plain


def read_short_arns(
    resource: ResourceList | NotResourceList | None, layer: str
) -> ResourceList | NotResourceList | None:
    """The element with its short ARNs read as `layer` reads them (see the module docstring);
    the element itself when it has none. A NotResource that can never be proven not to hold
    becomes an empty Resource list: the statement applies to nothing."""
    if resource is None or not any(is_short_arn(p) for p in resource.patterns):
        return resource
    kept: list[str] = []
    for pattern in resource.patterns:
        reading = short_arn_reading(pattern, layer)
        if reading is None:
            kept.append(pattern)
        elif reading is ShortArnReading.PADDED and isinstance(resource, ResourceList):
            kept.append(padded(pattern))
        elif reading is not ShortArnReading.NOTHING and isinstance(resource, NotResourceList):
            return ResourceList(())
    return type(resource)(tuple(kept))
