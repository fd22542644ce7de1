"""`blocking_codes`: what blocks a stored proposal's policy under the guardrails in force."""

from __future__ import annotations

from typing import Any

import pytest

from alpha.catalog import Catalog
from alpha.guardrails import load_config
from alpha.guardrails.check import UNREADABLE_POLICY, blocking_codes

READS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}],
}


@pytest.mark.parametrize(
    ("env", "document", "expected"),
    [
        ({}, READS, []),
        ({"ALPHA_DISALLOWED_SERVICES": "dynamodb"}, READS, ["DISALLOWED_SERVICE"]),
        ({"ALPHA_BLOCKED_ACTIONS": "dynamodb:Get*"}, READS, ["BLOCKED_ACTION"]),
        ({}, {"Statement": "not a list"}, [UNREADABLE_POLICY]),
        ({}, None, [UNREADABLE_POLICY]),
    ],
)
def test_blocking_codes(
    catalog: Catalog, env: dict[str, str], document: Any, expected: list[str]
) -> None:
    assert blocking_codes(document, catalog, load_config(None, env)) == expected
