"""An S3 client on the session's moto server (tests/conftest.py), and a recorder of API calls."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.aws.s3_cloudtrail import make_s3_client
from alpha.demo.sample import SamplePaths, write_sample
from tests.adapters.aws.cli_sample import add_hostile_record


@pytest.fixture
def s3_client(moto_endpoint: str) -> Any:
    return make_s3_client(region="us-east-1", endpoint_url=moto_endpoint)


class CallRecorder:
    """Records an operation's parameters through the client's own event hooks (no mocking)."""

    def __init__(self, client: Any, operation: str) -> None:
        self.calls: list[dict[str, Any]] = []
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-parameter-build.{service}.{operation}", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(dict(params))


@pytest.fixture(scope="session")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> SamplePaths:
    """The demo sample with the hostile record, written once (it takes seconds)."""
    paths = write_sample(tmp_path_factory.mktemp("sample"))
    add_hostile_record(paths.observed)
    return paths


@pytest.fixture
def sample(
    sample_files: SamplePaths, tmp_path: Path, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fresh copy of the sample as the working folder; the account file's path."""
    shutil.copytree(sample_files.root, tmp_path, dirs_exist_ok=True)
    paths = SamplePaths(tmp_path)
    monkeypatch.chdir(tmp_path)
    for name in (
        "ALPHA_STORE",
        "ALPHA_CONFIG",
        "ALPHA_USER",
        "ALPHA_REASONER",
        "ALPHA_ENGINE",
        "ALPHA_ANALYZER_CHECKS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALPHA_NOW", "2026-10-29T00:00:00Z")
    monkeypatch.setenv("ALPHA_STORE_REPLAY", "true")
    return paths.account
