"""A pool's workers die with the process that made them, even one killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from alpha.usage.lifeline import die_with_parent

PARENT = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from alpha.usage.lifeline import die_with_parent

def pid_then_wait() -> int:
    return os.getpid()

def wait() -> None:
    time.sleep(120)

with ProcessPoolExecutor(1, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
    print(pool.submit(pid_then_wait).result(), flush=True)
    pool.submit(wait).result()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by init) counts as gone.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_die_when_their_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    assert _alive(worker)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(100):  # the kernel delivers SIGKILL at once; allow a slow machine 10 s
        if not _alive(worker):
            break
        time.sleep(0.1)
    assert not _alive(worker), f"worker {worker} outlived its parent"


def test_a_worker_whose_parent_is_already_gone_exits() -> None:
    child = os.fork()
    if child == 0:  # the worker: its "parent" is a pid that is not its parent
        try:
            die_with_parent(os.getppid() + 1_000_000)
        finally:
            os._exit(0)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 1
