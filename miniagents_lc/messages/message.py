"""`Message`: an immutable, hashable piece of conversation, and `MessagePromise`: a message
whose text streams token by token (each makes the other: `Message.promise`, `await promise`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterable, Callable, Mapping, Set
from functools import cached_property
from types import MappingProxyType
from typing import Any, ClassVar, NoReturn, Self

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import to_jsonable_python

from miniagents_lc.promising import DEFAULT, Defaultable, StreamedPromise


class FrozenDict(dict[str, Any]):
    """A dict that refuses every change and hashes by content: the frozen form of a mapping."""

    __slots__ = ()

    def _refuse(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        raise TypeError("A Message is frozen all the way down: its mappings can't be changed.")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


def freeze(value: Any, _enclosing: frozenset[int] = frozenset()) -> Any:
    """`value` with every list and tuple made a tuple, every set a frozenset and every
    mapping a FrozenDict.

    A set stays a set (it has no order a tuple could keep). A container that contains itself
    is a `ValueError`: a frozen message is a tree.
    """
    if isinstance(value, str | int | float | bool | type(None) | BaseModel | FrozenDict):
        return value
    if not isinstance(value, Mapping | list | tuple | Set):
        return value
    if id(value) in _enclosing:
        raise ValueError(
            f"A {type(value).__name__} in a Message field contains itself; message content "
            "must be a tree to be frozen and hashed."
        )
    enclosing = _enclosing | {id(value)}
    if isinstance(value, Mapping):
        return FrozenDict({key: freeze(item, enclosing) for key, item in value.items()})
    if isinstance(value, Set):
        return frozenset(freeze(item, enclosing) for item in value)
    return tuple(freeze(item, enclosing) for item in value)


def _canonical(value: Any) -> Any:
    """`value` as JSON data whose form depends on content only: a message is the mapping of
    its fields, and sets become lists sorted by their items' canonical JSON."""
    if isinstance(value, Message):
        return _canonical({**value.__dict__, **(value.__pydantic_extra__ or {})})
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, Set):
        return sorted((_canonical(item) for item in value), key=_canonical_json)
    return to_jsonable_python(value)


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Message(BaseModel):
    """An immutable message: `text`, an optional `role`, and any extra fields.

    Frozen all the way down (lists become tuples, sets frozensets, dicts `FrozenDict`s), so
    it can be hashed and shared between agents. `str(message)` is its text; `hash_key`
    identifies its content the way git identifies a blob.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    text: str | None = None
    role: str | None = None

    @model_validator(mode="after")
    def _freeze_all_the_way_down(self) -> Self:
        try:
            self._freeze_fields()
        except RecursionError:
            raise ValueError(
                "A Message field is nested too deeply to be frozen (Python's recursion limit); "
                "flatten the data or store it as a string."
            ) from None
        return self

    def _freeze_fields(self) -> None:
        for name, value in self.__dict__.items():
            frozen = freeze(value)
            if frozen is not value:
                self.__dict__[name] = frozen
        extra = self.__pydantic_extra__
        if extra:
            for name, value in extra.items():
                extra[name] = freeze(value)

    def __str__(self) -> str:
        return self.text or ""

    @cached_property
    def hash_key(self) -> str:
        """A sha256 of the message's canonical JSON: equal content, equal key."""
        payload = {"class": type(self).__name__, **_canonical(self)}
        return hashlib.sha256(_canonical_json(payload).encode("utf-8")).hexdigest()

    @property
    def as_promise(self) -> MessagePromise:
        """This message as an already-resolved MessagePromise (its text is its one token)."""
        return MessagePromise(prefill_message=self)

    @classmethod
    def promise(
        cls,
        token_producer: AsyncIterable[str] | Callable[[Any], AsyncIterable[str]] | None = None,
        *,
        schedule_immediately: Defaultable = DEFAULT,
        **fields: Any,
    ) -> MessagePromise:
        """A MessagePromise whose tokens come from `token_producer` and whose resolved message
        is this class with `text` = the joined tokens and the other `fields` given here."""
        if token_producer is None:
            return MessagePromise(prefill_message=cls(**fields))
        return MessagePromise(
            producer=token_producer,
            message_class=cls,
            fields=fields,
            schedule_immediately=schedule_immediately,
        )


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
    def message_class(self) -> type[Message]:
        """The `Message` class the promise resolves to (its role's default lives there)."""
        return self._message_class

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


__all__ = [
    "FrozenDict",
    "Message",
    "MessagePromise",
    "freeze",
]
