"""docs/configuration.md names every setting the program reads (and no setting that is gone)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from server.settings import _FLAT, Settings
from server.settings_names import OTHER_NAMES

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def setting_names() -> set[str]:
    names = {f"TRIALSTOCK_{flat.upper()}" for flat in _FLAT}
    for section, field in Settings.model_fields.items():
        if field.exclude:
            continue
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            names |= {f"TRIALSTOCK_{section.upper()}__{sub.upper()}" for sub in model.model_fields}
        else:
            names.add(f"TRIALSTOCK_{section.upper()}")
    return names


def test_every_setting_is_documented_and_nothing_else() -> None:
    documented = set(re.findall(r"`(TRIALSTOCK_[A-Z_]+)`", DOC.read_text()))
    missing = setting_names() - documented
    assert not missing, f"undocumented settings: {sorted(missing)}"
    unknown = documented - setting_names() - OTHER_NAMES
    assert not unknown, f"documented but not read: {sorted(unknown)}"
