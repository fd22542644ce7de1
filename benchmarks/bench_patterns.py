"""Benchmark: wildcard patterns built to be slow (issue 11: "check-access is exponential in
repeated `*?` patterns").

Cases, each timed in a child process that is stopped at `--timeout` seconds:

- `check-access N`: `no_new_access` of an Allow of `s3:` + `*?` x N + `x` against an Allow of
  s3:GetObject (a counterexample is built, so every catalog action of s3 is matched against
  the pattern);
- `simulate N`: one evaluation of a request for a 60-character action the same pattern does not
  match;
- `budget K`: `no_new_access` of resources `*a` + `?` x K + `*` against `*a` + `?` x K, whose
  automaton needs 2**K states: bounded by the automaton budget instead.

Run: .venv/bin/python benchmarks/bench_patterns.py [--timeout 60]
Before/after: run it again with PYTHONPATH pointing at another checkout's `src`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

CASES = (
    ("check-access", (5, 8, 10, 12, 30)),
    ("simulate", (8, 10, 12, 14, 30)),
    ("budget", (14, 18, 22)),
)


def run_case(kind: str, n: int) -> float:
    from alpha.catalog import load_catalog
    from alpha.policy.compare import no_new_access
    from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
    from alpha.policy.model import Policy
    from alpha.policy.parse import parse_policy

    def policy(action: str, resource: str = "*") -> Policy:
        statement = {"Effect": "Allow", "Action": action, "Resource": resource}
        return parse_policy({"Version": "2012-10-17", "Statement": [statement]})

    catalog = load_catalog()
    pattern = "s3:" + "*?" * n + "x"
    hard = "arn:aws:s3:::*a" + "?" * n
    start = time.perf_counter()
    if kind == "check-access":
        no_new_access([policy("s3:GetObject")], [policy(pattern)], catalog)
    elif kind == "simulate":
        evaluator = compile_policy_set(PolicySet(identity=(policy(pattern),)))
        evaluator.evaluate(Request("s3:" + "a" * 60, "*", {}))
    else:
        existing, proposed = policy("s3:GetObject", hard), policy("s3:GetObject", hard + "*")
        no_new_access([existing], [proposed], catalog)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--case", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(f"{run_case(args.case[0], int(args.case[1])):.3f}")
        return
    for kind, sizes in CASES:
        for n in sizes:
            command = [sys.executable, __file__, "--case", kind, str(n)]
            try:
                done = subprocess.run(
                    command, capture_output=True, text=True, timeout=args.timeout, check=True
                )
                shown = f"{float(done.stdout):.3f} s"
            except subprocess.TimeoutExpired:
                shown = f"> {args.timeout:.0f} s (stopped)"
            print(f"{kind:>12} {n:>3}: {shown}", flush=True)


if __name__ == "__main__":
    main()
