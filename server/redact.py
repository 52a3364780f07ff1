"""Secrets out of what the operator sees: settings printed by ``config`` and settings errors.

A Redis URL may carry a password that contains characters a URL parser stops at (``#``, ``?``,
``/``, ``@``), so the URL is not parsed: everything between ``//`` (or the scheme) and the LAST
``@`` is credentials. The username is kept when a ``:`` separates it from the password
(``redis://admin:***@host``); credentials without a ``:`` are hidden whole (``redis://***@host``),
since a password written without its leading ``:`` would otherwise be shown as a username. A
``password`` query parameter is hidden too.
"""

from __future__ import annotations

import re
from typing import Any

HIDDEN = "***"
_QUERY_PASSWORD = re.compile(r"([?&](?:password|pass|passwd)=)[^&#]*", re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` with its credentials replaced by ``***`` (see the module docstring); never raises."""
    scheme, sep, rest = url.partition("//")
    if not sep:  # "redis:pw@host": the credentials start after the scheme's colon
        scheme, sep, rest = url.partition(":")
    if "@" in rest:
        userinfo, _, host = rest.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        rest = f"{user}:{HIDDEN}@{host}" if colon else f"{HIDDEN}@{host}"
    return _QUERY_PASSWORD.sub(rf"\g<1>{HIDDEN}", scheme + sep + rest)


def mask_value(value: Any) -> Any:
    """``value`` with every string that could be a URL with credentials masked, recursively."""
    if isinstance(value, str):
        return mask_url(value)
    if isinstance(value, dict):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(item) for item in value]
    return value
