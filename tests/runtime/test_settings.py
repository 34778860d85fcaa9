"""Settings from the environment: from_env, check_settings and LITELLM_PRECHECK.

Each numeric variable is a number of one kind within bounds; an empty value is an unset one; a
bad value raises ValueError naming the variable, the value and what is allowed.
"""

from __future__ import annotations

import re

import pytest

from llmfix.codemods.runtime import litellm_utils
from llmfix.codemods.runtime.litellm_utils import _LIMITS, check_settings, from_env

# the defaults the module's docstring documents and the patched code passes
DOCUMENTED_DEFAULTS = {
    "LITELLM_NUM_RETRIES": 10,
    "LITELLM_DEFAULT_TIMEOUT": 600,
    "LITELLM_PRECHECK_TIMEOUT": 30,
    "LITELLM_PRECHECK_RECHECK": 60,
    "LITELLM_HEALTH_INTERVAL": 300,
    "LITELLM_MAX_FAILURE_RATE": None,
    "LITELLM_FAILURE_WINDOW": 100,
}
DEFAULT = object()  # a default from_env must hand back untouched


def test_every_setting_is_documented():
    """Each setting is named in the module's docstring, in full or as a suffix after a sibling ("LITELLM_PRECHECK
    (on, warn, off) and its _TIMEOUT"), and no name there is stale."""
    doc = litellm_utils.__doc__
    settings = {*_LIMITS, "LITELLM_FALLBACK_MODELS", "LITELLM_PRECHECK"}
    named = set(re.findall(r"LITELLM_[A-Z_]+", doc))
    assert named <= settings
    for name in settings - named:
        prefix = max((n for n in named if name.startswith(n + "_")), key=len, default="LITELLM")
        assert re.search(rf"(?<![A-Z]){name[len(prefix) :]}\b", doc), name
    assert set(_LIMITS) == set(DOCUMENTED_DEFAULTS)
    for name, (kind, low, high) in _LIMITS.items():
        assert kind in (int, float) and low < high
        default = DOCUMENTED_DEFAULTS[name]
        assert default is None or low <= default <= high, name


def valid_values(name: str) -> list[tuple[str, float]]:
    """(raw, value) pairs: both bounds, a value between them, one with blanks around it."""
    kind, low, high = _LIMITS[name]
    middle = kind((low + high) / 2)
    return [(str(low), low), (str(high), high), (str(middle), middle), (f"  {middle}\t\n", middle)]


def invalid_values(name: str) -> list[str]:
    kind, low, high = _LIMITS[name]
    below = str(low - 1) if kind is int else str(-0.5 if low == 0 else low / 2)
    above = str(high + 1) if kind is int else str(high * 1.5)
    words = ["nan", "NaN", "inf", "-inf", "Infinity", "abc", "1,5", "0x10", "ten", "--1"]
    return [below, above, *words, *(["2.5", "1e2", "1.0"] if kind is int else [])]


@pytest.mark.parametrize("name", _LIMITS)
def test_from_env_reads_valid_values(llm_env, name):
    kind = _LIMITS[name][0]
    for raw, expected in valid_values(name):
        llm_env.setenv(name, raw)
        value = from_env(name, DEFAULT)
        assert value == expected and type(value) is kind, (name, raw, value)


@pytest.mark.parametrize("name", _LIMITS)
@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_unset_or_empty_gives_the_default(llm_env, name, raw):
    if raw is not None:
        llm_env.setenv(name, raw)
    assert from_env(name, DEFAULT) is DEFAULT
    assert from_env(name, DOCUMENTED_DEFAULTS[name]) == DOCUMENTED_DEFAULTS[name]


@pytest.mark.parametrize("name", _LIMITS)
def test_bad_values_raise_naming_variable_value_and_range(llm_env, name):
    kind, low, high = _LIMITS[name]
    for raw in invalid_values(name):
        llm_env.setenv(name, raw)
        with pytest.raises(ValueError) as raised:
            from_env(name, DEFAULT)
        message = str(raised.value)
        assert name in message and raw in message, message
        assert ("an integer" if kind is int else "a number") in message, message
        assert f"{low}..{high}" in message, message


def test_check_settings_is_quiet_when_nothing_is_set():
    assert check_settings() == "on"


@pytest.mark.parametrize("name", _LIMITS)
def test_check_settings_names_the_bad_variable(llm_env, name):
    llm_env.setenv(name, "abc")
    with pytest.raises(ValueError, match=name):
        check_settings()


def test_check_settings_checks_the_fallback_models(llm_env):
    llm_env.setenv("LITELLM_FALLBACK_MODELS", '[{"api_base": "http://127.0.0.1:1/v1"}]')
    with pytest.raises(ValueError, match="LITELLM_FALLBACK_MODELS"):
        check_settings()


def test_check_settings_accepts_every_valid_value_at_once(llm_env):
    for name in _LIMITS:
        llm_env.setenv(name, valid_values(name)[2][0])
    llm_env.setenv("LITELLM_FALLBACK_MODELS", "openai/a, openai/b")
    llm_env.setenv("LITELLM_PRECHECK", "warn")
    assert check_settings() == "warn"


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        (None, "on"),
        ("", "on"),
        ("  ", "on"),
        ("on", "on"),
        ("ON", "on"),
        ("1", "on"),
        ("true", "on"),
        ("True", "on"),
        ("yes", "on"),
        ("warn", "warn"),
        (" Warn\n", "warn"),
        ("off", "off"),
        ("OFF", "off"),
        ("0", "off"),
        ("false", "off"),
        ("no", "off"),
    ],
)
def test_precheck_modes(llm_env, raw, mode):
    if raw is not None:
        llm_env.setenv("LITELLM_PRECHECK", raw)
    assert check_settings() == mode


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled", "of", "on,warn", "-1"])
def test_bad_precheck_mode_names_variable_value_and_choices(llm_env, raw):
    llm_env.setenv("LITELLM_PRECHECK", raw)
    with pytest.raises(ValueError) as raised:
        check_settings()
    message = str(raised.value)
    assert "LITELLM_PRECHECK" in message and raw in message and "on, warn or off" in message
