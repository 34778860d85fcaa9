"""llmfix benchmarks: codemod speed, what the patch buys under faults, memory.

Run everything with ``python bench/run_all.py`` (``--quick`` for a smoke run).
These are scripts, not tests: nothing here is collected by pytest.
"""
