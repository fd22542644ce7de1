# Type stub of the C extension built from csrc/ (see alpha/usage/native.py).
from collections.abc import Callable, Sequence
from typing import Any, final

from _typeshed import structseq

@final
class Finished(
    structseq[Any],
    tuple[int, bytes, int, dict[str, int], dict[tuple[str, str], int], bytes, int, bytes, bytes],
):
    """`Tally.finish`'s answer, its fields named as `BatchUsage`'s (names and regions: JSON)."""

    @property
    def events(self) -> int: ...
    @property
    def rows(self) -> bytes: ...
    @property
    def row_count(self) -> int: ...
    @property
    def skipped(self) -> dict[str, int]: ...
    @property
    def unmapped(self) -> dict[tuple[str, str], int]: ...
    @property
    def source_ips(self) -> bytes: ...
    @property
    def source_ip_count(self) -> int: ...
    @property
    def names(self) -> bytes: ...
    @property
    def regions(self) -> bytes: ...

class Tally:
    events: int
    def skip(self, reason: object, count: int = 1, /) -> None: ...
    def unmapped(self, source: str, name: str, /) -> None: ...
    def use(
        self,
        principal: str,
        session: str | None,
        second: int,
        region: str | None,
        source_ip: str | None,
        denied: bool,
        uses: Sequence[Any],
        /,
    ) -> None: ...
    def finish(self) -> Finished: ...

class Scanner:
    def __init__(
        self,
        resolver: object,
        *,
        record_limit: int,
        memo_limit: int = ...,
        request_memo_limit: int = ...,
    ) -> None: ...
    def scan(
        self, data: bytes | memoryview, tally: Tally, fallback: Callable[[int, int, int], None], /
    ) -> int: ...

class Inflater:
    available: bool
    def __init__(self, library: str | None) -> None: ...
    def gunzip(self, data: bytes, limit: int, /) -> bytes | None: ...
