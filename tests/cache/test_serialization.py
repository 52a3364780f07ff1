import dataclasses
import datetime
import zlib

import orjson
import pytest

from cache.entry import SCHEMA_VERSION, Entry
from cache.serialization import COMP_ZLIB, ENC_JSON, CorruptEntry, Serializer


def _entry(value: object, tags: tuple[str, ...] = ("t1", "t2")) -> Entry:
    return Entry(value, 100.0, 160.0, 700.0, tags, 0.25)


def test_round_trip_keeps_value_times_and_tags() -> None:
    serializer = Serializer()
    value = {"a": [1, 2.5, "x", None, True], "nested": {"k": "v"}}
    data = serializer.dumps(_entry(value))
    assert data[0] == ENC_JSON
    back = serializer.loads(data)
    assert back == _entry(value)
    assert back.schema_version == SCHEMA_VERSION


def test_pack_returns_the_value_as_readers_will_see_it() -> None:
    normalized, data = Serializer().pack(_entry({"t": (1, 2)}))
    assert normalized.value == {"t": [1, 2]}
    assert Serializer().loads(data).value == normalized.value


def test_large_bodies_are_compressed_and_flagged_in_the_header() -> None:
    serializer = Serializer(compress_threshold=1024)
    value = {"text": "eligibility " * 2000}
    data = serializer.dumps(_entry(value))
    assert data[0] == ENC_JSON | COMP_ZLIB
    assert len(data) < len(orjson.dumps(value)) / 10
    assert serializer.loads(data).value == value
    # A reader configured without compression still reads it: the header decides.
    assert Serializer(compress_threshold=0).loads(data).value == value


def test_small_bodies_and_disabled_threshold_are_not_compressed() -> None:
    big = {"text": "x" * 5000}
    assert Serializer(compress_threshold=1024).dumps(_entry({"a": 1}))[0] == ENC_JSON
    assert Serializer(compress_threshold=0).dumps(_entry(big))[0] == ENC_JSON


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x07" + orjson.dumps([SCHEMA_VERSION, 1, 2, 3, [], 0, 1]),  # unknown encoding
        b"\x31" + orjson.dumps([SCHEMA_VERSION, 1, 2, 3, [], 0, 1]),  # unknown compression
        b"\x11not-zlib",
        b"\x01{not json",
        b"\x01" + orjson.dumps([SCHEMA_VERSION + 1, 1, 2, 3, [], 0, "v"]),  # future schema
        b"\x01" + orjson.dumps([SCHEMA_VERSION, 1, 2, 3, []]),  # wrong shape
        b"\x01" + orjson.dumps([SCHEMA_VERSION, "x", 2, 3, [], 0, "v"]),  # bad time
        b"\x01" + orjson.dumps([SCHEMA_VERSION, 1, 2, 3, [1], 0, "v"]),  # bad tags
        b"\x01" + orjson.dumps({"value": 1}),
        b"\x11" + zlib.compress(b"[1,2")[:-3],  # truncated stream
        b"\x80\x04\x95",  # a pickle opcode stream is just unknown bytes
    ],
)
def test_unreadable_payloads_raise_corrupt_entry(data: bytes) -> None:
    with pytest.raises(CorruptEntry):
        Serializer().loads(data)


@dataclasses.dataclass
class Point:
    x: int


@pytest.mark.parametrize("value", [object(), datetime.datetime(2026, 1, 1), Point(1), {1, 2}, 2**70])
def test_unserializable_values_name_the_namespace(value: object) -> None:
    with pytest.raises(TypeError, match="ctgov.search"):
        Serializer().dumps(_entry(value), namespace="ctgov.search")


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown cache serializer"):
        Serializer("pickle")


def test_msgpack_round_trip_and_readable_by_any_serializer() -> None:
    serializer = Serializer("msgpack", compress_threshold=64)
    value = {"a": [1, 2], "s": "y" * 500}
    data = serializer.dumps(_entry(value))
    assert serializer.loads(data).value == value
    assert Serializer("json").loads(data).value == value  # the header names the format
