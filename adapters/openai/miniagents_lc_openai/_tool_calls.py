"""Whole tool calls from streamed fragments, as LangChain `ToolCall`s and `InvalidToolCall`s.

Both OpenAI APIs stream a function call in pieces: a header (id, name) and argument fragments.
`ToolCallAssembler` joins them however a server interleaves or labels them, and parses the
arguments once the stream is over.

Which call a fragment belongs to:
1. A fragment with an id belongs to the call with that id. An id not seen before starts a new
   call, unless the latest call under the same key (chat `index`, Responses `output_index`) has
   no id yet, which it then names.
2. A fragment without an id belongs to the latest call under its key, or with no key to the
   latest call. If it brings a name and that call already has a different one, it starts a new
   call: servers that give every parallel call the same index (or none) still send each call's
   header with its name.
3. A call keeps its first name; a name sent again is a repeat, not a piece to append.

The arguments: the fragments joined, if that parses as JSON (or is empty). Otherwise, if each
fragment resent the whole text so far (a fragment that starts with everything gathered replaces
it), that reading, if it parses. Joining a proper prefix of a JSON text to the whole text never
parses (the prefix leaves a bracket open), so a stream of true deltas is never misread as
cumulative. Complete arguments the server sends at the end (the Responses API's `done` events)
win over both readings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from langchain_core.messages import InvalidToolCall, ToolCall
from langchain_core.messages.tool import invalid_tool_call, tool_call

__all__ = ["ToolCallAssembler"]

Key = int | str | None


@dataclass
class _Call:
    key: Key
    id: str | None = None
    name: str = ""
    fragments: list[str] = field(default_factory=list)
    final: str | None = None

    def arguments(self) -> str:
        if self.final is not None:
            return self.final
        joined = "".join(self.fragments)
        if _parses(joined):
            return joined
        resent = ""
        for fragment in self.fragments:
            resent = fragment if resent and fragment.startswith(resent) else resent + fragment
        return resent if _parses(resent) else joined


def _parses(arguments: str) -> bool:
    if not arguments.strip():
        return True
    try:
        json.loads(arguments)
    except json.JSONDecodeError:
        return False
    return True


class ToolCallAssembler:
    """Collects the fragments of one reply's tool calls; `result()` parses the whole calls."""

    def __init__(self) -> None:
        self._calls: list[_Call] = []

    def __bool__(self) -> bool:
        return bool(self._calls)

    def knows(self, call_id: str) -> bool:
        """Whether a call with this id has been seen."""
        return any(call.id == call_id for call in self._calls)

    def add(
        self,
        key: Key,
        *,
        call_id: str | None = None,
        name: str | None = None,
        arguments: str | None = None,
        whole: bool = False,
    ) -> None:
        """Add one fragment: any of the call's id, name and a piece of its arguments, or with
        `whole` its complete arguments, sent by the server once it has streamed them."""
        call = self._call_for(key, call_id or None, name or None)
        if call_id and call.id is None:
            call.id = call_id
        if name and not call.name:
            call.name = name
        if whole and arguments is not None:
            call.final = arguments
        elif arguments:
            call.fragments.append(arguments)

    def result(self) -> tuple[list[ToolCall], list[InvalidToolCall]]:
        """The calls in the model's order (by key when every call has an int key, else in the
        order they began), split into those whose arguments parse to a JSON object and the rest.
        """
        calls = self._calls
        if all(isinstance(call.key, int) for call in calls):
            calls = sorted(calls, key=lambda call: call.key)  # type: ignore[arg-type,return-value]
        valid: list[ToolCall] = []
        invalid: list[InvalidToolCall] = []
        for call in calls:
            raw = call.arguments()
            error: str | None = None
            args: object = {}
            if not call.name:
                error = "The tool call has no function name."
            elif raw.strip():
                try:
                    args = json.loads(raw)
                except json.JSONDecodeError as problem:
                    error = f"The arguments of {call.name!r} are not valid JSON: {problem}."
                else:
                    if not isinstance(args, dict):
                        error = (
                            f"The arguments of {call.name!r} are JSON but not an object: "
                            f"{type(args).__name__}."
                        )
            if error is None and isinstance(args, dict):
                valid.append(tool_call(name=call.name, args=args, id=call.id))
            else:
                invalid.append(
                    invalid_tool_call(name=call.name or None, args=raw, id=call.id, error=error)
                )
        return valid, invalid

    def _call_for(self, key: Key, call_id: str | None, name: str | None) -> _Call:
        if call_id is not None:
            for call in self._calls:
                if call.id == call_id:
                    return call
            latest = self._latest(key)
            if latest is not None and latest.id is None and key is not None:
                return latest
            return self._start(key)
        latest = self._latest(key)
        if latest is None or (name is not None and latest.name and latest.name != name):
            return self._start(key)
        return latest

    def _latest(self, key: Key) -> _Call | None:
        for call in reversed(self._calls):
            if key is None or call.key == key:
                return call
        return None

    def _start(self, key: Key) -> _Call:
        call = _Call(key)
        self._calls.append(call)
        return call
