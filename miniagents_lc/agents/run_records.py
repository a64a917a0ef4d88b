"""What an `AgentRun` records of its calls and their messages, and the usage per agent call.

A run asked to keep records (`keep_records=True`, or the config switch `USAGE_KEY`) follows
its calls through the instrument seam (`RunRecorder`, an `Instrument` registered for the run's
scope): each call's place in the tree (its path of `"alias:index"` segments from the root, the
index counting the calls of the same parent), and a `ReplyRecord` per message of a call's
reply, made when the message ends, with the call that produced it (the call whose reply held it
first) and its usage. The usage per agent call (`usage_breakdown`) is computed from those.

Records cover every message a call of the run produced, also one that a call above read and
did not pass on (its tokens were spent all the same), as long as it ended before the run's
reply did; a run keeps none otherwise, and costs nothing more than a run without instruments.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.messages import UsageMetadata
from langchain_core.messages.ai import add_usage

from miniagents_lc.agents.conversion import usage_of
from miniagents_lc.agents.instruments import Instrument

if TYPE_CHECKING:
    from miniagents_lc.agents.call import AgentCall
    from miniagents_lc.messages import Message

USAGE_KEY = "usage_by_agent"
"""The switch in a run's `configurable` that asks for the usage by agent call, and the key of
that breakdown in the run's final `response_metadata`."""

UNKNOWN_MODEL = "unknown"
"""The model name under which usage is counted when a message names no model."""


@dataclass(frozen=True, slots=True)
class ReplyRecord:
    """One message of a call's reply in a run that keeps records, as it ended."""

    call: AgentCall
    """The agent call that produced it (whose reply held it first)."""
    path: tuple[str, ...]
    """Where that call is in the run's tree: `()` for the root call, then one `"alias:index"`
    segment per level (the protocol's namespace of the call)."""
    message: Message | None
    """The whole message (`None` when its stream failed)."""
    error: BaseException | None
    """What its stream ended with, if it failed."""
    usage: UsageMetadata | None
    """The token usage it carries (see `usage_of`), if any."""
    model: str
    """The model that wrote it (`UNKNOWN_MODEL` when the message names none)."""

    @property
    def alias(self) -> str:
        """The alias of the agent whose call produced it."""
        return self.call.alias


@dataclass(eq=False)
class RunCall:
    """One call of a recorded run: where it is and the usage of its own messages, by model."""

    alias: str
    namespace: tuple[str, ...]
    usage_by_model: dict[str, UsageMetadata] = field(default_factory=dict)
    children: list[RunCall] = field(default_factory=list)


class UsageNode(Protocol):
    """What `usage_breakdown` reads of a call (a `RunCall`, or the view's `CallState`)."""

    @property
    def alias(self) -> str: ...

    @property
    def namespace(self) -> Sequence[str]: ...

    @property
    def usage_by_model(self) -> Mapping[str, UsageMetadata]: ...

    @property
    def children(self) -> Sequence[UsageNode]: ...


def usage_breakdown(root: UsageNode) -> list[dict[str, Any]]:
    """One entry per call of `root`'s tree, depth first in the order the calls were made:
    `agent` (alias), `namespace`, `usage` and `subtree_usage` (None without any), and the
    same per model name in `models` and `subtree_models`."""
    entries = []
    for call in _walk(root):
        subtree = usage_by_model_of(_walk(call))
        entries.append(
            {
                "agent": call.alias,
                "namespace": list(call.namespace),
                "usage": _plain(total_usage(call.usage_by_model.values())),
                "subtree_usage": _plain(total_usage(subtree.values())),
                "models": {model: _plain(usage) for model, usage in call.usage_by_model.items()},
                "subtree_models": {model: _plain(usage) for model, usage in subtree.items()},
            }
        )
    return entries


class RunRecorder(Instrument):
    """The instrument through which a run keeps its records (registered for its scope only)."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._calls: dict[AgentCall, RunCall] = {}
        self.root: RunCall | None = None
        self.records: list[ReplyRecord] = []
        self.closed = False

    def call_created(self, call: AgentCall) -> None:
        if self.closed or _elsewhere(self._loop):
            return
        parent = call.parent
        above = (self._calls.get(parent) if parent is not None else None) or self.root
        alias = call.alias
        if above is None:
            node = self.root = RunCall(alias, ())
        else:
            node = RunCall(alias, (*above.namespace, f"{alias}:{len(above.children)}"))
            above.children.append(node)
        self._calls[call] = node

    def message_finished(
        self, call: AgentCall, message: Message | None, error: BaseException | None
    ) -> None:
        node = self._calls.get(call)
        if self.closed or node is None:
            return
        usage = usage_of(message) if message is not None else None
        model = str(getattr(message, "model_name", None) or UNKNOWN_MODEL)
        self.records.append(ReplyRecord(call, node.namespace, message, error, usage, model))
        if usage:
            known = node.usage_by_model.get(model)
            node.usage_by_model[model] = usage if known is None else add_usage(known, usage)


def _elsewhere(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether the running code is not on `loop` (a sync bridge's own loop inside an agent)."""
    try:
        return asyncio.get_running_loop() is not loop
    except RuntimeError:
        return True


def _walk(call: UsageNode) -> Iterator[UsageNode]:
    yield call
    for child in call.children:
        yield from _walk(child)


def usage_by_model_of(calls: Iterable[UsageNode]) -> dict[str, UsageMetadata]:
    """The usage of `calls`' own messages, summed per model name."""
    totals: dict[str, UsageMetadata] = {}
    for call in calls:
        for model, usage in call.usage_by_model.items():
            totals[model] = add_usage(totals[model], usage) if model in totals else usage
    return totals


def total_usage(usages: Iterable[UsageMetadata | None]) -> UsageMetadata | None:
    """The sum of `usages` (None if there is none)."""
    total: UsageMetadata | None = None
    for usage in usages:
        if usage is not None:
            total = usage if total is None else add_usage(total, usage)
    return total


def _plain(usage: UsageMetadata | None) -> dict[str, Any] | None:
    return dict(usage) if usage is not None else None


__all__ = [
    "UNKNOWN_MODEL",
    "USAGE_KEY",
    "ReplyRecord",
    "RunCall",
    "RunRecorder",
    "UsageNode",
    "total_usage",
    "usage_breakdown",
    "usage_by_model_of",
]
