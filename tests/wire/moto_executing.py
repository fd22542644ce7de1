"""A moto server of its own that runs Step Functions executions (moto's
`execute_state_machine`), for tests that need a state machine to really run.

Its executions call the other services through moto on `MOTO_PORT`, which must therefore
name this server's port while it runs (a session-wide moto server would share the setting
with every test)."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

__all__ = ["executing_moto"]


@contextmanager
def executing_moto(patch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        patch.setenv("MOTO_PORT", str(port))
        body = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
        request = urllib.request.Request(f"{endpoint}/moto-api/config", data=body, method="POST")
        urllib.request.urlopen(request, timeout=10).close()
        yield endpoint
    finally:
        server.stop()
