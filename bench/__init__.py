"""llmfix benchmarks: codemod speed and memory, what the patch buys under faults, upstream's
tests before and after the patch, the patch's footprint, and the health alarm and its cost.

Run everything with ``python bench/run_all.py`` (``--quick`` for a smoke run).
These are scripts, not tests: nothing here is collected by pytest.
"""
