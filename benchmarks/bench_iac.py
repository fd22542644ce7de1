"""Benchmark: placing one proposal in a large IaC monorepo (`alpha.iac.place.place`).

The repository is generated: `--stacks` CloudFormation YAML templates and as many JSON ones,
and `--modules` Terraform files, each defining `--roles` roles with an inline policy, a
managed-policy attachment and comments. One proposal (for a role in the middle) is placed.
Reported: seconds to place it, and, as a baseline that tracks the machine's speed, the
seconds to only decode every template (`json.loads`, ruamel.yaml's round-trip `load`) and
scan every .tf file (`parse_hcl`), which placing has to do at the least.

Run: .venv/bin/python benchmarks/bench_iac.py [--stacks 200] [--modules 200] [--roles 10]
     [--sub-names]
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML

from alpha.iac.hcl import parse_hcl
from alpha.iac.model import policy_change
from alpha.iac.place import place

POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


def yaml_stack(stack: int, roles: int, sub: bool = False) -> str:
    parts = [f'AWSTemplateFormatVersion: "2010-09-09"\n# stack {stack}\nResources:\n']
    for r in range(roles):
        name = f'!Sub "${{Env}}-svc-{stack}-{r}"' if sub else f"yaml-{stack}-{r}"
        parts.append(
            f"  # role {r} of stack {stack}\n"
            f"  Role{r}:\n    Type: AWS::IAM::Role\n    Properties:\n"
            f"      RoleName: {name}\n"
            "      ManagedPolicyArns:\n"
            '        - !Sub "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"\n'
            f"      Policies:\n        - PolicyName: access-{r}\n          PolicyDocument:\n"
            '            Version: "2012-10-17"\n            Statement:\n'
            '              - Effect: Allow\n                Action: ["s3:*", "sqs:*"]\n'
            '                Resource: "*"\n\n'
        )
    return "".join(parts)


def json_stack(stack: int, roles: int) -> str:
    resources = {
        f"Role{r}": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": f"json-{stack}-{r}",
                "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                "Policies": [{"PolicyName": f"access-{r}", "PolicyDocument": POLICY}],
            },
        }
        for r in range(roles)
    }
    return json.dumps({"Resources": resources}, indent=2) + "\n"


def tf_module(module: int, roles: int) -> str:
    return "".join(
        f'# role {r}\nresource "aws_iam_role" "r{r}" {{\n  name = "tf-{module}-{r}"\n}}\n\n'
        f'resource "aws_iam_role_policy" "p{r}" {{\n  name = "access-{r}"\n'
        f"  role = aws_iam_role.r{r}.id\n"
        '  policy = jsonencode({\n    Version = "2012-10-17"\n'
        '    Statement = [{ Effect = "Allow", Action = ["s3:*"], Resource = "*" }]\n  })\n}\n\n'
        f'resource "aws_iam_role_policy_attachment" "a{r}" {{\n'
        f"  role       = aws_iam_role.r{r}.name\n"
        '  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"\n}\n\n'
        for r in range(roles)
    )


def repository(stacks: int, modules: int, roles: int, sub: bool) -> dict[str, str]:
    files = {f"stacks/s{s}.yaml": yaml_stack(s, roles, sub) for s in range(stacks)}
    files |= {f"stacks/j{s}.json": json_stack(s, roles) for s in range(stacks)}
    files |= {f"modules/m{m}/main.tf": tf_module(m, roles) for m in range(modules)}
    return files


def timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def decode_all(files: dict[str, str]) -> None:
    yaml = YAML(typ="rt")
    for path, text in files.items():
        if path.endswith(".json"):
            json.loads(text)
        elif path.endswith(".yaml"):
            yaml.load(io.StringIO(text))
        else:
            parse_hcl(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--modules", type=int, default=200)
    parser.add_argument("--roles", type=int, default=10)
    parser.add_argument(
        "--sub-names",
        action="store_true",
        help="Name every YAML role with !Sub: no template can be passed over undecoded.",
    )
    args = parser.parse_args()
    files = repository(args.stacks, args.modules, args.roles, args.sub_names)
    size = sum(len(t) for t in files.values())
    name = f"tf-{args.modules // 2}-{args.roles // 2}"
    plan = {
        "steps": [
            {"action": "delete", "kind": "inline", "name": f"access-{args.roles // 2}"},
            {"action": "detach", "kind": "managed", "name": "ReadOnlyAccess"},
            {"action": "attach", "kind": "inline", "name": "alpha-least-privilege"},
        ]
    }
    change = policy_change(
        "ab" * 32, f"arn:aws:iam::1:role/{name}", {"proposed_policy": POLICY}, plan
    )
    baseline = timed(lambda: decode_all(files))
    placing = timed(lambda: place(change, files))
    placement = place(change, files)
    assert placement.complete
    assert len(placement.edits) == 1
    print(f"{len(files)} files, {size / 1e6:.1f} MB, {3 * args.roles} IAM resources a file")
    print(f"decode every file (baseline): {baseline:.2f} s")
    print(f"place one proposal:           {placing:.2f} s ({placing / baseline:.2f}x the baseline)")


if __name__ == "__main__":
    main()
