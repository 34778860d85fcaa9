"""LiteLLM fallbacks from LITELLM_FALLBACK_MODELS.

The variable holds a comma-separated list of model names, or a JSON list of
names and objects with their own "model", "api_base" and "api_key" (or one
such object). Unset means the helper's default; set but empty means none.
"""

import json
import os

__all__ = ["_fallback_models_from_env"]


def _fallback_models_from_env(default, model_name=None):
    """LITELLM_FALLBACK_MODELS (else ``default``), without ``model_name``."""
    raw = os.environ.get("LITELLM_FALLBACK_MODELS")
    if raw is None:
        models = list(default)
    elif raw.strip()[:1] in ("[", "{"):
        try:
            models = json.loads(raw)
        except ValueError as error:
            reason = f"LITELLM_FALLBACK_MODELS is not valid JSON: {error}"
            raise ValueError(reason) from None
        models = [models] if isinstance(models, dict) else models
    else:
        models = [name.strip() for name in raw.split(",") if name.strip()]
    names = [m.get("model") if isinstance(m, dict) else m for m in models]
    return [m for m, n in zip(models, names, strict=True) if n != model_name]
