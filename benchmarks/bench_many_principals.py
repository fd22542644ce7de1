"""Peak memory of `alpha generate --all` and `alpha propose --all` over many principals
(issue 11: under 1 GB at 60,000), before and after, in one run.

    python benchmarks/bench_many_principals.py /work/bench-60k --principals 60000 \\
        [--compare OLD_SRC] [--stop-before SECONDS]

Writes, once, into FOLDER: an account of N roles (each with a small inline policy, so that the
run measures what a run over many principals holds rather than the generator's work on wide
policies) and CloudTrail with `--rows` distinct (action, object) calls per role over a day (one
report row each, about 1 KB once decoded: 1.2 million rows at 60,000 roles). The logs are
ingested once (`alpha usage`, measured on its own: `bench_usage.py` covers the ingest); then
each command runs as its own process over that usage store (nothing new to ingest), for this
checkout's code and, with `--compare`, another `src` folder's. Memory is sampled every 20 ms
over the process tree: the sum of its processes' RSS (which counts pages the forked workers
share with the parent once per process: an upper bound) and the sum of their PSS (each shared
page split between its sharers), plus its files in /dev/shm. `--stop-before` stops a command
after that many seconds (its peaks are then lower bounds, marked `>=`): a run over 60,000
principals takes long on a busy machine, and the old code's peak comes early (all the rows at
once) and then only grows (every proposal held).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_usage import ALPHA, ram_folder_kb, timed, tree_kb

ACCOUNT = "123456789012"
ACTIONS = (("s3.amazonaws.com", "GetObject"), ("s3.amazonaws.com", "PutObject"))
PER_FILE = 20_000


def role_name(n: int) -> str:
    return f"svc-{n:05d}"


def account(principals: int) -> dict[str, Any]:
    """Roles that may read and write their own bucket (and list every bucket)."""
    roles = []
    for n in range(principals):
        name = role_name(n)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": f"arn:aws:s3:::bucket-{n}/*",
                },
                {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
            ],
        }
        roles.append(
            {
                "Path": "/",
                "RoleName": name,
                "RoleId": f"AROA{n:017d}",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
                "CreateDate": "2024-01-01T00:00:00Z",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                "RolePolicyList": [{"PolicyName": "own-bucket", "PolicyDocument": policy}],
                "AttachedManagedPolicies": [],
                "InstanceProfileList": [],
                "Tags": [],
            }
        )
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": []}


def record(n: int, call: int) -> dict[str, Any]:
    name = role_name(n)
    source, event = ACTIONS[call % len(ACTIONS)]
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/worker",
            "accountId": ACCOUNT,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
                    "accountId": ACCOUNT,
                    "userName": name,
                }
            },
        },
        "eventTime": f"2024-03-10T{call % 24:02d}:{n % 60:02d}:00Z",
        "eventSource": source,
        "eventName": event,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "10.0.0.1",
        "requestParameters": {"bucketName": f"bucket-{n}", "key": f"objects/{call:04d}.json"},
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }


def write_data(folder: Path, principals: int, rows: int) -> tuple[Path, Path]:
    """The account file and the logs folder, written once for these sizes."""
    made = folder / f"p{principals}-r{rows}"
    account_file, logs = made / "account.json", made / "logs"
    if account_file.exists():
        return account_file, logs
    logs.mkdir(parents=True, exist_ok=True)
    batch: list[dict[str, Any]] = []
    for n in range(principals):
        batch += [record(n, call) for call in range(rows)]
        if len(batch) >= PER_FILE or n == principals - 1:
            part = logs / f"{ACCOUNT}_CloudTrail_eu-west-1_{n:06d}.json.gz"
            part.write_bytes(gzip.compress(json.dumps({"Records": batch}).encode(), 1))
            batch = []
    account_file.write_text(json.dumps(account(principals)))
    return account_file, logs


@dataclass
class Peak:
    rss_mb: float = 0.0
    pss_mb: float = 0.0
    seconds: float = 0.0
    stopped: bool = False

    def __str__(self) -> str:
        bound = ">=" if self.stopped else ""
        ran = f"stopped after {self.seconds:.0f} s" if self.stopped else f"{self.seconds:.0f} s"
        return f"peak RSS {bound}{self.rss_mb:,.0f} MB, PSS {bound}{self.pss_mb:,.0f} MB ({ran})"


def peak_of(argv: list[str], env: dict[str, str], stop_before: float | None) -> Peak:
    """The command's peak memory and wall time; stopped after `stop_before` seconds."""
    found, shm_before = Peak(), ram_folder_kb()
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True
    )
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            shm = max(0, ram_folder_kb() - shm_before) / 1024
            rss, pss = tree_kb(process.pid)
            found.rss_mb = max(found.rss_mb, rss / 1024 + shm)
            found.pss_mb = max(found.pss_mb, pss / 1024 + shm)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _, err = process.communicate(timeout=stop_before)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 15)  # its own session: the command and its workers
        _, err = process.communicate()
        found.stopped = True
    done.set()
    sampler.join()
    found.seconds = time.perf_counter() - start
    if not found.stopped and process.returncode not in (0, 1):
        raise SystemExit(f"{argv[1]} failed ({process.returncode}): {err.decode()[-2000:]}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="where the data is kept (made once)")
    parser.add_argument("--principals", type=int, default=60_000)
    parser.add_argument("--rows", type=int, default=20, help="distinct calls per principal")
    parser.add_argument("--compare", type=Path, metavar="OLD_SRC", help="another src folder")
    parser.add_argument("--stop-before", type=float, metavar="SECONDS")
    parser.add_argument("--commands", default="generate,propose")
    args = parser.parse_args()
    account_file, logs = write_data(args.folder, args.principals, args.rows)
    src = Path(__file__).resolve().parents[1] / "src"
    versions = {"now": src, **({"before": args.compare} if args.compare else {})}
    print(f"{args.principals:,} principals x {args.rows} rows; load {os.getloadavg()[0]:.1f}")
    work = Path(tempfile.mkdtemp(prefix="many-", dir=args.folder))
    usage = work / "usage.duckdb"
    base = {**os.environ, "PYTHONPATH": str(src), "ALPHA_USAGE_STORE": str(usage)}
    nobody = ["--principal", "arn:aws:iam::000000000000:role/none", "--format", "json"]
    ingest = timed([str(ALPHA), "usage", str(logs), "--store", str(usage), *nobody], None, base)
    print(f"ingest (alpha usage): {ingest.seconds:.0f} s, peak RSS {ingest.peak_rss_mb:,.0f} MB")
    for command in args.commands.split(","):
        for name, code in versions.items():
            env = {**base, "PYTHONPATH": str(code), "ALPHA_USER": "bench"}
            env["ALPHA_STORE"] = str(work / f"alpha-{name}-{command}.db")
            argv = [str(ALPHA), command, "--all", "--account", str(account_file)]
            argv += ["--usage", str(logs), "--format", "json"]
            if command == "generate":
                argv += ["--store", str(usage)]
            found = peak_of(argv, env, args.stop_before)
            print(f"{command} --all, {name}: {found} load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"kept in {work} (delete it when done)")


if __name__ == "__main__":
    main()
