"""`MessagePromise` (a message streamed token by token) and `MessageSequencePromise`."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from miniagents_lc.messages.message import Message
from miniagents_lc.promising import DEFAULT, Defaultable, StreamedPromise

MESSAGE_SEPARATOR = "\n\n"
"""What goes between two messages of a reply wherever the reply is read as one text: the
text of a Runnable run, `as_single_text_promise()`, the output of an agent call's trace."""


def joined_text(messages: Iterable[Message]) -> str:
    """The text of resolved messages as one reply: `MESSAGE_SEPARATOR` between them."""
    return MESSAGE_SEPARATOR.join(str(message) for message in messages)


class MessagePromise(StreamedPromise[str, Message]):
    """A message whose text streams as `str` tokens: `async for token in promise`, and
    `await promise` for the `Message` (text = the joined tokens, plus the given fields and
    whatever the token producer added with `set_fields` before it ended)."""

    __slots__ = ("_fields", "_message_class")

    _piece_type: ClassVar[type | None] = str

    def __init__(
        self,
        *,
        producer: AsyncIterable[str] | Callable[[Any], AsyncIterable[str]] | None = None,
        message_class: type[Message] = Message,
        fields: dict[str, Any] | None = None,
        prefill_message: Message | None = None,
        schedule_immediately: Defaultable = DEFAULT,
    ) -> None:
        self._message_class = message_class
        self._fields: dict[str, Any] = dict(fields) if fields else {}
        if prefill_message is not None:
            self._fields.update(prefill_message.__pydantic_extra__ or {})
            text = prefill_message.text
            super().__init__(prefill_pieces=(text,) if text else (), prefill_whole=prefill_message)
        else:
            super().__init__(producer=producer, schedule_immediately=schedule_immediately)

    @property
    def fields(self) -> Mapping[str, Any]:
        """The fields known so far besides the text: those given at creation, and those the
        token producer has set (a model's message id as soon as it streams, say). A read-only
        view; the resolved `Message` has them all."""
        return MappingProxyType(self._fields)

    def set_fields(self, **fields: Any) -> None:
        """Add metadata (usage, finish reason, ...) to the message being produced; for token
        producers, before they end."""
        if self.done:
            raise RuntimeError(
                "set_fields() after the MessagePromise was produced: the Message is already "
                "fixed. Call it from the token producer before it ends."
            )
        self._fields.update(fields)

    def _assemble(self, pieces: list[str]) -> Message:
        return self._message_class(text="".join(pieces), **self._fields)


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
