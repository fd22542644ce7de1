"""Work on data the parent already holds, each item in a forked child process.

A pool sends every task's arguments through a pipe, pickled; the organisation's scan works on
what the parent has just read (an account's IAM and usage rows), which a forked child already
has. Each item gets its own child, forked once the item is ready, at most `workers` at a time;
only the result comes back through a pipe. Results come in the items' order.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from alpha.app.errors import AppError
from alpha.usage.lifeline import die_with_parent, frozen_heap, return_freed_memory

__all__ = ["ForkedWorkError", "fork_each"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class ForkedWorkError(AppError):
    """A child died or raised where the work promised a result (a bug, or killed)."""


def fork_each(work: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """`work(item)` for each item, in a child forked for it (in this process with one worker,
    or where fork is not available). `work` returns its failures as values: an exception in a
    child ends the run with `ForkedWorkError` carrying its traceback."""
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(work, items)
        return
    context = multiprocessing.get_context("fork")
    running: deque[tuple[BaseProcess, Connection]] = deque()
    try:
        for item in items:
            if len(running) >= workers:
                yield _result(*running.popleft())
            receiving, sending = context.Pipe(duplex=False)
            child = context.Process(
                target=_run, args=(work, item, sending, os.getpid()), daemon=True
            )
            return_freed_memory()
            with frozen_heap():
                child.start()
            sending.close()
            running.append((child, receiving))
        while running:
            yield _result(*running.popleft())
    finally:
        for stopped, receiving in running:  # the caller stopped early, or a child failed
            stopped.kill()
            stopped.join()
            receiving.close()


def _run(work: Callable[[Any], Any], item: Any, sending: Connection, parent: int) -> None:
    die_with_parent(parent)
    try:
        answer: tuple[bool, Any] = (True, work(item))
    except BaseException:
        answer = (False, traceback.format_exc())
    sending.send(answer)
    sending.close()


def _result(child: BaseProcess, receiving: Connection) -> Any:
    try:
        done, value = receiving.recv()
    except EOFError:
        child.join()
        raise ForkedWorkError(f"a worker process ended with exit code {child.exitcode}") from None
    finally:
        receiving.close()
    child.join()
    if not done:
        log.error("worker process failed:\n%s", value)
        raise ForkedWorkError(f"a worker process failed: {value.strip().splitlines()[-1]}")
    return value
