"""The ``upstreams`` section: where each upstream lives and how hard we may hit it.

Owner: the server, which picks the upstreams; :mod:`server.settings` nests it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


class UpstreamSettings(BaseModel):
    """Where each upstream lives and how hard we may hit it. Owner: the server (it picks the upstreams)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
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
        url: str = getattr(self, f"{upstream}_base_url")
        return url


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


__all__ = ["UpstreamSettings", "parse_rate"]
