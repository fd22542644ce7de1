"""Benchmark: the tokens one proposal costs with `--reasoner bedrock` (docs/aws/reasoning.md).

Runs `alpha propose --all --reasoner bedrock` on the demo sample (three principals with usage,
one of them with a prompt injection in an object key) against the Converse wire fake of the
tests, and builds one more prompt at the evidence caps (60 actions with their resource
samples, 60 removed actions, 3 session names, a guardrail finding). For each: the characters
sent (system prompt, fenced evidence, tool schema), the fake's token counts (one token per
3.5 characters, an estimate: Claude's tokenizer is not public; the fake's answer is a short
one), and the cost at a price per 1M tokens given on the command line, with the ceiling of an
answer using all of `maxTokens`.

Run: .venv/bin/python benchmarks/bench_reasoning_tokens.py [--input-price 3.0 --output-price 15.0]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the wire fake lives with the tests

from tests.adapters.aws.cli_sample import add_hostile_record  # noqa: E402
from tests.reasoning.factories import diff, evidence, obs  # noqa: E402
from tests.wire.bedrock_converse import (  # noqa: E402
    FakeBedrock,
    careful_model,
    running_bedrock,
    usage_of,
)

from alpha.adapters.aws.bedrock_reasoner import (  # noqa: E402
    DEFAULT_MODEL,
    MAX_OUTPUT_TOKENS,
    BedrockReasoner,
    make_bedrock_client,
)
from alpha.catalog import AccessLevel, load_catalog  # noqa: E402
from alpha.cli.main import main  # noqa: E402
from alpha.demo.sample import write_sample  # noqa: E402
from alpha.reasoning import GuardrailSummary, LocalReasoner  # noqa: E402

ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "ALPHA_NOW": "2026-10-29T00:00:00Z",
    "ALPHA_STORE_REPLAY": "true",
    "ALPHA_USER": "bench",
}


def demo(fake: FakeBedrock) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = write_sample(Path(folder))
        add_hostile_record(paths.observed)
        os.chdir(folder)
        out = io.StringIO()
        with redirect_stdout(out), redirect_stderr(io.StringIO()), suppress(SystemExit):
            main(["propose", "--all", "--usage", "cloudtrail", "--account",
                  paths.account.name, "--reasoner", "bedrock", "--format", "json"])  # fmt: skip
        os.chdir(ROOT)


def at_the_caps(fake: FakeBedrock) -> None:
    catalog = load_catalog()
    actions = [
        replace(obs(f"svc{i}:Action{i}", 1000 - i, days=20, span=29),
                resource_samples=tuple(f"arn:aws:s3:::bucket-{i}/path/to/object-{j}.parquet"
                                       for j in range(3)))
        for i in range(60)
    ]  # fmt: skip
    removed = diff([(f"s3:Removed{i}", AccessLevel.WRITE) for i in range(60)],
                   {AccessLevel.WRITE: (400, 300), AccessLevel.READ: (300, 200)})  # fmt: skip
    given = evidence(
        actions,
        window_days=90,
        removed=removed,
        guardrails=[GuardrailSummary("WILDCARD_RESOURCE_ON_WRITE", "x" * 300, True)],
    )
    given = replace(given, session_samples=("deploy-1", "deploy-2", "alice@example.com"))
    client = make_bedrock_client(region="us-east-1", endpoint_url=fake.endpoint_url)
    BedrockReasoner(client, DEFAULT_MODEL, LocalReasoner(catalog)).reason(given)


def report(label: str, calls: list[dict[str, Any]], prices: tuple[float, float]) -> None:
    for call in calls:
        sent = json.dumps([call["system"], call["messages"], call["toolConfig"]])
        usage = usage_of(call, careful_model(call))["usage"]
        tokens_in, tokens_out = usage["inputTokens"], usage["outputTokens"]
        cost = (tokens_in * prices[0] + tokens_out * prices[1]) / 1e6
        ceiling = (tokens_in * prices[0] + MAX_OUTPUT_TOKENS * prices[1]) / 1e6
        principal = json.loads(
            call["messages"][0]["content"][0]["text"]
            .split("<evidence>\n")[1]
            .split("\n</evidence>")[0]
        )["principal"]
        print(f"{label:10} {principal[-32:]:>32} {len(sent):>8,} chars  {tokens_in:>6,} in  "
              f"{tokens_out:>4,} out  ${cost:.4f} (at most ${ceiling:.4f})")  # fmt: skip


def run() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-price", type=float, default=3.0, help="$ per 1M input tokens")
    parser.add_argument("--output-price", type=float, default=15.0, help="$ per 1M output tokens")
    args = parser.parse_args()
    os.environ.update(ENV)
    with running_bedrock() as fake:
        os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = fake.endpoint_url
        demo(fake)
        shown = len(fake.calls)
        at_the_caps(fake)
    prices = (args.input_price, args.output_price)
    report("demo", fake.calls[:shown], prices)
    report("caps", fake.calls[shown:], prices)


if __name__ == "__main__":
    run()
