"""Helpers shared by the runtime tests (imported as a plain module)."""

from __future__ import annotations

import asyncio
from typing import Any, Coroutine

TEST_KEY = "sk-test-0123456789abcdef"
PASSWORD = "Pr0xyPassw0rd"


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run on a fresh event loop, closing LiteLLM's async clients of that loop after."""

    async def main() -> Any:
        import litellm

        try:
            return await coroutine
        finally:
            await litellm.close_litellm_async_clients()

    return asyncio.run(main())
