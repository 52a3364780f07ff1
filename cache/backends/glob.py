"""The cache's one glob dialect, parsed once and translated for each tier.

A pattern matches a whole key, case-sensitively, character by character (Unicode code points):

- ``*`` any run of characters, the empty one included (``:`` is not special);
- ``?`` exactly one character;
- ``[abc]`` one character of the class; ``[a-z]`` a range (by code point; a reversed range such
  as ``[z-a]`` is a ValueError); ``[!a]`` and ``[^a]`` both negate. A ``]`` right after the
  opening ``[`` (or after ``[!`` / ``[^``) is a member; a ``-`` first or last is a member;
- ``\\`` makes the next character literal, inside a class too (``\\*``, ``\\?``, ``\\[``,
  ``[\\]]``); a ``\\`` ending the pattern is a literal backslash;
- a ``[`` with no closing ``]`` is a literal ``[`` (the rest is read as usual);
- every other character is itself.

:func:`parse_glob` turns a pattern into tokens; :func:`glob_match` is the reference matcher over
them. The tiers translate the tokens: :func:`glob_regex` for the memory tier, :func:`sqlite_glob`
for SQLite's ``GLOB`` (where ``[^x]`` negates and ``!`` is a member, and there is no escape
character), :func:`redis_match` for Redis ``SCAN MATCH`` (which matches bytes, not characters,
so it only narrows the scan; the Redis tier checks each key it returns with
:func:`glob_regex`). :func:`escape_glob` writes a literal so it matches only itself.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "CharClass",
    "Wild",
    "escape_glob",
    "glob_match",
    "glob_regex",
    "parse_glob",
    "redis_escape",
    "redis_match",
    "sqlite_glob",
]


class Wild(enum.Enum):
    STAR = "*"
    """Any run of characters."""
    ONE = "?"
    """Exactly one character."""


@dataclass(frozen=True, slots=True)
class CharClass:
    """One character in (or, ``negated``, not in) the inclusive code point ``ranges``."""

    negated: bool
    ranges: tuple[tuple[str, str], ...]

    def __contains__(self, ch: object) -> bool:
        if not isinstance(ch, str):
            return False
        return any(lo <= ch <= hi for lo, hi in self.ranges) != self.negated


Token = str | Wild | CharClass
"""A literal character, a wildcard or a class."""

_ESCAPED = {"*": "[*]", "?": "[?]", "[": "[[]", "]": "[]]", "\\": "[\\\\]"}


def escape_glob(literal: str) -> str:
    """A pattern matching only ``literal`` (classes of one, readable by older fnmatch dialects too)."""
    return "".join(_ESCAPED.get(ch, ch) for ch in literal)


@lru_cache(maxsize=256)
def parse_glob(pattern: str) -> tuple[Token, ...]:
    """The tokens of ``pattern`` (see the module doc); ValueError for a reversed range."""
    tokens: list[Token] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            tokens.append(pattern[i + 1] if i + 1 < n else "\\")
            i += 2
        elif ch == "*":
            if not tokens or tokens[-1] is not Wild.STAR:  # ** is *
                tokens.append(Wild.STAR)
            i += 1
        elif ch == "?":
            tokens.append(Wild.ONE)
            i += 1
        elif ch == "[":
            parsed = _parse_class(pattern, i + 1)
            if parsed is None:  # unterminated: a literal '['
                tokens.append("[")
                i += 1
            else:
                tokens.append(parsed[0])
                i = parsed[1]
        else:
            tokens.append(ch)
            i += 1
    return tuple(tokens)


def _parse_class(pattern: str, start: int) -> tuple[CharClass, int] | None:
    """The class whose body starts at ``start`` (just after ``[``) and the index after its
    closing ``]``; None when nothing closes it."""
    n = len(pattern)
    i = start
    negated = i < n and pattern[i] in "!^"
    if negated:
        i += 1
    ranges: list[tuple[str, str]] = []
    first = True
    while i < n:
        if pattern[i] == "]" and not first:
            return CharClass(negated, tuple(ranges)), i + 1
        first = False
        lo, i = _class_char(pattern, i)
        if i + 1 < n and pattern[i] == "-" and pattern[i + 1] != "]":  # lo-hi
            hi, i = _class_char(pattern, i + 1)
            if lo > hi:
                raise ValueError(f"glob {pattern!r}: the range {lo}-{hi} is reversed")
            ranges.append((lo, hi))
        else:
            ranges.append((lo, lo))
    return None


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """The class member at ``i`` (a backslash takes the next character as it is) and the index after it."""
    if pattern[i] == "\\" and i + 1 < len(pattern):
        return pattern[i + 1], i + 2
    return pattern[i], i + 1


def glob_match(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches all of ``text``: the dialect's reference matcher."""
    tokens = parse_glob(pattern)
    p = t = 0
    star_p, star_t = -1, 0
    while t < len(text):
        token = tokens[p] if p < len(tokens) else None
        if token is Wild.STAR:
            star_p, star_t = p, t
            p += 1
        elif token is not None and _one(token, text[t]):
            p += 1
            t += 1
        elif star_p >= 0:  # let the last * take one more character
            star_t += 1
            p, t = star_p + 1, star_t
        else:
            return False
    return all(token is Wild.STAR for token in tokens[p:])


def _one(token: Token, ch: str) -> bool:
    if token is Wild.ONE:
        return True
    if isinstance(token, CharClass):
        return ch in token
    return token == ch


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A compiled regex for ``pattern``; use its ``fullmatch``. ValueError for a reversed range."""
    parts: list[str] = []
    for token in parse_glob(pattern):
        if token is Wild.STAR:
            parts.append(".*")
        elif token is Wild.ONE:
            parts.append(".")
        elif isinstance(token, CharClass):
            # re.escape covers every character a regex class gives a meaning (] \\ ^ - [ & ~ |)
            body = "".join(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}" for lo, hi in token.ranges)
            parts.append(f"[{'^' if token.negated else ''}{body}]")
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts), re.DOTALL)


# -- SQLite GLOB ----------------------------------------------------------------------------------

_SQLITE_LITERAL = {"*": "[*]", "?": "[?]", "[": "[[]"}
_SQLITE_AWKWARD = "]-^"  # members SQLite reads by position only: never a range end


@lru_cache(maxsize=256)
def sqlite_glob(pattern: str) -> str:
    """``pattern`` for SQLite's ``GLOB`` operator (same keys matched). ValueError for a reversed range."""
    parts: list[str] = []
    for token in parse_glob(pattern):
        if isinstance(token, Wild):
            parts.append(token.value)
        elif isinstance(token, CharClass):
            parts.append(_sqlite_class(token))
        else:
            parts.append(_SQLITE_LITERAL.get(token, token))
    return "".join(parts)


def _sqlite_class(token: CharClass) -> str:
    """SQLite reads ``^`` first as negation, ``]`` first as a member, ``-`` between two members
    as a range: so ``]`` goes first, ``-`` next, ``^`` last, and none of them ends a range."""
    singles: set[str] = set()
    ranges: list[tuple[str, str]] = []
    for lo, hi in token.ranges:
        for piece_lo, piece_hi, awkward in _split_awkward(lo, hi):
            if awkward or piece_lo == piece_hi:
                singles.add(piece_lo)
            else:
                ranges.append((piece_lo, piece_hi))
    if not token.negated and not ranges and singles == {"^"}:
        return "^"  # '[^]' would read as a negation; outside a class '^' is itself
    body = "]" if "]" in singles else ""
    body += "-" if "-" in singles else ""
    body += "".join(sorted(singles - set(_SQLITE_AWKWARD)))
    body += "".join(f"{lo}-{hi}" for lo, hi in ranges)
    body += "^" if "^" in singles else ""
    return f"[{'^' if token.negated else ''}{body}]"


def _split_awkward(lo: str, hi: str) -> list[tuple[str, str, bool]]:
    """``lo``-``hi`` cut around the characters in :data:`_SQLITE_AWKWARD` (each its own piece,
    flagged True)."""
    pieces: list[tuple[str, str, bool]] = []
    start = ord(lo)
    for cut in sorted(ord(c) for c in _SQLITE_AWKWARD if lo <= c <= hi):
        if start < cut:
            pieces.append((chr(start), chr(cut - 1), False))
        pieces.append((chr(cut), chr(cut), True))
        start = cut + 1
    if start <= ord(hi):
        pieces.append((chr(start), hi, False))
    return pieces


# -- Redis SCAN MATCH -----------------------------------------------------------------------------


def redis_escape(literal: str) -> str:
    """``literal`` escaped for a Redis MATCH pattern (a backslash before ``*?[]\\``)."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in literal)


@lru_cache(maxsize=256)
def redis_match(pattern: str) -> str:
    """A Redis MATCH pattern matching every key ``pattern`` matches, and maybe more.

    Redis compares bytes: ``?`` and a class take one byte, but a character may be several
    UTF-8 bytes. So ``?`` and negated or non-ASCII classes become ``?*`` (one byte or more);
    a plain ASCII class is exact. The caller filters what SCAN returns with :func:`glob_regex`.
    ValueError for a reversed range.
    """
    parts: list[str] = []
    for token in parse_glob(pattern):
        if token is Wild.STAR:
            parts.append("*")
        elif token is Wild.ONE:
            parts.append("?*")
        elif isinstance(token, CharClass):
            parts.append(_redis_class(token))
        else:
            parts.append(redis_escape(token))
    return "".join(parts)


def _redis_class(token: CharClass) -> str:
    if token.negated or any(hi > "\x7f" for _, hi in token.ranges):
        return "?*"
    members = sorted({chr(c) for lo, hi in token.ranges for c in range(ord(lo), ord(hi) + 1)})
    return "[" + "".join("\\" + ch for ch in members) + "]"
