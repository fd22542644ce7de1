"""`alpha serve` from the command line: the settings of the folder it runs in, loopback only
without a proxy header, and a real server answering."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.test_slack_cmd import INTERRUPTIBLE
from tests.cli.workflow_helpers import alpha
from tests.web.conftest import World


def test_serving_beyond_loopback_without_a_proxy_header_is_refused(
    proposed: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(proposed.folder)
    monkeypatch.delenv("ALPHA_WEB_USER_HEADER", raising=False)
    ran = alpha("serve", "--host", "0.0.0.0", "--port", "0")
    assert ran.code == 2
    assert "only on loopback" in ran.err
    assert len(ran.err.strip().splitlines()) == 1


@pytest.mark.slow  # starts a process
def test_alpha_serve_serves_the_store_of_its_folder(proposed: World) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "ALPHA_USER": "lee", "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("ALPHA_WEB_USER_HEADER", None)
    program = INTERRUPTIBLE + "from alpha.cli.main import main; main()"
    server = subprocess.Popen(
        [sys.executable, "-c", program, "serve", "--port", str(port)],
        cwd=proposed.folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = _get(f"http://127.0.0.1:{port}/proposals", server)
        assert '<b id="user">lee</b>' in page
        assert page.count("<tr data-id=") == 3
    finally:
        server.send_signal(signal.SIGINT)
        out, _ = server.communicate(timeout=20)
    assert f"ALPHA console on http://127.0.0.1:{port}/ for the local user 'lee'" in out
    assert str(Path(proposed.folder, ".alpha", "alpha.db")) in out


def _get(url: str, server: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"alpha serve exited: {server.communicate()}")
        try:
            return httpx.get(url).text
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("alpha serve did not answer within a minute")


def test_a_store_that_cannot_be_opened_is_one_line_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".alpha").mkdir()
    (tmp_path / ".alpha" / "alpha.db").write_text("not a database\n")
    monkeypatch.chdir(tmp_path)
    ran = alpha("serve", "--port", "0")
    assert ran.code == 2
    assert ran.err.splitlines()[-1].startswith("alpha: error: ")
    assert "not an SQLite database" in ran.err
    assert "ALPHA console on" not in ran.out
