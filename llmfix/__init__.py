"""llmfix: codemods that make open-instruct's LiteLLM calls survive a bad network."""

__version__ = "0.1.0"
