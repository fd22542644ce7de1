"""The web console on a store of 10,000 proposals: the list page and a proposal page through
the real app (uvicorn on a loopback port, requests over HTTP with httpx).

    .venv/bin/python benchmarks/bench_web.py [--proposals 10000] [--repeat 20] [--keep DIR]

Builds the store from the demo's three real proposals (report-builder, orders-api and the
blocked ci-deployer, which removes nearly every AWS action; 265 kB of JSON on average, as
`alpha propose` made them), each copied under a new principal name so it has its own id, a
quarter of them moved to other states. Then times the server's startup (it opens the store,
checks all of it against its hash chain and reads the proposals' summaries before serving),
the first request, and, after one warm-up each, `--repeat` requests of every page (3 of the
status page); prints the median and the slowest. `--keep DIR` reuses a store built there.
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

from alpha.adapters.local.sqlite_store import SQLiteStore
from alpha.app import Flags, application_for, load_settings
from alpha.demo.run import run_demo
from alpha.store.model import ProposalState, StoredProposal
from alpha.web import create_app

MOVES = (ProposalState.APPROVED, ProposalState.REJECTED, ProposalState.EXPIRED)


def build(folder: Path, count: int) -> None:
    """The demo in `folder`, then its store filled up to `count` proposals."""
    run_demo(folder, lambda step: None)
    path = folder / ".alpha" / "alpha.db"
    with SQLiteStore(path) as store:
        base = store.proposals()
        with store.transaction():
            for n in range(count - len(base)):
                made = _copy(base[n % len(base)], n)
                store.save_proposal(made)
                if n % 4 == 0:
                    store.set_state(made.id, MOVES[n % 3], ProposalState.PROPOSED)


def _ids(folder: Path) -> list[str]:
    """Every proposal's id in the order stored (the demo's three first)."""
    with sqlite3.connect(f"file:{folder / '.alpha' / 'alpha.db'}?mode=ro", uri=True) as db:
        return [row[0] for row in db.execute("SELECT id FROM proposals ORDER BY rowid")]


def _copy(proposal: StoredProposal, n: int) -> StoredProposal:
    principal = f"{proposal.principal}-{n:05d}"
    return StoredProposal.create(
        principal=principal,
        document={**proposal.document, "principal": principal},
        plan=proposal.plan,
        created_by=proposal.created_by,
        created_at=proposal.created_at + timedelta(seconds=n),
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timed(client: httpx.Client, path: str, repeat: int) -> list[float]:
    client.get(path).raise_for_status()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get(path).raise_for_status()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--keep", type=Path, help="Build the store here and leave it (or reuse the one there)."
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-web-")) / "demo"
    start = time.perf_counter()
    if not (folder / ".alpha").is_dir():
        build(folder, args.proposals)
    ids = _ids(folder)
    size = (folder / ".alpha" / "alpha.db").stat().st_size
    print(f"{len(ids):,} proposals ({size / 1e9:.2f} GB) in {time.perf_counter() - start:.0f} s")
    import uvicorn

    env = {"ALPHA_WEB_USER_HEADER": "X-Forwarded-User"}
    app = create_app(application_for(load_settings(Flags(), env, folder), env))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    start = time.perf_counter()
    thread.start()
    while not server.started:
        time.sleep(0.05)
    print(f"startup (opens and checks the store, summaries): {time.perf_counter() - start:.0f} s")
    headers = {"X-Forwarded-User": "sam"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=600) as client:
        start = time.perf_counter()
        client.get("/proposals").raise_for_status()
        print(f"first request: {(time.perf_counter() - start) * 1000:.0f} ms")
        names = {
            pid: client.get(f"/api/proposals/{pid}").json()["principal"].rpartition("/")[2]
            for pid in ids[:3]
        }
        pages = {
            "list, first page": "/proposals",
            "list, page 100": "/proposals?page=100",
            "list, state approved, page 10": "/proposals?state=approved&page=10",
            "API list, 50": "/api/proposals?limit=50",
            **{f"proposal ({name})": f"/proposals/{pid}" for pid, name in names.items()},
            "proposal, latest stored": f"/proposals/{ids[-1]}",
            "API proposal": f"/api/proposals/{ids[-1]}",
            "status": "/status",
        }
        print(f"| page | median ms | slowest ms | of {args.repeat} |")
        print("| --- | ---: | ---: | --- |")
        for name, path in pages.items():
            times = timed(client, path, 3 if name == "status" else args.repeat)
            print(f"| {name} | {statistics.median(times):.0f} | {max(times):.0f} | |")
    server.should_exit = True
    thread.join()
    print(f"store left in {folder}" if args.keep else "", file=sys.stderr)


if __name__ == "__main__":
    main()
