"""The hand-written checkouts' shapes and their mutants (shared by conftest.py and the tests).

A *mutant* is a copy of a patched checkout with one behaviour taken out, so each scenario
is shown to fail, naming its fix, when that behaviour is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

SHAPES = ("drtulu", "old")  # the folders of checkouts/
UTILS = "open_instruct/search_rewards/utils"
DRTULU_UTILS = f"rl/open-instruct/{UTILS}"


@dataclass(frozen=True)
class Mutant:
    """A patched checkout with one fix taken out: ``edits`` are (file, old text, new text)."""

    name: str
    shape: str
    edits: tuple[tuple[str, str, str], ...]
    scenarios: tuple[str, ...]  # what to run on it
    breaks: tuple[str, ...]  # the scenarios that must fail


MUTANTS = (
    Mutant("no-retries", "drtulu", ((f"{DRTULU_UTILS}/run_utils.py", 'int(os.environ.get("LITELLM_NUM_RETRIES", "10"))', "0"),),
           ("transient", "rate-limit"), ("transient", "rate-limit")),
    Mutant("silent-failures", "drtulu", ((f"{DRTULU_UTILS}/run_utils.py", "failed: %s\", model_name, _describe_error(error))", "failed\", model_name)"),),
           ("persistent-500",), ("persistent-500",)),
    Mutant("precheck-without-retry", "old", ((f"{UTILS}/run_utils.py", "return status in (408, 409, 429) or status >= 500, retry_after", "return False, retry_after"),
                                             (f"{UTILS}/run_utils.py", "        return True, None\n", "        return False, None\n")),
           ("precheck-blip",), ("precheck-blip",)),
    Mutant("failure-cached-for-good", "old", ((f"{UTILS}/run_utils.py", 'float(os.environ.get("LITELLM_PRECHECK_RECHECK", "60"))', 'float("inf")'),),
           ("precheck-recheck",), ("precheck-recheck",)),
    Mutant("wrong-text", "drtulu", ((f"{DRTULU_UTILS}/run_utils.py", "    return response.choices[0].message.content\n", "    return response.choices[0].message.content.lower()\n"),),
           ("healthy",), ("healthy",)),
    Mutant("alarm-off", "drtulu", ((f"{DRTULU_UTILS}/rubric_utils.py", "raise_on_degraded=True)", "raise_on_degraded=False)"),),
           ("health-alarm", "health-recovery", "health-unset"), ("health-alarm", "health-recovery")),
    Mutant("summaries-at-debug", "old", ((f"{UTILS}/run_utils.py", "        logger.log(level, line)\n", "        logger.debug(line)\n"),),
           ("health-healthy", "health-unset", "health-alarm"), ("health-healthy", "health-unset")),
    Mutant("alarm-sticks", "old", ((f"{UTILS}/run_utils.py", "and sum(last) / len(last) > float(limit):", "and (counts.get(\"alarmed\") or sum(last) / len(last) > float(limit)):"),
                                   (f"{UTILS}/run_utils.py", "            endpoint = os.environ.get(", "            counts[\"alarmed\"] = True\n            endpoint = os.environ.get(")),
           ("health-recovery", "health-alarm"), ("health-recovery",)),
)

UNCALLABLE_HELPER = '''

def run_litellm_for_rubric(model_name, user_prompt, rubric_id, **chat_kwargs):
    response = litellm.completion(model=model_name, messages=[{"role": "user", "content": user_prompt}], **chat_kwargs)
    return response.choices[0].message.content
'''
