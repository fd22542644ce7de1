"""What `validate` reports: findings, and the one registry of the kinds of finding.

Every kind has a stable ID (scripts and suppressions key on it, so IDs never change meaning),
a title, a default severity and help text. The registry type is generic so other checkers
(the guardrails) keep their own registry in the same form.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from alpha.policy.user_files import one_line

__all__ = ["POLICY_FINDINGS", "Finding", "FindingKind", "Registry", "Severity"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for the most severe, so `sorted(..., key=rank)` lists errors first."""
        return (Severity.ERROR, Severity.WARNING, Severity.INFO).index(self)


@dataclass(frozen=True, slots=True)
class FindingKind:
    """One kind of finding: `id` is stable, `help` says why it matters and how to fix it."""

    id: str
    title: str
    severity: Severity
    help: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding at a place: `path` such as `Statement[2].Action[0]`, or "" for the document."""

    code: str
    severity: Severity
    message: str
    path: str


class Registry:
    """An immutable set of finding kinds, looked up by ID."""

    def __init__(self, kinds: Iterable[FindingKind]) -> None:
        by_id: dict[str, FindingKind] = {}
        for kind in kinds:
            if kind.id in by_id:
                raise ValueError(f"finding kind {kind.id!r} registered twice")
            by_id[kind.id] = kind
        self._by_id = MappingProxyType(by_id)

    def __getitem__(self, code: str) -> FindingKind:
        return self._by_id[code]

    def __contains__(self, code: object) -> bool:
        return code in self._by_id

    def __iter__(self) -> Iterator[FindingKind]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def finding(self, code: str, message: str, path: str = "") -> Finding:
        """A finding of kind `code` with its default severity; an unknown code is a bug. What
        the message and path quote of a document is escaped to one printable line."""
        return Finding(code, self[code].severity, one_line(message), one_line(path))


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

POLICY_FINDINGS = Registry(
    (
        # Structure: what the parser reports. IAM rejects all of these.
        FindingKind("NOT_JSON", "Not JSON", _E, "The document must be valid JSON."),
        FindingKind(
            "DUPLICATE_KEY",
            "Duplicate key",
            _E,
            "A JSON object names the same key twice; IAM would silently keep only one of them.",
        ),
        FindingKind(
            "INVALID_TYPE",
            "Wrong type",
            _E,
            "An element has the wrong JSON type, e.g. a number where IAM expects a string or a "
            "list of strings.",
        ),
        FindingKind(
            "UNKNOWN_ELEMENT",
            "Unknown element",
            _E,
            "IAM accepts only Version, Id and Statement at the top, and Sid, Effect, "
            "(Not)Action, (Not)Resource, (Not)Principal and Condition in a statement. "
            "Element names are case-sensitive.",
        ),
        FindingKind(
            "MISSING_ELEMENT",
            "Missing element",
            _E,
            "A required element is missing: Statement, Effect, Action or NotAction; Resource "
            "or NotResource in identity policies; Principal or NotPrincipal in resource "
            "policies.",
        ),
        FindingKind(
            "EMPTY_VALUE",
            "Empty value",
            _E,
            "A list or condition block is empty; give at least one value.",
        ),
        FindingKind(
            "INVALID_VERSION",
            "Invalid Version",
            _E,
            'Version must be "2012-10-17" (current) or "2008-10-17"; it is a fixed date, '
            "not the date the policy was written.",
        ),
        FindingKind(
            "UNKNOWN_EFFECT", "Unknown Effect", _E, "Effect must be exactly Allow or Deny."
        ),
        FindingKind(
            "ACTION_AND_NOTACTION",
            "Both Action and NotAction",
            _E,
            "A statement has either Action or NotAction, never both.",
        ),
        FindingKind(
            "RESOURCE_AND_NOTRESOURCE",
            "Both Resource and NotResource",
            _E,
            "A statement has either Resource or NotResource, never both.",
        ),
        FindingKind(
            "PRINCIPAL_AND_NOTPRINCIPAL",
            "Both Principal and NotPrincipal",
            _E,
            "A statement has either Principal or NotPrincipal, never both.",
        ),
        FindingKind(
            "UNKNOWN_OPERATOR",
            "Unknown condition operator",
            _E,
            "Condition operators are case-sensitive names from the IAM reference, optionally "
            "with a ForAllValues:/ForAnyValue: prefix and an IfExists suffix.",
        ),
        FindingKind(
            "INVALID_CHARACTER",
            "Character IAM does not accept",
            _E,
            "Policy documents may contain only tab, line feed, carriage return and characters "
            "U+0020 to U+00FF.",
        ),
        # Where the policy may be used.
        FindingKind(
            "UNEXPECTED_PRINCIPAL",
            "Principal in an identity policy",
            _E,
            "Identity policies apply to the principal they are attached to; IAM rejects a "
            "Principal or NotPrincipal element in them.",
        ),
        FindingKind(
            "UNKNOWN_PRINCIPAL_TYPE",
            "Unknown principal type",
            _E,
            "A Principal object's keys are AWS, Service, Federated or CanonicalUser.",
        ),
        # Actions, resources and condition keys, against the catalog.
        FindingKind(
            "MALFORMED_ACTION",
            "Malformed action",
            _E,
            "Actions are written `service:ActionName` (letters, digits and hyphens, with `*` "
            "and `?` wildcards), or `*` alone.",
        ),
        FindingKind(
            "UNKNOWN_SERVICE",
            "Unknown service",
            _E,
            "The service prefix is not in the IAM catalog; check its spelling (it is the "
            "prefix from the Service Authorization Reference, e.g. `s3`, `ec2`, `dynamodb`).",
        ),
        FindingKind(
            "UNKNOWN_ACTION",
            "Unknown action",
            _E,
            "The action, or every action a wildcard could match, is not in the IAM catalog; "
            "the statement grants or denies nothing through it.",
        ),
        FindingKind(
            "MALFORMED_ARN",
            "Malformed ARN",
            _E,
            "Resources are `*` or ARNs `arn:partition:service:region:account:resource` "
            "(region and account may be empty; `*` and `?` wildcards allowed in each field).",
        ),
        FindingKind(
            "RESOURCE_TYPE_MISMATCH",
            "Resource matches none of the actions",
            _W,
            "The resource is of no type any of the statement's actions takes, so it grants "
            "or denies nothing: e.g. s3:ListBucket on `bucket/*` (ListBucket takes the "
            "bucket ARN).",
        ),
        FindingKind(
            "ACTION_RESOURCE_MISMATCH",
            "Action applies to none of the resources",
            _W,
            "None of the statement's resources is of a type the action takes (or the action "
            "takes only `*`), so the action is granted or denied on nothing.",
        ),
        FindingKind(
            "UNKNOWN_CONDITION_KEY",
            "Unknown condition key",
            _W,
            "The key is neither a global condition key nor one the catalog lists for any "
            "service; a missing key makes most operators false (or true for negated ones).",
        ),
        FindingKind(
            "CONDITION_TYPE_MISMATCH",
            "Operator does not suit the key's type",
            _W,
            "The operator compares a different type than the key holds, e.g. NumericEquals on "
            "a String key; the comparison is likely never true.",
        ),
        FindingKind(
            "INVALID_CONDITION_VALUE",
            "Value the operator cannot read",
            _W,
            "The operator cannot read this value (a number, date, boolean or IP range), so "
            "the test is never true.",
        ),
        FindingKind(
            "SET_OPERATOR_ON_SINGLE_VALUED_KEY",
            "Set operator on a single-valued key",
            _W,
            "ForAllValues/ForAnyValue are for multivalued keys; on a single-valued key "
            "ForAllValues is also true when the key is missing, which can grant too much.",
        ),
        FindingKind(
            "MULTIVALUED_KEY_WITHOUT_SET_OPERATOR",
            "Multivalued key without a set operator",
            _W,
            "A multivalued key (e.g. aws:TagKeys) needs ForAllValues: or ForAnyValue: to say "
            "how its values are compared.",
        ),
        # Size: IAM's character quotas.
        FindingKind(
            "SIZE_QUOTA_MANAGED",
            "Managed policy over the size quota",
            _E,
            "A managed policy may have at most 6,144 characters, whitespace not counted. "
            "Split it, or merge statements and use wildcards deliberately.",
        ),
        FindingKind(
            "SIZE_QUOTA_INLINE",
            "Inline policies over the size quota",
            _E,
            "A principal's inline policies together may have at most 10,240 characters for "
            "a role, 5,120 for a group and 2,048 for a user, whitespace not counted.",
        ),
        # Meaning: valid, but probably not what the author intended.
        FindingKind(
            "EMPTY_STATEMENT_LIST",
            "No statements",
            _W,
            "The policy has no statements and so allows and denies nothing.",
        ),
        FindingKind(
            "LEGACY_VERSION",
            "Version 2008-10-17 or none",
            _W,
            'Without Version "2012-10-17" policy variables such as ${aws:username} are not '
            "substituted but read as literal text; IAM treats a missing Version as 2008-10-17.",
        ),
        FindingKind(
            "DUPLICATE_SID",
            "Duplicate Sid",
            _W,
            "Statement IDs should be unique within a policy; some services reject duplicates.",
        ),
        FindingKind(
            "DUPLICATE_STATEMENT",
            "Duplicate statement",
            _I,
            "The statement repeats an earlier one; `alpha normalise` removes it.",
        ),
        FindingKind(
            "DUPLICATE_VALUE",
            "Duplicate value",
            _I,
            "The value repeats an earlier one in the same list; `alpha normalise` removes it.",
        ),
        FindingKind(
            "REDUNDANT_PATTERN",
            "Pattern covered by a wildcard",
            _I,
            "Another pattern in the same list already matches everything this one does "
            "(e.g. s3:GetObject beside s3:Get*); `alpha normalise` removes it.",
        ),
    )
)
