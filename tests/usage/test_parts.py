"""`parts`: principals in order, in parts of bounded stored rows."""

from __future__ import annotations

import pytest

from alpha.usage.parts import parts


@pytest.mark.parametrize(
    ("sizes", "limit", "expected"),
    [
        ([3, 3, 3, 3], 6, [[3, 3], [3, 3]]),
        ([3, 3, 3], 5, [[3], [3], [3]]),
        ([1, 9, 1, 1], 5, [[1], [9], [1, 1]]),  # one larger than a part is a part alone
        ([], 5, []),
        ([0, 0, 5], 5, [[0, 0, 5]]),
    ],
    ids=["even", "one each", "a large one alone", "nothing", "exactly the limit"],
)
def test_parts_keep_order_and_stay_under_the_limit(
    sizes: list[int], limit: int, expected: list[list[int]]
) -> None:
    assert list(parts(sizes, lambda size: size, limit)) == expected
