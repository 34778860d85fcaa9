"""The support module llmfix copies whole into a patched checkout (see :mod:`llmfix.codemods.support`)."""
