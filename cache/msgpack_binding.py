"""msgpack, typed: the part of the optional msgpack module the serializer uses.

msgpack ships no type information; these protocols describe what :mod:`cache.serialization`
calls, and :func:`load_msgpack` returns the module, or None when it is not installed.
"""

from __future__ import annotations

from typing import Any, Protocol


class _Packer(Protocol):
    def pack(self, obj: Any) -> bytes: ...

    def pack_array_header(self, n: int) -> bytes: ...


class _Unpacker(Protocol):
    def feed(self, next_bytes: bytes) -> None: ...

    def read_array_header(self) -> int: ...

    def unpack(self) -> Any: ...


class Msgpack(Protocol):
    """The module's functions and classes used by the serializer."""

    def packb(self, o: Any, *, use_bin_type: bool) -> bytes: ...

    def unpackb(self, packed: bytes | memoryview, *, raw: bool, strict_map_key: bool) -> Any: ...

    def Packer(self, *, use_bin_type: bool) -> _Packer: ...  # noqa: N802 - the module's class

    def Unpacker(self, *, raw: bool) -> _Unpacker: ...  # noqa: N802 - the module's class


def load_msgpack() -> Msgpack | None:
    try:
        import msgpack  # optional dependency
    except ImportError:
        return None
    module: Msgpack = msgpack
    return module
