"""Map server settings onto the plain config objects of the lower layers.

``cache`` and ``tools`` never import ``server``; this is the one place that knows both shapes.
"""

from __future__ import annotations

from cache import CacheConfig
from server.settings import Settings
from tools.clinical_trials import TrialsConfig
from tools.stocks import StocksConfig


def cache_config(settings: Settings) -> CacheConfig:
    c, r, s = settings.cache, settings.redis, settings.sqlite
    return CacheConfig(
        memory_max_entries=c.memory_max_entries,
        memory_max_bytes=c.memory_max_bytes,
        serializer=c.serializer,
        compress_threshold=c.compress_threshold,
        tier_timeout=c.tier_timeout,
        tier_recovery=c.tier_breaker_recovery,
        lock_ttl=c.lock_ttl,
        lock_wait=c.lock_wait,
        sqlite_timeout=s.timeout,
        sqlite_path=s.path if s.enabled else None,
        sqlite_max_entries=s.max_entries,
        sqlite_max_bytes=s.max_bytes,
        sqlite_busy_timeout_ms=s.busy_timeout_ms,
        sqlite_cleanup_batch=s.cleanup_batch,
        redis_url=r.url.get_secret_value() if r.url else None,
        redis_socket_timeout=r.socket_timeout,
        redis_connect_timeout=r.connect_timeout,
        redis_max_connections=r.max_connections,
        redis_key_prefix=r.key_prefix,
    )


def trials_config(settings: Settings) -> TrialsConfig:
    c = settings.cache
    return TrialsConfig(
        search_fresh=c.trials_search_fresh,
        search_stale=c.trials_search_stale,
        record_fresh=c.trials_record_fresh,
        record_stale=c.trials_record_stale,
        version_check_interval=c.trials_version_check_interval,
        batch_concurrency=settings.trials.batch_concurrency,
    )


def stocks_config(settings: Settings) -> StocksConfig:
    c = settings.cache
    return StocksConfig(
        closed_month_fresh=c.stocks_closed_month_fresh,
        open_month_fresh=c.stocks_open_month_fresh,
        quote_fresh=c.stocks_quote_fresh,
        quote_max_closed=c.stocks_quote_max_closed,
    )
