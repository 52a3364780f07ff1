"""The event wire format: round trips, compactness and schema validation (no Redis needed)."""

from __future__ import annotations

import orjson
import pytest

from cache.coordination.event_codec import MAX_MESSAGE_BYTES, DomainEvent, MalformedMessage, decode, encode, new_message
from cache.engine.invalidator import InvalidationEvent
from tests.support.events import wire

PAYLOADS = [
    InvalidationEvent("keys", ("trials:v1:a", "trials:v1:b")),
    InvalidationEvent("tags", ("NCT01234567",)),
    InvalidationEvent("pattern", ("trials:v1:[*]*",)),
    InvalidationEvent("namespace", ("stocks",)),
    InvalidationEvent("clear"),
    DomainEvent("trials.data_version", {"dataTimestamp": "2026-11-20T09:00:00", "n": 3}),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: getattr(p, "kind", "domain"))
def test_every_event_round_trips(payload: InvalidationEvent | DomainEvent) -> None:
    message = new_message("host:1:abcd", 1_700_000_000.125, payload)
    raw = encode(message)
    assert decode(raw) == message
    doc = orjson.loads(raw)
    assert set(doc) == {"v", "id", "src", "kind", "value", "ts"} and doc["v"] == 1
    assert b": " not in raw and b", " not in raw  # compact: no padding between fields


def test_event_ids_are_fresh_uuid4_hex() -> None:
    first, second = (new_message("s", 0.0, InvalidationEvent("clear")) for _ in range(2))
    assert first.id != second.id and len(first.id) == 32 and int(first.id, 16) >= 0


def test_unknown_fields_are_ignored_for_newer_senders() -> None:
    message = decode(wire("keys", ["k"], src="s", ts=5.0, trace="abc"))
    assert (message.payload, message.src, message.ts) == (InvalidationEvent("keys", ("k",)), "s", 5.0)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xfe",
        b"null",
        b'"text"',
        wire("keys", ["k"], v=True),
        wire("keys", ["k"], v="1"),
        wire("keys", ["k"], src=""),
        wire("keys", ["k"], src=7),
        wire("keys", ["k"], ts=True),
        wire(
            "keys",
            [],
        ),
        wire("keys", [1]),
        wire("tags", None),
        wire("clear", ["x"]),
        wire("pattern", ["a", "b"]),
        wire("pattern", [""]),
        wire("namespace", ["UPPER"]),
        wire("domain", ["x"]),
        wire("domain", {"name": "bad name", "data": {}}),
        wire("domain", {"name": "x"}),
        wire("keys", ["k"], event_id="ABCDEF0123456789ABCDEF0123456789"),
    ],
    ids=str,
)
def test_invalid_messages_raise_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedMessage):
        decode(raw)


def test_oversized_and_non_bytes_messages_are_malformed() -> None:
    with pytest.raises(MalformedMessage):
        decode(b"x" * (MAX_MESSAGE_BYTES + 1))
    with pytest.raises(MalformedMessage):
        decode(42)  # type: ignore[arg-type]


def test_domain_data_must_be_json_able() -> None:
    with pytest.raises(TypeError):
        encode(new_message("s", 0.0, DomainEvent("x", {"when": object()})))
