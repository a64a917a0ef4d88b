"""`MessageSequence`: anything of `MessageType`, nested to any depth, flattened in the
background into one ordered `MessageSequencePromise`."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any, TypeAlias, Union

from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from miniagents_lc.messages.from_langchain import message_from_langchain
from miniagents_lc.messages.message import Message, MessagePromise
from miniagents_lc.messages.promises import MessageSequencePromise
from miniagents_lc.messages.tolerant import ErrorsAs, ended_cleanly, tolerant_flattener
from miniagents_lc.promising import DEFAULT, AppendProducer, Defaultable, FedSequence, flatten
from miniagents_lc.promising.lowlevel import StreamBuffer, TaskOwner, buffer_of

MessageType: TypeAlias = Union[
    str,
    dict[str, Any],
    BaseModel,
    Message,
    MessagePromise,
    MessageSequencePromise,
    BaseMessage,
    BaseException,
    Iterable["MessageType"],
    "AsyncIterable[MessageType]",
]
"""What may be appended, replied or sent: strings, dicts, pydantic models, Messages, promises,
LangChain messages, exceptions (raised at their position), and (async) iterables of these."""

_ACCEPTED = (
    "str, dict, Message, a pydantic model, a LangChain BaseMessage, MessagePromise, "
    "MessageSequencePromise, an exception, or a list / iterable / async iterable of these"
)


class MessageSequence:
    """An append-only sequence of `MessageType` items and its flat `sequence_promise`.

    Creating it and appending to it are synchronous. A message (a `MessagePromise`, a
    `Message` or a str) appended with nothing queued ahead of it takes its place in the
    sequence at once; anything else is flattened by a task (at the next task switch when
    scheduled immediately, else when a consumer first iterates) that resolves nested promises
    as it goes, keeping the order in which items were given.
    """

    __slots__ = ("append_producer", "sequence_promise")

    def __init__(
        self,
        *,
        producer_capture_errors: Defaultable = DEFAULT,
        schedule_immediately: Defaultable = DEFAULT,
        append_producer: AppendProducer[MessageType] | None = None,
    ) -> None:
        self.append_producer: AppendProducer[MessageType]
        self.sequence_promise: MessageSequencePromise
        if append_producer is None:
            fed = fed_message_sequence(
                schedule_immediately=schedule_immediately, capture_errors=producer_capture_errors
            )
            self.append_producer = fed.append_producer
            self.sequence_promise = fed.sequence_promise
            return
        # An existing `append_producer` lets items be collected before the sequence is made
        # (its own `capture_errors` then applies); the sequence then reads it with a task.
        self.append_producer = append_producer
        self.sequence_promise = MessageSequencePromise(
            producer=lambda _promise: flatten(append_producer, _flatten_into_message_promises),
            schedule_immediately=schedule_immediately,
        )

    @classmethod
    def turn_into_sequence_promise(
        cls, messages: MessageType, *, schedule_immediately: Defaultable = DEFAULT
    ) -> MessageSequencePromise:
        """`messages` as a flat MessageSequencePromise (returned as is if it already is one)."""
        if isinstance(messages, MessageSequencePromise):
            return messages
        sequence = cls(schedule_immediately=schedule_immediately)
        with sequence.append_producer:
            sequence.append_producer.append(messages)
        return sequence.sequence_promise

    @classmethod
    async def acollect_messages(cls, messages: MessageType) -> tuple[Message, ...]:
        """Every message in `messages`, flattened and resolved, in order."""
        return await cls.turn_into_sequence_promise(messages).acollect_messages()


def fed_message_sequence(
    *,
    owner: TaskOwner | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_demand: Callable[[], None] | None = None,
    schedule_immediately: Defaultable = DEFAULT,
    capture_errors: Defaultable = DEFAULT,
    errors_as: ErrorsAs | None = None,
) -> FedSequence[MessageType, MessageSequencePromise]:
    """A `FedSequence` of `MessageType` items flattened into a `MessageSequencePromise` (what
    `MessageSequence` and an agent's replies are made of); see `FedSequence` for the options.

    With `errors_as`, an error inside an item becomes the message `errors_as(error)` at its
    position and the sequence goes on (see `miniagents_lc.messages.tolerant`)."""
    if errors_as is not None:
        return FedSequence(
            tolerant_flattener(
                lambda item: _flatten_into_message_promises(item, errors_as), errors_as
            ),
            promise_class=MessageSequencePromise,
            pass_through=_ready_clean_message,
            owner=owner,
            on_error=on_error,
            on_demand=on_demand,
            schedule_immediately=schedule_immediately,
            capture_errors=capture_errors,
        )
    return FedSequence(
        _flatten_item,
        promise_class=MessageSequencePromise,
        pass_through=_ready_message,
        forward=_flat_already,
        owner=owner,
        on_error=on_error,
        on_demand=on_demand,
        schedule_immediately=schedule_immediately,
        capture_errors=capture_errors,
    )


def _flatten_item(item: MessageType) -> AsyncIterator[MessagePromise]:
    """The message promises of one item of a sequence. A sequence promise (another agent's
    replies, say) is flat already: its replay is its flattening, one generator less per item."""
    if isinstance(item, MessageSequencePromise):
        return item.__aiter__()
    return _flatten_into_message_promises(item)


def _flat_already(item: object) -> StreamBuffer[Any] | None:
    """The buffer of an item that is a sequence promise (another agent's replies, say): its
    message promises are moved into the sequence as they come."""
    return buffer_of(item) if isinstance(item, MessageSequencePromise) else None


def _ready_message(item: object) -> MessagePromise | None:
    """The MessagePromise of an item that is a message already, with nothing to convert that
    could fail: a MessagePromise, a Message or a str."""
    if isinstance(item, MessagePromise):
        return item
    if isinstance(item, str):
        return Message(text=item).as_promise
    if isinstance(item, Message):
        return item.as_promise
    return None


def _ready_clean_message(item: object) -> MessagePromise | None:
    """`_ready_message`, for a message that can't fail any more."""
    ready = _ready_message(item)
    return ready if ready is not None and ended_cleanly(ready) else None


def _as_leaf(item: object) -> MessagePromise | None:
    """The MessagePromise a single item stands for, or None if the item is a container."""
    ready = _ready_message(item)
    if ready is not None:
        return ready
    if isinstance(item, BaseMessage):
        return message_from_langchain(item).as_promise
    if isinstance(item, BaseModel):
        return Message(**item.model_dump()).as_promise
    if isinstance(item, dict):
        return Message(**item).as_promise
    return None


def _unsupported(item: object) -> TypeError:
    kind = type(item).__name__
    if inspect.iscoroutine(item):
        hint = " It is a coroutine object: did you forget `await`?"
    elif isinstance(item, bytes | bytearray | memoryview):
        hint = " Decode bytes to str first."
    else:
        hint = ""
    return TypeError(f"Unsupported message type {kind}: {item!r:.80}.{hint} Expected {_ACCEPTED}.")


async def _flatten_into_message_promises(
    item: MessageType, errors_as: ErrorsAs | None = None
) -> AsyncIterator[MessagePromise]:
    """Depth-first flattening with an explicit stack: any depth of nesting, no recursion.

    With `errors_as`, an error met at a position (an exception item, an unsupported one, a
    nested sequence or async iterable that fails) becomes that message, and the walk goes on."""
    # Each entry: an iterator over a container, whether it is async, and the container's id
    # (to refuse a container that contains itself instead of looping forever).
    stack: list[tuple[Iterator[Any] | AsyncIterator[Any], bool, int]] = []
    on_stack: set[int] = set()
    current: object = item
    try:
        while True:
            try:
                leaf = _as_leaf(current)
                if leaf is not None:
                    yield leaf
                elif isinstance(current, MessageSequencePromise):
                    async for promise in current:
                        yield promise
                elif isinstance(current, BaseException):
                    raise current
                elif hasattr(current, "__aiter__"):
                    stack.append((current.__aiter__(), True, id(current)))
                elif isinstance(current, Iterable) and not isinstance(
                    current, bytes | bytearray | memoryview
                ):
                    if id(current) in on_stack:
                        raise ValueError(
                            f"A {type(current).__name__} that contains itself can't be "
                            "flattened into a message sequence."
                        )
                    on_stack.add(id(current))
                    stack.append((iter(current), False, id(current)))
                else:
                    raise _unsupported(current)
            except Exception as error:
                if errors_as is None:
                    raise
                yield errors_as(error).as_promise

            while stack:
                iterator, is_async, ident = stack[-1]
                try:
                    if is_async:
                        current = await iterator.__anext__()  # type: ignore[union-attr]
                    else:
                        current = next(iterator)  # type: ignore[arg-type]
                    break
                except (StopIteration, StopAsyncIteration):
                    stack.pop()
                    on_stack.discard(ident)
                except Exception as error:
                    if errors_as is None:
                        raise
                    stack.pop()
                    on_stack.discard(ident)
                    yield errors_as(error).as_promise
            else:
                return
    finally:
        for iterator, is_async, _ in reversed(stack):
            aclose = getattr(iterator, "aclose", None)
            if is_async and aclose is not None:
                await aclose()


__all__ = [
    "MessageSequence",
    "MessageType",
    "fed_message_sequence",
]
