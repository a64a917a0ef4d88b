"""`MessageSequencePromise`: the messages of a reply, each streamed token by token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import ClassVar

from miniagents_lc.messages.message import Message, MessagePromise
from miniagents_lc.promising import StreamedPromise

MESSAGE_SEPARATOR = "\n\n"
"""What goes between two messages of a reply wherever the reply is read as one text: the
text of a Runnable run, `as_single_text_promise()`, the output of an agent call's trace."""


def joined_text(messages: Iterable[Message]) -> str:
    """The text of resolved messages as one reply: `MESSAGE_SEPARATOR` between them."""
    return MESSAGE_SEPARATOR.join(str(message) for message in messages)


class MessageSequencePromise(StreamedPromise[MessagePromise, tuple[MessagePromise, ...]]):
    """A flat, ordered stream of MessagePromises: the reply of an agent, say.

    The consumer gets each MessagePromise as soon as it is known and can read its tokens at
    once, while later ones are still being produced.
    """

    __slots__ = ()

    _piece_type: ClassVar[type | None] = MessagePromise

    async def acollect_messages(self) -> tuple[Message, ...]:
        """Every message of the sequence, resolved, in order."""
        messages = []
        async for promise in self:
            messages.append(await promise)
        return tuple(messages)

    def as_single_text_promise(self, separator: str = MESSAGE_SEPARATOR) -> MessagePromise:
        """One MessagePromise whose tokens stream continuously across every message of the
        sequence, `separator` between messages."""
        return MessagePromise(producer=self._joined_tokens(separator))

    async def _joined_tokens(self, separator: str) -> AsyncIterator[str]:
        first = True
        async for promise in self:
            if not first and separator:
                yield separator
            first = False
            async for token in promise:
                yield token


__all__ = [
    "MESSAGE_SEPARATOR",
    "MessagePromise",
    "MessageSequencePromise",
    "joined_text",
]
