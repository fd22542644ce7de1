"""IAM Access Analyzer: policy generation from a trail, CheckNoNewAccess and ValidatePolicy.

Policy generation runs as a job: `StartPolicyGeneration` (the principal, the trail, the role
Access Analyzer assumes to read it, the window), then `GetGeneratedPolicy` polled with
exponential backoff until it succeeds, fails or `max_wait` passes (the job is then
cancelled). Its quotas shape the rest:

- one job per account at a time: `ConflictException` means another job (perhaps another
  user's) is running, so the start is retried with the same backoff until `max_wait`;
- a daily number of jobs per account: `ServiceQuotaExceededException` is `AnalyzerQuotaError`,
  which names the limit and ends the run (every later job would fail the same way).

Throttling of each call is botocore's (`analyzer_config`). Only this module speaks to the
service; it takes its client as a parameter.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from alpha.adapters.aws.analyzer_model import (
    AnalyzerError,
    AnalyzerQuotaError,
    GeneratedPolicy,
    NoNewAccessCheck,
    TrailAccess,
    ValidationFinding,
)
from alpha.adapters.aws.clients import describe_error, make_client

__all__ = [
    "AccessAnalyzer",
    "AnalyzerError",
    "AnalyzerQuotaError",
    "GeneratedPolicy",
    "NoNewAccessCheck",
    "TrailAccess",
    "ValidationFinding",
    "make_analyzer_client",
]

log = logging.getLogger(__name__)

FIRST_POLL = 2.0
LONGEST_POLL = 30.0


def analyzer_config(max_attempts: int = 6) -> Config:
    return Config(
        connect_timeout=10,
        read_timeout=60,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
    )


def make_analyzer_client(
    *, region: str | None = None, profile: str | None = None, endpoint_url: str | None = None
) -> Any:
    """An `accessanalyzer` client; without `endpoint_url`, botocore's own resolution applies
    (including `AWS_ENDPOINT_URL_ACCESSANALYZER`)."""
    config = analyzer_config()
    return make_client(
        "accessanalyzer", region=region, profile=profile, endpoint_url=endpoint_url, config=config
    )


class AccessAnalyzer:
    """The three services ALPHA uses, over one client. `sleep` and `clock` are injectable so
    a test can run the backoff without waiting."""

    def __init__(
        self,
        client: Any,
        *,
        max_wait: timedelta = timedelta(minutes=30),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._max_wait = max_wait.total_seconds()
        self._sleep = sleep
        self._clock = clock

    def generate(self, principal_arn: str, trail: TrailAccess) -> GeneratedPolicy:
        """The policy Access Analyzer generates for `principal_arn` from the trail."""
        deadline = self._clock() + self._max_wait
        job_id = self._start(principal_arn, trail, deadline)
        return self._wait_for(job_id, principal_arn, deadline)

    def _start(self, principal_arn: str, trail: TrailAccess, deadline: float) -> str:
        token = str(uuid.uuid4())  # the same token on every retry: one job, however often sent
        delay = FIRST_POLL
        while True:
            try:
                response = self._client.start_policy_generation(
                    policyGenerationDetails={"principalArn": principal_arn},
                    cloudTrailDetails={
                        "trails": [{"cloudTrailArn": trail.trail_arn, "allRegions": True}],
                        "accessRole": trail.role_arn,
                        "startTime": trail.start,
                        "endTime": trail.end,
                    },
                    clientToken=token,
                )
                return str(response["jobId"])
            except ClientError as error:
                code = _code(error)
                if code == "ServiceQuotaExceededException":
                    raise AnalyzerQuotaError(
                        f"Access Analyzer's daily quota of policy generations for this account "
                        f"is reached ({describe_error(error)}); try again tomorrow, or use "
                        f"--engine alpha"
                    ) from error
                if code != "ConflictException" or self._clock() + delay > deadline:
                    raise AnalyzerError(
                        f"StartPolicyGeneration: {describe_error(error)}"
                    ) from error
                log.info("another policy generation runs in the account; waiting %.0fs", delay)
            except BotoCoreError as error:
                raise AnalyzerError(f"StartPolicyGeneration: {error}") from error
            self._sleep(delay)
            delay = min(delay * 2, LONGEST_POLL)

    def _wait_for(self, job_id: str, principal_arn: str, deadline: float) -> GeneratedPolicy:
        delay = FIRST_POLL
        while True:
            response = self._call(
                "GetGeneratedPolicy",
                self._client.get_generated_policy,
                jobId=job_id,
                includeResourcePlaceholders=True,
                includeServiceLevelTemplate=False,
            )
            details = response.get("jobDetails") or {}
            status = details.get("status")
            if status == "SUCCEEDED":
                return _generated(job_id, response)
            if status in ("FAILED", "CANCELED"):
                error = details.get("jobError") or {}
                raise AnalyzerError(
                    f"policy generation {job_id} for {principal_arn} {status.lower()}: "
                    f"{error.get('code', 'no code')}: {error.get('message', 'no message')}"
                )
            if self._clock() + delay > deadline:
                self._call(
                    "CancelPolicyGeneration", self._client.cancel_policy_generation, jobId=job_id
                )
                raise AnalyzerError(
                    f"policy generation {job_id} for {principal_arn} did not finish within "
                    f"{self._max_wait:.0f}s; cancelled ([analyzer] max_wait)"
                )
            self._sleep(delay)
            delay = min(delay * 2, LONGEST_POLL)

    def check_no_new_access(
        self, new: dict[str, Any], existing: dict[str, Any]
    ) -> NoNewAccessCheck:
        response = self._call(
            "CheckNoNewAccess",
            self._client.check_no_new_access,
            newPolicyDocument=json.dumps(new),
            existingPolicyDocument=json.dumps(existing),
            policyType="IDENTITY_POLICY",
        )
        reasons = tuple(str(r.get("description", "")) for r in response.get("reasons") or [] if r)
        return NoNewAccessCheck(
            str(response.get("result")), str(response.get("message", "")), reasons
        )

    def validate(self, document: dict[str, Any]) -> tuple[ValidationFinding, ...]:
        found: list[ValidationFinding] = []
        token: str | None = None
        while True:
            page = {"nextToken": token} if token else {}
            response = self._call(
                "ValidatePolicy",
                self._client.validate_policy,
                policyDocument=json.dumps(document),
                policyType="IDENTITY_POLICY",
                **page,
            )
            found.extend(
                ValidationFinding(
                    str(f.get("findingType")),
                    str(f.get("issueCode")),
                    str(f.get("findingDetails")),
                    str(f.get("learnMoreLink", "")),
                )
                for f in response.get("findings") or []
            )
            token = response.get("nextToken")
            if not token:
                return tuple(found)

    def _call(self, name: str, operation: Callable[..., Any], **parameters: Any) -> Any:
        try:
            return operation(**parameters)
        except (ClientError, BotoCoreError) as error:
            raise AnalyzerError(f"{name}: {describe_error(error)}") from error


def _generated(job_id: str, response: dict[str, Any]) -> GeneratedPolicy:
    result = response.get("generatedPolicyResult") or {}
    documents = tuple(str(p["policy"]) for p in result.get("generatedPolicies") or [])
    complete = bool((result.get("properties") or {}).get("isComplete", True))
    return GeneratedPolicy(job_id, documents, complete)


def _code(error: ClientError) -> str:
    return str((error.response.get("Error") or {}).get("Code") or "")
