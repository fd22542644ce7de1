"""ARN patterns in policies: whether one is well formed, and which resource types it can be.

A policy's resource is `*` or `arn:partition:service:region:account:resource`, each field may
hold `*`/`?` wildcards and policy variables. Whether a pattern can match an ARN of a catalog
resource type is answered without enumerating ARNs: the pattern's literal prefix (and suffix)
must be a possible prefix (suffix) of that type's ARN format. That test can only miss a
mismatch, never invent one, which is what a warning needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from alpha.catalog import ResourceType
from alpha.policy.short_arns import padded

_VARIABLE = re.compile(r"\$\{[^}]*\}")
_FIELD_RULES = (
    ("partition", re.compile(r"[a-z0-9*?-]+"), "letters, digits and hyphens such as 'aws'"),
    ("service", re.compile(r"[a-z0-9*?.-]+"), "a lower-case service name such as 's3'"),
    ("region", re.compile(r"[a-z0-9*?-]*"), "empty or a region such as 'us-east-1'"),
    ("account", re.compile(r"[a-z0-9*?-]*"), "empty, 'aws' or a 12-digit account ID"),
)


def arn_problem(pattern: str) -> str | None:
    """Why `pattern` is not `*` or a well-formed ARN pattern; None when it is fine."""
    if pattern == "*":
        return None
    plain = _VARIABLE.sub("x", pattern)  # a variable may stand in any field
    fields = plain.split(":", 5)
    if fields[0] != "arn":
        return "must be '*' or an ARN 'arn:partition:service:region:account:resource'"
    if len(fields) < 6:
        return (
            f"has {len(fields)} of the 6 ':'-separated fields of "
            "'arn:partition:service:region:account:resource' (region and account may be empty);"
            f" identity policies and boundaries read it as {padded(pattern)!r}, an SCP or a"
            " resource policy may match nothing with it: write the full ARN"
        )
    for (name, rule, expected), value in zip(_FIELD_RULES, fields[1:5], strict=True):
        if not rule.fullmatch(value):
            return f"the {name} field {value!r} is not valid: expected {expected}"
    if not fields[5]:
        return "the resource part after the fifth ':' is empty"
    return None


@lru_cache(maxsize=65_536)  # a policy asks the same (resource, type) for many actions
def could_be_of_type(pattern: str, resource_type: ResourceType) -> bool:
    """False only when no ARN of `resource_type` can match `pattern`."""
    if pattern == "*":
        return True
    tokens = _tokens(resource_type.arn_format)
    plain = _VARIABLE.sub("*", pattern)  # substituted per request: could be anything
    if "*" not in plain and "?" not in plain:
        return _viable(tokens, plain, whole=True)
    prefix = re.split(r"[*?]", plain, maxsplit=1)[0]
    suffix = re.split(r"[*?]", plain)[-1]
    reversed_tokens = tuple(t[::-1] if isinstance(t, str) else t for t in reversed(tokens))
    return _viable(tokens, prefix, whole=False) and _viable(
        reversed_tokens, suffix[::-1], whole=False
    )


@dataclass(frozen=True, slots=True)
class _Var:
    """A `${Name}` in an ARN format: which text it stands for.

    Mirrors `ResourceType.arn_pattern`: partition, region and account stay in one field and
    may be empty; a bucket name holds no `/`; other names are any non-empty text.
    """

    excluded: str
    may_be_empty: bool


_FIELD = _Var(":", may_be_empty=True)
_BUCKET = _Var("/", may_be_empty=False)
_NAME = _Var("", may_be_empty=False)
_Token = str | _Var


@lru_cache(maxsize=4096)
def _tokens(arn_format: str) -> tuple[_Token, ...]:
    tokens: list[_Token] = []
    pos = 0
    for match in re.finditer(r"\$\{([^}]*)\}", arn_format):
        if match.start() > pos:
            tokens.append(arn_format[pos : match.start()])
        name = match.group(1)
        if name in ("Partition", "Region", "Account"):
            tokens.append(_FIELD)
        elif name == "BucketName":
            tokens.append(_BUCKET)
        else:
            tokens.append(_NAME)
        pos = match.end()
    if pos < len(arn_format):
        tokens.append(arn_format[pos:])
    return tuple(tokens)


_State = tuple[int, int]  # (token index, characters of a literal read / 1 if a var read any)


def _viable(tokens: tuple[_Token, ...], text: str, *, whole: bool) -> bool:
    """Whether `text` is a prefix of (with `whole`: all of) some string the tokens describe."""
    states = _closure(tokens, {(0, 0)})
    for char in text:
        states = _closure(tokens, _step(tokens, states, char))
        if not states:
            return False
    return not whole or (len(tokens), 0) in states


def _step(tokens: tuple[_Token, ...], states: set[_State], char: str) -> set[_State]:
    out: set[_State] = set()
    for index, read in states:
        if index == len(tokens):
            continue
        token = tokens[index]
        if isinstance(token, str):
            if read < len(token) and token[read] == char:
                out.add((index, read + 1))
        elif char not in token.excluded:
            out.add((index, 1))
    return out


def _closure(tokens: tuple[_Token, ...], states: set[_State]) -> set[_State]:
    """Add the states reachable without reading: past a finished literal or a variable that
    has read enough."""
    pending = list(states)
    done = set(states)
    while pending:
        index, read = pending.pop()
        if index == len(tokens):
            continue
        token = tokens[index]
        finished = read == len(token) if isinstance(token, str) else read == 1 or token.may_be_empty
        if finished and (index + 1, 0) not in done:
            done.add((index + 1, 0))
            pending.append((index + 1, 0))
    return done
