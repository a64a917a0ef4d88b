"""Placing replies in the order they become ready (`InteractionContext.reply_out_of_order`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from miniagents_lc.messages import MessagePromise, MessageSequencePromise
from miniagents_lc.promising import PromisingContext


async def place_when_ready(sequence: MessageSequencePromise, place: Callable[[Any], None]) -> None:
    """Give each message of `sequence` to `place` once it is resolved (produced to its end),
    first resolved first; an error that ends `sequence` itself is placed when it is met.

    Returns once everything is placed. A message that failed is placed too, when it failed:
    its error is raised (or becomes an error message) where its reader meets it.
    """
    context = PromisingContext.get_current()
    waiting: set[asyncio.Task[None]] = set()

    async def place_once_resolved(promise: MessagePromise) -> None:
        # Not swallowed: the error is raised again where the placed message is read.
        with contextlib.suppress(Exception):
            await promise
        place(promise)

    try:
        async for promise in sequence:
            if promise.done:
                place(promise)
            else:
                waiting.add(context.schedule_task(place_once_resolved(promise)))
    except Exception as error:
        place(error)
    except BaseException:
        for task in waiting:
            task.cancel()
        raise
    if waiting:
        await asyncio.wait(waiting)


__all__ = [
    "place_when_ready",
]
