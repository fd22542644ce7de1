"""IAM Access Analyzer's policy generation, CheckNoNewAccess and ValidatePolicy, speaking the
real REST-JSON protocol, with its quotas:

- `PUT /policy/generation` starts a job; the same `clientToken` gives the same job; while a
  job of the account is in progress, another is `ConflictException` (409); past
  `daily_quota` jobs, `ServiceQuotaExceededException` (402);
- `GET /policy/generation/{jobId}` is `IN_PROGRESS` for `polls_before_done` polls, then
  `SUCCEEDED` with the policies `generated[principalArn]` (JSON strings, placeholders kept);
- `PUT /policy/generation/{jobId}` cancels;
- `POST /policy/check-no-new-access`: FAIL when an allowed (action, resource) of the new
  document is matched by no Allow of the existing one (wildcards by fnmatch: no conditions,
  which the tests' policies do not use), else PASS;
- `POST /policy/validation`: the findings in `findings` (paged two at a time);
- `throttle_next` requests get `ThrottlingException` (429).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from tests.wire.rest_json import Reply, Routes, ServiceError, serving


@dataclass
class Job:
    principal: str
    token: str
    details: dict[str, Any]
    polls_left: int
    status: str = "IN_PROGRESS"


@dataclass
class FakeAccessAnalyzer:
    generated: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    polls_before_done: int = 1
    daily_quota: int = 50
    throttle_next: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)
    jobs: dict[str, Job] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    routes: Routes = field(default_factory=Routes)
    endpoint_url: str = ""

    def _throttle(self) -> None:
        if self.throttle_next > 0:
            self.throttle_next -= 1
            raise ServiceError(429, "ThrottlingException", "Rate exceeded")

    def start(self, _: tuple[str, ...], body: dict[str, Any], __: dict[str, str]) -> Reply:
        self._throttle()
        token = body.get("clientToken", "")
        for job_id, job in self.jobs.items():
            if token and job.token == token:
                return Reply({"jobId": job_id})
        if any(job.status == "IN_PROGRESS" for job in self.jobs.values()):
            raise ServiceError(409, "ConflictException", "A policy generation job is running")
        if len(self.jobs) >= self.daily_quota:
            raise ServiceError(
                402, "ServiceQuotaExceededException", "Policy generation daily quota exceeded"
            )
        principal = body["policyGenerationDetails"]["principalArn"]
        job_id = str(uuid.uuid4())
        details = body["cloudTrailDetails"]
        self.jobs[job_id] = Job(principal, token, details, self.polls_before_done)
        return Reply({"jobId": job_id})

    def get(self, groups: tuple[str, ...], _: dict[str, Any], query: dict[str, str]) -> Reply:
        self._throttle()
        job = self._job(groups[0])
        if job.status == "IN_PROGRESS":
            job.polls_left -= 1
            if job.polls_left < 0:
                job.status = "SUCCEEDED"
        answer: dict[str, Any] = {
            "jobDetails": {"jobId": groups[0], "status": job.status, "startedOn": 1.7e9}
        }
        if job.status == "SUCCEEDED":
            policies = self.generated.get(job.principal, [])
            answer["generatedPolicyResult"] = {
                "properties": {"isComplete": True, "principalArn": job.principal},
                "generatedPolicies": [{"policy": json.dumps(p)} for p in policies],
            }
        return Reply(answer)

    def cancel(self, groups: tuple[str, ...], _: dict[str, Any], __: dict[str, str]) -> Reply:
        self._job(groups[0]).status = "CANCELED"
        return Reply({})

    def _job(self, job_id: str) -> Job:
        if job_id not in self.jobs:
            raise ServiceError(400, "ValidationException", f"no job {job_id}")
        return self.jobs[job_id]

    def check(self, _: tuple[str, ...], body: dict[str, Any], __: dict[str, str]) -> Reply:
        self._throttle()
        new = json.loads(body["newPolicyDocument"])
        existing = json.loads(body["existingPolicyDocument"])
        self.checks.append({"new": new, "existing": existing, "type": body.get("policyType")})
        allowed = list(_allows(existing))
        reasons = [
            {
                "description": f"New access in the statement: {action} on {resource}",
                "statementIndex": index,
            }
            for index, action, resource in _indexed_allows(new)
            if not any(fnmatchcase(action, a) and fnmatchcase(resource, r) for a, r in allowed)
        ]
        if reasons:
            return Reply(
                {
                    "result": "FAIL",
                    "message": "The new policy grants new access.",
                    "reasons": reasons,
                }
            )
        return Reply(
            {"result": "PASS", "message": "The policy grants no new access.", "reasons": []}
        )

    def validate(self, _: tuple[str, ...], body: dict[str, Any], query: dict[str, str]) -> Reply:
        self._throttle()
        start = int(query.get("nextToken") or 0)
        page = self.findings[start : start + 2]
        answer: dict[str, Any] = {"findings": page}
        if start + 2 < len(self.findings):
            answer["nextToken"] = str(start + 2)
        return Reply(answer)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _indexed_allows(document: dict[str, Any]) -> Iterator[tuple[int, str, str]]:
    statements = document.get("Statement") or []
    for index, statement in enumerate(_as_list(statements)):
        if statement.get("Effect") != "Allow":
            continue
        for action in _listed(statement.get("Action")):
            for resource in _listed(statement.get("Resource")):
                yield index, action.lower(), resource


def _allows(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    return ((action, resource) for _, action, resource in _indexed_allows(document))


def _as_list(statements: Any) -> list[dict[str, Any]]:
    return [statements] if isinstance(statements, dict) else list(statements)


@contextmanager
def running_analyzer(**settings: Any) -> Iterator[FakeAccessAnalyzer]:
    fake = FakeAccessAnalyzer(**settings)
    fake.routes.add("PUT", r"/policy/generation", fake.start)
    fake.routes.add("GET", r"/policy/generation/([^/]+)", fake.get)
    fake.routes.add("PUT", r"/policy/generation/([^/]+)", fake.cancel)
    fake.routes.add("POST", r"/policy/check-no-new-access", fake.check)
    fake.routes.add("POST", r"/policy/validation", fake.validate)
    with serving(fake.routes) as url:
        fake.endpoint_url = url
        yield fake
