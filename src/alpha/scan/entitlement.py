"""What a principal's policies grant, computed once per distinct policy and shared.

Two views of the same policies:
- grants, one per (action, resource type), counted as `alpha diff` counts them
  (`alpha.policy.diff`), for the excess score;
- reach: which actions are granted anywhere and which on every resource (`*`), with the place
  that grants each escalation-relevant action, as the guardrails read policies
  (`alpha.guardrails.grants`), for the escalation and admin flags.

Speed: in a real account most roles share managed policies, and inline policies repeat the same
action patterns (`s3:*` on `*`). Grants are therefore computed per piece, one Allow pattern with
its resources (a NotAction statement whole), and cached across every policy; a principal's
grants are the union of its pieces'. That union is exact only when no Deny can take a grant
away, so a principal whose policies hold any Deny statement has its policies merged into one
and counted whole, so that a Deny in one policy also removes what another grants (conditions
are ignored, as in `alpha diff`: a conditional Deny removes nothing).

A permissions boundary limits conservatively: a grant counts only if the boundary holds the
same (action, resource type) grant, and an action reaches only as far as the identity policies
say when the boundary grants it on any resource. Both err towards granted (a boundary and an
identity policy may name disjoint ARNs of one type), so excess and flags are never understated.
Reach honours only the simple Denies inside the same policy (as the guardrails do), which also
errs towards reporting.

The organization's levels (issue 16) limit like boundaries, one after another: an SCP level
keeps a grant only if the level's own grants hold it (its unconditional Denies taken out), and
reach only to actions the level grants somewhere. An RCP level does the same to the grants of
the services RCPs cover (`RCP_SERVICES`), and leaves reach alone: reach is about IAM, which
RCPs do not cover. Conditions are ignored as above, so a conditional SCP Deny (outside some
regions, for the root user) takes nothing away: the grant is usable under some context.
`org_blocked` counts the grants the levels took away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from alpha.account import AppliedPolicy, EffectivePolicies
from alpha.catalog import AccessLevel, Catalog
from alpha.guardrails.escalation import ESCALATION_METHODS, Scope
from alpha.guardrails.grants import allow_grants
from alpha.policy.diff import ActionTypePair, policy_grants
from alpha.policy.evaluate import RCP_SERVICES
from alpha.policy.model import (
    CURRENT_VERSION,
    LEGACY_VERSION,
    ActionList,
    Effect,
    Policy,
    Statement,
)

ScopedAction = tuple[str, Scope]
"""(lower-cased action key, scope) of an escalation requirement."""

_FULL_WILDCARDS = frozenset({"*", "*:*"})


@dataclass(frozen=True, slots=True)
class Reach:
    """How far one policy, or a principal's policies together, grant actions.

    Keys are lower-cased catalog action keys. `places` gives, for each escalation requirement
    (action and scope) that is met, the first place meeting it; `wide` the places of Allows of
    every action (`*`, or NotAction) on `*`; `iam_wide` the places of single Allows that grant
    all of IAM's permissions-management actions on `*`.
    """

    anywhere: frozenset[str]
    everywhere: frozenset[str]
    places: Mapping[ScopedAction, str] = field(default_factory=dict)
    wide: tuple[str, ...] = ()
    iam_wide: tuple[str, ...] = ()

    def at(self, where: str, *, prefix: bool = False) -> Reach:
        """The same reach with its places moved: every place becomes `where` (a piece, whose
        places are all its one pattern), or gets `where` in front (a policy's origin)."""

        def moved(place: str) -> str:
            return f"{where} {place}" if prefix else where

        return Reach(
            self.anywhere,
            self.everywhere,
            {k: moved(v) for k, v in self.places.items()},
            tuple(dict.fromkeys(moved(p) for p in self.wide)),
            tuple(dict.fromkeys(moved(p) for p in self.iam_wide)),
        )

    def limited_to(self, boundary: Reach) -> Reach:
        allowed = boundary.anywhere
        return Reach(
            self.anywhere & allowed,
            self.everywhere & allowed,
            {k: v for k, v in self.places.items() if k[0] in allowed},
            self.wide,
            self.iam_wide,
        )


@dataclass(frozen=True, slots=True)
class Entitlement:
    """A principal's grants and reach, after its boundary."""

    grants: frozenset[ActionTypePair]
    reach: Reach
    org_blocked: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class OrgLevels:
    """The SCP and RCP documents, one per level, that limit a principal (none when exempt).
    Compared by identity: a scan makes one for the account and shares it (`NO_LEVELS` for
    the exempt), so the entitlement cache never hashes whole documents per principal."""

    scps: tuple[Policy, ...] = ()
    rcps: tuple[Policy, ...] = ()


NO_LEVELS = OrgLevels()
_EntitlementKey = tuple[tuple[AppliedPolicy, ...], Policy | None, OrgLevels]


class EntitlementCache:
    """Grants and reach per policy piece and per set of policies, shared by every principal.

    Holds one catalog; build one per scan (it grows with the distinct policies it sees)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._pieces: dict[Policy, _Piece] = {}
        self._reach: dict[Policy, Reach] = {}
        self._entitlements: dict[_EntitlementKey, Entitlement] = {}
        self._level_grants: dict[Policy, frozenset[ActionTypePair]] = {}
        self._escalation_actions = frozenset(
            r.action.lower() for m in ESCALATION_METHODS for r in m.requires
        )
        self.catalog_size = len(catalog.actions())
        self.iam_admin = frozenset(
            a.key.lower()
            for a in catalog.actions("iam")
            if a.access_level is AccessLevel.PERMISSIONS_MANAGEMENT
        )

    def entitlement(
        self, effective: EffectivePolicies, levels: OrgLevels = NO_LEVELS
    ) -> Entitlement:
        key = (effective.identity, effective.boundary, levels)
        found = self._entitlements.get(key)
        if found is None:
            found = self._entitlements[key] = self._compute(effective, levels)
        return found

    def _compute(self, effective: EffectivePolicies, levels: OrgLevels) -> Entitlement:
        grants = self.grants(effective.documents)
        reach = _union(self._labelled(applied) for applied in effective.identity)
        if effective.boundary is not None:
            grants &= self.grants((effective.boundary,))
            reach = reach.limited_to(self.reach(effective.boundary))
        before = len(grants)
        for level in levels.scps:
            grants &= self._level(level)
            reach = reach.limited_to(self.reach(level))
        for level in levels.rcps:
            allowed = self._level(level)
            grants = frozenset(g for g in grants if g in allowed or not _rcp_covers(g))
        return Entitlement(grants, reach, before - len(grants))

    def _level(self, document: Policy) -> frozenset[ActionTypePair]:
        found = self._level_grants.get(document)
        if found is None:
            found = self._level_grants[document] = self.grants((document,))
        return found

    def grants(self, documents: tuple[Policy, ...]) -> frozenset[ActionTypePair]:
        if any(_has_deny(d) for d in documents):
            return policy_grants(_merged(documents), self.catalog).grants
        found: set[ActionTypePair] = set()
        for document in documents:
            for _, piece in _pieces(document):
                found |= self._piece(piece).grants
        return frozenset(found)

    def _piece(self, piece: Policy) -> _Piece:
        found = self._pieces.get(piece)
        if found is None:
            grants = policy_grants(piece, self.catalog).grants
            found = self._pieces[piece] = _Piece(grants, self._allow_reach(piece))
        return found

    def reach(self, document: Policy) -> Reach:
        found = self._reach.get(document)
        if found is None:
            if _has_deny(document):
                found = self._allow_reach(document)
            else:
                parts = (self._piece(p).reach.at(path) for path, p in _pieces(document))
                found = _union(parts)
            self._reach[document] = found
        return found

    def _labelled(self, applied: AppliedPolicy) -> Reach:
        return self.reach(applied.document).at(applied.origin.describe(), prefix=True)

    def _allow_reach(self, document: Policy) -> Reach:
        """Reach as the guardrails read one policy (simple Denies inside it honoured)."""
        anywhere: set[str] = set()
        everywhere: set[str] = set()
        places: dict[ScopedAction, str] = {}
        wide: list[str] = []
        iam_wide: list[str] = []
        for grant in allow_grants(document, self.catalog):
            keys = {a.key.lower() for a in grant.actions}
            anywhere |= keys
            if grant.on_all_resources:
                everywhere |= keys
                if grant.pattern is None or grant.pattern in _FULL_WILDCARDS:
                    wide.append(grant.path)
                if self.iam_admin <= keys:
                    iam_wide.append(grant.path)
            for key in keys & self._escalation_actions:
                for scope in Scope:
                    if scope.satisfied_by(grant.resources):
                        places.setdefault((key, scope), grant.path)
        return Reach(
            frozenset(anywhere),
            frozenset(everywhere),
            MappingProxyType(places),
            tuple(wide),
            tuple(iam_wide),
        )


@dataclass(frozen=True, slots=True)
class _Piece:
    grants: frozenset[ActionTypePair]
    reach: Reach


def _rcp_covers(grant: ActionTypePair) -> bool:
    return grant[0].partition(":")[0].lower() in RCP_SERVICES


def _has_deny(document: Policy) -> bool:
    return any(s.effect is Effect.DENY for s in document.statements)


def _union(parts: Iterable[Reach]) -> Reach:
    anywhere: set[str] = set()
    everywhere: set[str] = set()
    places: dict[ScopedAction, str] = {}
    wide: list[str] = []
    iam_wide: list[str] = []
    for part in parts:
        anywhere |= part.anywhere
        everywhere |= part.everywhere
        for key, place in part.places.items():
            places.setdefault(key, place)
        wide.extend(part.wide)
        iam_wide.extend(part.iam_wide)
    return Reach(frozenset(anywhere), frozenset(everywhere), places, tuple(wide), tuple(iam_wide))


def _pieces(document: Policy) -> Iterable[tuple[str, Policy]]:
    """One small policy per Allow pattern (with its statement's resources), or per NotAction
    statement, with its place in the document. Conditions and Sids are dropped: neither grant
    counting nor reach looks at them, and without them equal pieces of different policies share
    one cache entry."""
    for index, statement in enumerate(document.statements):
        if statement.effect is not Effect.ALLOW:
            continue
        bare = replace(statement, conditions=(), sid=None, principal=None)
        if isinstance(statement.action, ActionList):
            for number, pattern in enumerate(statement.action.patterns):
                one = replace(bare, action=ActionList((pattern,)))
                yield f"Statement[{index}].Action[{number}]", Policy((one,), _version(document))
        else:
            yield f"Statement[{index}].NotAction", Policy((bare,), _version(document))


def _merged(documents: tuple[Policy, ...]) -> Policy:
    """All statements as one policy, so every Deny meets every Allow. Policy variables stay
    variables only when every document supports them (a legacy document's `${...}` is text)."""
    statements: tuple[Statement, ...] = tuple(s for d in documents for s in d.statements)
    variables = all(d.supports_variables for d in documents)
    return Policy(statements, CURRENT_VERSION if variables else LEGACY_VERSION)


def _version(document: Policy) -> str:
    return CURRENT_VERSION if document.supports_variables else LEGACY_VERSION
