"""Write the state machine definition the template deploys, from the transition table:
    python deploy/generate_definition.py
tests/deploy/test_template.py fails while the committed file differs from `to_asl()`."""

from __future__ import annotations

import json
from pathlib import Path

from alpha.rollout.asl import to_asl

DEFINITION = Path(__file__).parent / "statemachine" / "alpha.asl.json"


def definition_text() -> str:
    return json.dumps(to_asl(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    DEFINITION.write_text(definition_text(), encoding="utf-8")
