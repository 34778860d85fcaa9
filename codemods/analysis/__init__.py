"""What the transforms (and ``llmfix verify``) know about a module, found from its structure.

Split by subject: :mod:`.tree` (fast walks and the path-only rebuild), :mod:`.nodes`
(generic node questions), :mod:`.helpers` (LiteLLM call helpers), :mod:`.defaults`
(the default lines that reach a call), :mod:`.generator` (the rubric generator).
Everything anchors on the shape of the code, never on line numbers or names.
"""
