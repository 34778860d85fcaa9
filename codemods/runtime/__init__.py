"""Code llmfix inserts into a target's run_utils.py, as ordinary modules.

Each module lists in ``__all__`` what a target gets from it; the codemods
insert those names, in source order, with the private helpers they need, as
one block. The rules that make that possible (standard library and litellm
only, plain imports, one module logger, unique ``_litellm...`` names, one
statement per line) are enforced by tests/runtime/test_runtime_style.py.
"""
