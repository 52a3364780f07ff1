import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from cache.keys import canonical_args, make_key, namespace_of, namespace_pattern, validate_namespace

# Computed once by hand: hashlib.sha256(b'{"cond":"lung cancer","page":2,"status":["RECRUITING"]}')
EXPECTED = "ctgov.search:v1:77da23e711532ddce6750ea2892e2c21"


def test_key_matches_a_digest_computed_by_hand() -> None:
    canonical = b'{"cond":"lung cancer","page":2,"status":["RECRUITING"]}'
    digest = hashlib.sha256(canonical).hexdigest()[:32]
    key = make_key("ctgov.search", {"status": ("RECRUITING",), "page": 2, "cond": "lung cancer", "x": None})
    assert key == f"ctgov.search:v1:{digest}"
    assert key == EXPECTED


def test_key_is_stable_in_another_process() -> None:
    code = "from cache.keys import make_key; print(make_key('ns', {'b': [1, 2], 'a': 'x'}, 3))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == make_key("ns", {"a": "x", "b": (1, 2)}, version=3)


def test_argument_order_none_and_tuples_do_not_change_the_key() -> None:
    assert make_key("ns", {"a": 1, "b": 2}) == make_key("ns", {"b": 2, "a": 1})
    assert make_key("ns", {"a": 1, "b": None}) == make_key("ns", {"a": 1})
    assert make_key("ns", {"a": (1, 2)}) == make_key("ns", {"a": [1, 2]})
    assert make_key("ns", {"a": {"y": 1, "x": 2}}) == make_key("ns", {"a": {"x": 2, "y": 1}})


def test_different_values_and_versions_give_different_keys() -> None:
    assert make_key("ns", {"a": 1}) != make_key("ns", {"a": 2})
    assert make_key("ns", {"a": 1}) != make_key("ns", {"a": "1"})
    assert make_key("ns", {"a": 1}, version=2).startswith("ns:v2:")
    assert make_key("ns", {"a": 1}) != make_key("other", {"a": 1})


def test_sets_are_sorted() -> None:
    assert canonical_args({"s": {"b", "a"}}) == b'{"s":["a","b"]}'


@pytest.mark.parametrize("bad", ["", "Upper", "has space", "a:b", "a*", "ünï"])
def test_bad_namespaces_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="namespace"):
        make_key(bad, {})
    with pytest.raises(ValueError):
        validate_namespace(bad)


@pytest.mark.parametrize("version", [0, -1, True, "1"])
def test_bad_versions_are_refused(version: object) -> None:
    with pytest.raises(ValueError, match="version"):
        make_key("ns", {}, version=version)  # type: ignore[arg-type]


def test_unserializable_arguments_raise_type_error() -> None:
    with pytest.raises(TypeError):
        make_key("ns", {"f": object()})
    with pytest.raises(TypeError, match="mapping"):
        make_key("ns", [("a", 1)])  # type: ignore[arg-type]


def test_namespace_helpers() -> None:
    key = make_key("stocks.quote", {"code": "2330"})
    assert namespace_of(key) == "stocks.quote"
    assert namespace_of("bare") == "bare"
    assert namespace_pattern("stocks.quote") == "stocks.quote:*"
    assert namespace_pattern("stocks.quote", version=2) == "stocks.quote:v2:*"
