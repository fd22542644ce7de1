"""`fork_each`: each item's work in a forked child, results in order, failures named."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from alpha.app.forked import ForkedWorkError, fork_each

PARENT = os.getpid()


def square_elsewhere(n: int) -> tuple[int, bool]:
    return n * n, os.getpid() != PARENT


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_come_in_the_items_order(workers: int) -> None:
    found = list(fork_each(square_elsewhere, range(7), workers))
    assert [n for n, _ in found] == [n * n for n in range(7)]
    assert all(forked for _, forked in found) == (workers > 1)


def test_a_child_sees_what_the_parent_held_when_it_forked() -> None:
    held: dict[str, list[int]] = {}

    def items() -> Iterator[int]:
        for n in range(4):
            held["rows"] = list(range(n))  # made after the previous children forked
            yield n

    def total(n: int) -> int:
        return sum(held["rows"])

    assert list(fork_each(total, items(), 2)) == [0, 0, 1, 3]


def fails_on_three(n: int) -> int:
    if n == 3:
        raise ValueError("three is a bug")
    return n


def test_an_exception_in_a_child_names_it_and_stops_the_rest() -> None:
    with pytest.raises(ForkedWorkError, match="ValueError: three is a bug"):
        list(fork_each(fails_on_three, range(6), 2))


def dies(n: int) -> int:
    os._exit(9)


def test_a_child_that_dies_gives_its_exit_code() -> None:
    with pytest.raises(ForkedWorkError, match="exit code 9"):
        list(fork_each(dies, [1], 2))
