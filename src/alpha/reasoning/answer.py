"""A model's answer, read as untrusted input, and merged with the local reasoning.

`read_answer` validates the tool input with pydantic (the seed's three fields, nothing more,
a probability in [0, 1], bounded text); anything else is `ModelAnswerError`, and the caller
lets the local reasoner answer. `merge` keeps the local estimate beside the model's: the
proposal's probability of break is the higher of the two, so text in the logs that talks the
model into "no risk" can never lower what the local reasoner computed.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from alpha.errors import AlphaError
from alpha.reasoning.ports import ModelRun, Reasoning
from alpha.reasoning.prompt import MAX_NOTES, MAX_RATIONALE
from alpha.reasoning.risk import RiskFactor, RiskSignal, pct

__all__ = ["ModelAnswer", "ModelAnswerError", "fallen_back", "merge", "read_answer", "shown"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_RATIONALE)
]


class ModelAnswerError(AlphaError):
    """The model's answer is not the tool call asked for, or breaks its schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RiskAnswer(_Strict):
    probability_of_break: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    rationale: Text


class ModelAnswer(_Strict):
    rationale: Text
    risk_signal: RiskAnswer
    remediation_notes: list[Text] = Field(max_length=MAX_NOTES)


def read_answer(tool_input: object) -> ModelAnswer:
    """The tool input validated; `ModelAnswerError` naming the first bad field."""
    if not isinstance(tool_input, dict):
        raise ModelAnswerError(f"tool input is {type(tool_input).__name__}, not an object")
    try:
        return ModelAnswer.model_validate(tool_input)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "input"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ModelAnswerError(f"{where}: {first['msg']}{more}") from exc


def shown(text: str) -> str:
    """Model text as it may be shown: no control or bidi characters (terminal escapes)."""
    return _CONTROL.sub(" ", text)


def merge(local: Reasoning, answer: ModelAnswer, run: ModelRun) -> Reasoning:
    """The model's rationale and notes with the local risk kept beside its own."""
    local_risk = local.risk_signal
    model_p = answer.risk_signal.probability_of_break
    total = max(model_p, local_risk.probability_of_break)
    kept = "the model's" if model_p >= local_risk.probability_of_break else "the local"
    rationale = (
        f"{shown(answer.risk_signal.rationale)} (Model estimate {pct(model_p)}, local "
        f"estimate {pct(local_risk.probability_of_break)}; {kept}, the higher, is kept.)"
    )
    factor = RiskFactor("model", model_p, shown(answer.risk_signal.rationale))
    risk = RiskSignal(total, rationale, (*local_risk.factors, factor))
    notes = dict.fromkeys((*local.remediation_notes, *(shown(n) for n in answer.remediation_notes)))
    return Reasoning(shown(answer.rationale), risk, tuple(notes), run)


def fallen_back(local: Reasoning, run: ModelRun) -> Reasoning:
    """The local reasoning, saying the model was asked and why it did not answer."""
    return Reasoning(local.rationale, local.risk_signal, local.remediation_notes, run)
