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

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from cache import EngineConfig, RedisConfig, RefreshConfig, SqliteConfig, UsageConfig
from server.redact import HIDDEN, mask_url
from server.scheduler import DEFAULT_TICK
from server.settings_sources import lenient_sources
from server.settings_upstreams import UpstreamSettings
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
    allowed_hosts: tuple[str, ...] = Field(
        (), description="Extra Host headers accepted by DNS-rebinding protection: a JSON list or comma-separated."
    )
    max_argument_bytes: int = Field(
        64 * 1024, ge=1024, description="Largest tool-call arguments (JSON bytes) accepted."
    )
    max_sessions: int = Field(1000, ge=1, description="Streamable HTTP sessions open at once; beyond it 503.")
    session_idle_timeout: float = Field(
        1800.0, gt=0, allow_inf_nan=False, description="Seconds before an idle streamable HTTP session is closed."
    )
    stdio_drain_timeout: float = Field(
        5.0,
        ge=0,
        allow_inf_nan=False,
        description="Seconds a stdio server keeps answering the requests already read once the client closes stdin.",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value


class AuthSettings(BaseModel):
    """Access to the HTTP transports. Owner: the server."""

    model_config = _SECTION
    token: SecretStr | None = Field(None, description="Bearer token required by the HTTP transports when set.")
    allow_unauthenticated: bool = Field(
        False, description="Serve HTTP on a non-loopback address without a token (refused otherwise)."
    )

    @field_validator("token")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is empty; set a token, or unset the variable to serve without one")
        return value


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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment and ``.env`` sources, with values that are not JSON left to validation
        (:mod:`server.settings_sources`)."""
        return init_settings, *lenient_sources(settings_cls, dotenv_settings), file_secret_settings

    @field_validator("log_level", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

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


def env_file() -> Path | None:
    """The ``.env`` file :class:`Settings` reads (relative to the working directory)."""
    configured = Settings.model_config.get("env_file")
    return Path(configured) if isinstance(configured, str | Path) else None


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data with secrets replaced by '***'."""
    data = settings.model_dump(mode="json")
    if settings.redis.url is not None:
        data["redis"]["url"] = mask_url(settings.redis.url.get_secret_value())
    if settings.auth.token is not None:
        data["auth"]["token"] = HIDDEN
    return data
