"""Turn a settings ValidationError into one line naming the variable, the value and what is allowed."""

from __future__ import annotations

import os

from pydantic import ValidationError

from server.settings import _FLAT, _mask_url

_FLAT_BY_PATH = {path: flat for flat, path in _FLAT.items()}
_HIDDEN_PATHS = {("auth", "token")}
_URL_PATHS = {("redis", "url")}


def env_name(loc: tuple[str | int, ...]) -> str:
    """The environment variable a user sets for ``loc`` (the flat name when that is what they used)."""
    path = tuple(str(part) for part in loc[:2])
    flat = _FLAT_BY_PATH.get(path)  # type: ignore[arg-type]
    if flat and f"TRIALSTOCK_{flat.upper()}" in os.environ:
        return f"TRIALSTOCK_{flat.upper()}"
    return "TRIALSTOCK_" + "__".join(str(part).upper() for part in loc)


def describe_settings_error(exc: ValidationError) -> str:
    """One line per problem joined by '; ' (normally exactly one problem)."""
    parts = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        value = error.get("input")
        path = tuple(str(p) for p in loc[:2])
        if path in _HIDDEN_PATHS:
            value = "<hidden>"
        elif path in _URL_PATHS and isinstance(value, str):
            value = _mask_url(value)
        allowed = error["msg"].removeprefix("Value error, ")
        parts.append(f"invalid setting {env_name(loc)}={value!r}: {allowed}")
    return "; ".join(parts)
