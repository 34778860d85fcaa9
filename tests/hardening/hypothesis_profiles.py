"""Hypothesis profiles for the hardening tests.

    ci        (default when CI=true)  20 examples per fixture file, derandomized: CI's time budget
    dev       (default otherwise)     20 examples per fixture file, random, with the example database
    thorough  HYPOTHESIS_PROFILE=thorough python -m pytest tests/hardening -q   (500 per fixture file)

The profile is applied to these tests only (``@active_profile()``), never loaded
globally, so other test folders keep their own hypothesis settings.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)
settings.register_profile("llmfix-ci", max_examples=int(os.environ.get("LLMFIX_CI_EXAMPLES", "20")), derandomize=True, database=None, **_COMMON)
settings.register_profile("llmfix-dev", max_examples=20, **_COMMON)
settings.register_profile("llmfix-thorough", max_examples=500, **_COMMON)
PROFILE_ALIASES = {"ci": "llmfix-ci", "dev": "llmfix-dev", "thorough": "llmfix-thorough"}


def active_profile() -> settings:
    name = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev")
    return settings.get_profile(PROFILE_ALIASES.get(name, name))
