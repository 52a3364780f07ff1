"""Clinical-trial tools over ClinicalTrials.gov API v2.

The tools are in :mod:`tools.clinical_trials.tools` (``TOOLS``); the server lifespan builds
``TrialsService(CtgovClient(upstream), cache, TrialsConfig(ttl=..., ...), clock)`` into its
:class:`~tools.services.Services` as ``trials``.
"""

from tools.clinical_trials.client import CtgovClient
from tools.clinical_trials.config import TrialsCacheConfig, TrialsConfig
from tools.clinical_trials.service import TrialsService

__all__ = ["CtgovClient", "TrialsCacheConfig", "TrialsConfig", "TrialsService"]
