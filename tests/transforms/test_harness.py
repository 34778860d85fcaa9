"""The generic checks of the before/after harness can fail."""

from harness import isort_clean, mark_runtime, run_transform, undefined_names
from llmfix.codemods.fallbacks import FallbacksTransform


def test_isort_check_tells_sections_apart():
    assert isort_clean("import os\n\nimport litellm\n")
    assert not isort_clean("import litellm\nimport os\n")
    assert not isort_clean("import os\nimport litellm\n")


def test_undefined_names_sees_module_and_function_reads():
    assert undefined_names("import os\n\ndef f():\n    return os.environ, _missing\n") == {"_missing"}
    assert undefined_names("x = y\n") == {"y"}


def test_mark_runtime_replaces_exactly_the_block():
    source = "import litellm\n\n\ndef f(m, **kw):\n    kw['fallbacks'] = kw.get('fallbacks', [])\n    return litellm.completion(model=m, **kw)\n"
    new, _ = run_transform(FallbacksTransform, source)
    marked = mark_runtime(new)
    assert "def _fallback_models_from_env" in new and "def _fallback_models_from_env" not in marked
    assert marked.count("__RUNTIME__") == 1 and "def f(m, **kw):" in marked
    assert mark_runtime(source) == source
