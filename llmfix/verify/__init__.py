"""``llmfix verify``: drive a checkout's patched LiteLLM helpers, rubric generators and LLM judges through injected faults.
The parent finds (analysis, reading), plans (scenarios), runs (runner) and reports; the child (child, loader) calls the code."""
