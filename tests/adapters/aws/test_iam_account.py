"""The live reader against what moto does not do: IAM's pages (moto answers in one), throttling
and a refusal. A small local server speaks the IAM query protocol (form-encoded requests, XML
answers) for `GetAccountAuthorizationDetails`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote

import pytest

from alpha.account import AccountError
from alpha.adapters.aws.clients import make_client
from alpha.adapters.aws.iam_account import LiveAccount

ACCOUNT = "111122223333"
TRUST = quote('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
              '"Principal":{"Service":"lambda.amazonaws.com"}}]}')  # fmt: skip
INLINE = quote('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
               '"Resource":"*"}]}')  # fmt: skip


def role(name: str) -> str:
    return (
        f"<member><Path>/</Path><RoleName>{name}</RoleName><RoleId>AROA{name.upper()}</RoleId>"
        f"<Arn>arn:aws:iam::{ACCOUNT}:role/{name}</Arn>"
        "<CreateDate>2024-01-15T10:00:00Z</CreateDate>"
        f"<AssumeRolePolicyDocument>{TRUST}</AssumeRolePolicyDocument>"
        f"<RolePolicyList><member><PolicyName>inline</PolicyName>"
        f"<PolicyDocument>{INLINE}</PolicyDocument></member></RolePolicyList>"
        "<AttachedManagedPolicies/><Tags/></member>"
    )


def page(roles: list[str], marker: str | None) -> bytes:
    truncated = f"<IsTruncated>true</IsTruncated><Marker>{marker}</Marker>" if marker else ""
    return (
        '<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        f"<GetAccountAuthorizationDetailsResult>{truncated}"
        f"<RoleDetailList>{''.join(role(r) for r in roles)}</RoleDetailList>"
        "<UserDetailList/><GroupDetailList/><Policies/>"
        "</GetAccountAuthorizationDetailsResult>"
        "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
        "</GetAccountAuthorizationDetailsResponse>"
    ).encode()


def error(code: str) -> bytes:
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{code} says no</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    ).encode()


class FakeIam:
    """Two pages of roles; `fail_next` answers that many requests with `fail_with`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, list[str]]] = []
        self.fail_next, self.fail_with = 0, ("Throttling", 400)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                form = parse_qs(self.rfile.read(length).decode())
                fake.requests.append(form)
                status, body = fake.answer(form)
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, form: dict[str, list[str]]) -> tuple[int, bytes]:
        if self.fail_next:
            self.fail_next -= 1
            code, status = self.fail_with
            return status, error(code)
        if form.get("Marker") == ["page-2"]:
            return 200, page(["batch"], None)
        return 200, page(["app", "web"], "page-2")


@pytest.fixture
def fake_iam(aws_env: None) -> Iterator[FakeIam]:
    fake = FakeIam()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def read(fake: FakeIam, attempts: int = 10) -> LiveAccount:
    client = make_client(
        "iam", region="us-east-1", endpoint_url=fake.endpoint_url, max_attempts=attempts
    )
    account = LiveAccount(client, "aws://test")
    account.snapshot()
    return account


def test_every_page_is_read_with_every_filter(fake_iam: FakeIam) -> None:
    account = read(fake_iam)
    assert [r.name for r in account.snapshot().roles] == ["app", "web", "batch"]
    assert [r.get("Marker") for r in fake_iam.requests] == [None, ["page-2"]]
    for request in fake_iam.requests:
        filters = sorted(v[0] for k, v in request.items() if k.startswith("Filter.member."))
        assert filters == ["AWSManagedPolicy", "Group", "LocalManagedPolicy", "Role", "User"]
    assert account.document()["IsTruncated"] is False
    assert account.snapshot().roles[0].inline_policies[0].name == "inline"


def test_throttling_is_retried_by_the_client(fake_iam: FakeIam) -> None:
    fake_iam.fail_next = 1
    assert len(read(fake_iam).snapshot().roles) == 3
    assert len(fake_iam.requests) == 3


@pytest.mark.parametrize(
    ("code", "status", "attempts", "expected"),
    [
        ("AccessDenied", 403, 10, "GetAccountAuthorizationDetails failed: AccessDenied"),
        ("Throttling", 400, 2, "GetAccountAuthorizationDetails failed: Throttling"),
    ],
)
def test_a_refusal_is_one_error_naming_the_account(
    fake_iam: FakeIam, code: str, status: int, attempts: int, expected: str
) -> None:
    fake_iam.fail_next, fake_iam.fail_with = 10, (code, status)
    with pytest.raises(AccountError, match=f"^aws://test: {expected}: {code} says no$"):
        read(fake_iam, attempts)
