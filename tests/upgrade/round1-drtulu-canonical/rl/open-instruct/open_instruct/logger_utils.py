"""Logging setup shared by the training scripts."""

import logging


def setup_logger(name: str | None = None, level: int = logging.INFO) -> logging.Logger:
    """A logger writing `time - name - level - message` lines to stderr, set up once per name."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(level)
    return logger
