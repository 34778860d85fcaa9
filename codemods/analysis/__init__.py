"""What the transforms (and ``llmfix verify``) know about a module, found from its structure, never from line numbers."""
