"""The prompt: instructions apart from the evidence, the evidence one JSON document that no
string in it can break out of, log-derived text capped; the answer: only the seed's fields,
validated, merged so the local risk is never lowered."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpha.catalog import Catalog
from alpha.reasoning import LocalReasoner, ModelRun
from alpha.reasoning.answer import ModelAnswerError, merge, read_answer
from alpha.reasoning.prompt import MAX_TEXT, evidence_document, fence, tool_schema, user_prompt
from tests.reasoning.factories import evidence, obs


@given(st.text())
def test_no_string_can_close_the_fence(text: str) -> None:
    fenced = fence({"key": text, text[:20]: [text]})
    assert "<" not in fenced
    assert ">" not in fenced
    assert "\n" not in fenced
    assert json.loads(fenced)["key"] == text


def test_log_text_is_capped_and_the_block_is_last(catalog: Catalog) -> None:
    long = "a" * 10_000
    given_ = replace(evidence([replace(obs("s3:GetObject", 2), resource_samples=(long,))]),
                     session_samples=(long,))  # fmt: skip
    local = LocalReasoner(catalog).reason(given_)
    document = evidence_document(given_, local)
    sample = document["usage"]["actions"][0]["resource_samples"][0]
    assert len(sample) < MAX_TEXT + 40
    assert document["usage"]["session_name_samples"][0].endswith("[cut, 10000 characters]")
    prompt = user_prompt(given_, local)
    assert prompt.endswith("</evidence>")
    assert prompt.count("<evidence>") == 1


def test_the_schema_is_the_seeds_fields_only() -> None:
    schema = tool_schema()
    assert schema["required"] == ["rationale", "risk_signal", "remediation_notes"]
    risk = schema["properties"]["risk_signal"]["properties"]["probability_of_break"]
    assert (risk["minimum"], risk["maximum"]) == (0, 1)


VALID = {
    "rationale": "fine",
    "risk_signal": {"probability_of_break": 0.25, "rationale": "some"},
    "remediation_notes": ["check"],
}
BAD = {
    "probability above one": ({"risk_signal": {"probability_of_break": 1.7, "rationale": "x"}},
                              "risk_signal.probability_of_break"),
    "probability NaN": ({"risk_signal": {"probability_of_break": float("nan"), "rationale": "x"}},
                        "risk_signal.probability_of_break"),
    "empty rationale": ({"rationale": "  "}, "rationale"),
    "extra field": ({"policy": {}}, "policy"),
    "too many notes": ({"remediation_notes": ["n"] * 13}, "remediation_notes"),
}  # fmt: skip


@pytest.mark.parametrize(("change", "field"), BAD.values(), ids=BAD.keys())
def test_bad_answers_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ModelAnswerError, match=f"^{field}"):
        read_answer({**VALID, **change})


@pytest.mark.parametrize("model_p", [0.0, 0.25, 1.0])
def test_merge_keeps_the_higher_risk_and_both_estimates(catalog: Catalog, model_p: float) -> None:
    local = LocalReasoner(catalog).reason(evidence([obs("s3:GetObject", 1)], window_days=3))
    answer = read_answer({**VALID, "risk_signal": {"probability_of_break": model_p,
                                                   "rationale": "r"}})  # fmt: skip
    run = ModelRun("bedrock", "m", local.risk_signal.probability_of_break, model_p, 10, 5)
    merged = merge(local, answer, run)
    high = max(model_p, local.risk_signal.probability_of_break)
    assert merged.risk_signal.probability_of_break == high
    assert merged.risk_signal.factor("model").probability == model_p
    assert merged.remediation_notes[-1] == "check"
    assert merged.to_dict()["reasoner"]["tokens"] == {"input": 10, "output": 5}
