"""Error mapping: the ONE place where HTTP outcomes become ``tools.http.errors``.

``to_upstream_error`` turns a final (post-retry) response or exception into the typed error
tree; ``error_for_response`` returns ``None`` for a 2xx response; ``decode_json`` parses a
body with orjson and decides JSON-ness by the body, never by the content type (TWSE MIS
serves JSON as ``text/html``; ClinicalTrials.gov can answer an HTML page with status 200).
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from tools.http.errors import (
    BadPayload,
    Blocked,
    NotFound,
    RateLimited,
    Rejected,
    TimedOut,
    Unavailable,
    UpstreamError,
)
from tools.http.retry_after import parse_retry_after

_SNIPPET = 300
_BOM = b"\xef\xbb\xbf"


def to_upstream_error(upstream: str, outcome: httpx.Response | BaseException) -> UpstreamError:
    """Map a failed final outcome (a non-2xx response or an exception) to an UpstreamError.

    An UpstreamError passes through unchanged. A 2xx response is a caller bug (ValueError).
    """
    if isinstance(outcome, httpx.Response):
        error = error_for_response(upstream, outcome)
        if error is None:
            raise ValueError(f"HTTP {outcome.status_code} is a success, not an error")
        return error
    return _error_for_exception(upstream, outcome)


def error_for_response(upstream: str, response: httpx.Response) -> UpstreamError | None:
    """The error a final response stands for, or None when its status is 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    text = _body_text(response)
    if status == 403:
        host = response.request.url.host if _has_request(response) else upstream
        return Blocked(
            upstream,
            f"blocked by {host} (HTTP 403); set TRIALSTOCK_USER_AGENT to a browser-like User-Agent, or try again later",
        )
    if status == 404:
        return NotFound(upstream, f"not found (HTTP 404): {_target(response)} {_snippet(text)}".rstrip(), body=text)
    if status == 429:
        retry_after = parse_retry_after(response.headers)
        hint = f"; retry in {retry_after:.0f} s" if retry_after is not None else ""
        return RateLimited(upstream, f"rate limited (HTTP 429){hint}", retry_after=retry_after)
    if 400 <= status < 500:
        return Rejected(upstream, status, text)
    if status >= 500:
        return Unavailable(upstream, f"server error (HTTP {status}) {_snippet(text)}".rstrip())
    return BadPayload(upstream, f"unexpected HTTP {status} for {_target(response)}")


def decode_json(upstream: str, response: httpx.Response) -> Any:
    """Parse a response body as JSON; HTML or malformed JSON raises BadPayload."""
    body = response.content
    if body.startswith(_BOM):
        body = body[len(_BOM) :]
    stripped = body.lstrip()
    if stripped.startswith(b"<"):
        raise BadPayload(upstream, f"answered an HTML page instead of JSON: {_snippet(response.text)}")
    try:
        return orjson.loads(stripped)
    except orjson.JSONDecodeError as exc:
        raise BadPayload(upstream, f"answered malformed JSON ({exc}): {_snippet(response.text)}") from exc


def _error_for_exception(upstream: str, exc: BaseException) -> UpstreamError:
    if isinstance(exc, UpstreamError):
        return exc
    if isinstance(exc, httpx.TimeoutException):
        return TimedOut(upstream, f"did not answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.TransportError):
        return Unavailable(upstream, f"connection failed ({type(exc).__name__}: {exc})")
    if isinstance(exc, httpx.DecodingError):
        return BadPayload(upstream, f"sent a body that could not be decoded ({exc})")
    if isinstance(exc, httpx.HTTPError):
        return Unavailable(upstream, f"request failed ({type(exc).__name__}: {exc})")
    return Unavailable(upstream, f"request failed ({type(exc).__name__})")


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - raises when the response was built without a request
    except RuntimeError:
        return False
    return True


def _target(response: httpx.Response) -> str:
    if not _has_request(response):
        return "the requested resource"
    url = response.request.url
    return f"{url.path}?{url.query.decode()}" if url.query else url.path


def _body_text(response: httpx.Response) -> str:
    try:
        return response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return ""


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "..."
