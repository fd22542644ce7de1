"""The root of ALPHA's errors. Each package derives its own base error from `AlphaError`.

An `AlphaError` is bad input or a failed precondition the user can fix: the CLI prints its
message as one line and exits 2. Anything else is a bug and keeps its traceback.
"""

__all__ = ["AlphaError"]


class AlphaError(Exception):
    """A problem the user can fix; the message names the file, line or field."""
