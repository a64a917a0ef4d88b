"""Flattening that turns errors into messages: what a reply with `errors_as_messages` is
flattened with.

Every error that would end the sequence takes the place of what it ended as one message (the
caller's `errors_as`), and the sequence goes on with the next item: an exception replied or
raised, a nested sequence ending with an error, an unsupported item, and a message whose token
stream fails mid-way (its partial text stays a message of its own, followed by the error).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from miniagents_lc.messages.message import Message, MessagePromise
from miniagents_lc.promising.lowlevel import buffer_of

ErrorsAs = Callable[[BaseException], Message]
"""Makes the message that stands for an error."""


class _GuardedMessagePromise(MessagePromise):
    """A message that ends cleanly with whatever text its source streamed before failing."""

    __slots__ = ()


def ended_cleanly(promise: MessagePromise) -> bool:
    """Whether the message can't fail any more (guarded, or produced without an error)."""
    return isinstance(promise, _GuardedMessagePromise) or (
        promise.done and buffer_of(promise).error is None
    )


def tolerant_flattener(
    flatten_item: Callable[[Any], AsyncIterator[MessagePromise]], errors_as: ErrorsAs
) -> Callable[[Any], AsyncIterator[MessagePromise]]:
    """`flatten_item` (given `errors_as` already, for the errors of structure) wrapped so that
    each message that may still fail is guarded: the flattening waits for its end, and if it
    failed, places the error's message right after it."""

    async def flatten_tolerantly(item: Any) -> AsyncIterator[MessagePromise]:
        pieces = flatten_item(item)
        try:
            async for promise in pieces:
                if ended_cleanly(promise):
                    yield promise
                    continue
                failures: list[BaseException] = []
                guarded = _guard(promise, failures)
                yield guarded
                await guarded
                if failures:
                    yield errors_as(failures[0]).as_promise
        except Exception as error:
            yield errors_as(error).as_promise
        finally:
            await pieces.aclose()  # type: ignore[attr-defined]

    return flatten_tolerantly


def _guard(source: MessagePromise, failures: list[BaseException]) -> MessagePromise:
    async def tokens(guarded: MessagePromise) -> AsyncIterator[str]:
        first = True
        try:
            async for token in source:
                if first:
                    # What the source knows by its first token (a model's message id, say).
                    guarded.set_fields(**source.fields)
                    first = False
                yield token
        except Exception as error:
            failures.append(error)
        # The source's fields as they were at its end (an id, usage, a finish reason).
        guarded.set_fields(**source.fields)

    return _GuardedMessagePromise(
        producer=tokens, message_class=source._message_class, fields=dict(source.fields)
    )


__all__ = [
    "ended_cleanly",
    "tolerant_flattener",
]
