"""The one place adapters are chosen. `Backends` is what the use cases need from the outside
world (stores, logs, the account, IAM, the monitor, the reasoner, guardrails, the clock);
`ConfiguredBackends` picks each from the settings.

Today every choice is the embedded one: SQLite for the workflow store, DuckDB for usage, the
account from an authorization-details file, the store's working copy of it for IAM changes,
CloudTrail logs for the monitor, the local reasoner. A new adapter (DynamoDB, live IAM,
CloudWatch, Bedrock) is a new branch in one method here, chosen by a setting; the use cases
and the interfaces do not change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from alpha.app.approval_requests import WorkflowCallbacks
from alpha.app.errors import SettingsError
from alpha.app.settings import Settings
from alpha.rollout.errors import RolloutError
from alpha.rollout.iam_ports import ErrorRate, IamChanger, Monitor, MonitoredCall
from alpha.store.ports import Store
from alpha.usage.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from alpha.account import AccountSnapshot
    from alpha.catalog import Catalog
    from alpha.generate.run import GenerationPlan, Outcome
    from alpha.guardrails import GuardrailConfig
    from alpha.reasoning import Reasoner
    from alpha.usage.ports import UsageSource, UsageStore

__all__ = [
    "LOG_NAME",
    "Backends",
    "Clock",
    "ConfiguredBackends",
    "PolicyEngine",
    "UnwatchedMonitor",
    "account_copy_name",
    "clock_for",
    "usage_source_for",
    "working_copies",
]

Clock = Callable[[], datetime]
LOG_NAME = "rollout.jsonl"


class PolicyEngine(Protocol):
    """Another writer of the policies (Access Analyzer), held to ALPHA's checks."""

    def outcomes(self, plan: GenerationPlan) -> Iterator[Outcome]: ...


class Backends(Protocol):
    """Every adapter a use case may need, opened or made on demand."""

    def clock(self) -> Clock: ...

    def open_store(self) -> AbstractContextManager[Store]:
        """The workflow store, closed when the block ends."""
        ...

    def open_usage_store(self) -> AbstractContextManager[UsageStore]: ...

    def usage_source(self, text: str) -> UsageSource:
        """The CloudTrail source a user named (a folder, s3://..., lookup://...)."""
        ...

    def read_account(self, text: str) -> AccountSnapshot:
        """The IAM state of the account a user named."""
        ...

    def account_document(self, text: str) -> object:
        """The same account as its authorization-details JSON, to import as a working copy."""
        ...

    def iam_changer(self, store: Store) -> IamChanger: ...

    def open_monitor(self, *, watch: bool) -> AbstractContextManager[Monitor]:
        """What the rollout watches; without `watch`, one that refuses to be asked (approving
        and rolling back by hand read no logs)."""
        ...

    def reasoner(self) -> Reasoner | None:
        """None: the generator's default (the local reasoner)."""
        ...

    def policy_engine(self) -> PolicyEngine | None:
        """None: ALPHA writes the policies; else the engine that writes them instead."""
        ...

    def guardrails(self) -> GuardrailConfig: ...

    def workflow_callbacks(self) -> WorkflowCallbacks:
        """Where an approval answers a Step Functions execution waiting for it."""
        ...

    def catalog(self) -> Catalog: ...


def account_copy_name(account_id: str) -> str:
    return f"account-{account_id}"


def working_copies(store: Store) -> list[str]:
    """The working copies the stored proposals' principals live in."""
    accounts = {p.principal.split(":")[4] for p in store.proposals()}
    return sorted(account_copy_name(a) for a in accounts if a)


def clock_for(settings: Settings) -> Clock:
    """The real clock; with `now` set, a clock that starts there and runs on from it."""
    if settings.now is None:
        return lambda: datetime.now(UTC)
    start, began = settings.now, time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def usage_source_for(text: str) -> UsageSource:
    """The usage source a SOURCE names: `s3://bucket/prefix`, `lookup://[PROFILE@]REGION`
    (the LookupEvents API), or a local path."""
    if text.startswith("s3://"):
        try:
            from alpha.adapters.aws.s3_cloudtrail import (
                S3CloudTrailSource,
                S3Location,
                make_s3_client,
            )
        except ImportError as exc:
            hint = "reading S3 needs boto3 (pip install 'alpha-iam[aws]')"
            raise UsageError(f"{text}: {hint}") from exc
        return S3CloudTrailSource(make_s3_client(), S3Location.parse(text))
    if text.startswith("lookup://"):
        try:
            from alpha.adapters.aws.lookup_events import lookup_source_for
        except ImportError as exc:
            hint = "LookupEvents needs boto3 (pip install 'alpha-iam[aws]')"
            raise UsageError(f"{text}: {hint}") from exc
        return lookup_source_for(text)
    from alpha.adapters.local.cloudtrail_files import LocalCloudTrailFiles

    path = Path(text)
    if not path.exists():
        raise UsageError(f"{text}: no such file or folder")
    return LocalCloudTrailFiles(path)


class UnwatchedMonitor:
    """The monitor when no logs are configured: approving and rolling back by hand need none;
    a stage that must watch logs gets a clear error."""

    def _refuse(self) -> RolloutError:
        return RolloutError(
            "no logs to watch: give --logs SOURCE, set ALPHA_LOGS, or set "
            "[rollout] logs in alpha.toml"
        )

    def error_rate(self, principal: str, since: datetime, until: datetime) -> ErrorRate:
        raise self._refuse()

    def calls(self, principal: str, since: datetime, until: datetime) -> list[MonitoredCall]:
        raise self._refuse()

    def covered_until(self) -> datetime | None:
        raise self._refuse()


class ConfiguredBackends:
    """The adapters the settings choose. `env` is the environment guardrail variables are read
    from; `clock` replaces the settings' clock (the demo follows its sample's timeline)."""

    def __init__(
        self, settings: Settings, env: Mapping[str, str], *, clock: Clock | None = None
    ) -> None:
        self.settings = settings
        self._env = dict(env)
        self._clock = clock or clock_for(settings)

    def clock(self) -> Clock:
        return self._clock

    @contextmanager
    def open_store(self) -> Iterator[Store]:
        """SQLite at the configured path (its folder made when missing), with the rollout's
        JSON logs appended beside it while it is open."""
        from alpha.adapters.local.sqlite_store import SQLiteStore

        path = self.settings.store
        path.parent.mkdir(parents=True, exist_ok=True)
        store = SQLiteStore(path, key=self.settings.store_key, anchor=self.settings.store_anchor)
        try:
            with _json_logs_beside(path):
                yield store
        finally:
            store.close()

    @contextmanager
    def open_usage_store(self) -> Iterator[UsageStore]:
        from alpha.adapters.local.duckdb_usage import DuckDBUsageStore

        path = self.settings.usage_store
        path.parent.mkdir(parents=True, exist_ok=True)
        with DuckDBUsageStore(path) as usage:
            yield usage

    def usage_source(self, text: str) -> UsageSource:
        return usage_source_for(text)

    def read_account(self, text: str) -> AccountSnapshot:
        from alpha.adapters.local.authorization_details import read_authorization_details

        return read_authorization_details(Path(text))

    def account_document(self, text: str) -> object:
        """Read as strictly as `read_account` reads it (duplicate keys, NaN, deep nesting:
        one line naming the place)."""
        from alpha.account import AccountError
        from alpha.policy.user_files import InputTextError, decode_json, read_input, shown

        try:
            return decode_json(read_input(Path(text), AccountError))
        except InputTextError as exc:
            raise AccountError(f"{shown(text)}: {exc}") from exc

    def iam_changer(self, store: Store) -> IamChanger:
        from alpha.adapters.local.working_copy_iam import WorkingCopyIam

        return WorkingCopyIam(store, working_copies(store))

    @contextmanager
    def open_monitor(self, *, watch: bool) -> Iterator[Monitor]:
        if not (watch and self.settings.logs):
            yield UnwatchedMonitor()
            return
        from alpha.adapters.local.cloudtrail_monitor import CloudTrailMonitor
        from alpha.adapters.local.shared_usage import SharedUsageStore

        sources = [self.usage_source(text) for text in self.settings.logs]
        path = self.settings.usage_store
        path.parent.mkdir(parents=True, exist_ok=True)
        # Opened per question: a rollout watches for hours, and others need the store too.
        yield CloudTrailMonitor(sources, SharedUsageStore(path))

    def reasoner(self) -> Reasoner | None:
        """None (the generator's local reasoner), or Claude on Bedrock with the local reasoner
        answering whenever the model cannot."""
        chosen = self.settings.reasoning
        if chosen.reasoner != "bedrock":
            return None
        try:
            from alpha.adapters.aws.bedrock_reasoner import BedrockReasoner, make_bedrock_client
        except ImportError as exc:
            hint = "the Bedrock reasoner needs boto3 (pip install 'alpha-iam[aws]')"
            raise SettingsError(hint) from exc
        from alpha.reasoning import LocalReasoner

        client = make_bedrock_client(
            region=chosen.region,
            read_timeout=chosen.timeout.total_seconds(),
            max_attempts=chosen.max_attempts,
        )
        return BedrockReasoner(client, chosen.model, LocalReasoner(self.catalog()))

    def policy_engine(self) -> PolicyEngine | None:
        """None (ALPHA's own), or IAM Access Analyzer's policy generation; its checks of
        never-widen and validation run only when `[analyzer] checks` says AWS is reachable."""
        chosen = self.settings.analyzer
        if chosen.engine != "access-analyzer":
            return None
        try:
            from alpha.adapters.aws.access_analyzer import AccessAnalyzer, make_analyzer_client
        except ImportError as exc:
            hint = "the Access Analyzer engine needs boto3 (pip install 'alpha-iam[aws]')"
            raise SettingsError(hint) from exc
        from alpha.app.analyzer_engine import AnalyzerEngine

        client = make_analyzer_client(region=chosen.region)
        return AnalyzerEngine(AccessAnalyzer(client, max_wait=chosen.max_wait), chosen)

    def workflow_callbacks(self) -> WorkflowCallbacks:
        """Step Functions, in the region and credentials of the environment; only asked for
        when a proposal has an execution waiting."""
        from alpha.adapters.aws.step_functions import (
            StepFunctionsCallbacks,
            make_step_functions_client,
        )

        return StepFunctionsCallbacks(make_step_functions_client())

    def guardrails(self) -> GuardrailConfig:
        from alpha.guardrails import load_config

        return load_config(self.settings.guardrails_file, self._env)

    def catalog(self) -> Catalog:
        from alpha.catalog import load_catalog

        return load_catalog()


@contextmanager
def _json_logs_beside(store_path: Path) -> Iterator[None]:
    """The rollout's steps go to a JSON log beside the store; on stderr only when asked (-v)."""
    from alpha.rollout.logs import LOGGER_NAME, install_json_logs

    with (store_path.parent / LOG_NAME).open("a", encoding="utf-8") as log_file:
        logger = logging.getLogger(LOGGER_NAME)
        level, propagate = logger.level, logger.propagate
        handler = install_json_logs(log_file)
        logger.propagate = logging.getLogger().getEffectiveLevel() <= logging.INFO
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
