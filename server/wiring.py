"""Map server settings onto the plain config objects of the lower layers.

``cache`` and ``tools`` never import ``server``; this is the one place that knows both shapes.
"""

from __future__ import annotations

from server.settings import Settings
from tools.clinical_trials import TrialsConfig
from tools.stocks import StocksConfig


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
