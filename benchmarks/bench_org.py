"""An organisation's scan and proposals (issue 16's speed target): 50 accounts, 5,000 roles,
10 million events, every step with its wall time and peak memory.

    python benchmarks/bench_org.py /work/bench-org --generate          # once: ~2 GB of logs
    python benchmarks/bench_org.py /work/bench-org [--accounts N] [--compare OLD_SRC]

DATA holds `data/` (gen_cloudtrail.py's output: `AWSLogs/...` and `account-<id>.json` per
account), made with `--generate` when missing, and `org/`: the same accounts as the
organisation folder `alpha ... --org DIR` reads (docs: ORG_SEAMS), written by this script with
an OU layout (Root > Prod > Payments, Root > Staging, Root > Sandbox) and a few SCPs.

What is measured, each command its own process (wall time from outside; memory the peak of the
summed RSS of the process and its workers, sampled every 20 ms, plus its files in /dev/shm, as
`bench_usage.py` does):
1. `alpha usage DATA/data` into a fresh usage store: the one ingest of the 10M events;
2. for each account, `alpha scan` and `alpha propose --all` with that account's file, over the
   whole organisation's logs (as from an organisation trail: nothing new to ingest, every
   account's usage in the store) and one workflow store.
Step 2 is one command per account, or with `--org` the two commands over the whole organisation
folder (`scan --org`, `propose --all --org`), as a user runs them. With
`--compare OLD_SRC` (a `src` folder of another checkout), step 2 runs with that code too, in the
same run and alternating per account, and the ratios are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_usage import ALPHA, Measure, timed

GENERATOR = Path("/work/shared/bench/gen_cloudtrail.py")
SIZE = ("--accounts", "50", "--roles", "5000", "--events", "10000000")
FULL_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
DENY_LEAVE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
}
DENY_IAM_USERS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Action": ["iam:CreateUser", "iam:CreateAccessKey"],
            "Resource": "*",
        }
    ],
}
REGIONS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "NotAction": ["iam:*", "sts:*", "route53:*", "cloudfront:*", "support:*"],
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2", "eu-west-1"]}
            },
        }
    ],
}
ROOT = "r-b3n7"
UNITS = (  # id, name, parent
    ("ou-b3n7-prod0001", "Prod", ROOT),
    ("ou-b3n7-paym0001", "Payments", "ou-b3n7-prod0001"),
    ("ou-b3n7-stag0001", "Staging", ROOT),
    ("ou-b3n7-sand0001", "Sandbox", ROOT),
)
PLACES = ("ou-b3n7-prod0001", "ou-b3n7-paym0001", "ou-b3n7-stag0001", "ou-b3n7-sand0001")


def generate(data: Path) -> None:
    """The 10M events and the account files, once (about 2 GB; ~25 minutes on 2 cores)."""
    command = [sys.executable, str(GENERATOR), *SIZE, "--jobs", "2", "--out", str(data)]
    subprocess.run(command, check=True)


def organisation(data: Path, out: Path) -> list[str]:
    """The organisation folder for the generated accounts: every account under one of the
    OUs in turn, FullAWSAccess at every level (as AWS attaches it), and three deny SCPs."""
    accounts = sorted(path.stem.removeprefix("account-") for path in data.glob("account-*.json"))
    (out / "accounts").mkdir(parents=True, exist_ok=True)
    placed = {account: PLACES[n % len(PLACES)] for n, account in enumerate(accounts)}
    for account in accounts:
        target = out / "accounts" / f"{account}.json"
        if not target.exists():
            target.symlink_to((data / f"account-{account}.json").resolve())
    units = [{"Id": ROOT, "Name": "Root"}]
    units += [{"Id": i, "Name": name, "ParentId": parent} for i, name, parent in UNITS]
    every_level = [ROOT, *(i for i, _, _ in UNITS), *accounts]
    document = {
        "Id": "o-b3n7bench01",
        "ManagementAccountId": accounts[0],
        "Units": units,
        "Accounts": [
            {
                "Id": account,
                "Name": f"bench-{n:02d}",
                "Status": "ACTIVE",
                "ParentId": placed[account],
                "Tags": [{"Key": "env", "Value": placed[account].split("-")[2][:4]}],
            }
            for n, account in enumerate(accounts)
        ],
        "Policies": [
            _scp("p-FullAWSAccess", "FullAWSAccess", FULL_ACCESS, every_level),
            _scp("p-denyleave01", "DenyLeaveOrganization", DENY_LEAVE, [ROOT]),
            _scp("p-denyusers01", "DenyIamUsers", DENY_IAM_USERS, ["ou-b3n7-prod0001"]),
            _scp("p-regions0001", "ApprovedRegionsOnly", REGIONS_ONLY, ["ou-b3n7-sand0001"]),
        ],
    }
    (out / "organization.json").write_text(json.dumps(document, indent=1))
    return accounts


def _scp(policy_id: str, name: str, content: dict[str, Any], targets: list[str]) -> dict[str, Any]:
    return {
        "Id": policy_id,
        "Name": name,
        "Type": "SERVICE_CONTROL_POLICY",
        "Content": content,
        "Targets": targets,
    }


@dataclass
class Totals:
    """Step 2's figures for one version of the code."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_mb: float = 0.0
    peak_pss_mb: float = 0.0
    proposals: int = 0
    steps: list[str] = field(default_factory=list)

    def add(self, name: str, found: Measure) -> None:
        self.seconds += found.seconds
        self.cpu_seconds += found.cpu_seconds
        self.peak_mb = max(self.peak_mb, found.peak_rss_mb)
        self.peak_pss_mb = max(self.peak_pss_mb, found.peak_pss_mb)
        self.steps.append(
            f"{name} {found.seconds:.1f} s (cpu {found.cpu_seconds:.1f} s) "
            f"{found.peak_rss_mb:.0f} MB RSS, {found.peak_pss_mb:.0f} MB PSS"
        )


@dataclass(frozen=True)
class Run:
    """Where one version of the code runs: its `src`, the usage store, its workflow store."""

    src: Path
    usage: Path
    store: Path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(self.src),
            "ALPHA_STORE": str(self.store),
            "ALPHA_USAGE_STORE": str(self.usage),
        }


def per_account(data: Path, account: str, run: Run, totals: Totals, out: Path) -> None:
    """`alpha scan` and `alpha propose --all` for one account, with the code in `run.src`."""
    env, usage = run.env(), run.usage
    account_file = str(data / f"account-{account}.json")
    logs = str(data / "AWSLogs")
    scan = [str(ALPHA), "scan", "--account", account_file, "--usage", logs, "--store", str(usage)]
    totals.add("scan", timed([*scan, "--format", "json"], out, env))
    propose = [str(ALPHA), "propose", "--all", "--account", account_file, "--usage", logs]
    # exit 1: a proposal's guardrail violations block its approval (admin roles do)
    totals.add("propose", timed([*propose, "--by", "bench", "--format", "json"], out, env, (0, 1)))
    totals.proposals += len(json.loads(out.read_bytes())["proposals"])


def whole_org(folder: Path, run: Run, totals: Totals, out: Path) -> None:
    """`alpha scan --org` and `alpha propose --all --org`: every account in one command each,
    as a user runs them (the organisation folder, the organisation trail's logs)."""
    env, org, logs = run.env(), str(folder / "org"), str(folder / "data" / "AWSLogs")
    scan = [str(ALPHA), "scan", "--org", org, "--usage", logs, "--store", str(run.usage)]
    totals.add("scan --org", timed([*scan, "--format", "json"], out, env, (0, 1)))
    print(totals.steps[-1], flush=True)
    propose = [str(ALPHA), "propose", "--all", "--org", org, "--usage", logs, "--by", "bench"]
    measured = timed([*propose, "--format", "json"], out, env, (0, 1))
    totals.add("propose --all --org", measured)
    print(totals.steps[-1], flush=True)
    accounts = json.loads(out.read_bytes())["accounts"]
    totals.proposals += sum(len(account["proposals"]) for account in accounts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="where the data is, or is to be made")
    parser.add_argument("--generate", action="store_true", help="make the data if missing")
    parser.add_argument("--accounts", type=int, help="only the first N accounts in step 2")
    parser.add_argument("--compare", type=Path, metavar="OLD_SRC", help="another src folder")
    parser.add_argument("--usage-store", type=Path, help="reuse this ingest (skip step 1)")
    parser.add_argument(
        "--org", action="store_true", help="step 2 as `scan --org` and `propose --all --org`"
    )
    args = parser.parse_args()
    data = args.folder / "data"
    if not (data / "AWSLogs").exists():
        if not args.generate:
            raise SystemExit(f"{data}: no data; give --generate to make it")
        generate(data)
    accounts = organisation(data, args.folder / "org")
    print(f"load {os.getloadavg()[0]:.1f}; {len(accounts)} accounts in {args.folder / 'org'}")
    work = Path(tempfile.mkdtemp(prefix="bench-org-", dir=args.folder))
    out = work / "out.json"
    usage = args.usage_store or work / "usage.duckdb"
    src = Path(__file__).resolve().parents[1] / "src"
    ingested = None
    if args.usage_store is None:
        ingest = [str(ALPHA), "usage", str(data / "AWSLogs"), "--store", str(usage)]
        nobody = ["--principal", "arn:aws:iam::000000000000:role/none", "--format", "json"]
        env = {**os.environ, "PYTHONPATH": str(src)}
        ingested = timed([*ingest, *nobody], out, env)
        print(
            f"ingest: {ingested.seconds:.1f} s (cpu {ingested.cpu_seconds:.1f} s), "
            f"peak {ingested.peak_rss_mb:.0f} MB RSS, {ingested.peak_pss_mb:.0f} MB PSS",
            flush=True,
        )
    versions = {"now": src, **({"before": args.compare} if args.compare else {})}
    totals = {name: Totals() for name in versions}
    if args.org:
        for name, code in versions.items():
            whole_org(args.folder, Run(code, usage, work / f"alpha-{name}.db"), totals[name], out)
            print(f"{name}: {'; '.join(totals[name].steps)}", flush=True)
    for n, account in enumerate(accounts[: 0 if args.org else args.accounts]):
        for name, code in versions.items():
            run = Run(code, usage, work / f"alpha-{name}.db")
            per_account(data, account, run, totals[name], out)
            print(f"{account} {name}: {'; '.join(totals[name].steps[-2:])}", flush=True)
        print(f"  after {n + 1} accounts, load {os.getloadavg()[0]:.1f}", flush=True)
    for name, total in totals.items():
        covered = len(accounts) if args.org else len(accounts[: args.accounts])
        print(
            f"{name}: scan + propose --all of {covered} accounts "
            f"{total.seconds:.1f} s (cpu {total.cpu_seconds:.1f} s), peak {total.peak_mb:.0f} MB "
            f"RSS, {total.peak_pss_mb:.0f} MB PSS, {total.proposals} proposals"
        )
        if ingested is not None:
            print(f"  with the ingest: {ingested.seconds + total.seconds:.1f} s")
    if args.compare:
        now, before = totals["now"], totals["before"]
        print(
            f"before / now: wall {before.seconds / now.seconds:.2f}x, "
            f"cpu {before.cpu_seconds / now.cpu_seconds:.2f}x, "
            f"peak memory {before.peak_mb / now.peak_mb:.2f}x"
        )
    print(f"kept in {work} (delete it when done)")


if __name__ == "__main__":
    main()
