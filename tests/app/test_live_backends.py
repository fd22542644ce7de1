"""The choice of the IAM a rollout changes (`ConfiguredBackends.iam_changer`): live IAM for
an account whose proposals were made from a live read, the working copy otherwise, or as
`iam` says; and the live changer refuses credentials that reach another account. IAM is moto
in server mode, reached as a user would (AWS_ENDPOINT_URL_IAM / _STS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alpha.adapters.aws.clients import make_client
from alpha.adapters.aws.iam_changer import LiveIam
from alpha.adapters.local.sqlite_store import SQLiteStore
from alpha.app import Settings
from alpha.app.backends import ConfiguredBackends, live_copy_name
from alpha.rollout.errors import IamChangeError
from tests.moto_iam import MOTO_ACCOUNT, TRUST, iam_client
from tests.rollout.factories import APP, proposal


@pytest.fixture
def store(iam_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SQLiteStore:
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", iam_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", iam_endpoint)
    client = iam_client(iam_endpoint)
    client.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST))
    found = SQLiteStore(tmp_path / "alpha.db")
    found.save_proposal(proposal())
    return found


def backends(tmp_path: Path, iam: str | None = None) -> ConfiguredBackends:
    settings = Settings(store=tmp_path / "a.db", usage_store=tmp_path / "u", user="x", iam=iam)
    return ConfiguredBackends(settings, {})


def test_an_account_read_live_rolls_out_to_live_iam(store: SQLiteStore, tmp_path: Path) -> None:
    with pytest.raises(IamChangeError, match="no working copy"):
        backends(tmp_path).iam_changer(store).principal_state(APP)  # a file's account
    store.save_account_copy(live_copy_name(MOTO_ACCOUNT), {"source": "aws"})
    assert backends(tmp_path).iam_changer(store).principal_state(APP)["principal"] == APP
    with pytest.raises(IamChangeError, match="no working copy"):
        backends(tmp_path, iam="local").iam_changer(store).principal_state(APP)


def test_iam_aws_rolls_every_account_out_to_live_iam(store: SQLiteStore, tmp_path: Path) -> None:
    assert backends(tmp_path, iam="aws").iam_changer(store).principal_state(APP)["inline"] == {}


def test_credentials_of_another_account_change_nothing(store: SQLiteStore) -> None:
    sts = make_client("sts")
    other = "444455556666"
    client = make_client("iam")
    iam = LiveIam(client, other, identity=lambda: str(sts.get_caller_identity()["Account"]))
    arn = APP.replace(MOTO_ACCOUNT, other)
    with pytest.raises(
        IamChangeError, match=f"credentials reach account {MOTO_ACCOUNT}, not {other}"
    ):
        iam.put_inline_policy(arn, "p", {"Version": "2012-10-17", "Statement": []})
    assert client.list_role_policies(RoleName="app")["PolicyNames"] == []
