"""IAM wildcard patterns and policy variables, compiled once and matched many times.

Wildcards: `*` matches any run of characters (including `/` and `:`), `?` exactly one.
Actions compare case-insensitively, resources and condition values case-sensitively.

Policy variables (only under Version 2012-10-17; otherwise `${...}` is literal text):
`${aws:username}` takes the single value of that context key; `${key, 'default'}` falls back to
the quoted default ('' inside it is one quote); `${*}`, `${?}` and `${$}` are the literal
characters. A variable whose key is missing (or multivalued) and has no default leaves its
pattern unresolved, and an unresolved pattern matches nothing ("Policy variables with no value",
IAM User Guide, reference_policies_variables). Substituted values are literal text: a `*` inside
a user name is not a wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from alpha.policy.globlang import Token, glob, wildcard_regex

__all__ = ["GlobSet", "compile_glob", "has_wildcard"]


Context = Mapping[str, tuple[str, ...]]
"""Request context: lower-cased key -> its values (a key is absent rather than empty)."""

_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def glob_to_regex(pattern: str, star: str = ".*", one: str = ".") -> str:
    """The regex (without anchors) for an IAM glob; `star`/`one` say what the wildcards match.
    Matching takes polynomial time whatever the pattern (see `wildcard_regex`)."""
    return wildcard_regex(glob(pattern).tokens, star, one)


def compile_glob(pattern: str, ignore_case: bool = False) -> Callable[[str], bool]:
    """A predicate telling whether a whole string matches the IAM glob `pattern`.

    `ignore_case=True` is for actions (`s3:Get*` matches `S3:GETOBJECT`); resources and
    condition values are case-sensitive. Exact strings, `prefix*`, `*suffix` and `*` take fast
    paths; anything else becomes one compiled regex.
    """
    if ignore_case:
        inner = compile_glob(pattern.lower())
        return lambda value: inner(value.lower())
    if pattern == "*":
        return lambda _value: True
    if not has_wildcard(pattern):
        return pattern.__eq__
    body = pattern[:-1]
    if pattern.endswith("*") and not has_wildcard(body):
        return lambda value: value.startswith(body)
    tail = pattern[1:]
    if pattern.startswith("*") and not has_wildcard(tail):
        return lambda value: value.endswith(tail)
    regex = re.compile(glob_to_regex(pattern), re.DOTALL)
    return lambda value: regex.fullmatch(value) is not None


class GlobSet:
    """Several globs OR'ed together, matched with one set lookup, one `startswith` over a
    tuple of prefixes and at most one combined regex."""

    __slots__ = ("_exact", "_matches_all", "_prefixes", "_regex", "ignore_case")

    def __init__(self, patterns: Iterable[str], ignore_case: bool = False) -> None:
        self.ignore_case = ignore_case
        folded = [p.lower() if ignore_case else p for p in patterns]
        self._matches_all = "*" in folded
        self._exact = frozenset(p for p in folded if not has_wildcard(p))
        prefixes = [p for p in folded if p.endswith("*") and not has_wildcard(p[:-1])]
        self._prefixes = tuple(p[:-1] for p in prefixes)
        rest = [p for p in folded if has_wildcard(p) and p not in prefixes]
        self._regex = (
            re.compile("|".join(f"(?:{glob_to_regex(p)})" for p in rest), re.DOTALL)
            if rest
            else None
        )

    @property
    def matches_all(self) -> bool:
        return self._matches_all

    def matches(self, value: str) -> bool:
        return self.matches_folded(value.lower() if self.ignore_case else value)

    def matches_folded(self, value: str) -> bool:
        """`matches` for a value already lower-cased when the set ignores case."""
        if self._matches_all or value in self._exact:
            return True
        if self._prefixes and value.startswith(self._prefixes):
            return True
        return self._regex is not None and self._regex.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Literal:
    """Policy text as written: its `*` and `?` are wildcards where the operator has them."""

    text: str


@dataclass(frozen=True, slots=True)
class Escaped:
    """`${*}`, `${?}` or `${$}`: the character itself, never a wildcard."""

    char: str


@dataclass(frozen=True, slots=True)
class Variable:
    key: str  # lower-cased: context keys are case-insensitive
    default: str | None = None


Part = Literal | Escaped | Variable


@dataclass(frozen=True, slots=True)
class Template:
    """A pattern or value that contains policy variables, resolved per request."""

    parts: tuple[Part, ...]

    def resolve(self, context: Context) -> str | None:
        """The literal text for this request (wildcards left as written), or None when a
        variable has no value."""
        out: list[str] = []
        for part in self.parts:
            text = _part_text(part, context)
            if text is None:
                return None
            out.append(text)
        return "".join(out)

    def variable_values(self, context: Context) -> tuple[str, ...] | None:
        """The values the variables take in this request (None if one has none): the key
        under which the resolved pattern can be cached."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, Variable):
                text = _part_text(part, context)
                if text is None:
                    return None
                out.append(text)
        return tuple(out)

    def regex(self, values: tuple[str, ...]) -> re.Pattern[str]:
        """The compiled glob once the variables take `values` (from `variable_values`):
        wildcards only in the policy's own text, substituted values literal."""
        pending = iter(values)
        tokens: list[Token] = []
        for part in self.parts:
            if isinstance(part, Literal):
                tokens.extend(glob(part.text).tokens)
            elif isinstance(part, Escaped):
                tokens.append(part.char)
            else:
                tokens.extend(next(pending))  # one literal token per character
        return cached_regex(wildcard_regex(tokens))


def _part_text(part: Part, context: Context) -> str | None:
    if isinstance(part, Literal):
        return part.text
    if isinstance(part, Escaped):
        return part.char
    values = context.get(part.key)
    if values is not None and len(values) == 1:
        return values[0]
    return part.default


class TemplateMatcher:
    """A template's globs per combination of variable values, compiled on first use."""

    __slots__ = ("_compiled", "template")

    _LIMIT = 4096  # combinations kept per template; beyond it, compile (cached by `re`)

    def __init__(self, template: Template) -> None:
        self.template = template
        self._compiled: dict[tuple[str, ...], re.Pattern[str]] = {}

    def matches(self, value: str, context: Context) -> bool:
        values = self.template.variable_values(context)
        if values is None:
            return False
        regex = self._compiled.get(values)
        if regex is None:
            regex = self.template.regex(values)
            if len(self._compiled) < self._LIMIT:
                self._compiled[values] = regex
        return regex.fullmatch(value) is not None


@lru_cache(maxsize=2048)
def cached_regex(regex: str) -> re.Pattern[str]:
    """Compile a per-request regex once; variable values repeat across a replay."""
    return re.compile(regex, re.DOTALL)


def parse_template(text: str) -> Template | None:
    """Split `text` into literal text and policy variables; None when it has no `${...}`
    (so the caller can compile it as a plain glob)."""
    if "${" not in text:
        return None
    parts: list[Part] = []
    pos = 0
    while (start := text.find("${", pos)) >= 0:
        found = _parse_variable(text, start + 2)
        if found is None:
            break
        part, end = found
        if start > pos:
            parts.append(Literal(text[pos:start]))
        parts.append(part)
        pos = end
    if pos < len(text):
        parts.append(Literal(text[pos:]))
    if all(isinstance(p, Literal) for p in parts):
        return None
    return Template(tuple(parts))


def _parse_variable(text: str, pos: int) -> tuple[Part, int] | None:
    """Read a variable body starting after `${`; (part, index after `}`), or None if malformed
    (IAM rejects such policies; here the text simply stays literal)."""
    close = text.find("}", pos)
    if close < 0:
        return None
    body = text[pos:close]
    if body in _ESCAPES:
        return Escaped(_ESCAPES[body]), close + 1
    key, comma, _ = body.partition(",")
    if not comma:
        key = key.strip()
        return (Variable(key.lower()), close + 1) if key else None
    return _parse_default(text, pos + len(key) + 1, key.strip())


def _parse_default(text: str, pos: int, key: str) -> tuple[Part, int] | None:
    while pos < len(text) and text[pos] == " ":
        pos += 1
    if not key or pos >= len(text) or text[pos] != "'":
        return None
    chars: list[str] = []
    pos += 1
    while pos < len(text):
        ch = text[pos]
        if ch == "'" and text.startswith("''", pos):
            chars.append("'")
            pos += 2
        elif ch == "'":
            end = text.find("}", pos)
            if end < 0 or text[pos + 1 : end].strip():
                return None
            return Variable(key.lower(), "".join(chars)), end + 1
        else:
            chars.append(ch)
            pos += 1
    return None


class PatternSet:
    """Resource patterns (or like-values) of one element: static globs plus templates.

    `matches(value, context)` is true when any pattern matches; patterns whose variables have no
    value for this request match nothing.
    """

    __slots__ = ("_globs", "_templates", "is_static")

    def __init__(self, patterns: Iterable[str], variables: bool) -> None:
        static: list[str] = []
        templates: list[TemplateMatcher] = []
        for pattern in patterns:
            template = parse_template(pattern) if variables else None
            if template is None:
                static.append(pattern)
            else:
                templates.append(TemplateMatcher(template))
        self._globs = GlobSet(static)
        self._templates = tuple(templates)
        self.is_static = not templates

    @property
    def matches_all(self) -> bool:
        return self._globs.matches_all

    def matches(self, value: str, context: Context) -> bool:
        if self._globs.matches_folded(value):
            return True
        return any(template.matches(value, context) for template in self._templates)
