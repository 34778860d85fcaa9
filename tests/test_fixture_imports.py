"""Every fixture checkout imports the way training imports it, and behaves as TARGETS.md says;
so does every patched checkout.

A checkout is imported with its root (``root_subdir``) first on ``sys.path``, using the
layout's absolute module names; ``sys_path_importers`` are imported from their own
folder, as top-level modules (after the patch, run_utils.py imports the support module
through the package, so the checkout root is on ``sys.path`` too, as it is where
open-instruct is installed). Checkouts that keep litellm off the import path (lazy
shapes, no LiteLLM at all) each get a fresh interpreter, the pristine checkout first and
then the patched one, so "litellm was not imported" means something for both; the others
share one interpreter that imports litellm once (it costs seconds) and forgets each
checkout's modules before importing the next.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import CATALOG, FIXTURES, PATCHABLE

NAMES = sorted(CATALOG)
KINDS = ("run_utils", "rubric_utils")  # the LLM judge's module needs torch (fixtures/README.md): compiled, not imported
LAZY_FAMILIES = {"R-lazy", "R-split", "R-guarded", "R-none"}

PROBE = r"""
import importlib, json, sys

def forget(prefixes):
    for module in [m for m in sys.modules if m.split(".")[0] in prefixes]:
        del sys.modules[module]

def probe_checkout(root, modules, support=None):
    sys.path.insert(0, root)
    try:
        loaded = {kind: importlib.import_module(dotted) for kind, dotted in modules.items()}
        litellm_imported = "litellm" in sys.modules
    finally:
        sys.path.remove(root)
    run_utils, rubric_utils = loaded["run_utils"], loaded["rubric_utils"]
    report = {
        "files": {kind: module.__file__ for kind, module in loaded.items()},
        "functions": sorted(n for n in dir(run_utils) if callable(getattr(run_utils, n))),
        "rubric_functions": sorted(n for n in dir(rubric_utils) if callable(getattr(rubric_utils, n))),
        "empty_reply": run_utils.extract_json_from_response(""),
        "fenced_reply": run_utils.extract_json_from_response('```json\n{"score": 2}\n```'),
        "heavy": sorted(m for m in ("torch", "vllm", "ray") if m in sys.modules),
        "litellm_imported": litellm_imported,
    }
    try:
        run_utils.extract_json_from_response(None)
    except AttributeError:
        report["none_reply"] = "AttributeError"
    else:
        report["none_reply"] = "no error"
    if support:
        module = sys.modules.get(support)
        report["support"] = getattr(module, "__file__", None)
        api = ("from_env", "fallback_models", "response_text", "log_failure", "track_calls", "health", "ensure_connection")
        report["support_api"] = sorted(n for n in api if callable(getattr(module, n, None)))
    forget({"open_instruct"})
    return report

def probe_importer(folder, module, roots=()):
    sys.path[:0] = [folder, *roots]
    try:
        importlib.import_module(module)
        report = {"run_utils": sys.modules["run_utils"].__file__}
    finally:
        for path in (folder, *roots):
            sys.path.remove(path)
    forget({module, "run_utils", "open_instruct"})
    return report

reports = {}
for job in json.loads(sys.argv[1]):
    if job["kind"] == "checkout":
        reports[job["key"]] = probe_checkout(job["root"], job["modules"], job.get("support"))
    else:
        reports[job["key"]] = probe_importer(job["folder"], job["module"], job.get("roots", ()))
print(json.dumps(reports))
"""


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith("OPENAI_")}
    env.pop("PYTHONPATH", None)
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # never fetch the model-cost map
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ in fixtures/
    return env


def _root(name: str, copy: Path | None = None) -> Path:
    return ((copy or FIXTURES / name) / CATALOG[name]["root_subdir"]).resolve()


def _module(name: str, kind: str) -> str:
    rel = (FIXTURES / name / CATALOG[name]["files"][kind]).resolve().relative_to(_root(name))
    return ".".join(rel.with_suffix("").parts)


def _checkout_job(name: str, copy: Path | None = None) -> dict:
    """Import run_utils and rubric_utils (the LLM judge's module needs torch, through open_instruct/utils.py);
    after the patch, check the support module too."""
    modules = {kind: _module(name, kind) for kind in KINDS}
    job = {"kind": "checkout", "key": name if copy is None else f"patched:{name}", "root": str(_root(name, copy)), "modules": modules}
    if copy is not None:
        job["support"] = modules["run_utils"].rpartition(".")[0] + ".litellm_utils"
    return job


def _importer_job(name: str, rel: str, copy: Path | None = None) -> dict:
    path = ((copy or FIXTURES / name) / rel).resolve()
    job = {"kind": "importer", "key": f"{name}:{rel}" if copy is None else f"patched:{name}:{rel}", "folder": str(path.parent), "module": path.stem}
    if copy is not None:
        job["roots"] = [str(_root(name, copy))]
    return job


def _lazy(name: str) -> bool:
    return CATALOG[name]["families"]["run_utils"] in LAZY_FAMILIES


@pytest.fixture(scope="module")
def reports(checkouts) -> dict[str, dict]:
    patched = {name: checkouts.patched(name).copy for name in PATCHABLE}
    shared = [_checkout_job(n) for n in NAMES if not _lazy(n)] + [_checkout_job(n, patched[n]) for n in PATCHABLE if not _lazy(n)]
    shared += [_importer_job(n, rel) for n in NAMES for rel in CATALOG[n]["sys_path_importers"]]
    shared += [_importer_job(n, rel, patched[n]) for n in PATCHABLE for rel in CATALOG[n]["sys_path_importers"]]
    batches = [shared] + [[_checkout_job(n)] + ([_checkout_job(n, patched[n])] if n in patched else []) for n in NAMES if _lazy(n)]
    env = _clean_env()
    running = [
        subprocess.Popen(
            [sys.executable, "-c", PROBE, json.dumps(batch)],
            cwd=FIXTURES,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for batch in batches
    ]
    merged: dict[str, dict] = {}
    for process in running:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        merged.update(json.loads(stdout.strip().splitlines()[-1]))
    return merged


@pytest.mark.parametrize("name", NAMES)
def test_checkout_imports_and_names_what_the_catalog_says(reports, name):
    report = reports[name]
    entry = CATALOG[name]
    for kind in KINDS:
        assert Path(report["files"][kind]) == (FIXTURES / name / entry["files"][kind]).resolve()
    assert set(entry["helpers"]) <= set(report["functions"])
    assert "extract_json_from_response" in report["functions"]
    if entry["generator"]:
        assert entry["generator"] in report["rubric_functions"]
    assert "_score_property" in report["rubric_functions"]
    assert report["empty_reply"] is None
    assert report["fenced_reply"] == {"score": 2}
    assert report["none_reply"] == "AttributeError"
    assert report["heavy"] == []
    if entry["families"]["run_utils"] in LAZY_FAMILIES:  # probed in a fresh interpreter
        assert report["litellm_imported"] is False


@pytest.mark.parametrize("key", [f"{n}:{rel}" for n in NAMES for rel in CATALOG[n]["sys_path_importers"]])
def test_sys_path_importer_loads_run_utils_as_a_top_level_module(reports, key):
    name, _, rel = key.partition(":")
    assert Path(reports[key]["run_utils"]) == (FIXTURES / name / rel).resolve().parent / "run_utils.py"


@pytest.mark.parametrize("name", PATCHABLE)
def test_the_patched_checkout_imports_with_its_support_module(reports, checkouts, name):
    report, pristine = reports[f"patched:{name}"], reports[name]
    copy = checkouts.patched(name).copy
    for kind in KINDS:
        assert Path(report["files"][kind]) == (copy / CATALOG[name]["files"][kind]).resolve()
    assert Path(report["support"]) == (copy / CATALOG[name]["files"]["run_utils"]).resolve().with_name("litellm_utils.py")
    assert report["support_api"] == sorted(("from_env", "fallback_models", "response_text", "log_failure", "track_calls", "health", "ensure_connection"))
    assert set(pristine["functions"]) <= set(report["functions"]) and set(pristine["rubric_functions"]) <= set(report["rubric_functions"])
    assert report["heavy"] == []
    if _lazy(name):  # probed in a fresh interpreter, after the pristine checkout
        assert report["litellm_imported"] is False


@pytest.mark.parametrize("key", [f"{n}:{rel}" for n in PATCHABLE for rel in CATALOG[n]["sys_path_importers"]])
def test_a_sys_path_importer_still_loads_the_patched_run_utils(reports, checkouts, key):
    name, _, rel = key.partition(":")
    assert Path(reports[f"patched:{key}"]["run_utils"]) == (checkouts.patched(name).copy / rel).resolve().parent / "run_utils.py"
