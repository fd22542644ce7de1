"""Which error codes mean IAM denied the call."""

from __future__ import annotations


def is_denied(error_code: str | None, error_message: str | None = None) -> bool:
    raise NotImplementedError
