"""The guardrail rules' stable IDs, titles, default severities and help.

Kept in the same `Registry` form as the policy findings, so reports (text, JSON, SARIF) treat
both alike. IDs never change meaning: configuration and suppressions key on them.
"""

from __future__ import annotations

from alpha.policy.findings import FindingKind, Registry, Severity

_E = Severity.ERROR

GUARDRAIL_RULES = Registry(
    (
        FindingKind(
            "WILDCARD_ACTION",
            "Wildcard action",
            _E,
            "An Allow grants every action (`*`), every action of a service (`s3:*`), or every "
            "action but some (NotAction). List the actions needed instead. Wildcards inside an "
            "action name (`s3:Get*`) are reported with the severity set by "
            "`partial_action_wildcards` (a warning unless configured).",
        ),
        FindingKind(
            "WILDCARD_RESOURCE_ON_WRITE",
            "Write access on every resource",
            _E,
            "Write or Permissions management actions that can be scoped to resources are "
            'granted on `Resource: "*"` (or through NotResource). Name the ARNs, or the '
            "tightest pattern that covers them. An action whose one resource type is optional "
            "in the Service Authorization Reference (`cloudwatch:PutMetricData`) is reported "
            "only as information: a call naming no such resource is authorised on `*`.",
        ),
        FindingKind(
            "PASSROLE_UNSCOPED",
            "iam:PassRole not scoped",
            _E,
            "iam:PassRole lets the holder hand a role to a service, which then acts with the "
            "role's permissions. Grant it on the named roles only, with an "
            "`iam:PassedToService` condition naming the services that may receive them.",
        ),
        FindingKind(
            "BLOCKED_ACTION",
            "Blocked action",
            _E,
            "The organisation blocks this action (`blocked_actions` or ALPHA_BLOCKED_ACTIONS). "
            "A wildcard that covers a blocked action grants it too.",
        ),
        FindingKind(
            "DISALLOWED_SERVICE",
            "Disallowed service",
            _E,
            "The organisation disallows this service (`disallowed_services` or "
            "ALPHA_DISALLOWED_SERVICES).",
        ),
        FindingKind(
            "MISSING_REQUIRED_CONDITION",
            "Required condition missing",
            _E,
            "Every Allow statement must be restricted by the configured condition keys "
            "(`required_conditions` or ALPHA_REQUIRED_CONDITIONS), e.g. aws:RequestedRegion. "
            "Negated operators and Null do not count: they do not restrict to allowed values.",
        ),
        FindingKind(
            "PRIVILEGE_ESCALATION",
            "Privilege escalation",
            _E,
            "The policy grants an action, or a combination of actions, known to let a "
            "principal give itself more permissions (Rhino Security Labs' IAM privilege "
            "escalation methods, PMapper's edges). Remove it, or scope it so it cannot reach "
            "more privileged principals and policies.",
        ),
        FindingKind(
            "SIZE_QUOTA",
            "Policy over the size limit",
            _E,
            "The policy has more characters (whitespace not counted) than `max_policy_size` "
            "(IAM's managed-policy quota, 6,144, unless configured). Merge statements or use "
            "wildcards deliberately.",
        ),
    )
)
