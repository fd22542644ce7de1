"""People's names as ALPHA compares them: one person, one key, however the name is typed.

Separation of duties and approver allowlists compare names, so a name that differs only in
case, compatibility form (fullwidth letters), accents or invisible characters must not pass
for another person. `person_key` folds the first three away (NFKC, case folding, combining
marks dropped); `check_name` refuses the rest: invisible or control characters, and letters
from more than one script (a Cyrillic `а` inside a Latin name). Han, Hiragana and Katakana
count as one script, as Japanese names mix them.
"""

from __future__ import annotations

import unicodedata

from alpha.rollout.errors import RolloutError

__all__ = ["IdentityError", "check_name", "person_key", "same_person"]

MAX_NAME = 200
# Scripts that one name may legitimately mix.
_SCRIPT_FAMILIES = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "CJK": "CJK", "IDEOGRAPHIC": "CJK"}
# Scripts whose accents people drop when typing a name: `José` and `Jose` are one person.
_ACCENTED = frozenset({"LATIN", "GREEK", "CYRILLIC"})


class IdentityError(RolloutError):
    """A name that cannot stand for one person; the message says why."""


def check_name(name: str, what: str = "name") -> str:
    """The name as it will be shown and stored (NFKC, outer blanks stripped); IdentityError
    when it is empty, too long, holds an invisible or control character, or mixes scripts."""
    cleaned = unicodedata.normalize("NFKC", name).strip()
    if not cleaned:
        raise IdentityError(f"the {what} is empty")
    if len(cleaned) > MAX_NAME:
        raise IdentityError(f"the {what} is longer than {MAX_NAME} characters")
    for index, char in enumerate(cleaned):
        if _invisible(char):
            code = f"U+{ord(char):04X}"
            raise IdentityError(
                f"the {what} {cleaned!r} holds an invisible or control character ({code} at "
                f"position {index + 1})"
            )
    scripts = _scripts(cleaned)
    if len(scripts) > 1:
        raise IdentityError(
            f"the {what} {cleaned!r} mixes letters of several scripts "
            f"({', '.join(sorted(scripts))}); write it in one"
        )
    return cleaned


def person_key(name: str) -> str:
    """What two spellings of one person's name have in common: NFKC, case-folded, accents on
    Latin, Greek and Cyrillic letters dropped (`José` is `Jose`), inner blanks collapsed.
    Marks that make another letter elsewhere (Japanese dakuten) stay. Check the name first
    (`check_name`)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    kept: list[str] = []
    base_script = ""
    for char in unicodedata.normalize("NFKD", folded):
        if unicodedata.category(char) == "Mn":
            if base_script not in _ACCENTED:
                kept.append(char)
            continue
        base_script = _script_of(char)
        kept.append(char)
    return " ".join(unicodedata.normalize("NFKC", "".join(kept)).split())


def same_person(first: str, second: str) -> bool:
    return person_key(first) == person_key(second)


def _invisible(char: str) -> bool:
    category = unicodedata.category(char)
    # Cf: format (zero-width space, joiners, bidi marks); Cc: control; Co/Cn: private, unassigned;
    # Zl/Zp: line and paragraph separators. A plain space (Zs) is a blank, allowed inside a name.
    if category in ("Cf", "Cc", "Co", "Cn", "Zl", "Zp"):
        return True
    return category == "Zs" and char != " "


def _script_of(char: str) -> str:
    """The script of a letter, by the first word of its Unicode name ("" for a non-letter)."""
    if not unicodedata.category(char).startswith("L"):
        return ""
    word = unicodedata.name(char, "UNKNOWN").split(" ")[0]
    return _SCRIPT_FAMILIES.get(word, word)


def _scripts(name: str) -> set[str]:
    return {script for script in map(_script_of, name) if script}
