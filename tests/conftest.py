"""Shared test settings."""

import os

from hypothesis import HealthCheck, settings

# CI machines are small and shared: no per-example deadline, fixed derandomized runs.
settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
