"""The organisation's usage, queried once and handed out by account."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alpha.app.org_usage import NoNewBatches, OrgUsage
from alpha.usage.aggregate import UsageQuery
from alpha.usage.errors import UsageError
from alpha.usage.ingest import ingest
from alpha.usage.ports import LogBatch, TimeWindow
from tests.fakes.cloudtrail_logs import ACCOUNT, record
from tests.fakes.memory_usage_source import MemoryUsageSource
from tests.fakes.memory_usage_store import MemoryUsageStore

OTHER = "999988887777"


def _in(account: str, event: dict[str, Any]) -> dict[str, Any]:
    """The same event made by a role of `account`."""
    moved: dict[str, Any] = json.loads(json.dumps(event).replace(ACCOUNT, account))
    return moved


@pytest.fixture
def usage() -> OrgUsage:
    source = MemoryUsageSource("trail")
    source.put("a.json", [record("GetObject"), _in(OTHER, record("PutObject", role="batch"))])
    store = MemoryUsageStore()
    read = ingest([source], store, TimeWindow(), workers=1)
    return OrgUsage(store, read.keys, TimeWindow())


def test_each_account_sees_only_its_principals_whatever_keys_it_asks_for(
    usage: OrgUsage,
) -> None:
    mine = usage.account(ACCOUNT)
    assert {r.principal for r in mine.usage(UsageQuery((), None, TimeWindow()))} == {
        f"arn:aws:iam::{ACCOUNT}:role/app"
    }
    other = usage.account(OTHER)
    rows = other.usage(UsageQuery(()))
    assert [(r.principal, r.action) for r in rows] == [
        (f"arn:aws:iam::{OTHER}:role/batch", "s3:PutObject")
    ]
    assert list(other.active_days(UsageQuery(()))) == [f"arn:aws:iam::{OTHER}:role/batch"]
    assert other.summary(()).events == 2  # the organisation's batches
    assert other.usage(UsageQuery((), f"arn:aws:iam::{OTHER}:role/none")) == []


def test_every_question_is_narrowed_to_the_accounts_principals(usage: OrgUsage) -> None:
    mine, other = usage.account(ACCOUNT), usage.account(OTHER)
    app, batch = f"arn:aws:iam::{ACCOUNT}:role/app", f"arn:aws:iam::{OTHER}:role/batch"
    outline = other.outline(UsageQuery(()))
    assert (outline.principals, outline.actions) == (((batch, 1),), frozenset({"s3:PutObject"}))
    assert mine.outline(UsageQuery(())).actions == frozenset({"s3:GetObject"})
    # a part of the principals that names another account's gets none of its rows
    assert mine.usage(UsageQuery(()).among(frozenset({batch}))) == []
    assert [r.principal for r in mine.usage(UsageQuery(()).among(frozenset({app, batch})))] == [app]
    assert usage.account("444455556666").outline(UsageQuery(())).principals == ()
    assert usage.principals(OTHER) == frozenset({batch})
    documents = [d for part in other.usage_documents(UsageQuery(())) for d in part]
    assert [json.loads(d)["principal"] for d in documents] == [batch]


def test_an_accounts_own_ingest_finds_nothing_new() -> None:
    source = NoNewBatches("trail")
    assert source.name == "trail"
    assert list(source.batches(TimeWindow())) == []
    with pytest.raises(UsageError, match="already read"):
        source.read(LogBatch("k", 1, "v"))
