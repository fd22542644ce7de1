"""Proposal ids (content hashes), prefixes, and the records' own checks."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpha.store.errors import AmbiguousProposalError, ProposalNotFoundError, StoreError
from alpha.store.model import (
    Approval,
    StageRecord,
    StoredProposal,
    canonical_json,
    normalise_prefix,
    proposal_id,
    short_id,
    single_match,
)
from tests.fakes.store_records import ROLE, T0, make_proposal, policy

PLAN = {"replace_inline": ["legacy"]}


def test_proposal_id_is_sha256_of_the_canonical_content() -> None:
    # Ids are persisted and typed by users: this byte layout must never change.
    expected = hashlib.sha256(
        b'{"plan":{"replace_inline":["legacy"]},'
        b'"principal":"arn:aws:iam::111122223333:role/app",'
        b'"proposed_policy":{"Statement":[{"Action":["s3:GetObject"],"Effect":"Allow",'
        b'"Resource":"*"}],"Version":"2012-10-17"}}'
    ).hexdigest()
    assert proposal_id(ROLE, policy(), PLAN) == expected


def test_key_order_does_not_change_the_id() -> None:
    reordered = {"Statement": policy()["Statement"], "Version": "2012-10-17"}
    assert proposal_id(ROLE, reordered, PLAN) == proposal_id(ROLE, policy(), PLAN)


@pytest.mark.parametrize(
    ("principal", "document", "plan"),
    [
        ("arn:aws:iam::111122223333:role/other", policy(), PLAN),
        (ROLE, policy("s3:GetObject", "s3:PutObject"), PLAN),
        (ROLE, policy(), {"replace_inline": []}),
        (ROLE, policy(), {}),
    ],
)
def test_any_change_to_the_content_changes_the_id(
    principal: str, document: dict[str, object], plan: dict[str, object]
) -> None:
    assert proposal_id(principal, document, plan) != proposal_id(ROLE, policy(), PLAN)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=5), json_values, max_size=5))
def test_canonical_json_ignores_insertion_order(value: dict[str, object]) -> None:
    backwards = dict(reversed(list(value.items())))
    assert canonical_json(backwards) == canonical_json(value)
    assert proposal_id(ROLE, backwards, {}) == proposal_id(ROLE, value, {})


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError, match="JSON"):
        canonical_json({"x": float("nan")})


def test_short_id_is_the_first_twelve_characters() -> None:
    full = proposal_id(ROLE, policy(), PLAN)
    assert len(full) == 64
    assert short_id(full) == full[:12]
    assert make_proposal().short_id == make_proposal().id[:12]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("abcdef", "abcdef"), ("  ABCDEF12 ", "abcdef12"), ("0" * 64, "0" * 64)],
)
def test_prefixes_are_normalised(typed: str, expected: str) -> None:
    assert normalise_prefix(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abcde", "too short"),
        ("", "too short"),
        ("abcdeg", "not a hex"),
        ("abc-def", "not a hex"),
        ("0" * 65, "not a hex"),
    ],
)
def test_bad_prefixes_are_a_store_error(typed: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        normalise_prefix(typed)


def test_single_match() -> None:
    assert single_match("abcdef", ["abcdef01"]) == "abcdef01"
    with pytest.raises(ProposalNotFoundError, match="abcdef"):
        single_match("abcdef", [])
    with pytest.raises(AmbiguousProposalError, match=r"matches 2 proposals.*more characters"):
        single_match("abcdef", ["abcdef01" + "0" * 56, "abcdef02" + "0" * 56])


def test_create_computes_the_id_from_the_content() -> None:
    proposal = make_proposal()
    assert proposal.id == proposal_id(ROLE, proposal.proposed_policy, proposal.plan)
    assert proposal.proposed_policy == policy()


def test_a_proposal_cannot_carry_an_id_that_is_not_its_hash() -> None:
    honest = make_proposal(1)
    with pytest.raises(ValueError, match="not the hash"):
        StoredProposal(
            id=make_proposal(2).id,
            principal=honest.principal,
            created_at=honest.created_at,
            created_by=honest.created_by,
            document=honest.document,
            plan=honest.plan,
        )


def test_a_proposal_needs_a_proposed_policy() -> None:
    with pytest.raises(ValueError, match="proposed_policy"):
        StoredProposal.create(
            principal=ROLE, document={"rationale": "x"}, plan={}, created_by="a", created_at=T0
        )


@pytest.mark.parametrize(
    "moment", [datetime(2024, 1, 1), datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=2)))]
)
def test_times_must_be_utc(moment: datetime) -> None:
    with pytest.raises(ValueError, match="UTC"):
        make_proposal(created_at=moment)
    with pytest.raises(ValueError, match="UTC"):
        Approval("x" * 64, moment, True, "bob")


def test_an_approval_binds_to_the_content_it_was_given_on() -> None:
    proposal = make_proposal(1)
    approval = Approval(proposal.id, T0, True, "bob", "ok")
    assert approval.proposal_hash == proposal.id
    assert approval.binds(proposal)
    assert not approval.binds(make_proposal(2))
    stale = Approval(proposal.id, T0, True, "bob", proposal_hash=make_proposal(2).id)
    assert not stale.binds(proposal)


def test_stage_record_times_must_be_utc() -> None:
    from alpha.store.model import Stage, StageState

    with pytest.raises(ValueError, match="updated_at"):
        StageRecord("x", Stage.CANARY, StageState.STARTED, T0, datetime(2024, 1, 1))
