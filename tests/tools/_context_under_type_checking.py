"""A tool module that imports Context only for type checkers (a common pattern)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentflow import Context


async def remember(ctx: Context, key: str) -> str:
    """Store a key in the workflow state."""
    await ctx.store.set("key", key)
    return key
