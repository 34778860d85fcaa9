"""An empty answer or a swallowed failure of a LiteLLM helper, said out loud.

Both also go to the note of the tracked call in progress (see health), if
any: ``{"kind": ..., "detail": ..., "model": ...}``, where the kind is "ok",
"fallback" (detail: the model that answered), "empty" (detail: what was
missing) or "failed" (detail: the root cause). The worst kind wins, and the
first model named sticks.
"""

import contextvars
import logging
import sys

from llmfix.codemods.runtime.errors import _litellm_cause

logger = logging.getLogger(__name__)

__all__ = ["_litellm_response_text", "_log_litellm_failure"]

_LITELLM_CALL_NOTE = contextvars.ContextVar("litellm_call_note", default=None)
_LITELLM_NEW_NOTE = {"kind": "ok", "detail": None, "model": None}
_LITELLM_OUTCOMES = ("ok", "fallback", "empty", "failed")  # mildest first


def _note_litellm_outcome(kind, detail=None, model=None):
    """Tell the open note, if any, what happened, unless it knows worse."""
    note = _LITELLM_CALL_NOTE.get()
    if note is not None:
        note["model"] = note["model"] or model
        rank = _LITELLM_OUTCOMES.index
        if rank(kind) >= rank(note["kind"]):
            note.update(kind=kind, detail=detail)


def _note_litellm_fallback(response):
    """Note the model that answered, when LiteLLM had to use a fallback."""
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, dict):
        headers = hidden.get("additional_headers") or {}
        if str(headers.get("x-litellm-attempted-fallbacks") or 0) != "0":
            _note_litellm_outcome("fallback", response.model)


def _litellm_response_text(response, helper):
    """The answer's text; "" and one warning when it holds none."""
    choices = getattr(response, "choices", None)
    message = getattr(choices[0], "message", None) if choices else None
    content = getattr(message, "content", None)
    if content:
        _note_litellm_fallback(response)
        return content
    if not choices:
        what = "no choices"
    elif message is None:
        what = "no message"
    else:
        what = "null content" if content is None else "empty content"
    logger.warning('%s: %s in the LiteLLM answer; returning ""', helper, what)
    _note_litellm_outcome("empty", what)
    return ""


def _log_litellm_failure(helper):
    """Log the root cause of the exception being handled (first in except)."""
    error = sys.exc_info()[1]
    if error is not None:
        cause = _litellm_cause(error)
        logger.warning("%s failed: %s", helper, cause)
        _note_litellm_outcome("failed", cause)
