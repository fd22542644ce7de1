"""Names compare as people: separation of duties and allowlists hold however a name is typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpha.app.errors import SettingsError
from alpha.app.settings import Flags, load_settings
from alpha.rollout.approvals import ApprovalPolicy
from alpha.rollout.engine import RolloutSettings
from alpha.rollout.errors import ApprovalError
from alpha.rollout.identity import IdentityError, check_name, person_key, same_person
from alpha.rollout.service import RolloutService
from alpha.store.model import ProposalState
from tests.fakes.scripted_monitor import ScriptedMonitor
from tests.rollout.factories import Clock, proposal, setup

# Each is "Dana" typed another way: case, fullwidth, accents, combining marks, blanks.
DANA_SPELLINGS = ["Dana", "DANA", "dana", "Ｄａｎａ", "Dána", "Dâna", "Da\u0301na", "  dana  "]
# Each is refused: it cannot be told apart from another name by eye.
REFUSED = {
    "Da\u200bna": "invisible",  # zero-width space
    "Dan\u200da": "invisible",  # zero-width joiner
    "\u202edana": "invisible",  # right-to-left override
    "da\u00adna": "invisible",  # soft hyphen
    "da\tna": "invisible",  # a control character
    "D\u0430na": "several scripts",  # Cyrillic a
    "\u0414ana": "several scripts",  # Cyrillic De
    "Dαna": "several scripts",  # Greek alpha
    "": "empty",
    "   ": "empty",
    "x" * 201: "longer than",
}


@pytest.mark.parametrize("spelling", DANA_SPELLINGS)
def test_every_spelling_is_the_same_person(spelling: str) -> None:
    assert same_person(check_name(spelling), "dana")


@pytest.mark.parametrize(("name", "reason"), REFUSED.items())
def test_names_that_hide_who_they_are_are_refused(name: str, reason: str) -> None:
    with pytest.raises(IdentityError, match=reason):
        check_name(name)


@pytest.mark.parametrize(
    ("first", "second"),
    [("dana", "dan"), ("dana", "dana smith"), ("やまだ", "やまた"), ("Дана", "Dana")],
)
def test_different_people_stay_different(first: str, second: str) -> None:
    assert not same_person(check_name(first), check_name(second))


@pytest.mark.parametrize(
    "name", ["山田 太郎", "やまだ たろう", "ヤマダ", "O'Brien", "Zoë", "Ólafur", "Дмитрий", "李"]
)
def test_real_names_in_one_script_are_accepted(name: str) -> None:
    assert check_name(name) == name


@given(st.text(max_size=40))
def test_checking_and_keying_are_idempotent(text: str) -> None:
    try:
        cleaned = check_name(text)
    except IdentityError:
        return
    assert check_name(cleaned) == cleaned
    assert person_key(person_key(cleaned)) == person_key(cleaned)


def _service(policy: ApprovalPolicy) -> RolloutService:
    store, iam = setup()
    return RolloutService(store, iam, ScriptedMonitor(), Clock(), RolloutSettings(approval=policy))


@pytest.mark.parametrize("spelling", DANA_SPELLINGS)
def test_the_proposer_cannot_approve_under_another_spelling(spelling: str) -> None:
    svc = _service(ApprovalPolicy())
    made = proposal(by="dana")
    svc.store.save_proposal(made)
    with pytest.raises(ApprovalError, match="separation of duties"):
        svc.approve(made.id, spelling)
    assert svc.store.proposal_state(made.id) is ProposalState.PROPOSED
    assert svc.store.approvals(made.id) == []


@pytest.mark.parametrize("name", ["Da\u200bna", "D\u0430na"])
def test_a_disguised_approver_is_refused_and_nothing_is_recorded(name: str) -> None:
    svc = _service(ApprovalPolicy())
    made = proposal(by="someone-else")
    svc.store.save_proposal(made)
    with pytest.raises(ApprovalError, match=made.short_id):
        svc.approve(made.id, name)
    assert svc.store.approvals(made.id) == []


def test_the_allowlist_matches_people_and_records_the_cleaned_name() -> None:
    svc = _service(ApprovalPolicy(approvers=frozenset({"Sam"})))
    made = proposal(by="dana")
    svc.store.save_proposal(made)
    with pytest.raises(ApprovalError, match="not an allowed approver"):
        svc.approve(made.id, "samuel")
    approval = svc.approve(made.id, " ＳＡＭ ")
    assert approval.approver == "SAM"
    assert [e.actor for e in svc.store.audit(made.id)] == ["SAM"]


@pytest.mark.parametrize(
    ("flags", "env", "named"),
    [
        (Flags(user="Da\u200bna"), {}, "--by"),
        (Flags(), {"ALPHA_USER": "D\u0430na"}, "ALPHA_USER"),
        (Flags(), {"ALPHA_APPROVERS": "sam,le\u200be"}, "ALPHA_APPROVERS"),
    ],
)
def test_settings_refuse_disguised_names_and_say_where(
    flags: Flags, env: dict[str, str], named: str, tmp_path: Path
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(flags, env, tmp_path)


def test_a_disguised_approver_in_the_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text('[approvals]\napprovers = ["sam", "D\u0430na"]\n')
    with pytest.raises(SettingsError, match=r"alpha\.toml: approvals\.approvers: .*several"):
        load_settings(Flags(), {}, tmp_path)
