"""Benchmark: check-access and diff over AWS's managed policies.

The policies: moto's copy of AWS's managed policies (`moto/iam/aws_managed_policies.py`,
Apache-2.0, 1,595 policies in moto 5.2.6), or every `*.json` policy document under
`--policies DIR`. For `--pairs` random pairs (existing, proposed) and for every policy against
itself, `no_new_access` runs and each result is counted by kind. Each counterexample is checked:

- it must be a request AWS could receive (`request_problem`: the resource from the catalog's
  ARN formats of the action's types, `*` only for an action that takes no required type);
- the evaluator, compiled afresh, must allow it under the proposed policy and not under the
  existing one.

Soundness: for each pair found to add no access, `--probes` requests are built from the
proposed policy (its actions expanded, resources from the action's formats and from the
policy's own resource patterns) and none may be allowed by the proposed policy and denied by
the existing one. Then `diff` AdministratorAccess -> ReadOnlyAccess, whose "added" list must
hold nothing AdministratorAccess's `*` covers.

Run: .venv/bin/python benchmarks/bench_managed_policies.py [--pairs 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alpha.catalog import Catalog, load_catalog
from alpha.policy.compare import (
    InternalFinding,
    NewAccess,
    NoNewAccess,
    PossibleNewAccess,
    no_new_access,
)
from alpha.policy.diff import diff_policies
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.model import ActionList, Effect, Policy
from alpha.policy.parse import parse_policy
from alpha.policy.request_shapes import request_problem, request_shapes

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_FILL = {"Partition": "aws", "Region": "us-east-1", "Account": "123456789012"}


def managed_policies(directory: Path | None) -> dict[str, Policy]:
    if directory is not None:
        return {p.stem: parse_policy(json.loads(p.read_text())) for p in directory.glob("*.json")}
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, Any] = json.loads(aws_managed_policies_data)
    return {name: parse_policy(entry["Document"]) for name, entry in sorted(data.items())}


def probes(policy: Policy, catalog: Catalog, limit: int, rng: random.Random) -> Iterator[Request]:
    """Requests the proposed policy may allow: its actions, on resources of their formats
    and on its own resource patterns with the wildcards filled in."""
    actions = sorted(
        {
            a.key
            for s in policy.statements
            if s.effect is Effect.ALLOW and isinstance(s.action, ActionList)
            for p in s.action.patterns
            for a in catalog.expand(p)
        }
    )
    texts = sorted({t for s in policy.statements if s.resource for t in s.resource.patterns})
    for action in rng.sample(actions, min(limit, len(actions))):
        shapes = request_shapes(catalog, action)
        filled = [_filled(s.arn_format) for s in shapes]
        written = [t.replace("*", "x").replace("?", "x") for t in texts if "${" not in t]
        for resource in [*filled, *written]:
            if request_problem(catalog, action, resource) is None:
                yield Request(action, resource)


def _filled(arn_format: str) -> str:
    return _VARIABLE.sub(lambda m: _FILL.get(m.group(1), "example"), arn_format)


@dataclass
class Tally:
    kinds: Counter[str] = field(default_factory=Counter)
    possible: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    unsound: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    probed: int = 0
    slowest: tuple[float, str] = (0.0, "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--probes", type=int, default=20, help="actions probed per safe pair")
    parser.add_argument("--policies", type=Path, help="a directory of policy documents")
    args = parser.parse_args()
    catalog = load_catalog()
    policies = managed_policies(args.policies)
    names = sorted(policies)
    rng = random.Random(args.seed)
    broad = [n for n in ("ReadOnlyAccess", "PowerUserAccess") if n in policies]
    pairs = (
        [(n, n) for n in names]
        + [(rng.choice(names), rng.choice(names)) for _ in range(args.pairs)]
        + [(b, rng.choice(names)) for b in broad for _ in range(args.pairs // 2)]
    )
    tally = Tally()
    started = time.perf_counter()
    for existing, proposed in pairs:
        _check(
            existing,
            proposed,
            policies=policies,
            catalog=catalog,
            tally=tally,
            limit=args.probes,
            rng=rng,
        )
    elapsed = time.perf_counter() - started
    counterexamples = tally.kinds["NewAccess"] + tally.kinds["InternalFinding"]
    share = len(tally.invalid) / counterexamples if counterexamples else 0.0
    print(f"policies: {len(policies)}; checks: {len(pairs)} ({len(names)} against themselves)")
    print(f"results: {dict(sorted(tally.kinds.items()))}; crashes: {len(tally.crashes)}")
    print(f"counterexamples: {counterexamples}, invalid or not confirmed: {len(tally.invalid)}")
    print(f"  ({share:.1%})")
    print(f"soundness probes: {tally.probed} requests, unsound: {len(tally.unsound)}")
    print(f"time: {elapsed:.1f} s, {elapsed / len(pairs) * 1000:.0f} ms per check;")
    print(f"  slowest {tally.slowest[0]:.2f} s ({tally.slowest[1]})")
    for line in (tally.crashes + tally.invalid + tally.unsound)[:20]:
        print("  ", line)
    if tally.possible:
        print("possible new access, the first reasons:")
    for line in tally.possible[:5]:
        print("  ", line)
    _admin_to_read_only(policies, catalog)


def _check(
    existing: str,
    proposed: str,
    *,
    policies: dict[str, Policy],
    catalog: Catalog,
    tally: Tally,
    limit: int,
    rng: random.Random,
) -> None:
    before, after = policies[existing], policies[proposed]
    tick = time.perf_counter()
    try:
        result = no_new_access([before], [after], catalog)
    except Exception as exc:
        tally.crashes.append(f"{existing} -> {proposed}: {exc!r}")
        return
    tally.slowest = max(tally.slowest, (time.perf_counter() - tick, f"{existing} -> {proposed}"))
    tally.kinds[type(result).__name__] += 1
    if existing == proposed and not isinstance(result, NoNewAccess):
        tally.unsound.append(f"{existing} against itself: {result}")
    if isinstance(result, PossibleNewAccess):
        tally.possible.append(f"{existing} -> {proposed}: {result.reason}")
    if isinstance(result, InternalFinding):
        tally.invalid.append(f"{existing} -> {proposed}: internal: {result.reason}")
    if isinstance(result, NewAccess):
        problem = _counterexample_problem(result, before, after, catalog)
        if problem is not None:
            tally.invalid.append(f"{existing} -> {proposed}: {problem}")
    if isinstance(result, NoNewAccess) and existing != proposed:
        old = compile_policy_set(PolicySet(identity=(before,)))
        new = compile_policy_set(PolicySet(identity=(after,)))
        for request in probes(after, catalog, limit, rng):
            tally.probed += 1
            if new.evaluate(request).allowed and not old.evaluate(request).allowed:
                tally.unsound.append(f"{existing} -> {proposed}: {request}")


def _counterexample_problem(
    result: NewAccess, before: Policy, after: Policy, catalog: Catalog
) -> str | None:
    example = result.counterexample
    problem = request_problem(catalog, example.action, example.resource)
    if problem is not None:
        return problem
    request = Request(example.action, example.resource, example.context)
    if not compile_policy_set(PolicySet(identity=(after,))).evaluate(request).allowed:
        return f"not allowed by the proposed policy: {example}"
    if compile_policy_set(PolicySet(identity=(before,))).evaluate(request).allowed:
        return f"allowed by the existing policy: {example}"
    return None


def _admin_to_read_only(policies: dict[str, Policy], catalog: Catalog) -> None:
    if "AdministratorAccess" not in policies or "ReadOnlyAccess" not in policies:
        return
    result = diff_policies(policies["AdministratorAccess"], policies["ReadOnlyAccess"], catalog)
    print(
        f"diff AdministratorAccess -> ReadOnlyAccess: {result.change_summary}; reduction "
        f"{result.privilege_reduction:.1%} ({result.removed_grants} of {result.existing_grants})"
    )


if __name__ == "__main__":
    main()
