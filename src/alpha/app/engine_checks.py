"""What ALPHA checks of a policy it did not write (Access Analyzer's): the replay of every
observed call, and where it disagrees with ALPHA's own proposal.

The replay evaluates each observed call (with its regions as `aws:RequestedRegion`) against
today's identity policies and the candidate. A call today's policies refuse is not the
candidate's to grant. A call whose resource the logs do not name (`*`) is checked on `*`
when the action takes no resource; otherwise it cannot be checked by resource and is counted
apart (`unchecked`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alpha.catalog import Catalog
from alpha.generate.model import DroppedCall, Replay
from alpha.policy.diff import diff_policies
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.model import ActionList, Effect, Policy, ResourceList
from alpha.usage.aggregate import UsageRow

__all__ = ["CandidateReplay", "disagreements", "replay_candidate", "replayed_rows"]

PASS_ROLE = "iam:passrole"  # never in CloudTrail: the usage layer records it for inference
REGION_KEY = "aws:RequestedRegion"


@dataclass(frozen=True, slots=True)
class CandidateReplay:
    replay: Replay
    missed: tuple[DroppedCall, ...]
    unchecked: tuple[DroppedCall, ...]


def replay_candidate(
    candidate: Policy, existing: Sequence[Policy], rows: Sequence[UsageRow], catalog: Catalog
) -> CandidateReplay:
    today = compile_policy_set(PolicySet(identity=tuple(existing)))
    proposed = compile_policy_set(PolicySet(identity=(candidate,)))
    observed = allowed = observed_events = allowed_events = 0
    missed: list[DroppedCall] = []
    unchecked: list[DroppedCall] = []
    not_granted: list[DroppedCall] = []
    for row in rows:
        if row.count <= 0 or row.action.lower() == PASS_ROLE:
            continue
        requests = _requests(row)
        if not all(today.evaluate(r).allowed for r in requests):
            not_granted.append(_dropped(row, "no identity policy in the snapshot allows it"))
            continue
        if all(proposed.evaluate(r).allowed for r in requests):
            observed, allowed = observed + 1, allowed + 1
            observed_events, allowed_events = (
                observed_events + row.count,
                allowed_events + row.count,
            )
        elif row.resource == "*" and _takes_resource(row.action, catalog):
            unchecked.append(_dropped(row, "the logs do not name the resource"))
        else:
            observed, observed_events = observed + 1, observed_events + row.count
            missed.append(_dropped(row, "not allowed by Access Analyzer's policy"))
    replay = Replay(
        observed, allowed, observed_events, allowed_events, not_granted_today=tuple(not_granted)
    )
    return CandidateReplay(replay, tuple(missed), tuple(unchecked))


def replayed_rows(rows: Sequence[UsageRow]) -> list[tuple[UsageRow, list[Request]]]:
    """The allowed rows with the requests that replay them, as `replay_candidate` makes them."""
    return [(row, _requests(row)) for row in rows if row.count > 0]


def _requests(row: UsageRow) -> list[Request]:
    if not row.regions:
        return [Request(row.action, row.resource)]
    return [Request(row.action, row.resource, {REGION_KEY: (r,)}) for r in row.regions]


def _takes_resource(action: str, catalog: Catalog) -> bool:
    found = catalog.action(action)
    return found is None or found.supports_resource_level


def _dropped(row: UsageRow, reason: str) -> DroppedCall:
    return DroppedCall(row.action, row.resource, row.count, reason)


def disagreements(alpha: Policy, analyzer: Policy, catalog: Catalog) -> dict[str, list[str]]:
    """Actions, and resources of actions both grant, that only one engine's policy grants."""
    diff = diff_policies(alpha, analyzer, catalog)
    mine, theirs = _resources(alpha), _resources(analyzer)
    only_theirs = list(diff.added_actions)
    only_mine = list(diff.removed_actions)
    for key in sorted(mine.keys() & theirs.keys()):
        (spelling, ours), (_, other) = mine[key], theirs[key]
        only_theirs += [f"{spelling} on {r}" for r in sorted(other - ours)]
        only_mine += [f"{spelling} on {r}" for r in sorted(ours - other)]
    return {"only_access_analyzer": only_theirs, "only_alpha": only_mine}


def _resources(policy: Policy) -> dict[str, tuple[str, set[str]]]:
    """Lower-cased action -> (its spelling, the resources an Allow grants it on)."""
    found: dict[str, tuple[str, set[str]]] = {}
    for statement in policy.statements:
        action_list = statement.action
        if statement.effect is not Effect.ALLOW or not isinstance(action_list, ActionList):
            continue
        listed = statement.resource
        resources = listed.patterns if isinstance(listed, ResourceList) else ("*",)
        for action in action_list.patterns:
            found.setdefault(action.lower(), (action, set()))[1].update(resources)
    return found
