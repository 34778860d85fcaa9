"""``llmfix verify``: drive a checkout's patched LiteLLM helpers, rubric generators and LLM judges through injected faults.

In the parent: analysis.py finds every helper, generator and judge and their error
contracts, binding.py says how to call each by parameter name, scenarios/ holds one module
per fault scenario (its cases and what each expects, with the checks in expect.py and
health.py and the data model in cases.py), runner.py starts the mock endpoints and the
child and judges what it saw as it comes, report.py prints the table or JSON, command.py
is the click command, live.py is ``--live``, reaper.py cleans up even after a kill. In the
child (verify's Python, or the training environment's with ``--python``): child.py and
loader.py, which import the checkout's code, its support module (``litellm_utils``) included.
"""
