"""The Access Analyzer adapter over real HTTP against the wire fake: a job started and polled
with backoff, one job per account at a time (ConflictException waits its turn), the daily
quota as one clear error, a job that never ends cancelled, CheckNoNewAccess and paged
ValidatePolicy, throttling retried by the client."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alpha.adapters.aws.access_analyzer import (
    AccessAnalyzer,
    AnalyzerError,
    AnalyzerQuotaError,
    TrailAccess,
    make_analyzer_client,
)
from tests.wire.access_analyzer import FakeAccessAnalyzer, Job, running_analyzer

ROLE = "arn:aws:iam::111122223333:role/orders-api"
TRAIL = TrailAccess(
    "arn:aws:cloudtrail:eu-west-1:111122223333:trail/management",
    "arn:aws:iam::111122223333:role/AccessAnalyzerCloudTrail",
    datetime(2026, 10, 1, tzinfo=UTC),
    datetime(2026, 10, 29, tzinfo=UTC),
)
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}],
}


class Sleeps:
    """A clock the adapter's sleeps move forward, with a hook run on each sleep."""

    def __init__(self, on_sleep: Callable[[], None] = lambda: None) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self._on_sleep = on_sleep

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        self._on_sleep()

    def clock(self) -> float:
        return self.now


def analyzer(fake: FakeAccessAnalyzer, sleeps: Sleeps, wait: float = 600) -> AccessAnalyzer:
    client = make_analyzer_client(region="eu-west-1", endpoint_url=fake.endpoint_url)
    return AccessAnalyzer(
        client, max_wait=timedelta(seconds=wait), sleep=sleeps.sleep, clock=sleeps.clock
    )


def test_a_job_is_started_on_the_trail_and_polled_with_backoff(aws_env: None) -> None:
    with running_analyzer(generated={ROLE: [POLICY]}, polls_before_done=3) as fake:
        sleeps = Sleeps()
        result = analyzer(fake, sleeps).generate(ROLE, TRAIL)
    assert [json.loads(d) for d in result.documents] == [POLICY]
    assert sleeps.slept == [2.0, 4.0, 8.0]
    (job,) = fake.jobs.values()
    assert job.details["trails"] == [{"cloudTrailArn": TRAIL.trail_arn, "allRegions": True}]
    assert job.details["accessRole"] == TRAIL.role_arn
    polls = [r for r in fake.routes.requests if r.method == "GET"]
    assert all("includeResourcePlaceholders=true" in r.query for r in polls)


def test_another_job_in_the_account_is_waited_for(aws_env: None) -> None:
    with running_analyzer(generated={ROLE: [POLICY]}, polls_before_done=0) as fake:
        fake.jobs["theirs"] = Job("arn:aws:iam::111122223333:role/other", "x", {}, 99)

        def finish_theirs() -> None:
            if len(sleeps.slept) == 2:
                fake.jobs["theirs"].status = "SUCCEEDED"

        sleeps = Sleeps(finish_theirs)
        result = analyzer(fake, sleeps).generate(ROLE, TRAIL)
    assert result.documents
    starts = [
        r for r in fake.routes.requests if r.method == "PUT" and r.path.endswith("generation")
    ]
    assert len(starts) == 3
    assert len({r.body["clientToken"] for r in starts}) == 1  # one job, however often asked


def test_a_job_still_blocked_at_the_deadline_is_a_clear_error(aws_env: None) -> None:
    with running_analyzer() as fake:
        fake.jobs["theirs"] = Job("arn:aws:iam::111122223333:role/other", "x", {}, 99)
        with pytest.raises(AnalyzerError, match="StartPolicyGeneration: ConflictException"):
            analyzer(fake, Sleeps(), wait=10).generate(ROLE, TRAIL)


def test_the_daily_quota_is_one_clear_error(aws_env: None) -> None:
    quota = pytest.raises(AnalyzerQuotaError, match="daily quota of policy generations")
    with running_analyzer(daily_quota=0) as fake, quota:
        analyzer(fake, Sleeps()).generate(ROLE, TRAIL)


def test_a_job_that_does_not_finish_in_time_is_cancelled(aws_env: None) -> None:
    with running_analyzer(polls_before_done=100) as fake:
        with pytest.raises(AnalyzerError, match="did not finish within 20s; cancelled"):
            analyzer(fake, Sleeps(), wait=20).generate(ROLE, TRAIL)
        (job,) = fake.jobs.values()
    assert job.status == "CANCELED"


def test_throttling_is_retried_by_the_client(aws_env: None) -> None:
    with running_analyzer(generated={ROLE: [POLICY]}, polls_before_done=0, throttle_next=2) as fake:
        result = analyzer(fake, Sleeps()).generate(ROLE, TRAIL)
    assert result.documents


def allowing(action: str) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": action, "Resource": "*"}
    return {"Version": "2012-10-17", "Statement": [statement]}


@pytest.mark.parametrize(
    ("existing", "result"), [(allowing("s3:*"), "PASS"), (allowing("s3:ListBucket"), "FAIL")]
)
def test_check_no_new_access(aws_env: None, existing: dict[str, Any], result: str) -> None:
    with running_analyzer() as fake:
        check = analyzer(fake, Sleeps()).check_no_new_access(POLICY, existing)
    assert check.result == result
    assert fake.checks[0]["type"] == "IDENTITY_POLICY"


def test_validate_policy_reads_every_page(aws_env: None) -> None:
    findings = [
        {"findingType": kind, "issueCode": f"CODE_{n}", "findingDetails": "d",
         "learnMoreLink": "https://docs.aws.amazon.com/", "locations": []}
        for n, kind in enumerate(["ERROR", "SECURITY_WARNING", "SUGGESTION", "WARNING", "ERROR"])
    ]  # fmt: skip
    with running_analyzer(findings=findings) as fake:
        found = analyzer(fake, Sleeps()).validate(POLICY)
    assert [f.issue_code for f in found] == [f"CODE_{n}" for n in range(5)]
    assert [f.blocks for f in found] == [True, False, False, False, True]
