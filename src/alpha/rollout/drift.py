"""Someone changed the principal meanwhile: found before a stage changes anything, and the
rollout stops rather than overwrite the newer change.

A proposal made from an account records each principal's state as the account showed it
(`baseline`, in the stored plan); before the canary the principal's live state must still be
that. The canary records the state it left (`enforced`, in its stage record's metrics); before
production the live state must still be that. Production records the state it left too, and
a rollback by hand is refused when the live state is not the one the rollout last left (it
would undo the newer change with the rest). Any difference stops with a message that names
what changed. An automatic rollback (a breach during a bake) is not held back: the
workload's errors come first.
"""

from __future__ import annotations

from alpha.rollout.errors import RolloutError
from alpha.rollout.iam_ports import JsonDict

__all__ = ["BASELINE_KEY", "ENFORCED_KEY", "PrincipalChangedError", "check_unchanged", "drift"]

BASELINE_KEY = "baseline"
ENFORCED_KEY = "enforced"


class PrincipalChangedError(RolloutError):
    """The principal's IAM state is not the one the next stage was planned against."""


def drift(expected: JsonDict, live: JsonDict) -> list[str]:
    """What differs between two `principal_state` dicts, one line each (empty: nothing)."""
    found: list[str] = []
    before, now = expected.get("inline", {}), live.get("inline", {})
    for name in sorted(set(before) | set(now)):
        if name not in now:
            found.append(f"inline policy {name!r} deleted")
        elif name not in before:
            found.append(f"inline policy {name!r} added")
        elif before[name] != now[name]:
            found.append(f"inline policy {name!r} edited")
    found += _set_drift("managed policy", expected.get("attached", []), live.get("attached", []))
    found += _set_drift("group", expected.get("groups", []), live.get("groups", []))
    if expected.get("boundary") != live.get("boundary"):
        found.append(
            f"permissions boundary {expected.get('boundary') or 'none'} is now "
            f"{live.get('boundary') or 'none'}"
        )
    return found


def check_unchanged(principal: str, expected: JsonDict, live: JsonDict, before: str) -> None:
    """`PrincipalChangedError` naming the changes when `live` is not `expected`."""
    changes = drift(expected, live)
    if changes:
        raise PrincipalChangedError(
            f"{principal} changed since {before}: {'; '.join(changes)}. Stopped without "
            "changing anything, so the newer change stands; propose again from the account "
            "as it is now, or settle the principal by hand"
        )


def _set_drift(kind: str, before: list[str], now: list[str]) -> list[str]:
    added = [f"{kind} {item} added" for item in sorted(set(now) - set(before))]
    removed = [f"{kind} {item} removed" for item in sorted(set(before) - set(now))]
    return removed + added
