"""Runs served by this worker: each agent run with its event log, the order of its root reply,
and the clock that cancels it when no client has followed it for a grace period."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from miniagents_lc.agents import MiniAgent
from miniagents_lc.promising import StreamCancelledError
from miniagents_lc.protocol import AgentRunStream, astream_agent_events
from miniagents_lc.remote._feed import Batch, Feed
from miniagents_lc.remote.wire import EndData, error_end

logger = logging.getLogger("miniagents_lc.remote")

_BATCH_BYTES = 64 * 1024
_HOLD_GRACES = 10

KeepAlive = Callable[[str], Awaitable[bool]]
"""Whether a run is still followed elsewhere (by a client on another worker)."""


class ServedRun:
    """One run of an agent on this worker, readable from any `seq` while it is kept."""

    def __init__(
        self,
        run_id: str,
        stream: AgentRunStream,
        *,
        grace: float,
        kept_alive_elsewhere: KeepAlive | None,
    ) -> None:
        self.run_id = run_id
        self.stream = stream
        self.reply_ids: list[str] = []
        self._loop = asyncio.get_running_loop()
        self._reply_task = self._loop.create_task(self._track_reply(), name=f"reply:{run_id}")
        self._grace = grace
        self._kept_alive_elsewhere = kept_alive_elsewhere
        self.reader_positions: dict[int, int] = {}
        """Per client reading the run, the last `seq` handed to its connection: all a slow
        reader holds on the server, besides the run's one log."""
        self._timer: asyncio.TimerHandle | None = None
        self._closing: asyncio.Task[None] | None = None
        self.cancelled_at: float | None = None
        """The loop time at which the grace period ran out and the run was cancelled."""
        # The request that started the run counts as its reader until its stream takes over:
        # on a loop lagging more than the grace period, the run would otherwise be cancelled
        # before its own response began. Should that stream never start, the hold ends after
        # ten grace periods.
        self._readers = 1
        self._hold: asyncio.TimerHandle | None = self._loop.call_later(
            _HOLD_GRACES * grace, self._release_hold
        )

    async def _track_reply(self) -> None:
        # The records, not `messages`: a chat-model stream per message would re-join the
        # message's text on every delta.
        async for record in self.stream.message_records():
            self.reply_ids.append(record.message_id)

    @property
    def finished(self) -> bool:
        """Whether every event has been written."""
        return self.stream.log.done and self._reply_task.done()

    async def wait_finished(self) -> None:
        """Until every event has been written."""
        ended = asyncio.ensure_future(_run_output(self.stream))
        await asyncio.wait([ended, self._reply_task])
        if not ended.cancelled():
            ended.exception()  # the run's outcome goes out in its events

    # -- following clients -----------------------------------------------------------------

    def attach(self, reader: int, since: int) -> None:
        """A client reads the run from `since`: it is wanted."""
        self._readers += 1
        self.reader_positions[reader] = since
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def take_over(self, reader: int, since: int) -> None:
        """The stream of the request that started the run reads it from `since`."""
        if self._hold is None:
            self.attach(reader, since)
            return
        self._hold.cancel()
        self._hold = None
        self.reader_positions[reader] = since

    def _release_hold(self) -> None:
        if self._hold is not None:
            self._hold = None
            self._readers -= 1
            self._arm()

    def detach(self, reader: int) -> None:
        """A client stopped reading: with none left, the grace period starts."""
        self._readers -= 1
        self.reader_positions.pop(reader, None)
        self._arm()

    def _arm(self) -> None:
        if self._readers == 0 and not self.stream.log.done and self._timer is None:
            self._timer = self._loop.call_later(self._grace, self._expire)

    def _expire(self) -> None:
        self._timer = None
        if self._readers or self.stream.log.done:
            return
        if self._kept_alive_elsewhere is None:
            self._cancel()
        else:
            self._loop.create_task(self._expire_unless_followed_elsewhere())

    async def _expire_unless_followed_elsewhere(self) -> None:
        assert self._kept_alive_elsewhere is not None
        if await self._kept_alive_elsewhere(self.run_id):
            self._arm()
        elif not self._readers:
            self._cancel()

    def _cancel(self) -> None:
        if self._closing is None:
            self.cancelled_at = self._loop.time()
            logger.info(
                "Run %s: no client followed it for %.3g s; cancelling", self.run_id, self._grace
            )
            self._closing = self._loop.create_task(self.stream.aclose())

    async def aclose(self) -> None:
        """Cancel the run and wait until it has stopped."""
        for timer in (self._timer, self._hold):
            if timer is not None:
                timer.cancel()
        self._timer = self._hold = None
        await self.stream.aclose()
        await asyncio.wait([self._reply_task])

    # -- reading ---------------------------------------------------------------------------

    async def feed(self, since: int) -> Feed:
        """The run's items after `since`, batched as they become available, then the end."""
        log = self.stream.log
        batch = Batch()
        replies_sent = 0
        size = 0
        end: EndData
        try:
            async for event in self.stream.events(since=since):
                seq = event["seq"]
                data = json.dumps(event, separators=(",", ":"))
                batch.events.append((seq, data))
                size += len(data)
                # Send what is buffered at once, never waiting to batch; a reader catching up
                # gets bounded chunks, so it holds no more than one of them on the server.
                if seq >= len(log) or size >= _BATCH_BYTES:
                    replies_sent = self._add_replies(batch, replies_sent)
                    yield batch
                    batch = Batch()
                    size = 0
        except StreamCancelledError as error:
            end = error_end("cancelled", error)
        except Exception as error:
            end = error_end("failed", error)
        else:
            end = {"status": "completed"}
        await asyncio.wait([self._reply_task])
        self._add_replies(batch, replies_sent)
        batch.end = end
        yield batch

    def _add_replies(self, batch: Batch, sent: int) -> int:
        batch.first_reply = sent
        batch.replies = self.reply_ids[sent:]
        return len(self.reply_ids)


async def _run_output(stream: AgentRunStream) -> None:
    await stream.output


class LocalRuns:
    """The runs started on this worker, kept `retention` seconds after they finish."""

    def __init__(
        self, *, grace: float, retention: float, kept_alive_elsewhere: KeepAlive | None = None
    ) -> None:
        self._runs: dict[str, ServedRun] = {}
        self._grace = grace
        self._retention = retention
        self._kept_alive_elsewhere = kept_alive_elsewhere

    def get(self, run_id: str) -> ServedRun | None:
        return self._runs.get(run_id)

    def __len__(self) -> int:
        return len(self._runs)

    async def start(
        self, agent: MiniAgent, input: Any, kwargs: dict[str, Any], run_id: str | None = None
    ) -> ServedRun:
        """Start a run of `agent` (under `run_id` if given): it goes on whether or not anybody
        reads it yet."""
        stream = await astream_agent_events(agent, input, None, **kwargs)
        run = ServedRun(
            run_id or uuid.uuid4().hex,
            stream,
            grace=self._grace,
            kept_alive_elsewhere=self._kept_alive_elsewhere,
        )
        self._runs[run.run_id] = run
        loop = asyncio.get_running_loop()
        task = loop.create_task(run.wait_finished())
        task.add_done_callback(
            lambda _: loop.call_later(self._retention, self._runs.pop, run.run_id, None)
        )
        return run

    async def discard(self, run: ServedRun) -> None:
        """Cancel `run` and forget it (another server runs it)."""
        if self._runs.get(run.run_id) is run:
            del self._runs[run.run_id]
        await run.aclose()

    async def aclose(self) -> None:
        """Cancel every run still going."""
        runs = list(self._runs.values())
        self._runs.clear()
        for run in runs:
            await run.aclose()


__all__ = ["LocalRuns", "ServedRun"]
