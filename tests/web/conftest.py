"""Stores for the console's tests, made by the real flow: `proposed` runs `propose` on the
demo's sample as dana (orders-api and report-builder wait for approval, ci-deployer is blocked
by its guardrail violation); `demo` is the whole demo (a rollout that succeeded, one rolled
back by its canary). Each test module gets its own copy of a store it may change."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from alpha.app import Flags, GenerateRequest, application_for, load_settings
from alpha.demo.run import PROPOSED_AT, SETTINGS_FILE, TimelineClock, run_demo
from alpha.demo.sample import write_sample
from alpha.web import create_app

HEADER = "X-Forwarded-User"
PROXIED = {"ALPHA_WEB_USER_HEADER": HEADER}


@dataclass(frozen=True, slots=True)
class World:
    folder: Path
    ids: dict[str, str]  # role name -> full proposal id

    def app(
        self,
        env: dict[str, str] | None = None,
        user: str | None = None,
        org_report: Path | None = None,
    ) -> FastAPI:
        env = PROXIED if env is None else env
        settings = load_settings(Flags(user=user), env, self.folder)
        return create_app(application_for(settings, env), org_report)


def ids_of(folder: Path) -> dict[str, str]:
    settings = load_settings(Flags(), {}, folder)
    app = application_for(settings, {})
    return {r["principal"].rpartition("/")[2]: r["id"] for r in app.list_proposals()}


@pytest.fixture(scope="session")
def proposed_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("proposed")
    paths = write_sample(folder)
    (folder / "alpha.toml").write_text(SETTINGS_FILE, encoding="utf-8")
    settings = load_settings(Flags(user="dana"), {}, folder)
    app = application_for(settings, {}, clock=TimelineClock(PROPOSED_AT))
    app.propose(GenerateRequest(str(paths.account), (str(paths.observed),)), by="dana")
    return folder


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "demo"
    run_demo(folder, lambda step: None)
    return folder


def _copy(master: Path, target: Path) -> World:
    shutil.copytree(master, target)
    return World(target, ids_of(target))


@pytest.fixture(scope="module")
def proposed(proposed_master: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    return _copy(proposed_master, tmp_path_factory.mktemp("world") / "proposed")


@pytest.fixture
def fresh(proposed_master: Path, tmp_path: Path) -> World:
    """A store of its own for a test that changes it."""
    return _copy(proposed_master, tmp_path / "proposed")


@pytest.fixture(scope="module")
def demo(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    return _copy(demo_master, tmp_path_factory.mktemp("world") / "demo")


@dataclass(frozen=True, slots=True)
class Served:
    url: str


def serve(app: FastAPI) -> Iterator[Served]:
    """`app` under uvicorn on a free loopback port, in a thread, until the block ends."""
    import socket

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        threading.Event().wait(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


Serve = Callable[[FastAPI], Iterator[Served]]
