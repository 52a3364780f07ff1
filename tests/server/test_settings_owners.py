"""Each setting has one owner: the settings' defaults are the owning layer's, and what the
environment sets reaches the objects the lower layers build (through the real lifespan)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from cache import CachePolicy, EngineConfig, RedisConfig, RefreshConfig, SqliteConfig, UsageConfig, build_cache
from server.lifespan import app_state
from server.settings import CacheSettings, Settings, TrialsSettings, WorkerSettings
from server.settings_errors import describe_settings_error
from server.settings_names import OTHER_NAMES
from tests.support.clock import ManualClock
from tools.clinical_trials import TrialsCacheConfig, TrialsConfig
from tools.http.config import HttpPolicy
from tools.http.errors import UpstreamError
from tools.stocks import StocksCacheConfig

# Sections that borrow fields from their owners: section -> the models that own its fields.
BORROWING = {
    CacheSettings: (EngineConfig, TrialsCacheConfig, StocksCacheConfig),
    TrialsSettings: (TrialsConfig,),
    WorkerSettings: (RefreshConfig, UsageConfig),
}


@pytest.fixture(autouse=True)
def no_trialstock_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TRIALSTOCK_") and name not in OTHER_NAMES:
            monkeypatch.delenv(name)


def _definition(model: type[BaseModel], name: str) -> tuple[object, ...]:
    field = model.model_fields[name]
    return field.annotation, field.default, field.default_factory, field.metadata, field.description


def test_nested_sections_are_the_owners_models_with_their_defaults() -> None:
    settings = Settings(_env_file=None)
    for section, owner in (("http", HttpPolicy), ("redis", RedisConfig), ("sqlite", SqliteConfig)):
        value = getattr(settings, section)
        assert type(value) is owner, section
        assert value == owner(), section


def test_fields_exposed_for_an_owner_keep_its_defaults() -> None:
    settings = Settings(_env_file=None)
    assert EngineConfig(**settings.cache.model_dump(include=set(EngineConfig.model_fields))) == EngineConfig()
    assert settings.cache.trials == TrialsCacheConfig()
    assert settings.cache.stocks == StocksCacheConfig()
    assert settings.trials.batch_concurrency == TrialsConfig().batch_concurrency
    assert RefreshConfig.model_validate(settings.worker, from_attributes=True) == RefreshConfig()
    assert UsageConfig.model_validate(settings.worker, from_attributes=True) == UsageConfig()


def test_a_borrowed_field_is_its_owners_definition() -> None:
    for section, owners in BORROWING.items():
        for owner in owners:
            for name in set(section.model_fields) & set(owner.model_fields):
                assert _definition(section, name) == _definition(owner, name), (section.__name__, name)
    # The cache section declares nothing of its own: every field is the engine's or a domain's.
    owned = {name for owner in BORROWING[CacheSettings] for name in owner.model_fields}
    assert set(CacheSettings.model_fields) == owned


async def test_configured_values_reach_the_engine_services_and_clients(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "TRIALSTOCK_SQLITE_PATH": str(tmp_path / "cache.sqlite3"),
        "TRIALSTOCK_CACHE__TIER_BREAKER_RECOVERY": "7",
        "TRIALSTOCK_CACHE__MEMORY_MAX_ENTRIES": "123",
        "TRIALSTOCK_CACHE__TRIALS_SEARCH_FRESH": "120",
        "TRIALSTOCK_CACHE__STOCKS_QUOTE_FRESH": "30",
        "TRIALSTOCK_TRIALS__BATCH_CONCURRENCY": "7",
        "TRIALSTOCK_HTTP__MAX_ATTEMPTS": "4",
        "TRIALSTOCK_HTTP__BACKOFF_INITIAL": "0.001",
        "TRIALSTOCK_HTTP__BACKOFF_MAX": "0.001",
    }.items():
        monkeypatch.setenv(name, value)
    requests: list[httpx.Request] = []

    def unavailable(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(503, text="down")

    clock = ManualClock()
    transports = {"ctgov": httpx.MockTransport(unavailable)}
    async with app_state(Settings(_env_file=None), transports=transports, clock=clock, role="cli") as state:
        assert state.services.cache.memory.max_entries == 123
        assert state.services.trials.config.ttl.trials_search_fresh == 120
        assert state.services.trials.config.batch_concurrency == 7
        assert state.services.stocks.config.ttl.stocks_quote_fresh == 30

        with pytest.raises(UpstreamError):
            await state.services.upstreams["ctgov"].get_json("/version")
        assert len(requests) == 4

        # The SQLite tier fails once; its guard skips it for exactly the configured 7 s.
        assert state.services.cache.sqlite is not None
        await state.services.cache.sqlite.aclose()
        await state.services.cache.get_or_fetch("ns:k", _one, CachePolicy("ns", fresh_ttl=60, stale_ttl=600))
        assert _sqlite_state(state.services.cache) == "open"
        clock.advance(6.9)
        assert _sqlite_state(state.services.cache) == "open"
        clock.advance(0.2)
        assert _sqlite_state(state.services.cache) == "half-open"


async def test_redis_and_sqlite_sections_reach_build_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("cache.backends.redis")
    monkeypatch.setenv("TRIALSTOCK_REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    monkeypatch.setenv("TRIALSTOCK_REDIS__KEY_PREFIX", "elsewhere:")
    monkeypatch.setenv("TRIALSTOCK_SQLITE__ENABLED", "false")
    settings = Settings(_env_file=None)
    cache = await build_cache(settings.cache, sqlite=settings.sqlite, redis=settings.redis)
    try:
        assert cache.sqlite is None
        assert cache.redis is not None and cache.redis.prefix == "elsewhere:"  # type: ignore[attr-defined]
    finally:
        await cache.aclose()


def test_the_domains_own_check_names_the_cache_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALSTOCK_CACHE__TRIALS_RECORD_STALE", "60")
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None)
    line = describe_settings_error(info.value)
    assert "\n" not in line
    assert "TRIALSTOCK_CACHE" in line and "trials_record_stale must be at least trials_record_fresh" in line


def test_an_owners_bounds_apply_under_the_settings_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALSTOCK_TRIALS__BATCH_CONCURRENCY", "21")
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None)
    assert "TRIALSTOCK_TRIALS__BATCH_CONCURRENCY='21'" in describe_settings_error(info.value)


async def _one() -> int:
    return 1


def _sqlite_state(cache: object) -> str:
    return cache.stats.snapshot()["tiers"]["sqlite"]["state"]  # type: ignore[attr-defined]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
