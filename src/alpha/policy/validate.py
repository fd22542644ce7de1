"""Validate a policy: structural problems, then meaning against the IAM catalog, then size.

Findings name the place (`Statement[2].Action[0]`). A document that does not parse gets the
parser's findings only: semantic checks need a policy to look at.

Size quotas, from "IAM and AWS STS character limits" in the IAM User Guide
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): a managed policy
may have 6,144 characters; a principal's inline policies together 2,048 (user), 5,120 (group) or
10,240 (role); IAM does not count whitespace (GetAccountSummary gives these quotas "in
non-whitespace characters"). The same page limits policy documents to tab, line feed,
carriage return and U+0020 to U+00FF.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from types import MappingProxyType

from alpha.catalog import Catalog
from alpha.policy.condition_checks import check_conditions
from alpha.policy.errors import PolicyParseError
from alpha.policy.findings import POLICY_FINDINGS, Finding
from alpha.policy.model import CURRENT_VERSION, Policy, Statement
from alpha.policy.parse import parse_policy_text
from alpha.policy.serialize import to_json
from alpha.policy.statement_checks import check_actions, check_principal, check_resources

__all__ = [
    "INLINE_POLICY_QUOTAS",
    "MANAGED_POLICY_QUOTA",
    "InlineOwner",
    "PolicyPlacement",
    "inline_size_findings",
    "policy_size",
    "validate",
]


class PolicyPlacement(StrEnum):
    """Where a policy is used, which decides the elements it needs and its size quota.

    IDENTITY: attached to a principal, no size check (the attachment is not known).
    """

    IDENTITY = "identity"
    MANAGED = "managed"
    INLINE = "inline"
    RESOURCE = "resource"


class InlineOwner(StrEnum):
    ROLE = "role"
    USER = "user"
    GROUP = "group"


MANAGED_POLICY_QUOTA = 6_144
INLINE_POLICY_QUOTAS = MappingProxyType(
    {InlineOwner.ROLE: 10_240, InlineOwner.GROUP: 5_120, InlineOwner.USER: 2_048}
)


def validate(
    policy: Policy | str,
    catalog: Catalog,
    *,
    kind: PolicyPlacement = PolicyPlacement.IDENTITY,
    inline_owner: InlineOwner = InlineOwner.ROLE,
) -> tuple[Finding, ...]:
    """Every finding for `policy` (a Policy, or the document's JSON text), most severe first,
    then in document order."""
    findings: list[Finding] = []
    if isinstance(policy, str):
        findings.extend(_character_findings(policy))
        try:
            parsed = parse_policy_text(policy)
        except PolicyParseError as exc:
            findings.extend(
                POLICY_FINDINGS.finding(p.code, p.message, p.path) for p in exc.problems
            )
            return _ordered(findings)
    else:
        parsed = policy
    findings.extend(_document_findings(parsed, catalog, kind))
    findings.extend(_size_findings(policy_size(policy), kind, inline_owner))
    return _ordered(findings)


def _ordered(findings: list[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: f.severity.rank))


def _document_findings(
    policy: Policy, catalog: Catalog, kind: PolicyPlacement
) -> Iterator[Finding]:
    if not policy.statements:
        yield POLICY_FINDINGS.finding(
            "EMPTY_STATEMENT_LIST", "the policy has no statements", "Statement"
        )
    yield from _version_findings(policy)
    yield from _sid_findings(policy.statements)
    first_seen: dict[Statement, int] = {}
    for index, statement in enumerate(policy.statements):
        path = f"Statement[{index}]"
        yield from _placement_findings(statement, path, kind)
        yield from check_actions(statement, path, catalog)
        yield from check_resources(statement, path, catalog)
        yield from check_principal(statement, path)
        yield from check_conditions(statement.conditions, path, catalog)
        body = _without_sid(statement)
        if body in first_seen:
            yield POLICY_FINDINGS.finding(
                "DUPLICATE_STATEMENT", f"repeats Statement[{first_seen[body]}]", path
            )
        else:
            first_seen[body] = index


def _without_sid(statement: Statement) -> Statement:
    return Statement(
        statement.effect,
        statement.action,
        statement.resource,
        statement.conditions,
        statement.principal,
    )


def _version_findings(policy: Policy) -> Iterator[Finding]:
    if policy.version == CURRENT_VERSION:
        return
    written = f"Version {policy.version}" if policy.version else "no Version"
    if uses_variables(policy):
        message = f"{written}: the policy variables (${{...}}) are literal text, not substituted"
    else:
        message = f'{written}: write Version "{CURRENT_VERSION}" so policy variables work'
    yield POLICY_FINDINGS.finding("LEGACY_VERSION", message, "Version")


def uses_variables(policy: Policy) -> bool:
    """Whether `${` appears anywhere: then the Version decides what the policy means."""
    return "${" in to_json(policy, indent=None)


def _sid_findings(statements: tuple[Statement, ...]) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for index, statement in enumerate(statements):
        if statement.sid is None:
            continue
        if statement.sid in first:
            yield POLICY_FINDINGS.finding(
                "DUPLICATE_SID",
                f"Sid {statement.sid!r} is also Statement[{first[statement.sid]}]'s",
                f"Statement[{index}].Sid",
            )
        else:
            first[statement.sid] = index


def _placement_findings(
    statement: Statement, path: str, kind: PolicyPlacement
) -> Iterator[Finding]:
    """Elements that depend on where the policy is used."""
    if kind is PolicyPlacement.RESOURCE:
        if statement.principal is None:
            yield POLICY_FINDINGS.finding(
                "MISSING_ELEMENT",
                "missing: a resource policy's statement needs Principal or NotPrincipal",
                f"{path}.Principal",
            )
        return
    if statement.principal is not None:
        yield POLICY_FINDINGS.finding(
            "UNEXPECTED_PRINCIPAL",
            "an identity policy cannot name a principal",
            f"{path}.Principal",
        )
    if statement.resource is None:
        yield POLICY_FINDINGS.finding(
            "MISSING_ELEMENT",
            "missing: an identity policy's statement needs Resource or NotResource",
            f"{path}.Resource",
        )


# Size ------------------------------------------------------------------------------------------


def policy_size(policy: Policy | str) -> int:
    """Characters IAM counts against its quotas: all but whitespace.

    For text, the document as written; for a Policy, as `to_json` writes it.
    """
    text = policy if isinstance(policy, str) else to_json(policy, indent=None)
    return sum(1 for char in text if not char.isspace())


def inline_size(policies: Iterable[Policy | str]) -> int:
    """The size of several inline policies together, as IAM counts it against one principal."""
    return sum(policy_size(p) for p in policies)


def inline_size_findings(
    policies: Iterable[Policy | str], owner: InlineOwner = InlineOwner.ROLE
) -> tuple[Finding, ...]:
    """A finding when a principal's inline policies together exceed its quota."""
    return tuple(_size_findings(inline_size(policies), PolicyPlacement.INLINE, owner))


def _size_findings(size: int, kind: PolicyPlacement, owner: InlineOwner) -> Iterator[Finding]:
    if kind is PolicyPlacement.MANAGED and size > MANAGED_POLICY_QUOTA:
        yield POLICY_FINDINGS.finding(
            "SIZE_QUOTA_MANAGED",
            f"{size:,} characters (whitespace not counted); a managed policy may have "
            f"{MANAGED_POLICY_QUOTA:,}",
        )
    quota = INLINE_POLICY_QUOTAS[owner]
    if kind is PolicyPlacement.INLINE and size > quota:
        yield POLICY_FINDINGS.finding(
            "SIZE_QUOTA_INLINE",
            f"{size:,} characters (whitespace not counted); a {owner}'s inline policies "
            f"together may have {quota:,}",
        )


def _character_findings(text: str) -> Iterator[Finding]:
    """Characters IAM rejects, one finding per line that has any."""
    # not splitlines(): it also splits at \x1c-\x1e, which IAM rejects and must be reported
    for number, line in enumerate(text.split("\n"), start=1):
        for column, char in enumerate(line, start=1):
            if char not in "\t\n\r" and not 0x20 <= ord(char) <= 0xFF:
                yield POLICY_FINDINGS.finding(
                    "INVALID_CHARACTER",
                    f"character U+{ord(char):04X} is not allowed in a policy document",
                    f"line {number} column {column}",
                )
                break
