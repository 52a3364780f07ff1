"""Where the settings come from: the environment and ``.env``, read leniently.

pydantic-settings decodes the value of a list or object setting as JSON and, when that fails,
raises a SettingsError with a long traceback (``TRIALSTOCK_HTTP='not json'``,
``TRIALSTOCK_TRANSPORT__ALLOWED_HOSTS=mcp.internal``). These sources hand such a value on as
text instead: validation then reports it on one line naming the variable, and a list setting may
accept comma-separated text (``TransportSettings.allowed_hosts`` does).
"""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, DotEnvSettingsSource, EnvSettingsSource, PydanticBaseSettingsSource


class _LenientDecoding:
    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)  # type: ignore[misc]
        except ValueError:  # not JSON: validation will say what is expected
            return value


class LenientEnvSource(_LenientDecoding, EnvSettingsSource):
    """The environment, with values that are not JSON left to validation."""


class LenientDotEnvSource(_LenientDecoding, DotEnvSettingsSource):
    """The ``.env`` file, with values that are not JSON left to validation."""


def lenient_sources(
    settings_cls: type[BaseSettings], dotenv_settings: PydanticBaseSettingsSource
) -> tuple[LenientEnvSource, LenientDotEnvSource]:
    """Lenient replacements for the default environment and ``.env`` sources; the ``.env`` file
    (and its encoding) are taken from ``dotenv_settings``, which honours ``Settings(_env_file=...)``."""
    env_file = getattr(dotenv_settings, "env_file", None)
    encoding = getattr(dotenv_settings, "env_file_encoding", None)
    return LenientEnvSource(settings_cls), LenientDotEnvSource(
        settings_cls, env_file=env_file, env_file_encoding=encoding
    )
