"""The generate package's errors."""

from __future__ import annotations

from alpha.errors import AlphaError

__all__ = ["GenerateError"]


class GenerateError(AlphaError):
    """A proposal cannot be made from this input (unknown principal, nothing observed...)."""


class GenerationBugError(Exception):
    """A generated policy failed the never-wider proof. Never the user's fault, so not an
    `AlphaError`: the CLI must not hide it as bad input. It names the principal and the
    counterexample, and the proposal is never emitted."""

    def __init__(self, principal: str, detail: str) -> None:
        super().__init__(
            f"BUG: the proposal for {principal} would allow more than its existing policies "
            f"({detail}); it was not emitted. Please report it with the inputs."
        )
        self.principal = principal
        self.detail = detail

    def __reduce__(self) -> tuple[type[GenerationBugError], tuple[str, str]]:
        # Crosses process boundaries when proposals are generated in parallel.
        return (GenerationBugError, (self.principal, self.detail))
