"""Clinical-trial tools over ClinicalTrials.gov API v2.

``register(mcp)`` defines the tools; the server lifespan builds
``TrialsService(CtgovClient(upstream), cache, TrialsConfig(ttl=..., ...), clock)`` and exposes it
as ``lifespan_context.trials``.
"""

from tools.clinical_trials.client import CtgovClient
from tools.clinical_trials.config import TrialsCacheConfig, TrialsConfig
from tools.clinical_trials.service import TrialsService
from tools.clinical_trials.tools import register

__all__ = ["CtgovClient", "TrialsCacheConfig", "TrialsConfig", "TrialsService", "register"]
