"""The notification outbox: first in, first out, kept across a reopen; one drainer at a time,
and a crashed drainer's lease runs out."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from alpha.adapters.local.outbox import OutboxError, SQLiteOutbox


def test_messages_leave_in_the_order_they_came_and_survive_a_reopen(tmp_path: Path) -> None:
    outbox = SQLiteOutbox(tmp_path / "o.db")
    for n in range(5):
        outbox.put({"n": n})
    first = outbox.first()
    assert first is not None
    assert first.payload == {"n": 0}
    outbox.failed(first.seq, "HTTP 500")
    outbox.done(first.seq)
    outbox.set_anchor("proposal:1", {"ts": "1.2"})
    outbox.close()
    again = SQLiteOutbox(tmp_path / "o.db")
    assert [q.payload["n"] for q in again.waiting()] == [1, 2, 3, 4]
    assert again.count() == 4
    assert again.anchor("proposal:1") == {"ts": "1.2"}
    assert again.anchor("proposal:2") is None


def test_one_drainer_at_a_time_and_a_lease_runs_out(tmp_path: Path) -> None:
    one, other = SQLiteOutbox(tmp_path / "o.db"), SQLiteOutbox(tmp_path / "o.db")
    assert one.take_lease("one", 60)
    assert one.take_lease("one", 60)  # extending its own
    assert not other.take_lease("other", 60)
    one.release_lease("one")
    assert other.take_lease("other", 0.05)
    time.sleep(0.1)  # the other drainer crashed: its lease runs out
    assert one.take_lease("one", 60)


def test_an_outbox_that_cannot_be_made_says_where(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(OutboxError, match="notification outbox"):
        SQLiteOutbox(tmp_path / "file" / "o.db")
