"""The application's tests run on the demo's sample, over `MemoryBackends`: the account and
its 30 days of CloudTrail, plus a role whose every call was refused, and a reasoner that fails
for report-builder as a model-backed one may."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from alpha.app import Application, GenerateRequest, Settings
from alpha.demo.sample import ROLLOUT_AT, write_sample
from alpha.generate import GenerateError
from alpha.reasoning import Reasoning
from alpha.reasoning.evidence import Evidence
from alpha.usage.aggregate import UsageQuery, UsageRow
from alpha.usage.ports import LogBatch
from tests.fakes.memory_backends import MemoryBackends
from tests.fakes.memory_usage_source import MemoryUsageSource
from tests.fakes.memory_usage_store import MemoryUsageStore

ACCOUNT, LOGS = "account.json", "cloudtrail"
PROPOSER, APPROVER = "dana", "sam"


class CountingSource(MemoryUsageSource):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.reads: Counter[str] = Counter()

    def read(self, batch: LogBatch) -> bytes:
        self.reads[batch.key] += 1
        return super().read(batch)


class FailingReasoner:
    """The local reasoner, failing for one principal as a model-backed one may."""

    def __init__(self, failing: str) -> None:
        from alpha.catalog import load_catalog
        from alpha.reasoning import LocalReasoner

        self.failing = failing
        self.local = LocalReasoner(load_catalog())

    def reason(self, evidence: Evidence) -> Reasoning:
        if evidence.principal.endswith(f"/{self.failing}"):
            raise GenerateError(f"{evidence.principal}: the reasoner gave no answer")
        return self.local.reason(evidence)


class CountingUsageStore(MemoryUsageStore):
    def __init__(self) -> None:
        super().__init__()
        self.queries = 0

    def usage(self, query: UsageQuery) -> list[UsageRow]:
        self.queries += 1
        return super().usage(query)


def _records(folder: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        str(path.relative_to(folder)): json.loads(gzip.decompress(path.read_bytes()))["Records"]
        for path in sorted(folder.rglob("*.json.gz"))
    }


def _denied_only(records: list[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    """The orders-api calls again, as `role` would make them, each refused."""
    text = json.dumps([r for r in records if "orders-api" in json.dumps(r["userIdentity"])][:5])
    return [
        {**r, "errorCode": "AccessDenied", "errorMessage": "denied"}
        for r in json.loads(text.replace("orders-api", role))
    ]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    paths = write_sample(tmp_path_factory.mktemp("sample"))
    return json.loads(paths.account.read_text()), _records(paths.observed)


@pytest.fixture
def backends(sample: tuple[dict[str, Any], dict[str, Any]]) -> MemoryBackends:
    account, logs = sample
    made = MemoryBackends(ROLLOUT_AT, reasoner=FailingReasoner("report-builder"))
    made.add_account(ACCOUNT, account)
    source = made.sources[LOGS] = CountingSource(LOGS)
    for key, records in logs.items():
        source.put(key, records)
    first = next(iter(logs.values()))
    source.put("denied.json", _denied_only(first, "legacy-batch"))
    return made


@pytest.fixture
def app(backends: MemoryBackends, tmp_path: Path) -> Application:
    settings = Settings(store=tmp_path / "unused.db", usage_store=tmp_path / "u", user=PROPOSER)
    return Application(settings, backends)


def orders_of(app: Application) -> str:
    """Propose from the sample; orders-api's proposal id."""
    proposed = app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER).proposed
    return next(p.id for p in proposed if "orders-api" in p.principal)
