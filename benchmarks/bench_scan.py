"""`alpha scan`'s core over the benchmark account, against counting grants per policy document
without the shared piece cache (the baseline, in the same run).

Make the data and the usage store first:

    python3 gen_cloudtrail.py --events 1000000 --roles 500 --days 30 --out /tmp/ct1m --jobs 2
    .venv/bin/alpha usage /tmp/ct1m/AWSLogs --store /tmp/scan_bench.duckdb --format csv >/dev/null
    .venv/bin/python benchmarks/bench_scan.py /tmp/ct1m /tmp/scan_bench.duckdb

Measured, each the best of `--repeat` runs: reading the snapshot; the usage rows from the store
(nothing new to ingest); `scan` itself (grants, flags, ranking for every principal); and the
baseline, one `alpha.policy.diff` grant count per distinct set of identity policies.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alpha.adapters.local.authorization_details import read_authorization_details
from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
from alpha.app.backends import usage_source_for
from alpha.catalog import load_catalog
from alpha.policy.diff import _Grants
from alpha.policy.model import Policy
from alpha.policy.org_policies import LevelKind, OrgGuardrails, OrgPolicy, PolicyLevel
from alpha.policy.parse import read_policy_file
from alpha.scan import scan
from alpha.usage.aggregate import UsageQuery
from alpha.usage.ingest import ingest
from alpha.usage.ports import TimeWindow


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("store", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scp", action="append", default=[])
    args = parser.parse_args()
    account = next(args.data.glob("account-*.json"))
    catalog = load_catalog()
    read_s, snapshot = best(args.repeat, lambda: read_authorization_details(account))

    def rows() -> Any:
        with DuckDBUsageStore(args.store) as store:
            report = ingest([usage_source_for(str(args.data / "AWSLogs"))], store, TimeWindow())
            return store.usage(UsageQuery(report.keys))

    rows_s, usage = best(args.repeat, rows)
    scan_s, report = best(args.repeat, lambda: scan(snapshot, usage, catalog))

    def baseline() -> int:
        sets = {snapshot.effective_policies(p.arn).documents for p in snapshot.principals}
        return sum(len(_Grants(Policy(_statements(d)), catalog).grants()) for d in sets)

    base_s, _ = best(1, baseline)
    print(f"principals            {len(report.scores):>8,}")
    print(f"usage rows            {len(usage):>8,}")
    print(f"read snapshot         {read_s:8.2f} s")
    print(f"usage rows from store {rows_s:8.2f} s")
    print(f"scan                  {scan_s:8.2f} s")
    print(f"baseline grant count  {base_s:8.2f} s  (scan is {base_s / scan_s:.1f}x faster)")
    if args.scp:
        org = _levels(args.scp)
        org_s, under = best(args.repeat, lambda: scan(snapshot, usage, catalog, org=org))
        blocked = sum(s.blocked_by_org for s in under.scores)
        print(f"scan under {len(args.scp)} SCP levels {org_s:5.2f} s  ({blocked:,} grants blocked)")


def _levels(levels: list[str]) -> OrgGuardrails:
    def level(number: int, files: str) -> PolicyLevel:
        paths = [Path(f) for f in files.split(",")]
        policies = tuple(OrgPolicy(f"p-{p.stem}", p.stem, read_policy_file(p)) for p in paths)
        return PolicyLevel(LevelKind.OU, f"ou-{number}", f"level {number}", policies)

    return OrgGuardrails(scps=tuple(level(i, files) for i, files in enumerate(levels)))


def _statements(documents: tuple[Policy, ...]) -> tuple[Any, ...]:
    return tuple(s for d in documents for s in d.statements)


if __name__ == "__main__":
    main()
