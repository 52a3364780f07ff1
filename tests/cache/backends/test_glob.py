"""The glob dialect (cache.backends.glob): what each construct means, and that the SQLite and
regex translations agree with the reference matcher on many generated patterns."""

from __future__ import annotations

import sqlite3

import pytest

from cache.backends.glob import escape_glob, glob_match, glob_regex, parse_glob, redis_match, sqlite_glob
from tests.support.globs import generated_keys, generated_patterns

CASES = [
    ("*", "", True),
    ("*", "any:thing/at all", True),
    ("?", "", False),
    ("?", "臺", True),
    ("??", "臺", False),
    ("[abc]", "b", True),
    ("[abc]", "d", False),
    ("[a-c]", "b", True),
    ("[a-c]", "-", False),
    ("[!a]", "b", True),
    ("[!a]", "a", False),
    ("[^a]", "b", True),
    ("[^a]", "a", False),
    ("[^a]", "^", True),
    ("[!a]", "!", True),
    ("[]a]", "]", True),
    ("[!]a]", "]", False),
    ("[-a]", "-", True),
    ("[a-]", "-", True),
    ("[\\]]", "]", True),
    ("[\\-]", "-", True),
    ("[\\\\]", "\\", True),
    ("\\*", "*", True),
    ("\\*", "x", False),
    ("\\?", "?", True),
    ("\\[", "[", True),
    ("\\a", "a", True),
    ("a\\", "a\\", True),
    ("[", "[", True),
    ("a[b", "a[b", True),
    ("a[b*", "a[bcd", True),
    ("[!", "[!", True),
    ("[^]*", "[^]x", True),
    ("[é-ü]", "ö", True),
    ("[é-ü]", "e", False),
    ("x?y", "x\ny", True),
    ("TRIALS:*", "trials:1", False),
]


@pytest.mark.parametrize(("pattern", "key", "expected"), CASES)
def test_the_dialect(pattern: str, key: str, expected: bool) -> None:
    assert glob_match(pattern, key) is expected
    assert (glob_regex(pattern).fullmatch(key) is not None) is expected
    assert _sqlite_glob_matches(sqlite_glob(pattern), key) is expected


@pytest.mark.parametrize("pattern", ["[z-a]", "x[b-a]*", "[a-\\]]"])
def test_a_reversed_range_is_refused(pattern: str) -> None:
    for translate in (parse_glob, glob_regex, sqlite_glob, redis_match):
        with pytest.raises(ValueError, match="reversed"):
            translate(pattern)


@pytest.mark.parametrize("literal", ["a*b", "a?b", "a[b]", "a]b", "a\\b", "[*?]%_\\", "[!x]", "[^x]", "臺*"])
def test_escape_glob_matches_only_itself(literal: str) -> None:
    pattern = escape_glob(literal)
    assert glob_match(pattern, literal)
    for other in ("aXb", "ab", literal + "x", "x" + literal, literal[:-1]):
        if other != literal:
            assert not glob_match(pattern, other)


def test_redis_match_is_exact_for_ascii_and_wider_where_bytes_differ() -> None:
    assert redis_match("trials:*") == "trials:*"
    assert redis_match("a\\*b[") == "a\\*b\\["
    assert redis_match("[ab]") == "[\\a\\b]"
    assert redis_match("[!a]?") == "?*?*"  # a negated class or ? may be several UTF-8 bytes
    assert redis_match(escape_glob("a]b")) == "a[\\]]b"


def _sqlite_glob_matches(glob: str, key: str) -> bool:
    conn = sqlite3.connect(":memory:")
    try:
        ((hit,),) = conn.execute("SELECT ? GLOB ?", (key, glob)).fetchall()
        return bool(hit)
    finally:
        conn.close()


def test_translations_agree_with_the_reference_on_generated_patterns() -> None:
    keys = generated_keys(300)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE k (key TEXT)")
    conn.executemany("INSERT INTO k VALUES (?)", [(k,) for k in keys])
    checked = 0
    try:
        for pattern in generated_patterns(1500):
            try:
                expected = {k for k in keys if glob_match(pattern, k)}
            except ValueError:  # a reversed range: refused by every translation alike
                continue
            regex = glob_regex(pattern)
            assert {k for k in keys if regex.fullmatch(k)} == expected, pattern
            found = {row[0] for row in conn.execute("SELECT key FROM k WHERE key GLOB ?", (sqlite_glob(pattern),))}
            assert found == expected, (pattern, sqlite_glob(pattern))
            checked += 1
    finally:
        conn.close()
    assert checked > 1000
