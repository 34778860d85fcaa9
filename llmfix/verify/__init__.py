"""``llmfix verify``: drive a checkout's patched LiteLLM helpers through injected faults.

analysis.py finds what to call (parent, libcst); scenarios.py says what each case sets up
and expects; runner.py starts the mock endpoints and the child; child.py and loader.py run
inside the child; report.py prints the table or JSON; command.py is the click command;
live.py is ``--live``.
"""
