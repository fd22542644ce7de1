"""Files users hand ALPHA (policies, account snapshots, cases, `alpha.toml`, output paths),
read, decoded and written so that any damage is one error naming the place, never a traceback.

JSON is read as IAM reads policies: duplicate keys (IAM would keep one of them, silently),
NaN and Infinity (not JSON), numbers beyond what Python converts (integers of more than 4,300
digits, floats that overflow), half a UTF-16 surrogate pair (not a character) and nesting too
deep for the decoder are refused. The failure path finds the line and column by a second,
iterative pass over the text, so the common path costs nothing extra.

Every reader shares these, and wraps `InputTextError` in its own package's error with the
file's name.
"""

from __future__ import annotations

import gc
import json
import math
import re
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alpha.errors import AlphaError

__all__ = [
    "InputTextError",
    "check_surrogates",
    "decode_failure",
    "decode_json",
    "decode_toml",
    "duplicate_key",
    "one_line",
    "read_input",
    "shown",
    "strict_decoder",
    "without_cycle_collection",
    "write_output",
]

MAX_DEPTH = 500
"""Nesting past this is named when the decoder runs out of stack (at about 1,000 levels)."""

MAX_DIGITS = sys.get_int_max_str_digits() or 4300


class InputTextError(AlphaError):
    """Text that does not decode: `message` says why, `line` and `column` (1-based, 0 when
    unknown) where; `code` is the policy finding kind (NOT_JSON, DUPLICATE_KEY); `syntax` is
    true for plain syntax errors (so a caller may try another reading of the text)."""

    def __init__(
        self, message: str, *, line: int = 0, column: int = 0, code: str = "NOT_JSON"
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.code = code
        self.syntax = False
        super().__init__(f"{self.where}: {message}" if self.where else message)

    @property
    def where(self) -> str:
        if not self.line:
            return ""
        return f"line {self.line} column {self.column}" if self.column else f"line {self.line}"


def one_line(text: str) -> str:
    """`text` with each character that does not print escaped (`\\n`, `\\x00`, `\\u2028`,
    `\\ud800`), so that a message quoting a document or a path stays one readable line."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def shown(path: Path | str) -> str:
    """A path as messages print it (see `one_line`)."""
    return one_line(str(path))


def read_input(
    path: Path, error: Callable[[str], AlphaError], *, encoding: str = "utf-8-sig"
) -> str:
    """The file's text, or `error("<path>: cannot read: <why>")`: missing, a folder, no
    permission, not UTF-8, or a name the system cannot take (a NUL in it)."""
    try:
        return path.read_text(encoding=encoding)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name, or not UTF-8
        raise error(f"{shown(path)}: cannot read: {_reason(exc)}") from exc


def write_output(path: Path, text: str, error: Callable[[str], AlphaError]) -> None:
    """Write `text` (UTF-8), or `error("<path>: cannot write: <why>")`: a folder that does
    not exist, no permission, a NUL in the name."""
    try:
        path.write_text(text, encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise error(f"{shown(path)}: cannot write: {_reason(exc)}") from exc


def _reason(exc: OSError | ValueError) -> str:
    """The system's words without the repeated path (`No such file or directory`)."""
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


# JSON ----------------------------------------------------------------------------------------


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large acyclic structure is built or
    printed. Every collection walks all live objects, so building millions of them (a decoded
    200,000-role account, its snapshot, its table) paid for each again and again, more than
    the work itself; reference counting still frees everything, and a cycle made meanwhile is
    collected once the collector resumes. Nests: the outermost use turns it back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def decode_json(text: str) -> Any:
    """The decoded document, or InputTextError naming the line and column."""
    try:
        with without_cycle_collection():  # a decoded document holds no cycles
            value = strict_decoder().decode(text)
    except (json.JSONDecodeError, _RefusedError, RecursionError) as exc:
        raise decode_failure(text, exc) from exc
    check_surrogates(text)
    return value


@cache
def strict_decoder() -> json.JSONDecoder:
    """The decoder `decode_json` uses (its `raw_decode` decodes one value of a larger text).
    Its failures are `json.JSONDecodeError`, `RecursionError` or others that
    `decode_failure` turns into `InputTextError`."""
    return json.JSONDecoder(
        object_pairs_hook=_reject_duplicates,
        parse_constant=_reject_constant,
        parse_int=_bounded_int,
        parse_float=_finite_float,
    )


def decode_failure(text: str, exc: Exception) -> InputTextError:
    """Why `strict_decoder` failed on `text`, with the line and column."""
    if isinstance(exc, json.JSONDecodeError):
        error = InputTextError(f"not JSON: {exc.msg}", line=exc.lineno, column=exc.colno)
        error.syntax = True
        return error
    if isinstance(exc, _RefusedError):
        return _located(text, exc.problem, exc.message, exc.code)
    if isinstance(exc, RecursionError):  # e.g. thousands of `[`: bad input, not a crash
        message = f"not JSON this reader can take: nested more than {MAX_DEPTH} levels deep"
        return _located(text, "depth", message, "NOT_JSON")
    raise exc


def duplicate_key(text: str, key: str) -> InputTextError:
    """The first duplicate key of `text`, where it is (`key` is the one found)."""
    return _located(text, "duplicate", f"duplicate key {key!r}", "DUPLICATE_KEY")


def check_surrogates(text: str) -> None:
    """Half a surrogate pair is no character: it could not be printed, stored or sent to IAM."""
    if _may_hold_lone_surrogate(text) and _find(text, "surrogate") is not None:
        message = "not JSON: half a UTF-16 surrogate pair (\\ud800 to \\udfff) is not a character"
        raise _located(text, "surrogate", message, "NOT_JSON")


def _may_hold_lone_surrogate(text: str) -> bool:
    """A quick look (hundredths of a second for 50 MB): an escape of a surrogate that is not
    half of a pair, or a raw surrogate; only then is the text walked token by token."""
    escape = _SURROGATE_ESCAPE.search(text)
    if escape is not None and _LONE_SURROGATE_ESCAPE.search(text, escape.start()):
        return True
    return not text.isascii() and _RAW_SURROGATE.search(text) is not None


class _RefusedError(ValueError):
    def __init__(self, problem: str, message: str, code: str = "NOT_JSON") -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.code = code


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RefusedError("duplicate", f"duplicate key {key!r}", "DUPLICATE_KEY")
            seen.add(key)
    return result


def _reject_constant(name: str) -> Any:
    raise _RefusedError("constant", f"not JSON: {name} is not a JSON value")


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise _RefusedError("digits", f"a number of more than {MAX_DIGITS:,} digits")
    return int(digits)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        shown = text if len(text) <= 20 else f"{text[:20]}..."
        raise _RefusedError("float", f"the number {shown} is too large")
    return value


_TOKEN = re.compile(
    r"""(?P<key>"[^"\\]*(?:\\.[^"\\]*)*")\s*:
    |(?P<string>"[^"\\]*(?:\\.[^"\\]*)*")
    |(?P<open>[\[{])
    |(?P<close>[\]}])
    |(?P<constant>NaN|-?Infinity)
    |(?P<number>-?\d+(?P<fraction>\.\d+(?:[eE][-+]?\d+)?|[eE][-+]?\d+)?)""",
    re.VERBOSE | re.DOTALL,
)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE_ESCAPE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"  # a high half not followed by a low
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # a low half alone
)
_RAW_SURROGATE = re.compile("[\ud800-\udfff]")


def _located(text: str, problem: str, message: str, code: str) -> InputTextError:
    """The error at the first place in `text` showing `problem`: a second pass, token by
    token and without recursion, taken only when decoding failed."""
    offset = _find(text, problem)
    if offset is None:
        return InputTextError(message, code=code)
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return InputTextError(message, line=line, column=column, code=code)


def _find(text: str, problem: str) -> int | None:
    keys: list[set[str] | None] = []  # per open bracket: the keys seen, None for a list
    for match in _TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind == "open":
            keys.append(set() if token == "{" else None)
            if problem == "depth" and len(keys) > MAX_DEPTH:
                return match.start()
        elif kind == "close" and keys:
            keys.pop()
        elif kind == "key" and problem in ("duplicate", "surrogate"):
            name = json.loads(match.group("key"))
            if problem == "surrogate" and _has_surrogate(name):
                return match.start()
            seen = keys[-1] if keys else None
            if problem == "duplicate" and seen is not None:
                if name in seen:
                    return match.start()
                seen.add(name)
        elif _is_problem(kind, token, problem, match.group("fraction")):
            return match.start()
    return None


def _is_problem(kind: str | None, token: str, problem: str, fraction: str | None) -> bool:
    if kind == "constant":
        return problem == "constant"
    if kind == "string":
        return problem == "surrogate" and _has_surrogate(json.loads(token))
    if kind != "number":
        return False
    if problem == "digits":
        return fraction is None and len(token.lstrip("-")) > MAX_DIGITS
    return problem == "float" and fraction is not None and math.isinf(float(token))


def _has_surrogate(value: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in value)


# TOML ----------------------------------------------------------------------------------------


def decode_toml(text: str) -> dict[str, Any]:
    """The decoded document, or InputTextError naming the line (tomllib's own errors end with
    "(at line L, column C)")."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputTextError(f"not valid TOML: {exc}") from exc
    except ValueError as exc:  # tomllib lets int()'s digit limit through
        message = f"not valid TOML: a number of more than {MAX_DIGITS:,} digits"
        raise InputTextError(message, line=_toml_line(text, _long_number)) from exc
    except RecursionError as exc:
        message = f"not valid TOML: nested more than {MAX_DEPTH} levels deep"
        raise InputTextError(message, line=_toml_line(text, _too_deep())) from exc


_TOML_NOISE = re.compile(
    r"""
    "{3}[\s\S]*?"{3}        # multi-line strings
    |'{3}[\s\S]*?'{3}
    |"(?:[^"\\\n]|\\.)*"     # one-line strings
    |'[^'\n]*'
    |\#[^\n]*               # comments
    """,
    re.VERBOSE,
)
_TOML_NUMBER = re.compile(r"[+-]?[0-9][0-9a-fA-FxXoObB_]*")


def _toml_line(text: str, found: Callable[[str], bool]) -> int:
    """The first line (1-based; 0 if none) where `found` holds of the text before its end,
    strings and comments blanked out (keeping the line breaks)."""
    bare = _TOML_NOISE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    for number, line in enumerate(bare.split("\n"), start=1):
        if found(line):
            return number
    return 0


def _long_number(line: str) -> bool:
    return any(
        len(m.group().replace("_", "").lstrip("+-")) > MAX_DIGITS
        for m in _TOML_NUMBER.finditer(line)
    )


def _too_deep() -> Callable[[str], bool]:
    depth = 0

    def found(line: str) -> bool:
        nonlocal depth
        for ch in line:
            depth += 1 if ch in "[{" else -1 if ch in "]}" else 0
            if depth > MAX_DEPTH:
                return True
        return False

    return found
