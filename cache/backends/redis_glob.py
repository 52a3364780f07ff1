"""Globs in the engine's dialect (fnmatch / SQLite GLOB, what ``escape_glob`` produces) rewritten
for Redis ``SCAN MATCH``.

Redis differs in two ways: a backslash escapes the next character (so a literal one must be
doubled) and a ``]`` right after ``[`` closes the class instead of being a member (so the
``[]]`` that ``escape_glob`` writes for a literal ``]`` must become ``[\\]]``).
"""

from __future__ import annotations


def redis_escape(literal: str) -> str:
    """Escape ``literal`` for a Redis MATCH pattern (backslash before ``*?[]\\``)."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in literal)


def glob_to_redis(pattern: str) -> str:
    """The Redis MATCH form of ``pattern`` (``*``, ``?``, ``[...]``, ``[!...]``; other characters
    literal). An unclosed ``[`` is a literal, as in fnmatch."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        end = _class_end(pattern, i) if ch == "[" else -1
        if ch == "[" and end > 0:
            body = pattern[i + 1 : end]
            negate = body[:1] in ("!", "^")
            members = body[1:] if negate else body
            escaped = "".join("\\" + c if c in "\\]" else c for c in members)
            out.append("[" + ("^" if negate else "") + escaped + "]")
            i = end + 1
            continue
        out.append("\\" + ch if ch in "\\[]" else ch)
        i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """Index of the ``]`` closing the class opened at ``start`` (fnmatch rules), or -1."""
    j = start + 1
    if j < len(pattern) and pattern[j] in "!^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1  # a leading ']' is a member
    return pattern.find("]", j)
