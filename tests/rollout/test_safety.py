"""What a real account needs of a rollout, on the working copy and on live IAM (moto in server
mode over HTTP, behind the boto3 changer): the scope (service-linked roles, ALPHA's own roles,
principals outside the configured scope are never touched), a principal changed by someone
else meanwhile stops the stage, ALPHA's own policy is updated through versions and a rollback
sets the old default back, and two rollouts of one principal never interleave."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.aws.iam_changer import LiveIam, ServiceLinkedRoleError
from alpha.adapters.local.sqlite_store import SQLiteStore
from alpha.adapters.local.working_copy_iam import WorkingCopyIam, import_account_copy
from alpha.rollout.drift import BASELINE_KEY, PrincipalChangedError
from alpha.rollout.engine import RolloutEngine, RolloutSettings
from alpha.rollout.iam_ports import IamChanger, JsonDict
from alpha.rollout.leases import PrincipalBusyError
from alpha.rollout.scope import OutOfScopeError, PrincipalScope
from alpha.rollout.service import RolloutService
from alpha.rollout.stages import StageSettings
from alpha.store.model import ProposalState, Stage, StoredProposal
from alpha.store.ports import Store
from tests.fakes.scripted_monitor import Call, ScriptedMonitor
from tests.moto_iam import MOTO_ACCOUNT, iam_client, seed_account
from tests.rollout.factories import (
    ACCOUNT,
    APP,
    PLAN,
    PROPOSED,
    SHARED,
    T0,
    Clock,
    account,
    approve,
    proposal,
)

HOUR = timedelta(hours=1)
GET = ("s3:GetObject", "arn:aws:s3:::data/a.txt")
OTHER = f"arn:aws:iam::{ACCOUNT}:role/other"
assert ACCOUNT == MOTO_ACCOUNT


@dataclass
class Rig:
    store: Store
    iam: IamChanger
    client: Any = None  # the IAM client of the live rig, to change IAM behind ALPHA's back
    path: Path | None = None  # the SQLite file, which another process would open

    def other_process(self) -> tuple[SQLiteStore, IamChanger]:
        """The same store and IAM as a second `alpha` process sees them: its own connection."""
        assert self.path is not None
        store = SQLiteStore(self.path)
        if self.client is not None:
            return store, LiveIam(iam_client(self.client.meta.endpoint_url), MOTO_ACCOUNT)
        return store, WorkingCopyIam(store, [f"account-{ACCOUNT}"])

    def engine(self, scope: PrincipalScope | None = None, at: datetime = T0) -> RolloutEngine:
        settings = RolloutSettings(stages=StageSettings(bake=HOUR), scope=scope or PrincipalScope())
        return RolloutEngine(self.store, self.iam, ScriptedMonitor(), Clock(at), settings)


def document(**extra: Any) -> JsonDict:
    found = account()
    found["RoleDetailList"] += extra.get("roles", [])
    return found


@pytest.fixture(params=["working-copy", "live"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    store = SQLiteStore(tmp_path / "alpha.db")
    if request.param == "live":
        client = iam_client(request.getfixturevalue("iam_endpoint"))
        seed_account(client, document())
        yield Rig(store, LiveIam(client, MOTO_ACCOUNT), client, tmp_path / "alpha.db")
    else:
        import_account_copy(store, f"account-{ACCOUNT}", document())
        yield Rig(store, WorkingCopyIam(store, [f"account-{ACCOUNT}"]), path=tmp_path / "alpha.db")
    store.close()


def stored(rig: Rig, made: StoredProposal) -> str:
    rig.store.save_proposal(made)
    approve(rig.store, made)
    return made.id


def with_baseline(rig: Rig, principal: str = APP, **more: Any) -> StoredProposal:
    """A proposal as `propose` stores one: the principal's state it was made from kept."""
    plan = {
        **PLAN,
        **more.pop("plan", {}),
        BASELINE_KEY: {principal: rig.iam.principal_state(principal)},
    }
    made = proposal(principal, **more)
    return StoredProposal.create(
        principal=principal,
        document=made.document,
        plan=plan,
        created_by=made.created_by,
        created_at=made.created_at,
    )


def through_production(eng: RolloutEngine, pid: str) -> ProposalState:
    monitor = eng.monitor
    assert isinstance(monitor, ScriptedMonitor)
    monitor.add(Call(APP, eng.clock() + timedelta(minutes=5), *GET))
    monitor.covered = eng.clock() + 10 * HOUR
    return eng.run(pid).state


# Scope --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "reason"),
    [
        (PrincipalScope(names=("billing-*",)), "its name matches none of 'billing-*'"),
        (PrincipalScope(paths=("/teams/",)), "its path / is under none of '/teams/'"),
        (PrincipalScope(tags=("alpha-managed=true",)), "none of the tags 'alpha-managed=true'"),
        (PrincipalScope(own=("ap*",)), "one of ALPHA's own principals (ap*)"),
    ],
    ids=["name", "path", "tag", "ALPHA's own"],
)
def test_a_principal_outside_the_scope_is_refused_before_anything(
    rig: Rig, scope: PrincipalScope, reason: str
) -> None:
    before = rig.iam.principal_state(APP)
    pid = stored(rig, proposal())
    eng = rig.engine(scope)
    with pytest.raises(OutOfScopeError, match=re.escape(reason)):
        through_production(eng, pid)
    assert rig.store.proposal_state(pid) is ProposalState.APPROVED
    assert rig.store.journal(pid) == []
    assert rig.iam.principal_state(APP) == before


def test_a_principal_in_the_scope_by_name_path_and_tag_is_rolled_out(rig: Rig) -> None:
    if rig.client is not None:
        rig.client.tag_role(RoleName="app", Tags=[{"Key": "alpha-managed", "Value": "true"}])
    else:
        changed = document()
        changed["RoleDetailList"][0]["Tags"] = [{"Key": "alpha-managed", "Value": "true"}]
        import_account_copy(rig.store, f"account-{ACCOUNT}", changed)
    scope = PrincipalScope(names=("app", "web-*"), paths=("/",), tags=("alpha-managed",))
    pid = stored(rig, proposal())
    assert through_production(rig.engine(scope), pid) is ProposalState.SUCCEEDED


def test_a_scope_narrowed_during_the_rollout_stops_the_next_stage(rig: Rig) -> None:
    pid = stored(rig, proposal())
    eng = rig.engine()
    eng.monitor.add(Call(APP, T0 + timedelta(minutes=5), *GET))  # type: ignore[attr-defined]
    eng.monitor.covered = T0 + 10 * HOUR  # type: ignore[attr-defined]
    eng.run(pid, Stage.SANDBOX)
    narrowed = rig.engine(PrincipalScope(names=("billing-*",)))
    narrowed.monitor = eng.monitor
    with pytest.raises(OutOfScopeError, match="outside the scope"):
        narrowed.run(pid)
    assert rig.store.proposal_state(pid) is ProposalState.CANARY  # the sandbox passed
    assert rig.store.stage(pid, Stage.CANARY) is None  # and the canary never began


def test_a_service_linked_role_is_never_changed_by_the_live_changer(iam_endpoint: str) -> None:
    client = iam_client(iam_endpoint)
    role = client.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]
    iam = LiveIam(client, MOTO_ACCOUNT)
    before = iam.principal_state(role["Arn"])
    changes: list[Callable[[], None]] = [
        lambda: iam.put_inline_policy(role["Arn"], "p", PROPOSED),
        lambda: iam.delete_inline_policy(role["Arn"], "p"),
        lambda: iam.attach_managed_policy(role["Arn"], "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        lambda: iam.detach_managed_policy(role["Arn"], "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        lambda: iam.put_permissions_boundary(role["Arn"], "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        lambda: iam.delete_permissions_boundary(role["Arn"]),
    ]
    for change in changes:
        with pytest.raises(ServiceLinkedRoleError, match="service-linked role"):
            change()
    assert iam.principal_state(role["Arn"]) == before
    with pytest.raises(OutOfScopeError, match="service-linked role: AWS owns it"):
        PrincipalScope().check(role["Arn"], {})


# Someone changed the principal meanwhile ----------------------------------------------------


def change_behind_our_back(rig: Rig) -> None:
    """Another admin adds an inline policy to the role while the rollout waits."""
    extra = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}],
    }
    if rig.client is not None:
        rig.client.put_role_policy(
            RoleName="app", PolicyName="hotfix", PolicyDocument=json.dumps(extra)
        )
    else:
        WorkingCopyIam(rig.store, [f"account-{ACCOUNT}"]).put_inline_policy(APP, "hotfix", extra)


def test_a_principal_changed_since_the_proposal_stops_before_the_canary(rig: Rig) -> None:
    pid = stored(rig, with_baseline(rig))
    change_behind_our_back(rig)
    changed = rig.iam.principal_state(APP)
    with pytest.raises(
        PrincipalChangedError, match=r"inline policy 'hotfix' added.*newer change stands"
    ):
        through_production(rig.engine(), pid)
    assert rig.iam.principal_state(APP) == changed  # the newer change stands
    assert rig.store.stage(pid, Stage.CANARY) is None
    assert rig.store.proposal_state(pid) is ProposalState.CANARY  # the sandbox passed


def test_a_principal_changed_during_the_canary_stops_before_production(rig: Rig) -> None:
    pid = stored(rig, with_baseline(rig))
    eng = rig.engine()
    eng.monitor.add(Call(APP, T0 + timedelta(minutes=5), *GET))  # type: ignore[attr-defined]
    eng.monitor.covered = T0 + 10 * HOUR  # type: ignore[attr-defined]
    eng.run(pid, Stage.CANARY)
    assert rig.store.proposal_state(pid) is ProposalState.CANARY
    change_behind_our_back(rig)
    changed = rig.iam.principal_state(APP)
    with pytest.raises(PrincipalChangedError, match="changed since its canary"):
        eng.run(pid)
    assert rig.iam.principal_state(APP) == changed
    assert rig.store.stage(pid, Stage.PRODUCTION) is None


def test_an_unchanged_principal_goes_through_every_stage(rig: Rig) -> None:
    pid = stored(rig, with_baseline(rig))
    assert through_production(rig.engine(), pid) is ProposalState.SUCCEEDED


# ALPHA's own policy through versions -----------------------------------------------------------


def test_a_second_rollout_updates_alphas_policy_by_a_version_and_a_rollback_sets_it_back(
    rig: Rig,
) -> None:
    first_plan = {
        "steps": [
            *PLAN["steps"][:2],
            {"action": "attach", "kind": "customer-managed", "name": "alpha-least-privilege"},
        ]
    }
    first = with_baseline(rig, plan=first_plan)
    first_id = stored(rig, first)
    assert through_production(rig.engine(), first_id) is ProposalState.SUCCEEDED
    [ours] = rig.iam.principal_state(APP)["attached"]
    assert ours.endswith(f":policy/alpha/alpha-least-privilege-{first_id[:12]}")
    assert (rig.iam.managed_policy_version(ours), rig.iam.managed_policy(ours)) == ("v1", PROPOSED)
    before = rig.iam.principal_state(APP)
    narrower = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/a.txt"}
        ],
    }
    second_plan = {
        "steps": [
            {"action": "detach", "kind": "managed", "name": ours.rpartition("/")[2], "arn": ours},
            first_plan["steps"][-1],
        ]
    }
    second = with_baseline(rig, plan=second_plan, policy=narrower)
    second_id = stored(rig, second)
    later = T0 + timedelta(days=1)
    assert through_production(rig.engine(at=later), second_id) is ProposalState.SUCCEEDED
    after = rig.iam.principal_state(APP)
    assert after["attached"] == [ours]  # no second ALPHA policy beside it
    assert (rig.iam.managed_policy_version(ours), rig.iam.managed_policy(ours)) == ("v2", narrower)
    assert rig.engine(at=later).rollback(second_id, "sam").state is ProposalState.ROLLED_BACK
    assert rig.iam.principal_state(APP) == before
    assert (rig.iam.managed_policy_version(ours), rig.iam.managed_policy(ours)) == ("v1", PROPOSED)


# Two rollouts of one principal ------------------------------------------------------------------


def test_two_interleaving_rollouts_of_one_principal_cannot_both_act(rig: Rig) -> None:
    """The second process tries while the first is between two IAM changes; it is refused
    and changes nothing, and the first finishes as if alone."""
    first, second = stored(rig, proposal()), stored(rig, proposal(policy={**PROPOSED, "Id": "2"}))
    monitor = ScriptedMonitor()
    monitor.add(Call(APP, T0 + timedelta(minutes=5), *GET))
    monitor.covered = T0 + 10 * HOUR
    settings = RolloutSettings(stages=StageSettings(bake=HOUR))
    refused: list[str] = []

    their_store, their_iam = rig.other_process()

    def other_process(point: str) -> None:
        if point.startswith("before canary.0:") and not refused:
            theirs = RolloutService(their_store, their_iam, monitor, Clock(), settings, holder="b")
            with pytest.raises(PrincipalBusyError) as caught:
                theirs.run(second)
            refused.append(str(caught.value))

    service = RolloutService(rig.store, rig.iam, monitor, Clock(), settings, holder="a")
    service.engine.checkpoint = other_process
    service.engine.steps.checkpoint = other_process
    assert service.run(first).state is ProposalState.SUCCEEDED
    assert refused
    assert "a is rolling it out or back" in refused[0]
    assert rig.store.proposal_state(second) is ProposalState.APPROVED
    assert rig.store.journal(second) == []
    assert rig.iam.principal_state(APP)["inline"] == {"alpha-least-privilege": PROPOSED}
    assert SHARED not in rig.iam.principal_state(APP)["attached"]
    their_store.close()


def test_a_rollback_by_hand_never_undoes_a_newer_change(rig: Rig) -> None:
    pid = stored(rig, with_baseline(rig))
    eng = rig.engine()
    assert through_production(eng, pid) is ProposalState.SUCCEEDED
    change_behind_our_back(rig)
    changed = rig.iam.principal_state(APP)
    with pytest.raises(PrincipalChangedError, match="changed since its production changed it"):
        eng.rollback(pid, "sam")
    assert rig.iam.principal_state(APP) == changed
    assert rig.store.proposal_state(pid) is ProposalState.SUCCEEDED
