"""Page tokens and page windows: a search page cut to the size budget continues exactly after
its last trial.

The ``page_token`` an agent gets (``next_page_token``, a cut's ``next``) is opaque: it encodes
the upstream token of a page (None: the first), the index of the first trial to show in it and
the search's scope (a digest of its query, filter and sort parameters, :func:`scope_of`): a token
given with other criteria, filters, sort or mutation is refused (the upstream token only means
something for the parameters it was made for; ``page_size`` may change between pages).
A cut page's continuation reads the same upstream page again (cached: no request) from the
offset; a page shown to its end continues with the upstream's next token at offset 0. So
following the tokens shows every trial once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from tools.budget import Cut, fit
from tools.errors import InvalidInput

T = TypeVar("T")

CUT_ROOM = 300
"""Bytes kept in a page's budget for ``truncated`` and a Cut."""

_PREFIX = "t1."
_MALFORMED = "not a token this tool returned; pass next_page_token (or a cut's next page_token) unchanged"
SEARCH_ARGUMENTS = "criteria, filters, sort or mutation"
_OTHER_SEARCH = (
    "belongs to a search with other arguments ({}); repeat that search's arguments unchanged with it, "
    "or leave page_token out to start this search from its first page"
)


def scope_of(params: Mapping[str, str]) -> str:
    """A short digest of a search's parameters (no paging, no fields): what a token belongs to."""
    return hashlib.sha256(orjson.dumps(dict(params), option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]


def encode_token(upstream: str | None, offset: int, scope: str | None = None) -> str:
    """The opaque page_token for ``upstream``'s page from item ``offset`` on, in ``scope``."""
    raw = orjson.dumps([upstream, offset] if scope is None else [upstream, offset, scope])
    return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(
    token: str | None, scope: str | None = None, *, arguments: str = SEARCH_ARGUMENTS
) -> tuple[str | None, int]:
    """(upstream token or None, offset); InvalidInput naming page_token when malformed, or when
    the token carries a scope other than ``scope`` (made for a search with other ``arguments``,
    the tool's arguments that shape the search, named in the message)."""
    if token is None:
        return None, 0
    if not token.startswith(_PREFIX):
        raise InvalidInput("page_token", _MALFORMED)
    body = token[len(_PREFIX) :]
    try:
        value = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidInput("page_token", _MALFORMED) from None
    match value:
        case [str() | None as upstream, int() as offset] if offset >= 0:
            return upstream, offset
        case [str() | None as upstream, int() as offset, str() as made_for] if offset >= 0:
            if scope is not None and made_for != scope:
                raise InvalidInput("page_token", _OTHER_SEARCH.format(arguments))
            return upstream, offset
    raise InvalidInput("page_token", _MALFORMED)


@dataclass(frozen=True, slots=True)
class Window:
    """What of an upstream page to show: ``count`` items from ``offset``, ``dropped`` left on
    the page, and the token of what follows (None on the last page)."""

    offset: int
    count: int
    dropped: int
    next_token: str | None

    @property
    def first(self) -> bool:
        return self.offset == 0


def window(
    items: Sequence[Any],
    upstream: str | None,
    offset: int,
    upstream_next: str | None,
    room: int,
    *,
    reserve: int = CUT_ROOM,
    at_least_one: bool = True,
    scope: str | None = None,
) -> Window:
    """The items from ``offset`` on: all when they fit in ``room`` bytes (a comma between items
    counted), else those that fit in ``room - reserve`` (the cut's own bytes) and at least one
    with ``at_least_one``, so paging always moves on."""
    if offset > len(items):
        raise InvalidInput("page_token", f"points past its page ({len(items)} trials); start again without it")
    rest = items[offset:]
    count = len(rest)
    if fit(rest, room, minimum=0) < count:
        count = fit(rest, room - reserve, minimum=1 if at_least_one else 0)
    dropped = len(rest) - count
    if dropped:
        return Window(offset, count, dropped, encode_token(upstream, offset + count, scope))
    return Window(offset, count, 0, encode_token(upstream_next, 0, scope) if upstream_next else None)


def page_cut(name: str, returned: int, dropped: int, token: str | None, **same: str) -> Cut:
    """The Cut of a page list continuing with ``token`` (``same``: arguments the call must repeat)."""
    return Cut(list=name, returned=returned, dropped=dropped, next={**same, "page_token": token})
