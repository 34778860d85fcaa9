"""Every verify run the tests look at, declared once (shared by conftest.py and the tests).

The runs come in groups (:data:`GROUPS`): a group runs in one ``runner.run_many`` (one child,
one litellm import, its cases in parallel) the first time a test asks for one of its runs, and
every test reads the results: a checkout is verified once per session, whatever the number of
tests (and pytest-xdist workers) that look at it. A test reading a group's runs carries
:func:`group_of`'s mark, so ``--dist loadgroup`` sends it to the worker that computes them.

The checkouts: the fixtures (``fixtures/``, patched by ``llmfix apply`` or not), the
hand-written shapes (``checkouts/<shape>/unpatched``, patched by ``llmfix apply`` for the
patched runs), *mutants* (a patched shape with one behaviour taken out, so each scenario is
shown to fail, naming its fix, when that behaviour is missing) and *variants* of the judge
checkout (the other shapes of the judge in the wild, or a judge verify cannot run).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from llmfix.verify.analysis import Checkout, Target, analyse_all

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
CHECKOUTS = Path(__file__).resolve().parent / "checkouts"
CATALOG = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))
WITH_HELPERS = [name for name, entry in CATALOG.items() if entry["helpers"]]

SHAPES = ("drtulu", "old", "judge")  # the folders of checkouts/
UTILS = "open_instruct/search_rewards/utils"
DRTULU_UTILS = f"rl/open-instruct/{UTILS}"
GROUND_TRUTH = "open_instruct/ground_truth_utils.py"
QUICK = ("empty", "precheck")  # enough to show an unpatched fixture fails
HEALTH = ("health-healthy", "health-alarm", "health-unset", "health-recovery")
FULL_UNPATCHED = "drtulu-canonical"
MISSING_MODULE = "llmfix_verify_no_such_module"

Edit = tuple[str, str, str]  # (file, old text, new text): every occurrence is replaced; old "": new is appended


@dataclass(frozen=True)
class Run:
    """One checkout to verify: ``source`` (``fixture``/``hand``), its name, patched or not, edits, what to run."""

    source: str
    name: str
    patched: bool
    scenarios: tuple[str, ...] = ()  # () = all
    edits: tuple[Edit, ...] = ()
    edit_before_patching: bool = False  # a variant of the unpatched checkout (then patched by llmfix, when patched)
    skip: tuple[str, ...] = ()  # transforms `llmfix apply --skip`s
    breaks: tuple[str, ...] = ()  # a mutant: the scenarios that must fail
    group: str = ""  # the runs verified together (filled in by _runs)


@dataclass(frozen=True)
class Mutant:
    name: str
    shape: str
    edits: tuple[Edit, ...]
    scenarios: tuple[str, ...]  # what to run on it
    breaks: tuple[str, ...]  # the scenarios that must fail


def _support(shape: str) -> str:
    return f"{DRTULU_UTILS if shape == 'drtulu' else UTILS}/litellm_utils.py"


MUTANTS = (
    Mutant("no-retries", "drtulu", ((f"{DRTULU_UTILS}/run_utils.py", 'litellm_utils.from_env("LITELLM_NUM_RETRIES", 10)', "0"),),
           ("transient", "rate-limit"), ("transient", "rate-limit")),
    Mutant("silent-failures", "drtulu", ((f"{DRTULU_UTILS}/run_utils.py", '        litellm_utils.log_failure("run_litellm")\n', ""),),
           ("persistent-500",), ("persistent-500",)),
    Mutant("precheck-without-retry", "old", ((_support("old"), '"num_retries": 2}', '"num_retries": 0}'),),
           ("precheck-blip",), ("precheck-blip",)),
    Mutant("failure-cached-for-good", "old", ((_support("old"), 'from_env("LITELLM_PRECHECK_RECHECK", 60)', 'float("inf")'),),
           ("precheck-recheck",), ("precheck-recheck",)),
    Mutant("wrong-text", "drtulu", ((f"{DRTULU_UTILS}/run_utils.py", "    return litellm_utils.response_text(resp)\n",
                                     "    return litellm_utils.response_text(resp).lower()\n"),),
           ("healthy",), ("healthy",)),
    Mutant("alarm-off", "drtulu", ((f"{DRTULU_UTILS}/rubric_utils.py", "raise_on_degraded=True)", "raise_on_degraded=False)"),),
           ("health-alarm", "health-recovery", "health-unset"), ("health-alarm", "health-recovery")),
    Mutant("summaries-at-debug", "old", ((_support("old"), 'logger.log(level, "LiteLLM health', 'logger.debug("LiteLLM health'),),
           ("health-healthy", "health-unset", "health-alarm"), ("health-healthy", "health-unset")),
    Mutant("alarm-sticks", "old", ((_support("old"), "and bad / size > limit:", 'and (bad / size > limit or totals["failed"] >= size):'),),
           ("health-recovery", "health-alarm"), ("health-recovery",)),
    Mutant("judge-untracked", "judge", ((GROUND_TRUTH, "    @litellm_utils.track_calls(raise_on_degraded=True)\n", ""),),
           ("persistent-500", "health-healthy", "healthy"), ("persistent-500", "health-healthy")),
    Mutant("judge-without-timeout", "judge", ((GROUND_TRUTH, '                    timeout=litellm_utils.from_env("LITELLM_DEFAULT_TIMEOUT", 600),\n', ""),),
           ("hang",), ("hang",)),
    Mutant("judge-without-fallbacks", "judge",
           ((GROUND_TRUTH, "                    fallbacks=litellm_utils.fallback_models([], self.verifier_config.llm_judge_model),\n", ""),),
           ("fallback",), ("fallback",)),
)

# the judge's other shapes in the wild, edits of checkouts/judge/unpatched (patched afterwards by llmfix when patched)
JUDGE_LAZY = ((GROUND_TRUTH, "from litellm import acompletion\n", ""),
              (GROUND_TRUTH, "        prompt = self.prompt_template.format(",
               "        from litellm import acompletion\n\n        prompt = self.prompt_template.format("))
JUDGE_TIMEOUT = ((GROUND_TRUTH, "    seed: int\n", "    seed: int\n    llm_judge_timeout: int = 600\n"),
                 (GROUND_TRUTH, "                    seed=self.verifier_config.seed,\n",
                  "                    seed=self.verifier_config.seed,\n                    timeout=self.verifier_config.llm_judge_timeout,\n"))
JUDGE_BROKEN_IMPORT = ((GROUND_TRUTH, "from open_instruct.judge_utils import",
                        "from open_instruct.utils import hf_whoami  # noqa: F401\nfrom open_instruct.judge_utils import"),)
JUDGE_UNBUILDABLE = ((GROUND_TRUTH, "    seed: int\n", "    seed: int\n    judge_rubric_source: str\n"),)

UNCALLABLE_HELPER = '''

def run_litellm_for_rubric(model_name, user_prompt, rubric_id, **chat_kwargs):
    response = litellm.completion(model=model_name, messages=[{"role": "user", "content": user_prompt}], **chat_kwargs)
    return response.choices[0].message.content
'''


def _runs() -> dict[str, Run]:
    runs: dict[str, Run] = {}
    for name in WITH_HELPERS:
        runs[f"fixture/{name}/patched"] = Run("fixture", name, True)
        quick = () if name == FULL_UNPATCHED else QUICK + (HEALTH if name == "upstream-main-split" else ())
        runs[f"fixture/{name}/unpatched"] = Run("fixture", name, False, quick)
    run_utils = f"{DRTULU_UTILS}/run_utils.py"
    runs["fixture/drtulu-canonical/missing-module"] = Run("fixture", "drtulu-canonical", True, ("healthy",),
                                                          ((run_utils, '"""Helpers for', f'import {MISSING_MODULE}\n"""Helpers for'),))
    runs["fixture/drtulu-canonical/skip-health"] = Run("fixture", "drtulu-canonical", True, skip=("health",))
    for shape in SHAPES:
        for kind in ("patched", "unpatched"):
            runs[f"{shape}/{kind}"] = Run("hand", shape, kind == "patched")
    for mutant in MUTANTS:
        runs[f"mutant/{mutant.name}"] = Run("hand", mutant.shape, True, mutant.scenarios, mutant.edits, breaks=mutant.breaks)
    runs["uncallable"] = Run("hand", "old", True, ("healthy",), ((f"{UTILS}/run_utils.py", "", UNCALLABLE_HELPER),))
    runs["judge-lazy/patched"] = Run("hand", "judge", True, (), JUDGE_LAZY, True)
    runs["judge-lazy/unpatched"] = Run("hand", "judge", False, ("persistent-500", "healthy"), JUDGE_LAZY, True)
    runs["judge-timeout/patched"] = Run("hand", "judge", True, ("hang", "healthy", "persistent-500"), JUDGE_TIMEOUT, True)
    runs["judge-timeout/unpatched"] = Run("hand", "judge", False, ("hang", "healthy", "persistent-500"), JUDGE_TIMEOUT, True)
    runs["judge-broken-import"] = Run("hand", "judge", True, ("healthy",), JUDGE_BROKEN_IMPORT, True)
    runs["judge-unbuildable"] = Run("hand", "judge", True, ("healthy",), JUDGE_UNBUILDABLE, True)
    return {key: replace(run, group=_group(key)) for key, run in runs.items()}


def _group(key: str) -> str:
    """Groups of about the same work (120-180 case processes), each well under a minute on a 2-core machine: every
    group pays for a child's litellm import and its endpoints, and its slowest case (a hang killed at its limit) sets its floor."""
    if key.startswith(("mutant/", "judge", "uncallable")):
        return "mutants-judge"
    if not key.startswith("fixture/"):
        return "shapes"
    name, kind = key.split("/")[1:]
    if kind == "unpatched":
        return "fixtures-unpatched"
    return f"fixtures-{'abc'[WITH_HELPERS.index(name) * 3 // len(WITH_HELPERS)]}"


RUNS = _runs()
GROUPS = sorted({run.group for run in RUNS.values()})


def group_of(key: str) -> pytest.MarkDecorator:
    """The xdist group of the tests that read the run ``key`` (for --dist loadgroup)."""
    return pytest.mark.xdist_group(f"verify-{RUNS[key].group}")


def by_group(keys: list[str], ids: list[str] | None = None) -> list:
    """``keys`` as parameters, each marked with its run's group."""
    return [pytest.param(key, marks=group_of(key), id=ident) for key, ident in zip(keys, ids or keys)]


def analyse(path: Path) -> Checkout:
    """The one checkout at ``path``."""
    [checkout] = analyse_all(path)
    return checkout


def processes_naming(*needles: str) -> list[tuple[int, str]]:
    """The live processes (pid, command line) whose command line holds every one of ``needles`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state != "Z" and all(needle in command for needle in needles):
            found.append((int(entry.name), command))
    return found


def target_named(checkout: Checkout, name: str) -> Target:
    return next(t for t in checkout.targets if t.name == name)
