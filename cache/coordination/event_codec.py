"""The wire format of cross-process cache events: compact JSON, validated field by field.

One message is a JSON object (orjson), published on the event channel::

    {"v": 1, "id": "<uuid4 hex>", "src": "<instance id>", "kind": "<kind>", "value": ..., "ts": 1.7e9}

- ``kind`` is an invalidation kind (``keys``, ``tags``, ``pattern``, ``namespace``, ``clear``,
  ``older_than``, ``unused``) with ``value`` a list of strings (one pattern, one namespace,
  nothing for clear, ``[cutoff]`` or ``[cutoff, namespace]`` for the time kinds, the cutoff a
  decimal number of epoch seconds), or
  ``domain`` with ``value`` ``{"name": "trials.data_version", "data": {...}}``;
- ``ts`` is the sender's clock (epoch seconds) when it published: receivers measure
  propagation latency against it.

:func:`decode` never evaluates anything: it parses JSON and checks every field, raising
:class:`MalformedMessage` for anything else (unknown fields are ignored, so a newer sender can
add some). Never pickle: the channel is shared and must not be a code-execution path.
"""

from __future__ import annotations

import math
import re
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from cache.engine.invalidator import KINDS, InvalidationEvent
from cache.keys import validate_namespace

__all__ = ["DomainEvent", "MalformedMessage", "Message", "decode", "encode", "new_message", "validate_domain_name"]

VERSION = 1
DOMAIN = "domain"
MAX_MESSAGE_BYTES = 1024 * 1024
MAX_SOURCE_CHARS = 256
_ID = re.compile(r"[0-9a-f]{32}")
_DOMAIN_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,100}")


class MalformedMessage(ValueError):
    """A message on the channel that is not a valid event (counted and ignored by receivers)."""


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """A named domain event (e.g. ``trials.data_version``) with JSON-able ``data``."""

    name: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    """One event on the wire: ``payload`` plus its id, sender instance and sender time."""

    id: str
    src: str
    ts: float
    payload: InvalidationEvent | DomainEvent


def validate_domain_name(name: object) -> str:
    """Return ``name`` if it is a string of 1-100 characters of ``[A-Za-z0-9_.:-]``; ValueError otherwise."""
    if not isinstance(name, str) or _DOMAIN_NAME.fullmatch(name) is None:
        raise ValueError(f"domain event name must match [A-Za-z0-9_.:-]{{1,100}}, got {name!r}")
    return name


def new_message(src: str, ts: float, payload: InvalidationEvent | DomainEvent) -> Message:
    """A message with a fresh event id."""
    return Message(uuid.uuid4().hex, src, ts, payload)


def encode(message: Message) -> bytes:
    """The compact JSON form. TypeError when domain data is not JSON-able."""
    payload = message.payload
    if isinstance(payload, DomainEvent):
        kind: str = DOMAIN
        value: Any = {"name": payload.name, "data": payload.data}
    else:
        kind, value = payload.kind, list(payload.value)
    return orjson.dumps(
        {"v": VERSION, "id": message.id, "src": message.src, "kind": kind, "value": value, "ts": message.ts}
    )


def decode(raw: bytes | str) -> Message:
    """Parse and validate one message; :class:`MalformedMessage` if anything is off."""
    if not isinstance(raw, (bytes, str)) or len(raw) > MAX_MESSAGE_BYTES:
        raise MalformedMessage("not a bytes message of at most 1 MiB")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedMessage(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise MalformedMessage("not a JSON object")
    if doc.get("v") != VERSION or isinstance(doc.get("v"), bool):
        raise MalformedMessage(f"unsupported version {doc.get('v')!r}")
    event_id, src, ts = doc.get("id"), doc.get("src"), doc.get("ts")
    if not isinstance(event_id, str) or _ID.fullmatch(event_id) is None:
        raise MalformedMessage("id must be 32 lowercase hex characters")
    if not isinstance(src, str) or not 0 < len(src) <= MAX_SOURCE_CHARS:
        raise MalformedMessage("src must be a non-empty string")
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
        raise MalformedMessage("ts must be a finite number")
    return Message(event_id, src, float(ts), _payload(doc.get("kind"), doc.get("value")))


def _payload(kind: Any, value: Any) -> InvalidationEvent | DomainEvent:
    if kind == DOMAIN:
        return _domain(value)
    if kind not in KINDS:
        raise MalformedMessage(f"unknown kind {kind!r}")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedMessage(f"{kind} value must be a list of strings")
    if kind == "clear":
        if value:
            raise MalformedMessage("clear takes no value")
    elif kind in ("pattern", "namespace"):
        if len(value) != 1 or not value[0]:
            raise MalformedMessage(f"{kind} takes exactly one non-empty string")
        if kind == "namespace":
            try:
                validate_namespace(value[0])
            except ValueError as exc:
                raise MalformedMessage(str(exc)) from None
    elif not value:
        raise MalformedMessage(f"{kind} needs at least one value")
    try:
        return InvalidationEvent(kind, tuple(value))  # checks the time kinds' cutoff and namespace
    except ValueError as exc:
        raise MalformedMessage(str(exc)) from None


def _domain(value: Any) -> DomainEvent:
    if not isinstance(value, dict):
        raise MalformedMessage("domain value must be an object")
    data = value.get("data")
    try:
        name = validate_domain_name(value.get("name"))
    except ValueError as exc:
        raise MalformedMessage(str(exc)) from None
    if not isinstance(data, dict):
        raise MalformedMessage("domain data must be an object")
    return DomainEvent(name, data)


class SeenIds:
    """The last ``size`` event ids, to ignore a message delivered twice (bounded LRU)."""

    def __init__(self, size: int) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def first_time(self, event_id: str) -> bool:
        """True the first time ``event_id`` is seen (and remember it); False for a repeat."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True
