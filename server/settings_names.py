"""The names of the settings' environment variables, and the ones set that name nothing.

pydantic-settings ignores a ``TRIALSTOCK_*`` variable that matches no field (a typo such as
``TRIALSTOCK_HTTP_TIMEOUT`` with one underscore would silently keep the default), so at start-up
:func:`warn_unknown_settings` logs one WARNING per such variable with the closest real name.
A misspelt field inside a section (``TRIALSTOCK_CACHE__TIER_TIMOUT``) is already an error of
validation; :func:`closest_setting` gives that error its suggestion too.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from pydantic import BaseModel

from server.settings import _FLAT, Settings

log = logging.getLogger("server.settings")

PREFIX = "TRIALSTOCK_"
#: Read by the test suite and CI, not by the program.
OTHER_NAMES = frozenset({"TRIALSTOCK_REQUIRE_REDIS", "TRIALSTOCK_REQUIRE_HAPROXY"})


@cache
def setting_names() -> frozenset[str]:
    """Every variable the settings read: flat names, whole sections (JSON) and section fields."""
    names = {f"{PREFIX}{flat.upper()}" for flat in _FLAT}
    names |= {f"{PREFIX}{name.upper()}" for name, field in Settings.model_fields.items() if not field.exclude}
    for section, model in _sections().items():
        names |= {f"{PREFIX}{section.upper()}__{sub.upper()}" for sub in model.model_fields}
    return frozenset(names)


def _sections() -> dict[str, type[BaseModel]]:
    """The settings' sections (``http``, ``redis``, ...) and their models."""
    return {
        name: field.annotation
        for name, field in Settings.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    }


def closest_setting(name: str) -> str | None:
    """The real variable ``name`` most probably meant, or None when nothing is close."""
    stem = name.upper().removeprefix(PREFIX)
    stems = {known.removeprefix(PREFIX): known for known in setting_names()}
    match = difflib.get_close_matches(stem, list(stems), n=1, cutoff=0.6)
    return stems[match[0]] if match else None


def unknown_settings(names: Iterable[str]) -> list[str]:
    """The ``TRIALSTOCK_*`` names among ``names`` that no setting reads (in any letter case)."""
    known = setting_names() | OTHER_NAMES
    sections = tuple(f"{PREFIX}{section.upper()}__" for section in _sections())
    found = []
    for name in names:
        upper = name.upper()
        # A section's misspelt field is rejected by validation, with its own suggestion.
        if upper.startswith(PREFIX) and upper not in known and not upper.startswith(sections):
            found.append(name)
    return sorted(set(found))


def warn_unknown_settings(environ: Mapping[str, str], env_file: Path | None = None) -> list[str]:
    """Log one WARNING per unknown ``TRIALSTOCK_*`` variable of the environment or ``env_file``;
    returns their names."""
    names = list(environ)
    if env_file is not None and env_file.is_file():
        from dotenv import dotenv_values

        names += [name for name in dotenv_values(env_file) if name]
    unknown = unknown_settings(names)
    for name in unknown:
        suggestion = closest_setting(name)
        hint = f"; did you mean {suggestion}?" if suggestion else ""
        log.warning("unknown setting %s is ignored%s", name, hint)
    return unknown
