"""Entry <-> bytes, the only format the lower tiers (and a shared Redis) ever see.

Wire format: one header byte, then the body. The header's low nibble names the encoding
(``1`` JSON via orjson, ``2`` msgpack when that package is installed), the high nibble the
compression (``0`` none, ``1`` zlib). The body is the array
``[schema_version, created_at, fresh_until, stale_until, [tags...], fetch_cost, value]``.
Readers go by the header, never by guessing. Anything unreadable (unknown header, bad zlib
stream, wrong shape, another ``schema_version``) raises :class:`CorruptEntry`, which the engine
counts and treats as a miss. There is no pickle: a value is data, never code.

Values must be JSON-able (dict, list, str, int, float, bool, None). Tuples come back as lists;
datetimes and dataclasses are refused rather than silently turned into strings/dicts.

Entries the engine gets from here are :class:`EncodedEntry` objects: an Entry that also holds
its bytes, so the memory tier keeps one object per item instead of an entry plus a holder.

Because ``created_at`` comes second in the body, :meth:`Serializer.created_at` reads it from the
first bytes alone (a compressed body is inflated only as far as needed): a tier can be scanned
by age without transferring values.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from cache.config import DEFAULT_ENGINE
from cache.entry import SCHEMA_VERSION, Entry
from cache.msgpack_binding import Msgpack, load_msgpack

ENC_JSON = 0x01
ENC_MSGPACK = 0x02
COMP_NONE = 0x00
COMP_ZLIB = 0x10
_KNOWN_ENCODINGS = {"json": ENC_JSON, "msgpack": ENC_MSGPACK}
_JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
MAX_DECODED_BYTES = 256 * 1024 * 1024
_JSON_HEAD = re.compile(rb"\s*\[\s*(-?\d+)\s*,\s*(-?[0-9][0-9.eE+-]*)\s*[,\]]")
_HEAD_INFLATE = 256  # inflated bytes enough for the version and created_at


class EncodedEntry(Entry):
    """An :class:`Entry` that also carries ``data``, the bytes it was encoded to or decoded from.

    Equal to an ``Entry`` with the same fields (``data`` is not compared). Build it with
    :meth:`Serializer.pack` or :meth:`Serializer.load_encoded`; ``dataclasses.replace`` on it
    gives an object without ``data``: make a plain :class:`Entry` instead.
    """

    __slots__ = ("data",)

    data: bytes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        return (
            self.value,
            self.created_at,
            self.fresh_until,
            self.stale_until,
            self.tags,
            self.fetch_cost,
            self.schema_version,
        ) == (
            other.value,
            other.created_at,
            other.fresh_until,
            other.stale_until,
            other.tags,
            other.fetch_cost,
            other.schema_version,
        )


class CorruptEntry(ValueError):
    """Stored bytes that cannot be read back as an Entry (treated as a miss by the engine)."""


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON-able")


class Serializer:
    """Encode and decode entries.

    ``fmt``: ``"json"`` (default) or ``"msgpack"`` (ValueError if msgpack is not installed).
    ``compress_threshold``: bodies longer than this many bytes are zlib-compressed at
    ``compress_level`` (kept only if smaller); ``0`` disables compression.
    """

    def __init__(
        self,
        fmt: str = DEFAULT_ENGINE.serializer,
        *,
        compress_threshold: int = DEFAULT_ENGINE.compress_threshold,
        compress_level: int = 3,
    ) -> None:
        if fmt not in _KNOWN_ENCODINGS:
            raise ValueError(f"unknown cache serializer {fmt!r}; use 'json' or 'msgpack'")
        self._msgpack = load_msgpack()
        if fmt == "msgpack" and self._msgpack is None:
            raise ValueError("cache serializer 'msgpack' needs the msgpack package; install it or use 'json'")
        if compress_threshold < 0:
            raise ValueError("compress_threshold must be >= 0")
        self.fmt = fmt
        self._encoding = _KNOWN_ENCODINGS[fmt]
        self._threshold = compress_threshold
        self._level = compress_level

    def pack(self, entry: Entry, *, namespace: str = "?") -> tuple[EncodedEntry, bytes]:
        """Encode ``entry``; also return it with its value as a reader will see it (normalized),
        carrying the bytes.

        Raises TypeError naming ``namespace`` when the value is not serializable.
        """
        try:
            encoded_value, normalized = self._encode_value(entry.value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise TypeError(
                f"value for cache namespace {namespace!r} is not serializable as {self.fmt}: {exc}"
            ) from exc
        head = [
            SCHEMA_VERSION,
            entry.created_at,
            entry.fresh_until,
            entry.stale_until,
            list(entry.tags),
            entry.fetch_cost,
        ]
        body = self._encode_envelope(head, encoded_value)
        header = self._encoding
        if self._threshold and len(body) > self._threshold:
            packed = zlib.compress(body, self._level)
            if len(packed) < len(body):
                body, header = packed, header | COMP_ZLIB
        data = bytes((header,)) + body
        normalized_entry = EncodedEntry(
            normalized, entry.created_at, entry.fresh_until, entry.stale_until, tuple(entry.tags), entry.fetch_cost
        )
        normalized_entry.data = data
        return normalized_entry, data

    def dumps(self, entry: Entry, *, namespace: str = "?") -> bytes:
        """Encode ``entry`` to bytes (see :meth:`pack`)."""
        return self.pack(entry, namespace=namespace)[1]

    def loads(self, data: bytes) -> Entry:
        """Decode bytes written by any Serializer; raise CorruptEntry when they cannot be read."""
        return _to_entry(self._decode_items(data), Entry)

    def load_encoded(self, data: bytes | bytearray | memoryview) -> EncodedEntry:
        """Like :meth:`loads`, the entry carrying ``data`` (as ``bytes``, not copied if it is)."""
        if type(data) is not bytes:
            data = bytes(data)
        entry = _to_entry(self._decode_items(data), EncodedEntry)
        entry.data = data
        return entry

    def _decode_items(self, data: bytes) -> Any:
        if not data:
            raise CorruptEntry("empty payload")
        header = data[0]
        body: bytes | memoryview = memoryview(data)[1:]
        if header == ENC_JSON:  # the common case, without the general dispatch below
            try:
                return orjson.loads(body)
            except Exception as exc:  # any decoder failure is a corrupt payload
                raise CorruptEntry(f"undecodable payload: {exc}") from exc
        encoding, compression = header & 0x0F, header & 0xF0
        if compression == COMP_ZLIB:
            body = self._inflate(body)
        elif compression != COMP_NONE:
            raise CorruptEntry(f"unknown compression in header 0x{header:02x}")
        decode = self._decoder(encoding, header)
        try:
            items = decode(body)
        except Exception as exc:  # any decoder failure is a corrupt payload
            raise CorruptEntry(f"undecodable payload: {exc}") from exc
        return items

    def created_at(self, head: bytes) -> float | None:
        """The ``created_at`` of an encoded entry from its first bytes (any prefix of what
        :meth:`dumps` wrote), or None when the prefix is too short, or not an entry of this
        schema. About 30 bytes suffice uncompressed; a zlib body needs its block header too
        (usually a few hundred bytes)."""
        if not head:
            return None
        header = head[0]
        body: bytes = head[1:]
        if header & 0xF0 == COMP_ZLIB:
            try:
                body = zlib.decompressobj().decompress(body, _HEAD_INFLATE)
            except zlib.error:
                return None
        elif header & 0xF0 != COMP_NONE:
            return None
        found = self._head_items(header & 0x0F, body)
        if found is None or found[0] != SCHEMA_VERSION:
            return None
        created = found[1]
        return float(created) if math.isfinite(created) else None

    def _head_items(self, encoding: int, body: bytes) -> tuple[int, float] | None:
        """(schema_version, created_at) from the start of a body, or None."""
        try:
            if encoding == ENC_JSON:
                match = _JSON_HEAD.match(body)
                return None if match is None else (int(match[1]), float(match[2]))
            if encoding == ENC_MSGPACK and self._msgpack is not None:
                unpacker = self._msgpack.Unpacker(raw=False)
                unpacker.feed(body)
                if unpacker.read_array_header() != 7:
                    return None
                version, created = unpacker.unpack(), unpacker.unpack()
                ok = isinstance(version, int) and isinstance(created, (int, float))
                return (version, float(created)) if ok else None
        except Exception:  # a truncated or foreign prefix (msgpack OutOfData, bad number, ...)
            return None
        return None

    # -- helpers -------------------------------------------------------------------------

    def _encode_value(self, value: Any) -> tuple[orjson.Fragment | bytes, Any]:
        """The value encoded in this serializer's format (an orjson Fragment, or msgpack bytes)
        and the value as a reader will decode it."""
        if self._encoding == ENC_JSON:
            raw = orjson.dumps(value, default=_refuse, option=_JSON_OPTIONS)
            return orjson.Fragment(raw), orjson.loads(raw)
        msgpack = self._require_msgpack()
        raw = msgpack.packb(value, use_bin_type=True)
        return raw, msgpack.unpackb(raw, raw=False, strict_map_key=False)

    def _encode_envelope(self, head: list[Any], encoded_value: orjson.Fragment | bytes) -> bytes:
        if isinstance(encoded_value, orjson.Fragment):
            return orjson.dumps([*head, encoded_value])
        packer = self._require_msgpack().Packer(use_bin_type=True)
        # An array header for 7 items, the 6 head items, then the value's bytes verbatim.
        return packer.pack_array_header(7) + b"".join(packer.pack(item) for item in head) + encoded_value

    def _require_msgpack(self) -> Msgpack:
        if self._msgpack is None:  # __init__ refuses the msgpack format without the package
            raise ValueError("cache serializer 'msgpack' needs the msgpack package")
        return self._msgpack

    def _decoder(self, encoding: int, header: int) -> Callable[[Any], Any]:
        if encoding == ENC_JSON:
            return orjson.loads
        if encoding == ENC_MSGPACK and self._msgpack is not None:
            msgpack = self._msgpack
            return lambda body: msgpack.unpackb(body, raw=False, strict_map_key=False)
        raise CorruptEntry(f"unknown or unavailable encoding in header 0x{header:02x}")

    @staticmethod
    def _inflate(body: bytes | memoryview) -> bytes:
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(body, MAX_DECODED_BYTES)
        except zlib.error as exc:
            raise CorruptEntry(f"bad zlib stream: {exc}") from exc
        if inflater.unconsumed_tail or not inflater.eof:
            raise CorruptEntry("zlib stream truncated or larger than the decode limit")
        return out


E = TypeVar("E", bound=Entry)


def _to_entry(items: Any, cls: type[E]) -> E:
    if not isinstance(items, list) or len(items) != 7:
        raise CorruptEntry("payload is not a 7-item envelope")
    version, created_at, fresh_until, stale_until, tags, fetch_cost, value = items
    if version != SCHEMA_VERSION:
        raise CorruptEntry(f"schema_version {version!r} is not {SCHEMA_VERSION}")
    try:
        entry = cls(value, float(created_at), float(fresh_until), float(stale_until), (), float(fetch_cost))
    except (TypeError, ValueError) as exc:
        raise CorruptEntry(f"bad envelope times: {exc}") from exc
    if tags:
        if type(tags) is not list or not all(isinstance(tag, str) for tag in tags):
            raise CorruptEntry("bad envelope tags")
        entry.tags = tuple(tags)
    elif type(tags) is not list:
        raise CorruptEntry("bad envelope tags")
    return entry
