"""What the DynamoDB store does beyond the port's contract (tests/contracts/test_store.py), on
moto over HTTP: its tables, values over DynamoDB's 400 KB item limit, the hash chain over the
audit log and the approvals, the write lock between processes, and the calls it makes (the
IAM policy in docs/aws/dynamodb.md grants nothing else)."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from alpha.adapters.aws.dynamodb_clients import make_dynamodb_client
from alpha.adapters.aws.dynamodb_schema import TABLES, ensure_tables
from alpha.adapters.aws.dynamodb_store import DynamoDBStore
from alpha.store.chain import ChainHead
from alpha.store.errors import StoreError, TamperedStoreError
from alpha.store.model import (
    Approval,
    JournalPhase,
    ProposalState,
    Stage,
    StageRecord,
    StageState,
    StoredProposal,
)
from tests.fakes.store_records import ROLE, at, make_proposal, policy

KEY = b"0123456789abcdef-store-key"


@pytest.fixture
def client(moto_endpoint: str) -> Any:
    return make_dynamodb_client(region="us-east-1", endpoint_url=moto_endpoint)


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def big_proposal(statements: int = 12_000) -> StoredProposal:
    """A proposal whose document is megabytes of JSON that does not compress to nothing."""
    rng = random.Random(7)
    document = {
        "proposed_policy": policy(),
        "evidence": [
            {"action": f"s3:Get{rng.getrandbits(64):x}", "sample": rng.randbytes(24).hex()}
            for _ in range(statements)
        ],
    }
    return StoredProposal.create(
        principal=ROLE, document=document, plan={"n": 1}, created_by="alice", created_at=at(0)
    )


def test_tables_are_made_on_demand_with_point_in_time_recovery(client: Any, prefix: str) -> None:
    DynamoDBStore(client, prefix)
    for spec in TABLES:
        table = client.describe_table(TableName=spec.name(prefix))["Table"]
        assert table["TableStatus"] == "ACTIVE"
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert [k["AttributeName"] for k in table["KeySchema"]] == list(spec.key_names)
        backups = client.describe_continuous_backups(TableName=spec.name(prefix))
        recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    store = DynamoDBStore(client, prefix)  # the second open finds them and creates nothing
    assert store.save_proposal(make_proposal())


class BackupsNotYet:
    """The real client, except that a new table refuses point-in-time recovery twice, as
    DynamoDB does while it prepares a table's backups (moto turns it on at once)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.refused: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_continuous_backups(self, **params: Any) -> Any:
        if self.refused.count(params["TableName"]) < 2:
            self.refused.append(params["TableName"])
            code = "ContinuousBackupsUnavailableException"
            raise ClientError({"Error": {"Code": code, "Message": "being enabled"}}, "Update")
        return self._client.update_continuous_backups(**params)


def test_recovery_is_asked_for_again_until_a_new_table_takes_it(client: Any, prefix: str) -> None:
    flaky = BackupsNotYet(client)
    waited: list[float] = []
    ensure_tables(flaky, prefix, sleep=waited.append)  # type: ignore[arg-type]
    assert len(flaky.refused) == 2 * len(TABLES)
    assert len(waited) == 2 * len(TABLES)
    for spec in TABLES:
        backups = client.describe_continuous_backups(TableName=spec.name(prefix))
        recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"


def test_a_table_of_that_name_with_other_keys_is_left_alone(client: Any, prefix: str) -> None:
    client.create_table(
        TableName=f"{prefix}-approvals",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(StoreError, match=f"{prefix}-approvals exists with other keys"):
        DynamoDBStore(client, prefix)
    keys = client.describe_table(TableName=f"{prefix}-approvals")["Table"]["KeySchema"]
    assert keys == [{"AttributeName": "id", "KeyType": "HASH"}]


def test_a_proposal_over_the_item_limit_is_split_and_read_back(client: Any, prefix: str) -> None:
    store = DynamoDBStore(client, prefix)
    proposal = big_proposal()
    assert len(str(proposal.document)) > 400 * 1024
    assert store.save_proposal(proposal)
    assert DynamoDBStore(client, prefix).proposal(proposal.id) == proposal
    parts = client.scan(TableName=f"{prefix}-blobs")["Items"]
    assert len(parts) >= 2
    assert all(len(p["data"]["B"]) <= 300 * 1024 for p in parts)


def test_a_missing_or_changed_part_is_an_error_naming_the_item(client: Any, prefix: str) -> None:
    store = DynamoDBStore(client, prefix)
    proposal = big_proposal()
    store.save_proposal(proposal)
    parts = client.scan(TableName=f"{prefix}-blobs")["Items"]
    first = {"blob": parts[0]["blob"], "part": parts[0]["part"]}
    client.put_item(TableName=f"{prefix}-blobs", Item={**first, "data": {"B": b"x" * 100}})
    with pytest.raises(
        StoreError, match=f"{prefix}-proposals, item proposal_id {proposal.short_id}"
    ):
        store.proposal(proposal.id)
    client.delete_item(TableName=f"{prefix}-blobs", Key=first)
    with pytest.raises(StoreError, match="parts of its value are in"):
        store.proposal(proposal.id)


def test_a_replaced_account_copy_leaves_no_parts_behind(client: Any, prefix: str) -> None:
    store = DynamoDBStore(client, prefix)
    large = big_proposal().document
    assert store.save_account_copy("main", large) == 1
    first_parts = client.scan(TableName=f"{prefix}-blobs")["Count"]
    assert store.save_account_copy("main", {**large, "v": 2}) == 2
    assert client.scan(TableName=f"{prefix}-blobs")["Count"] == first_parts
    assert store.save_account_copy("main", {"small": True}) == 3
    assert client.scan(TableName=f"{prefix}-blobs")["Count"] == 0
    assert store.account_copy("main") == {"small": True}


def _audited(store: DynamoDBStore) -> StoredProposal:
    proposal = make_proposal()
    store.save_proposal(proposal)
    for n in range(3):
        store.append_audit(at=at(n), proposal_id=proposal.id, actor="a", action=f"x{n}", reason="r")
    store.record_approval(Approval(proposal.id, at(5), True, "sam", "ok"))
    return proposal


def _audit_key(seq: int) -> dict[str, Any]:
    return {"log": {"S": "audit"}, "seq": {"N": str(seq)}}


Edit = Callable[[Any, str, StoredProposal], None]


def _edit_reason(client: Any, prefix: str, _: StoredProposal) -> None:
    item = client.get_item(TableName=f"{prefix}-audit", Key=_audit_key(3))["Item"]
    client.put_item(TableName=f"{prefix}-audit", Item={**item, "reason": {"S": "covered up"}})


def _delete_event(client: Any, prefix: str, _: StoredProposal) -> None:
    client.delete_item(TableName=f"{prefix}-audit", Key=_audit_key(3))


def _forge_approval(client: Any, prefix: str, proposal: StoredProposal) -> None:
    item = {
        "proposal_id": {"S": proposal.id},
        "timestamp": {"S": "2024-03-10T13:00:00.000000+00:00#000002"},
        "approved": {"BOOL": True},
        "approver": {"S": "mallory"},
        "comments": {"S": ""},
        "proposal_hash": {"S": proposal.id},
    }
    client.put_item(TableName=f"{prefix}-approvals", Item=item)


def _flip_approval(client: Any, prefix: str, proposal: StoredProposal) -> None:
    table = f"{prefix}-approvals"
    item = client.query(
        TableName=table,
        KeyConditionExpression="proposal_id = :p",
        ExpressionAttributeValues={":p": {"S": proposal.id}},
    )["Items"][0]
    client.put_item(TableName=table, Item={**item, "approved": {"BOOL": False}})


@pytest.mark.parametrize(
    ("edit", "read", "message"),
    [
        (_edit_reason, "audit", "entry 3 .*hash does not match"),
        (_delete_event, "audit", "chain entry 3: missing"),
        (_forge_approval, "approvals", "timestamp 2024-03-10T13:00.*added outside alpha"),
        (_flip_approval, "approvals", "does not match chain entry 5"),
    ],
)
def test_an_edit_outside_alpha_is_found_and_the_store_takes_no_more_writes(
    client: Any, prefix: str, edit: Edit, read: str, message: str
) -> None:
    proposal = _audited(DynamoDBStore(client, prefix))
    edit(client, prefix, proposal)
    store = DynamoDBStore(client, prefix)
    with pytest.raises(TamperedStoreError, match=message):
        store.audit() if read == "audit" else store.approvals(proposal.id)
    with pytest.raises(TamperedStoreError):
        store.set_state(proposal.id, ProposalState.APPROVED, ProposalState.PROPOSED)
    with pytest.raises(TamperedStoreError):
        store.append_journal(proposal.id, "s", JournalPhase.INTENT, {}, at(9))


def test_a_keyed_chain_opens_only_with_its_key(client: Any, prefix: str) -> None:
    _audited(DynamoDBStore(client, prefix, key=KEY))
    assert len(DynamoDBStore(client, prefix, key=KEY).audit()) == 3
    with pytest.raises(StoreError, match="the store's chain is keyed"):
        DynamoDBStore(client, prefix).audit()
    with pytest.raises(TamperedStoreError, match="under the key given"):
        DynamoDBStore(client, prefix, key=b"another-key-of-16-bytes").audit()


def test_an_anchor_shows_the_chain_was_cut_back(client: Any, prefix: str) -> None:
    store = DynamoDBStore(client, prefix)
    _audited(store)
    head = store.chain_head()
    assert head.seq == 5
    assert DynamoDBStore(client, prefix, anchor=head).chain_head() == head
    client.delete_item(TableName=f"{prefix}-audit", Key=_audit_key(5))
    client.delete_item(TableName=f"{prefix}-audit", Key=_audit_key(4))
    with pytest.raises(TamperedStoreError, match="anchored hash"):
        DynamoDBStore(client, prefix, anchor=head).audit()
    with pytest.raises(TamperedStoreError, match="anchored hash"):
        DynamoDBStore(client, prefix, anchor=ChainHead(5, "0" * 64)).audit()


@pytest.mark.parametrize("server", ["moto_endpoint", "dynamodb_local_endpoint"])
def test_of_two_processes_one_moves_the_state(
    request: pytest.FixtureRequest, server: str, prefix: str
) -> None:
    endpoint = request.getfixturevalue(server)
    stores = [
        DynamoDBStore(make_dynamodb_client(region="us-east-1", endpoint_url=endpoint), prefix)
        for _ in range(4)
    ]
    proposal = make_proposal()
    stores[0].save_proposal(proposal)
    won: list[bool] = []
    start = threading.Barrier(len(stores))

    def decide(store: DynamoDBStore) -> None:
        start.wait()
        with store.transaction():
            if store.set_state(proposal.id, ProposalState.APPROVED, ProposalState.PROPOSED):
                store.append_audit(
                    at=at(1), proposal_id=proposal.id, actor="a", action="approve", reason=""
                )
                won.append(True)

    threads = [threading.Thread(target=decide, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert won == [True]
    assert [e.action for e in stores[1].audit()] == ["approve"]


@pytest.mark.slow  # three processes contend for the lock twelve times: 6-8 s
@pytest.mark.parametrize("server", ["moto_endpoint", "dynamodb_local_endpoint"])
def test_processes_appending_at_once_keep_one_chain(
    request: pytest.FixtureRequest, server: str, prefix: str
) -> None:
    endpoint = request.getfixturevalue(server)
    stores = [
        DynamoDBStore(make_dynamodb_client(region="us-east-1", endpoint_url=endpoint), prefix)
        for _ in range(3)
    ]
    proposal = make_proposal()
    stores[0].save_proposal(proposal)
    start = threading.Barrier(len(stores))

    def append(n: int, store: DynamoDBStore) -> None:
        start.wait()
        for k in range(4):
            store.record_approval(Approval(proposal.id, at(k), k % 2 == 0, f"user{n}"))
            store.append_audit(at=at(k), proposal_id=None, actor=f"user{n}", action="x", reason="")

    threads = [threading.Thread(target=append, args=pair) for pair in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fresh = DynamoDBStore(make_dynamodb_client(region="us-east-1", endpoint_url=endpoint), prefix)
    events = fresh.audit()
    assert len(events) == 12
    assert [e.seq for e in events] == sorted({e.seq for e in events})
    assert len(fresh.approvals(proposal.id)) == 12
    assert fresh.chain_head().seq == 1 + 12 + 12


def test_a_busy_store_is_waited_for_then_refused(
    client: Any, moto_endpoint: str, prefix: str
) -> None:
    holder = DynamoDBStore(client, prefix)
    other = DynamoDBStore(
        make_dynamodb_client(region="us-east-1", endpoint_url=moto_endpoint),
        prefix,
        busy_timeout=0.5,
    )
    proposal = make_proposal()
    with holder.transaction():
        holder.save_proposal(proposal)
        began = time.monotonic()
        with pytest.raises(StoreError, match="stayed locked by another alpha process"):
            other.save_proposal(make_proposal(2))
        assert time.monotonic() - began >= 0.5
    assert other.save_proposal(make_proposal(2))
    assert {p.id for p in other.proposals()} == {proposal.id, make_proposal(2).id}


def test_a_lock_held_past_its_time_commits_nothing(
    client: Any, moto_endpoint: str, prefix: str
) -> None:
    slow = DynamoDBStore(client, prefix, lock_seconds=0.3)
    other = DynamoDBStore(
        make_dynamodb_client(region="us-east-1", endpoint_url=moto_endpoint), prefix
    )
    proposal = make_proposal()

    def overstay() -> None:
        with slow.transaction():
            slow.save_proposal(proposal)
            time.sleep(0.5)
            other.save_proposal(make_proposal(2))  # takes the lock that ran out

    with pytest.raises(StoreError, match=r"past its 0\.3 s and another process took it"):
        overstay()
    assert slow.proposal(proposal.id) is None
    assert other.proposal(make_proposal(2).id) is not None


def test_a_transaction_over_dynamodbs_limit_writes_nothing(client: Any, prefix: str) -> None:
    store = DynamoDBStore(client, prefix)
    proposal = make_proposal()
    store.save_proposal(proposal)

    def too_many() -> None:
        with store.transaction():
            for n in range(120):
                store.append_journal(proposal.id, f"step{n}", JournalPhase.INTENT, {}, at(n))

    with pytest.raises(StoreError, match="more than DynamoDB's 99 in one transaction"):
        too_many()
    assert store.journal(proposal.id) == []


WRITES = {
    "PutItem", "UpdateItem", "DeleteItem", "TransactPut", "TransactUpdate", "TransactDelete",
    "PutRequest", "DeleteRequest",
}  # fmt: skip


class Calls:
    """Every operation the store's client makes, by table (no mocking: botocore's own hooks)."""

    def __init__(self, client: Any) -> None:
        self.seen: list[tuple[str, str, dict[str, Any]]] = []
        client.meta.events.register("before-parameter-build.dynamodb.*", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            for action in params["TransactItems"]:
                ((kind, body),) = action.items()
                self.seen.append((f"Transact{kind}", body["TableName"], body))
        elif model.name == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    self.seen.append((next(iter(request)), table, request))
        else:
            self.seen.append((model.name, str(params.get("TableName")), params))


def _workload(store: DynamoDBStore) -> None:
    """Every kind of read and write the store makes."""
    proposal = _audited(store)
    store.set_state(proposal.id, ProposalState.APPROVED, ProposalState.PROPOSED)
    record = StageRecord(proposal.id, Stage.CANARY, StageState.STARTED, at(6), at(6), {"a": 1})
    store.save_stage(record)
    store.stages(proposal.id)
    store.append_journal(proposal.id, "s", JournalPhase.INTENT, {}, at(6))
    store.journal(proposal.id)
    large = big_proposal(3_000).document
    store.save_account_copy("main", large)
    assert store.account_copy("main") == large
    store.save_account_copy("main", {"RoleDetailList": []})
    store.account_copy("main")
    store.acquire_lease("rollout:x", "run-1", at(20), at(6))
    store.lease("rollout:x")
    store.release_lease("rollout:x", "run-1")
    store.find_proposal(proposal.id[:8])
    store.proposals()
    store.latest_approval(proposal.id)
    store.chain_head()


def test_the_audit_log_and_approvals_are_only_ever_appended(client: Any, prefix: str) -> None:
    calls = Calls(client)
    _workload(DynamoDBStore(client, prefix))
    appended = {f"{prefix}-audit", f"{prefix}-approvals"}
    writes = [(op, body) for op, table, body in calls.seen if table in appended and op in WRITES]
    assert {op for op, _ in writes} == {"TransactPut"}
    assert all(body["ConditionExpression"] == "attribute_not_exists(#k)" for _, body in writes)
    assert not [c for c in calls.seen if c[0] in {"UpdateItem", "TransactUpdate"}]
    deleted = {table for op, table, _ in calls.seen if "Delete" in op}
    assert deleted == {f"{prefix}-leases", f"{prefix}-blobs"}


# What IAM checks for each call the store makes (transactions: each action's own item action).
IAM_ACTION = {"TransactPut": "PutItem", "TransactDelete": "DeleteItem",
              "PutRequest": "BatchWriteItem", "DeleteRequest": "BatchWriteItem"}  # fmt: skip
DOCS = Path(__file__).resolve().parents[3] / "docs" / "aws" / "dynamodb.md"


def _documented_policy() -> list[dict[str, Any]]:
    text = DOCS.read_text()
    block = text.split("```json", 1)[1].split("```", 1)[0]
    statements: list[dict[str, Any]] = json.loads(block)["Statement"]
    return statements


def _grants(statement: dict[str, Any], action: str, suffix: str) -> bool:
    tables = [arn.rpartition("table/alpha-")[2] for arn in _listed(statement["Resource"])]
    actions = _listed(statement["Action"])
    return f"dynamodb:{action}" in actions and any(fnmatch(suffix, t) for t in tables)


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_the_documented_iam_policy_allows_every_call_the_store_makes(
    client: Any, prefix: str
) -> None:
    calls = Calls(client)
    _workload(DynamoDBStore(client, prefix))
    policy = _documented_policy()
    made = {
        (IAM_ACTION.get(op, op), table.removeprefix(f"{prefix}-")) for op, table, _ in calls.seen
    }
    assert ("BatchWriteItem", "blobs") in made
    for action, suffix in sorted(made):
        allowed = [s for s in policy if s["Effect"] == "Allow" and _grants(s, action, suffix)]
        denied = [s for s in policy if s["Effect"] == "Deny" and _grants(s, action, suffix)]
        assert allowed, f"the policy in {DOCS.name} does not allow {action} on {suffix}"
        assert not denied, f"the policy in {DOCS.name} denies {action} on {suffix}"
    for action in ("UpdateItem", "DeleteItem", "BatchWriteItem"):
        for suffix in ("audit", "approvals"):
            assert any(s["Effect"] == "Deny" and _grants(s, action, suffix) for s in policy)
    for statement in policy:  # least privilege: nothing granted on a table goes unused
        tables = [arn.rpartition("table/alpha-")[2] for arn in _listed(statement["Resource"])]
        if statement["Effect"] != "Allow" or tables == ["*"]:
            continue
        for action in _listed(statement["Action"]):
            for suffix in tables:
                assert (action.removeprefix("dynamodb:"), suffix) in made, (action, suffix)


def test_every_read_follows_the_pages_to_the_end(client: Any, prefix: str) -> None:
    store = DynamoDBStore(client, prefix, page_size=1)
    proposals = [make_proposal(n, created_at=at(n)) for n in range(4)]
    for proposal in proposals:
        store.save_proposal(proposal)
    first = proposals[0].id
    for n in range(3):
        store.record_approval(Approval(first, at(n), n % 2 == 0, "sam"))
        store.append_journal(first, f"step{n}", JournalPhase.INTENT, {"n": n}, at(n))
        store.append_audit(at=at(n), proposal_id=first, actor="a", action=f"x{n}", reason="r")
    large = big_proposal()
    store.save_proposal(large)
    found = store.proposals()
    assert [p for p in found if p.id != large.id] == proposals
    assert len(found) == 5
    assert store.find_proposal(large.id[:10]) == large
    assert [a.approved for a in store.approvals(first)] == [True, False, True]
    assert [e.payload for e in store.journal(first)] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [e.action for e in DynamoDBStore(client, prefix, page_size=1).audit()] == [
        "x0", "x1", "x2",
    ]  # fmt: skip


def test_store_head_reads_the_chain_and_seal_is_refused(
    client: Any, prefix: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from alpha.app.errors import SettingsError
    from alpha.app.settings import Flags, load_settings
    from alpha.app.store_admin import seal_store, store_head

    store = DynamoDBStore(client, prefix)
    _audited(store)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint)
    settings = load_settings(Flags(), {"ALPHA_STORE": f"dynamodb://{prefix}"}, tmp_path)
    assert store_head(settings) == store.chain_head() == ChainHead(5, store.chain_head().hash)
    with pytest.raises(SettingsError, match="cannot be sealed afterwards"):
        seal_store(settings, KEY)
