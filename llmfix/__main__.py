"""``python -m llmfix``: the same as the ``llmfix`` command."""

from llmfix.cli import run

if __name__ == "__main__":
    run()
