"""HttpPolicy mirrors server.settings.HttpSettings field for field, so the server can build it."""

from __future__ import annotations

import dataclasses

import httpx

from server.settings import HttpSettings
from tools.http.config import HttpPolicy
from tools.http.factory import timeout_for


def test_policy_mirrors_settings() -> None:
    assert [field.name for field in dataclasses.fields(HttpPolicy)] == list(HttpSettings.model_fields)
    assert HttpPolicy(**HttpSettings().model_dump()) == HttpPolicy()
    custom = HttpSettings(timeout=3.0, max_attempts=5)
    assert HttpPolicy(**custom.model_dump()).max_attempts == 5


def test_timeouts_come_from_the_policy() -> None:
    timeout = timeout_for(HttpPolicy(timeout=7.0, connect_timeout=2.0, pool_timeout=1.0))
    assert timeout == httpx.Timeout(7.0, connect=2.0, read=7.0, write=7.0, pool=1.0)
