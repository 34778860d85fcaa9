"""``llmfix verify``: drive a checkout's patched LiteLLM helpers, rubric generators and LLM judges through injected faults.

In the parent: analysis.py and reading.py find what to call and how; scenarios/ says what each
case expects (checks in expect.py and health.py, data model in cases.py); runner.py runs and
judges the cases; report.py, command.py, live.py, reaper.py. In the child (verify's Python or
``--python``): child.py, loader.py.
"""
