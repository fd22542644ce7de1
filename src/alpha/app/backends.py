"""The one place adapters are chosen. `Backends` is what the use cases need from the outside
world (stores, logs, the account, IAM, the monitor, the reasoner, guardrails, the clock);
`ConfiguredBackends` picks each from the settings.

The embedded choices are the defaults: SQLite for the workflow store, DuckDB for usage, the
account from an authorization-details file, the store's working copy of it for IAM changes,
CloudTrail logs for the monitor, the local reasoner. `--account aws` (or `aws://PROFILE`) reads
the account live; a proposal made so rolls out to live IAM (the store remembers the account's
source, `live_copy_name`; `[rollout] iam` / ALPHA_IAM overrides it). A new adapter (DynamoDB,
CloudWatch, Bedrock) is a new branch in one method here, chosen by a setting; the use cases
and the interfaces do not change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from alpha.app.approval_requests import WorkflowCallbacks
from alpha.app.errors import SettingsError
from alpha.app.settings import Settings
from alpha.errors import AlphaError
from alpha.rollout.errors import RolloutError
from alpha.rollout.iam_ports import ErrorRate, IamChanger, Monitor, MonitoredCall
from alpha.rollout.notify_ports import Notifier, SilentNotifier
from alpha.store.errors import StoreError
from alpha.store.ports import Store
from alpha.usage.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from slack_sdk import WebClient

    from alpha.account import AccountSnapshot
    from alpha.adapters.aws.iam_account import LiveAccount
    from alpha.catalog import Catalog
    from alpha.generate.run import GenerationPlan, Outcome
    from alpha.guardrails import GuardrailConfig
    from alpha.iac.ports import ChangeRequester, Checkout
    from alpha.org.ports import OrganizationSource
    from alpha.reasoning import Reasoner
    from alpha.rollout.metric_ports import DeliveryLedger, MetricLog, MetricSink
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
    "is_live_account",
    "ledger_path",
    "live_copy_name",
    "note_fleet_accounts",
    "notifier_for",
    "open_change_requester",
    "open_checkout",
    "open_configured_store",
    "outbox_path",
    "slack_web_client",
    "usage_source_for",
    "working_copies",
]

Clock = Callable[[], datetime]
LOG_NAME = "rollout.jsonl"
OUTBOX_NAME = "slack-outbox.db"


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

    def organization(self, text: str) -> OrganizationSource:
        """The organization a user named: `aws`, `aws://PROFILE` or an organization folder."""
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

    def metric_sink(self) -> MetricSink:
        """Where `ALPHA/IAM` data points go (CloudWatch)."""
        ...

    def delivery_ledger(self) -> DeliveryLedger:
        """Which CloudTrail deliveries were published."""
        ...

    def bake_metrics(self, store: Store) -> MetricSink | None:
        """Where a rollout of the store's proposals publishes what its bakes measured; None:
        it does not (rollouts to a working copy, not to a live account)."""
        ...

    def open_metric_log(self) -> AbstractContextManager[MetricLog]:
        """The workflow metrics' log (embedded metric format)."""

    def notifier(self) -> Notifier:
        """Who is told about proposals, decisions and rollouts (Slack, a webhook, no one)."""
        ...


def account_copy_name(account_id: str) -> str:
    return f"account-{account_id}"


def live_copy_name(account_id: str) -> str:
    """The store's record that the account's proposals were made from a live read, and how it
    was named (`{"source": "aws://PROFILE"}`): their rollouts change live IAM."""
    return f"aws-account-{account_id}"


def is_live_account(text: str) -> bool:
    """`aws` or `aws://PROFILE`: the account the credentials reach, read live."""
    return text == "aws" or text.startswith("aws://")


def working_copies(store: Store) -> list[str]:
    """The working copies the stored proposals' principals live in."""
    return [account_copy_name(a) for a in stored_accounts(store)]


FLEET_ACCOUNTS = "fleet-accounts"
"""The store's record of the accounts fleet proposals reach beyond their principal's."""


def stored_accounts(store: Store) -> list[str]:
    """The accounts of the stored proposals' principals (read from their summaries) and of
    every fleet proposal's targets (`FLEET_ACCOUNTS`)."""
    from alpha.store.summaries import principals_of

    accounts = {arn.split(":")[4] for arn in principals_of(store) if arn.count(":") >= 4}
    fleets = store.account_copy(FLEET_ACCOUNTS) or {}
    accounts.update(str(a) for a in fleets.get("accounts") or [])
    return sorted(a for a in accounts if a)


def note_fleet_accounts(store: Store, accounts: Sequence[str]) -> None:
    """Remember a fleet's accounts, so its rollout reaches each one's copy (or live IAM)."""
    known = list((store.account_copy(FLEET_ACCOUNTS) or {}).get("accounts") or [])
    added = [a for a in accounts if a not in known]
    if added:
        store.save_account_copy(FLEET_ACCOUNTS, {"accounts": sorted([*known, *added])})


def clock_for(settings: Settings) -> Clock:
    """The real clock; with `now` set, a clock that starts there and runs on from it."""
    if settings.now is None:
        return lambda: datetime.now(UTC)
    start, began = settings.now, time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def usage_source_for(text: str) -> UsageSource:
    """The usage source a SOURCE names: `s3://bucket/prefix`, `lookup://[PROFILE@]REGION`
    (the LookupEvents API), `athena://WORKGROUP/DATABASE.TABLE` (a query), or a local path."""
    if text.startswith("athena://"):
        try:
            from alpha.adapters.aws.athena_source import athena_source_for
        except ImportError as exc:
            hint = "Athena needs boto3 (pip install 'alpha-iam[aws]')"
            raise UsageError(f"{text}: {hint}") from exc
        return athena_source_for(text)
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


def ledger_path(usage_store: Path) -> Path:
    """The ledger of published deliveries, beside the usage store it goes with."""
    return usage_store.with_name(f"{usage_store.stem}.published.sqlite")


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
        self._notifier: Notifier | None = None
        self._live: dict[str, LiveAccount] = {}  # one read per command, however often asked

    def clock(self) -> Clock:
        return self._clock

    @contextmanager
    def open_store(self) -> Iterator[Store]:
        """SQLite at the configured path (its folder made when missing), or DynamoDB when the
        store is `dynamodb://PREFIX`, with the rollout's JSON logs appended beside the SQLite
        path while it is open."""
        path = self.settings.store
        path.parent.mkdir(parents=True, exist_ok=True)
        store = open_configured_store(self.settings)
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
        if is_live_account(text):
            return self._live_account(text).snapshot()
        from alpha.adapters.local.authorization_details import read_authorization_details

        return read_authorization_details(Path(text))

    def account_document(self, text: str) -> object:
        """Read as strictly as `read_account` reads it (duplicate keys, NaN, deep nesting:
        one line naming the place)."""
        if is_live_account(text):
            return self._live_account(text).document()
        from alpha.account import AccountError
        from alpha.policy.user_files import InputTextError, decode_json, read_input, shown

        try:
            return decode_json(read_input(Path(text), AccountError))
        except InputTextError as exc:
            raise AccountError(f"{shown(text)}: {exc}") from exc

    def _live_account(self, text: str) -> LiveAccount:
        if text not in self._live:
            from alpha.account import AccountError

            try:
                from alpha.adapters.aws.clients import make_client
                from alpha.adapters.aws.iam_account import LiveAccount, profile_of
            except ImportError as exc:
                hint = "reading IAM needs boto3 (pip install 'alpha-iam[aws]')"
                raise AccountError(f"{text}: {hint}") from exc
            try:
                client = make_client("iam", profile=profile_of(text))
            except UsageError as exc:
                raise AccountError(f"{text}: {exc}") from exc
            self._live[text] = LiveAccount(client, text)
        return self._live[text]

    def organization(self, text: str) -> OrganizationSource:
        """An organization folder, or Organizations live with each account's IAM through
        `[org] role` (the management account with the caller's own credentials)."""
        if not is_live_account(text):
            from alpha.adapters.local.org_folder import OrgFolder
            from alpha.org.errors import OrgError

            if not Path(text).is_dir():
                raise OrgError(f"{text}: no such organization folder (or give aws, aws://PROFILE)")
            return OrgFolder(Path(text))
        return _live_organization(text, self.settings)

    def iam_changer(self, store: Store) -> IamChanger:
        """The store's working copies; live IAM for the accounts whose proposals were made
        from a live read (or every account, with `iam = "aws"`; none with `"local"`)."""
        from alpha.adapters.local.working_copy_iam import WorkingCopyIam

        accounts = stored_accounts(store)
        live = self._live_sources(store, accounts)
        local = WorkingCopyIam(store, [account_copy_name(a) for a in accounts if a not in live])
        if not live:
            return local
        from alpha.app.iam_routing import AccountRoutedIam

        role, external_id = self.settings.org_role, self.settings.org_external_id
        return AccountRoutedIam(
            {a: partial(_live_iam, text, a, role, external_id) for a, text in live.items()}, local
        )

    def _live_sources(self, store: Store, accounts: list[str]) -> dict[str, str]:
        choice = self.settings.iam
        if choice == "local":
            return {}
        if choice is not None:
            return dict.fromkeys(accounts, choice)
        found: dict[str, str] = {}
        for account in accounts:
            record = store.account_copy(live_copy_name(account))
            if record is not None:
                found[account] = str(record.get("source") or "aws")
        return found

    @contextmanager
    def open_monitor(self, *, watch: bool) -> Iterator[Monitor]:
        if watch and self.settings.monitor == "cloudwatch":
            yield self._cloudwatch_monitor()
            return
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

    def _cloudwatch_monitor(self) -> Monitor:
        from alpha.adapters.aws.cloudwatch_metrics import make_cloudwatch_client
        from alpha.adapters.aws.cloudwatch_monitor import CloudWatchMonitor
        from alpha.adapters.local.shared_usage import SharedUsageStore

        path = self.settings.usage_store
        path.parent.mkdir(parents=True, exist_ok=True)
        usage = SharedUsageStore(path)  # for the sandbox's replay: the metrics hold no actions
        return CloudWatchMonitor(
            make_cloudwatch_client(), usage, self.delivery_ledger(), self._clock
        )

    def metric_sink(self) -> MetricSink:
        from alpha.adapters.aws.cloudwatch_metrics import CloudWatchMetrics, make_cloudwatch_client

        return CloudWatchMetrics(make_cloudwatch_client())

    def delivery_ledger(self) -> DeliveryLedger:
        from alpha.adapters.local.published_deliveries import SQLiteDeliveryLedger

        return SQLiteDeliveryLedger(ledger_path(self.settings.usage_store))

    def bake_metrics(self, store: Store) -> MetricSink | None:
        # Published when a rollout may change live IAM (the same choice `iam_changer` makes):
        # a working copy's bakes measure nothing anyone watches on CloudWatch.
        live = self._live_sources(store, stored_accounts(store))
        return self.metric_sink() if live else None

    @contextmanager
    def open_metric_log(self) -> Iterator[MetricLog]:
        from alpha.adapters.local.emf_log import emf_log_beside

        path = self.settings.store
        path.parent.mkdir(parents=True, exist_ok=True)
        with emf_log_beside(path) as metric_log:
            yield metric_log

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

    def notifier(self) -> Notifier:
        if self._notifier is None:
            self._notifier = notifier_for(self.settings)
        return self._notifier


def outbox_path(settings: Settings) -> Path:
    """Notifications wait beside the store until delivered."""
    return settings.store.parent / OUTBOX_NAME


def slack_web_client(settings: Settings) -> WebClient:
    """The Web API client as the bot, at the configured base URL."""
    try:
        from slack_sdk import WebClient
    except ImportError as exc:
        raise SettingsError("Slack needs slack_sdk (pip install 'alpha-iam[slack]')") from exc
    if not settings.slack.bot_token:
        raise SettingsError("set SLACK_BOT_TOKEN (the bot's xoxb- token) to talk to Slack")
    return WebClient(token=settings.slack.bot_token, base_url=settings.slack.api_url)


def notifier_for(settings: Settings) -> Notifier:
    """The Slack bot when it has a token and a channel; else the incoming webhook when one is
    set; else no one. Either Slack way queues in a durable outbox beside the store."""
    slack = settings.slack
    if not slack.notifies:
        return SilentNotifier()
    from alpha.adapters.local.outbox import SQLiteOutbox
    from alpha.adapters.slack.notifier import OutboxNotifier, Sender

    sender: Sender
    if slack.bot_posts and slack.channel:
        from alpha.adapters.slack.bot import SlackBotSender

        sender = SlackBotSender(slack_web_client(settings), slack.channel)
    else:
        from slack_sdk.webhook import WebhookClient

        from alpha.adapters.slack.webhook import SlackWebhookSender

        sender = SlackWebhookSender(WebhookClient(str(slack.webhook_url)))
    return OutboxNotifier(SQLiteOutbox(outbox_path(settings)), sender)


@contextmanager
def open_change_requester(settings: Settings) -> Iterator[ChangeRequester | None]:
    """GitHub's REST API at the configured URL with the token; None without a token (then
    `alpha pr` pushes the branch and says where to open the pull request by hand)."""
    if not settings.github.token:
        yield None
        return
    import httpx

    from alpha.adapters.github.rest import GitHubRest

    with httpx.Client(timeout=30.0) as client:
        yield GitHubRest(client, token=settings.github.token, api_url=settings.github.api_url)


def open_checkout(
    clone: Path, *, remote: str, base: str, branch: str
) -> AbstractContextManager[Checkout]:
    """A branch of a local git clone, prepared in a worktree of its own."""
    from alpha.adapters.github.git import git_checkout

    return git_checkout(clone, remote=remote, base=base, branch=branch)


def _live_iam(
    text: str, account_id: str, org_role: str | None = None, external_id: str | None = None
) -> IamChanger:
    """The boto3 changer of one account, which first checks the credentials reach it; with
    an organisation role, another account than the caller's is reached by assuming it."""
    from alpha.adapters.aws.clients import make_client
    from alpha.adapters.aws.iam_account import profile_of
    from alpha.adapters.aws.iam_changer import LiveIam

    profile = profile_of(text)
    client = make_client("iam", profile=profile)
    sts = make_client("sts", profile=profile)
    if org_role is not None:
        from alpha.adapters.aws.account_iam import account_iam
        from alpha.adapters.aws.assume_role import RoleInAccounts

        return account_iam(
            sts, client, account_id, RoleInAccounts(org_role, external_id=external_id)
        )
    return LiveIam(client, account_id, identity=lambda: str(sts.get_caller_identity()["Account"]))


def _live_organization(text: str, settings: Settings) -> OrganizationSource:
    from alpha.org.errors import OrgError

    try:
        from alpha.adapters.aws.assume_role import RoleInAccounts
        from alpha.adapters.aws.clients import make_client
        from alpha.adapters.aws.iam_account import profile_of
        from alpha.adapters.aws.organizations import AwsOrganization, MemberIam
    except ImportError as exc:
        raise OrgError(f"{text}: Organizations needs boto3 (pip install 'alpha-iam[aws]')") from exc
    try:
        profile = profile_of(text)
        clients = {s: make_client(s, profile=profile) for s in ("organizations", "sts", "iam")}
    except AlphaError as exc:  # no such profile, a bad aws:// name
        raise OrgError(f"{text}: {exc}") from exc
    org = settings.org
    role = RoleInAccounts(org.role, external_id=org.external_id)
    members = MemberIam(clients["sts"], role, own_iam=clients["iam"])
    return AwsOrganization(clients["organizations"], members, text)


def open_configured_store(settings: Settings) -> Store:
    """The store the settings name: DynamoDB (`dynamodb://PREFIX`; the region, credentials
    and endpoint are boto3's: AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_DYNAMODB, ...) or the
    SQLite file."""
    if settings.store_url is not None:
        from alpha.app.store_options import store_prefix

        try:
            from alpha.adapters.aws.dynamodb_clients import make_dynamodb_client
            from alpha.adapters.aws.dynamodb_store import DynamoDBStore
        except ImportError as exc:
            hint = "the DynamoDB store needs boto3 (pip install 'alpha-iam[aws]')"
            raise StoreError(f"{settings.store_url}: {hint}") from exc
        prefix = store_prefix(settings.store_url)
        client = make_dynamodb_client()
        return DynamoDBStore(client, prefix, key=settings.store_key, anchor=settings.store_anchor)
    from alpha.adapters.local.sqlite_store import SQLiteStore

    return SQLiteStore(settings.store, key=settings.store_key, anchor=settings.store_anchor)


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
