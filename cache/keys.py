"""Cache keys: ``<namespace>:v<version>:<digest>``, stable across processes and restarts.

The digest is the first 32 hex characters of SHA-256 over the canonical JSON of the call's
arguments (orjson, keys sorted, ``None`` values at the top level dropped so an omitted optional
argument and an explicit ``None`` share one key; tuples encode as lists). The namespace comes
first so a whole namespace (or one version of it) can be invalidated by a glob pattern and so
statistics can be grouped by it (everything before the first ``:``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import orjson

from cache.backends.base import escape_glob

_NAMESPACE = re.compile(r"[a-z0-9_.-]+")
_OPTIONS = orjson.OPT_SORT_KEYS
DIGEST_CHARS = 32


def validate_namespace(namespace: str) -> str:
    """Return ``namespace`` if it matches ``[a-z0-9_.-]+``; raise ValueError otherwise."""
    if not isinstance(namespace, str) or _NAMESPACE.fullmatch(namespace) is None:
        raise ValueError(f"cache namespace must match [a-z0-9_.-]+, got {namespace!r}")
    return namespace


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cache key argument of type {type(value).__name__} is not JSON-serializable")


def canonical_args(args: Mapping[str, Any]) -> bytes:
    """The canonical JSON bytes the key digest is computed over."""
    if not isinstance(args, Mapping):
        raise TypeError(f"cache key arguments must be a mapping, got {type(args).__name__}")
    cleaned = {name: value for name, value in args.items() if value is not None}
    return orjson.dumps(cleaned, default=_default, option=_OPTIONS)


def make_key(namespace: str, args: Mapping[str, Any], version: int = 1) -> str:
    """``f"{namespace}:v{version}:{sha256(canonical_args(args)).hexdigest()[:32]}"``.

    Raises ValueError for a bad namespace or version, TypeError for arguments that are not
    JSON-able (sets are accepted and sorted).
    """
    validate_namespace(namespace)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"cache key version must be a positive int, got {version!r}")
    digest = hashlib.sha256(canonical_args(args)).hexdigest()[:DIGEST_CHARS]
    return f"{namespace}:v{version}:{digest}"


def namespace_of(key: str) -> str:
    """The namespace part of a key (everything before the first ``:``; the key itself if none)."""
    head, _, _ = key.partition(":")
    return head


def namespace_pattern(namespace: str, version: int | None = None) -> str:
    """A glob matching every key of ``namespace`` (only ``version`` when given), escaped."""
    validate_namespace(namespace)
    if version is None:
        return f"{escape_glob(namespace)}:*"
    return f"{escape_glob(namespace)}:v{int(version)}:*"
