"""The cache's configuration: one frozen pydantic model per part, every default written here once.

Owner: the cache package. The server nests these models in its settings as they are
(sections ``sqlite`` and ``redis``), or exposes their fields unchanged (section ``cache`` extends
:class:`EngineConfig`; section ``worker`` carries the fields of :class:`RefreshConfig`), so an
environment variable names a field of one of these models. Lower-level constructors
(:class:`~cache.engine.tiered.TieredCache`, the backends, :class:`~cache.serialization.Serializer`,
:class:`~cache.warming.refresh_ahead.RefreshAhead`) keep keyword defaults for direct use, taken
from the ``DEFAULT_*`` instances below. :func:`cache.build.build_cache` turns the models into an
engine. This module imports nothing from the rest of the cache, so every part of it may import it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from platformdirs import user_cache_dir
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator, model_validator

_FROZEN = ConfigDict(extra="forbid", frozen=True)


def default_sqlite_path() -> Path:
    """``<user cache dir>/trialstock-mcp/cache.sqlite3``."""
    return Path(user_cache_dir("trialstock-mcp", appauthor=False)) / "cache.sqlite3"


class EngineConfig(BaseModel):
    """The engine: memory tier bounds, serialization, tier guards, the cross-process lock.

    Owner: the cache. The server's ``cache`` settings section is this model plus the domains'
    cache lifetimes.
    """

    model_config = _FROZEN
    memory_max_entries: int = Field(10_000, ge=1)
    memory_max_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    serializer: Literal["json", "msgpack"] = "json"
    compress_threshold: int = Field(16 * 1024, ge=0, description="Compress payloads above this many bytes; 0 disables.")
    tier_timeout: float = Field(0.25, gt=0, description="A Redis call slower than this is skipped for the call.")
    tier_breaker_recovery: float = Field(5.0, gt=0, description="Seconds before a failed tier is tried again.")
    lock_ttl: float = Field(
        6.0, gt=0, description="Cross-process single-flight lock lifetime, seconds (extended while its load runs)."
    )
    lock_wait: float = Field(30.0, gt=0, description="How long a waiter waits for another process's fetch.")


class SqliteConfig(BaseModel):
    """The embedded default tier: one SQLite file. Owner: the cache (server section ``sqlite``).

    ``enabled=False`` leaves the tier out.
    """

    model_config = _FROZEN
    path: Path = Field(default_factory=default_sqlite_path)
    enabled: bool = True
    max_entries: int = Field(200_000, ge=1)
    max_bytes: int = Field(512 * 1024 * 1024, ge=1024 * 1024)
    busy_timeout_ms: int = Field(5000, ge=0)
    timeout: float = Field(1.0, gt=0, description="A SQLite call slower than this is skipped for the call, seconds.")
    cleanup_batch: int = Field(500, ge=1)
    write_queue_max: int = Field(
        10_000, ge=1, description="Writes waiting for the SQLite writer at most; beyond it they are dropped (counted)."
    )
    write_batch_max: int = Field(1000, ge=1, description="Writes committed in one SQLite transaction at most.")


class RedisConfig(BaseModel):
    """The optional shared tier and the pub/sub channel. Owner: the cache (server section ``redis``).

    No URL: no Redis tier. The ``tls_*`` files go with a ``rediss://`` URL: a CA to verify the
    server with (else the system's), and a client certificate with its key for servers that
    require one (``tls-auth-clients yes``); redis-py gets them as ``ssl_ca_certs``,
    ``ssl_certfile`` and ``ssl_keyfile``.
    """

    model_config = _FROZEN
    url: SecretStr | None = Field(
        None,
        description="redis://, rediss:// (TLS) or unix:// URL; may carry a password. Cluster: one seed node. "
        "Sentinel: credentials, db and TLS only (the host is ignored).",
    )
    mode: Literal["single", "cluster", "sentinel"] = Field(
        "single", description="single: one server; cluster: Redis Cluster; sentinel: a primary found via Sentinel."
    )
    nodes: tuple[str, ...] = Field(
        (), description="Cluster: more seed nodes as host:port (a JSON list or comma-separated)."
    )
    sentinels: tuple[str, ...] = Field(
        (), description="Sentinel: the sentinels as host:port (a JSON list or comma-separated)."
    )
    service_name: str = Field("mymaster", min_length=1, description="Sentinel: the monitored primary's name.")
    socket_timeout: float = Field(0.25, gt=0, description="Short on purpose: a slow Redis is skipped.")
    connect_timeout: float = Field(0.25, gt=0)
    max_connections: int = Field(50, ge=1)
    key_prefix: str = Field("trialstock:", description="Prefix for every key this server writes.")
    channel: str = Field("trialstock:events", description="Pub/sub channel for invalidation events.")
    tls_ca_file: Path | None = Field(
        None, description="PEM file of the CA(s) that signed the Redis server's certificate."
    )
    tls_cert_file: Path | None = Field(None, description="PEM client certificate, for a server that requires one.")
    tls_key_file: Path | None = Field(
        None, validate_default=True, description="PEM private key of the client certificate."
    )

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must start with redis://, rediss:// or unix://")
        if parts.scheme != "unix" and not parts.hostname:
            hint = (
                " (percent-encode '@', '#', '?' and '/' in a password: '#' is %23)"
                if "@" in value.get_secret_value()
                else ""
            )
            raise ValueError(f"must name a host, e.g. redis://127.0.0.1:6379/0{hint}")
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise ValueError("has a malformed port") from None
        return value

    @field_validator("nodes", "sentinels", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)  # a JSON list (settings sources may hand it over undecoded)
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("nodes", "sentinels")
    @classmethod
    def _host_ports(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            host_port(address)
        return value

    @model_validator(mode="after")
    def _topology(self) -> RedisConfig:
        if self.mode == "sentinel" and not self.sentinels:
            raise ValueError("mode sentinel needs the sentinels' addresses (sentinels: host:port, ...)")
        if self.mode == "cluster" and self.url is None and not self.nodes:
            raise ValueError("mode cluster needs a seed node (url or nodes)")
        if self.mode == "cluster" and self.url is not None and self.url.get_secret_value().startswith("unix://"):
            raise ValueError("mode cluster needs a redis:// or rediss:// URL (no unix sockets)")
        return self

    @property
    def enabled(self) -> bool:
        """Whether a Redis tier is configured (a URL, cluster seed nodes or sentinels)."""
        return self.url is not None or bool(self.nodes) or bool(self.sentinels)

    @field_validator("tls_ca_file", "tls_cert_file", "tls_key_file")
    @classmethod
    def _tls_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None:
            if not value.is_file():
                raise ValueError(f"no such file: {value}")
            url: SecretStr | None = info.data.get("url")
            if "url" in info.data and (url is None or not url.get_secret_value().startswith("rediss://")):
                raise ValueError("TLS files go with a rediss:// URL")
        if info.field_name == "tls_key_file":
            cert = info.data.get("tls_cert_file")
            if value is None and cert is not None:
                raise ValueError("the client certificate (tls_cert_file) needs its key: set tls_key_file too")
            if value is not None and cert is None and "tls_cert_file" in info.data:
                raise ValueError("a client key needs its certificate: set tls_cert_file too")
        return value

    def tls_options(self) -> dict[str, str]:
        """The TLS files as redis-py connection options (only those set)."""
        files = {"ssl_ca_certs": self.tls_ca_file, "ssl_certfile": self.tls_cert_file, "ssl_keyfile": self.tls_key_file}
        return {option: str(path) for option, path in files.items() if path is not None}


class RefreshConfig(BaseModel):
    """Refresh-ahead: how many recomputes at once and what counts as hot. Owner: the cache.

    The server's ``worker`` settings section carries these fields under the same names.
    """

    model_config = _FROZEN
    refresh_concurrency: int = Field(4, ge=1, le=64)
    refresh_window: float = Field(60.0, gt=0, description="A key hit within this many seconds counts as hot.")


class UsageConfig(BaseModel):
    """Tool-usage tracking behind "trending" warming (:class:`~cache.warming.usage.UsageLog`):
    hard caps, so what callers send can never grow it without bound. Owner: the cache.

    The server's ``worker`` settings section carries these fields under the same names.
    """

    model_config = _FROZEN
    usage_max_calls: int = Field(2000, ge=1, description="Distinct tool calls remembered for the last hour.")
    usage_max_bytes: int = Field(
        1024 * 1024, ge=1024, description="Bytes of canonical arguments those calls may hold in all."
    )
    usage_max_call_bytes: int = Field(
        4096, ge=64, description="A call whose canonical arguments are larger is not remembered (counted as dropped)."
    )


#: The defaults, for the keyword defaults of the engine's and the backends' constructors.
DEFAULT_ENGINE = EngineConfig()
DEFAULT_SQLITE = SqliteConfig()
DEFAULT_REDIS = RedisConfig()


def host_port(address: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) as a pair; ValueError naming the address otherwise."""
    host, sep, port = address.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{address!r} is not host:port")
    return host, int(port)


DEFAULT_REFRESH = RefreshConfig()
DEFAULT_USAGE = UsageConfig()
