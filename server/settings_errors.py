"""Turn a settings ValidationError into one line naming the variable, the value and what is allowed.

Values are shown through :func:`server.redact.mask_value` (a Redis URL's password never shows),
the auth token never; a whole section given as one variable is named without its value.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import ValidationError

from server.redact import mask_value
from server.settings import _FLAT
from server.settings_names import closest_setting

_FLAT_BY_PATH = {path: flat for flat, path in _FLAT.items()}
_SHOWN_AUTH = {("auth", "allow_unauthenticated")}


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
        name = env_name(loc)
        parts.append(f"invalid setting {name}{_shown(loc, error.get('input'))}: {_allowed(error, name)}")
    return "; ".join(parts)


def _shown(loc: tuple[str | int, ...], value: Any) -> str:
    path = tuple(str(part) for part in loc[:2])
    if path[:1] in (("auth",), ("auth_token",)) and path not in _SHOWN_AUTH:
        return "=<hidden>"
    if isinstance(value, dict):  # a whole section: its variables are named by their own errors
        return ""
    return f"={mask_value(value)!r}"


def _allowed(error: Any, name: str) -> str:
    """What is allowed, in the words of a person setting an environment variable."""
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        suggestion = closest_setting(name)
        return "no such setting" + (f"; did you mean {suggestion}?" if suggestion else "")
    if kind == "model_type" and isinstance(value, str):
        return f"must be a JSON object, or set the fields one by one as {name}__<FIELD>"
    if kind in ("tuple_type", "list_type") and isinstance(value, str):
        return "must be a JSON list or comma-separated values"
    return str(error["msg"]).removeprefix("Value error, ")
