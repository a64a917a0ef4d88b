"""The slots through which the layers above give agents their v3 event streams and follow
their runs.

`astream_events(version="v3")`, `stream_events(version="v3")` and the mapping of a run into a
surrounding LangGraph v3 stream are written in `miniagents_lc.protocol`, a layer above the
agents; the usage per agent call is followed by `miniagents_lc.view.usage`. The agents do not
import them at module level (an import pointing up, and the cost of those layers for a program
that never runs an agent): those modules fill these slots as they are imported, and the first
time a slot is read (an agent's first run, or its first v3 stream) `_fill_slots()` imports them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig

StartEvents = Callable[[Any, Any, RunnableConfig | None, dict[str, Any]], Any]
"""Starts a run of an agent as a protocol event stream: `(agent, input, config, kwargs)`."""


@dataclass(frozen=True, slots=True)
class EventStreams:
    """What the protocol layer provides: the async and sync v3 run streams, and the context
    around every agent run that maps its calls into a LangGraph v3 stream it runs inside."""

    astream_events: StartEvents
    stream_events: StartEvents
    around_run: Callable[[RunnableConfig], AbstractAsyncContextManager[None]]


_installed: list[EventStreams] = []
_NOTHING_AROUND: AbstractAsyncContextManager[None] = contextlib.nullcontext()

_filled: list[bool] = []


def _fill_slots() -> None:
    """Import the modules that fill these slots, `miniagents_lc.protocol` and
    `miniagents_lc.view` (its usage per agent call; once; later calls cost one list check).

    Called where a slot is first read, inside a function: by then the agents layer is fully
    imported, so the layers above can import it in turn."""
    if _filled:
        return
    _filled.append(True)
    try:
        # Upward on purpose (see the module's docstring), hence inside a function and listed
        # in tests/test_layers.py.
        import miniagents_lc.protocol
        import miniagents_lc.view  # noqa: F401 - its usage per agent call fills a slot
    except BaseException:
        _filled.clear()  # an interrupted import is tried again on the next read
        raise


def install_event_streams(streams: EventStreams) -> None:
    """Fill the slot (done once, by `miniagents_lc.protocol` as it is imported)."""
    _installed[:] = [streams]


def event_streams() -> EventStreams:
    """The installed v3 streams (importing the protocol layer the first time)."""
    _fill_slots()
    if not _installed:
        raise RuntimeError(
            "Streaming protocol v3 is not installed: `miniagents_lc.protocol` did not install "
            "its event streams as it was imported."
        )
    return _installed[0]


def around_run(config: RunnableConfig) -> AbstractAsyncContextManager[None]:
    """The protocol's context around one agent run (the layers above are imported first)."""
    _fill_slots()
    return _installed[0].around_run(config) if _installed else _NOTHING_AROUND


RunWrapper = Callable[[Any], AbstractAsyncContextManager[None]]
"""A context a layer above wraps around every agent run, given the run (its `_config` and the
attributes that layer sets on it): how the view follows usage per agent call."""

_run_wrappers: list[RunWrapper] = []


def add_run_wrapper(wrapper: RunWrapper) -> None:
    """Wrap `wrapper(run)` around every agent run from now on (once per wrapper)."""
    if wrapper not in _run_wrappers:
        _run_wrappers.append(wrapper)


def wrapped_run(run: Any) -> AbstractAsyncContextManager[None]:
    """The registered wrappers around `run`, entered in registration order."""
    _fill_slots()
    if not _run_wrappers:
        return _NOTHING_AROUND
    if len(_run_wrappers) == 1:
        return _run_wrappers[0](run)
    return _all_wrappers(run)


@contextlib.asynccontextmanager
async def _all_wrappers(run: Any) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        for wrapper in _run_wrappers:
            await stack.enter_async_context(wrapper(run))
        yield


__all__ = [
    "EventStreams",
    "RunWrapper",
    "StartEvents",
    "add_run_wrapper",
    "around_run",
    "event_streams",
    "install_event_streams",
    "wrapped_run",
]
