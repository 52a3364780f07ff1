"""Settings: every knob, validated once at start-up.

Environment variables use the prefix ``TRIALSTOCK_`` and ``__`` between a section and its
field (``TRIALSTOCK_HTTP__TIMEOUT=5``). The names users set most are flat and fixed
(``TRIALSTOCK_REDIS_URL``, ``TRIALSTOCK_SQLITE_PATH``, ``TRIALSTOCK_AUTH_TOKEN``,
``TRIALSTOCK_USER_AGENT`` and the ``TRIALSTOCK_*_BASE_URL`` upstream addresses); they are
folded into their sections, so code always reads ``settings.redis.url``.

Every knob has one owner, where its default, bounds and description are written:

- ``http`` is :class:`tools.http.config.HttpPolicy`; ``sqlite`` and ``redis`` are the cache's
  :class:`~cache.SqliteConfig` and :class:`~cache.RedisConfig`, nested as they are.
- ``cache`` is the cache's :class:`~cache.EngineConfig` plus the domains' cache lifetimes
  (:class:`CacheSettings`); ``trials.batch_concurrency`` belongs to
  :class:`~tools.clinical_trials.TrialsConfig`; ``worker.refresh_*`` to :class:`~cache.RefreshConfig`,
  ``worker.usage_*`` to :class:`~cache.UsageConfig`.
  These sections declare such a field as ``owned(Owner, name)``: the owner's own definition.
- ``upstreams``, ``transport``, ``auth``, ``log_level`` and the rest of ``worker`` are the server's.
"""

from __future__ import annotations

from copy import copy
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cache import EngineConfig, RedisConfig, RefreshConfig, SqliteConfig, UsageConfig
from server.scheduler import DEFAULT_TICK
from tools.clinical_trials import TrialsCacheConfig, TrialsConfig
from tools.http.config import HttpPolicy
from tools.stocks import StocksCacheConfig

_SECTION = ConfigDict(extra="forbid", frozen=True)
_Owner = TypeVar("_Owner", bound=BaseModel)


def owned(owner: type[BaseModel], name: str) -> Any:
    """``owner``'s definition of its field ``name`` (default, bounds, description), for a section
    that exposes the field: ``name: float = owned(Owner, "name")`` keeps the default in ``Owner``."""
    return copy(owner.model_fields[name])


def _as_owner(owner: type[_Owner], section: BaseModel) -> _Owner:
    """The owner's model built from the fields ``section`` exposes for it (its checks included)."""
    try:
        return owner.model_validate(section, from_attributes=True)
    except ValidationError as exc:  # re-raised as a ValueError so the section reports it on one line
        raise ValueError("; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())) from None


class UpstreamSettings(BaseModel):
    """Where each upstream lives and how hard we may hit it. Owner: the server (it picks the upstreams)."""

    model_config = _SECTION
    user_agent: str = Field(
        "trialstock-mcp/0.1",
        min_length=1,
        description="User-Agent sent upstream (ClinicalTrials.gov's CDN has blocked generic Python clients).",
    )
    ctgov_base_url: str = "https://clinicaltrials.gov/api/v2"
    twse_base_url: str = "https://www.twse.com.tw"
    tpex_base_url: str = "https://www.tpex.org.tw"
    mis_base_url: str = "https://mis.twse.com.tw"
    yahoo_base_url: str = "https://query1.finance.yahoo.com"
    ctgov_rate: str = Field("50/60", description="Requests per seconds, as 'N/S'.")
    twse_rate: str = Field("3/5", description="TWSE bans IPs above roughly 3 requests per 5 s.")
    tpex_rate: str = "3/5"
    mis_rate: str = "3/5"
    yahoo_rate: str = "1/1"

    @field_validator("ctgov_base_url", "twse_base_url", "tpex_base_url", "mis_base_url", "yahoo_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value.rstrip("/")

    @field_validator("ctgov_rate", "twse_rate", "tpex_rate", "mis_rate", "yahoo_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    def rate(self, upstream: str) -> tuple[int, float]:
        """(requests, per_seconds) for an upstream name such as 'twse'."""
        return parse_rate(getattr(self, f"{upstream}_rate"))

    def base_url(self, upstream: str) -> str:
        return getattr(self, f"{upstream}_base_url")


def parse_rate(value: str) -> tuple[int, float]:
    """Parse 'N/S' (N requests per S seconds)."""
    try:
        count_text, _, seconds_text = value.partition("/")
        count, seconds = int(count_text), float(seconds_text)
    except ValueError:
        raise ValueError("must look like '3/5' (requests per seconds)") from None
    if count < 1 or seconds <= 0:
        raise ValueError("needs at least 1 request over a positive number of seconds")
    return count, seconds


class CacheSettings(EngineConfig):
    """Section ``cache``: the cache's :class:`~cache.EngineConfig` plus the domains' cache lifetimes.

    The one subclass of EngineConfig, and it only adds fields: each is the owning domain's field
    (:class:`~tools.clinical_trials.TrialsCacheConfig`, :class:`~tools.stocks.StocksCacheConfig`)
    under the same name, so ``TRIALSTOCK_CACHE__TRIALS_SEARCH_FRESH`` keeps its flat name while its
    default stays in the domain. :attr:`trials` and :attr:`stocks` give the lifetimes back as the
    domains' models; building them at load time runs the domains' own checks (stale >= fresh).
    """

    trials_search_fresh: float = owned(TrialsCacheConfig, "trials_search_fresh")
    trials_search_stale: float = owned(TrialsCacheConfig, "trials_search_stale")
    trials_record_fresh: float = owned(TrialsCacheConfig, "trials_record_fresh")
    trials_record_stale: float = owned(TrialsCacheConfig, "trials_record_stale")
    trials_version_check_interval: float = owned(TrialsCacheConfig, "trials_version_check_interval")
    stocks_closed_month_fresh: float = owned(StocksCacheConfig, "stocks_closed_month_fresh")
    stocks_open_month_fresh: float = owned(StocksCacheConfig, "stocks_open_month_fresh")
    stocks_quote_fresh: float = owned(StocksCacheConfig, "stocks_quote_fresh")
    stocks_quote_max_closed: float = owned(StocksCacheConfig, "stocks_quote_max_closed")

    @model_validator(mode="after")
    def _domains_accept(self) -> CacheSettings:
        _as_owner(TrialsCacheConfig, self)
        _as_owner(StocksCacheConfig, self)
        return self

    @property
    def trials(self) -> TrialsCacheConfig:
        return _as_owner(TrialsCacheConfig, self)

    @property
    def stocks(self) -> StocksCacheConfig:
        return _as_owner(StocksCacheConfig, self)


class TransportSettings(BaseModel):
    """How MCP clients reach this server. Owner: the server."""

    model_config = _SECTION
    transport: Literal["stdio", "http", "sse"] = "stdio"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    path: str = Field("/mcp", pattern=r"^/")
    allowed_hosts: tuple[str, ...] = Field((), description="Extra Host headers accepted by DNS-rebinding protection.")
    max_argument_bytes: int = Field(
        64 * 1024, ge=1024, description="Largest tool-call arguments (JSON bytes) accepted."
    )


class AuthSettings(BaseModel):
    """Access to the HTTP transports. Owner: the server."""

    model_config = _SECTION
    token: SecretStr | None = Field(None, description="Bearer token required by the HTTP transports when set.")


class TrialsSettings(BaseModel):
    """Section ``trials``: the knob of :class:`~tools.clinical_trials.TrialsConfig` an operator may set."""

    model_config = _SECTION
    batch_concurrency: int = owned(TrialsConfig, "batch_concurrency")


class WorkerSettings(BaseModel):
    """Background schedules: warming, refresh-ahead, cleanup, data-version and session checks.

    Owner: the server, except ``refresh_concurrency`` and ``refresh_window``
    (:class:`~cache.RefreshConfig`), the ``usage_*`` caps (:class:`~cache.UsageConfig`) and the
    default of ``tick`` (:data:`server.scheduler.DEFAULT_TICK`).
    With Redis, one process of the deployment (server or ``trialstock-mcp worker``) holds the
    scheduler lease and runs the shared schedules; without Redis every server runs its own.
    """

    model_config = _SECTION
    in_server: bool = Field(
        True, description="Servers compete for the lease and run the shared schedules (false: leave them to workers)."
    )
    lease_ttl: float = Field(15.0, ge=0.5, description="Scheduler lease lifetime; a dead holder is replaced within it.")
    tick: float = Field(DEFAULT_TICK, gt=0, description="How often the scheduler looks for due jobs, seconds.")
    strategies_file: Path | None = Field(None, description="Warming strategies (TOML); unset: the packaged defaults.")
    warm_at_startup: bool = Field(True, description="Run the strategies marked run_at_startup when a process starts.")
    refresh_ahead: bool = Field(True, description="Recompute hot, expensive entries before they turn stale.")
    refresh_concurrency: int = owned(RefreshConfig, "refresh_concurrency")
    refresh_window: float = owned(RefreshConfig, "refresh_window")
    usage_max_calls: int = owned(UsageConfig, "usage_max_calls")
    usage_max_bytes: int = owned(UsageConfig, "usage_max_bytes")
    usage_max_call_bytes: int = owned(UsageConfig, "usage_max_call_bytes")
    cleanup_interval: float = Field(300.0, gt=0, description="Seconds between deletions of expired SQLite rows.")
    stats_interval: float = Field(15.0, gt=0, description="Seconds between publications of this process's stats.")

    @field_validator("strategies_file")
    @classmethod
    def _file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("must name an existing TOML file")
        return value


_FLAT = {
    "redis_url": ("redis", "url"),
    "sqlite_path": ("sqlite", "path"),
    "auth_token": ("auth", "token"),
    "user_agent": ("upstreams", "user_agent"),
    "ctgov_base_url": ("upstreams", "ctgov_base_url"),
    "twse_base_url": ("upstreams", "twse_base_url"),
    "tpex_base_url": ("upstreams", "tpex_base_url"),
    "mis_base_url": ("upstreams", "mis_base_url"),
    "yahoo_base_url": ("upstreams", "yahoo_base_url"),
}


class Settings(BaseSettings):
    """All settings. Build with ``Settings()`` (environment and ``.env``) or keyword overrides."""

    model_config = SettingsConfigDict(
        env_prefix="TRIALSTOCK_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"
    http: HttpPolicy = HttpPolicy()
    upstreams: UpstreamSettings = UpstreamSettings()
    cache: CacheSettings = CacheSettings()
    redis: RedisConfig = RedisConfig()
    sqlite: SqliteConfig = Field(default_factory=SqliteConfig)
    transport: TransportSettings = TransportSettings()
    auth: AuthSettings = AuthSettings()
    trials: TrialsSettings = TrialsSettings()
    worker: WorkerSettings = WorkerSettings()

    # Flat aliases, folded into their sections by _fold_flat_names.
    redis_url: str | None = Field(None, exclude=True, repr=False)
    sqlite_path: str | None = Field(None, exclude=True)
    auth_token: str | None = Field(None, exclude=True, repr=False)
    user_agent: str | None = Field(None, exclude=True)
    ctgov_base_url: str | None = Field(None, exclude=True)
    twse_base_url: str | None = Field(None, exclude=True)
    tpex_base_url: str | None = Field(None, exclude=True)
    mis_base_url: str | None = Field(None, exclude=True)
    yahoo_base_url: str | None = Field(None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _fold_flat_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for flat, (section, field) in _FLAT.items():
            value = data.get(flat)
            if value is None:
                continue
            current = data.get(section) or {}
            if isinstance(current, BaseModel):
                current = current.model_dump()
            data[section] = {**current, field: value}
        return data


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data with secrets replaced by '***'."""
    data = settings.model_dump(mode="json")
    if settings.redis.url is not None:
        data["redis"]["url"] = _mask_url(settings.redis.url.get_secret_value())
    if settings.auth.token is not None:
        data["auth"]["token"] = "***"
    return data


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
