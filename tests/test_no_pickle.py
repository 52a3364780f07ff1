"""No pickle anywhere in the shipped packages: a shared Redis must not be a code-execution channel."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("server", "tools", "cache")
FORBIDDEN = re.compile(
    r"^\s*(?:import|from)\s+(?:c?pickle|_pickle|shelve|dill|cloudpickle)\b"
    r"|\bc?pickle\.|\bcPickle\b|\bmarshal\.loads?\b|\bshelve\.",
    re.MULTILINE,
)


def _offences(source: str) -> list[str]:
    return [match.group(0).strip() for match in FORBIDDEN.finditer(source)]


def test_the_scanner_catches_what_it_should() -> None:
    bad = [
        "import pickle",
        "from pickle import loads",
        "x = pickle.loads(b)",
        "import cPickle",
        "marshal.loads(data)",
        "import shelve",
        "  import _pickle as p",
        "import cloudpickle",
    ]
    for line in bad:
        assert _offences(line), line
    assert _offences("unpickled = 1\n# no pickles here\nfrom cache.keys import make_key") == []


def test_no_pickle_in_server_tools_or_cache() -> None:
    files = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    if not files:
        pytest.fail("found no Python files to scan: the scan would prove nothing")
    offenders = {str(p.relative_to(ROOT)): hits for p in files if (hits := _offences(p.read_text("utf-8")))}
    assert offenders == {}, f"pickle-like serialization found: {offenders}"
