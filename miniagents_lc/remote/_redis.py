"""Runs' events in Redis Streams, so any worker serves any resume.

The worker running a run appends its batches to the stream `miniagents:run:<id>:events`
(entry id `<seq>-0`, `MAXLEN`-bounded, expiring), the reply order to the list `...:reply`, and
keeps the key `...:owner` alive while it writes. A reader on another worker reads with
`XREAD`; if the owner key lapses before the end entry, the run is lost (its worker died) and the
reader ends the stream with a `lost` end rather than wait. While such a reader follows a run it
refreshes `...:attached`, which keeps the owner from cancelling the run for lack of readers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from typing import Any, cast

import redis.asyncio as aioredis

from miniagents_lc.remote._feed import Batch, Feed
from miniagents_lc.remote._runs import ServedRun
from miniagents_lc.remote.wire import EndData

logger = logging.getLogger("miniagents_lc.remote")

_HEARTBEAT = 1.0
_OWNER_TTL_MS = 3000


def _key(run_id: str, part: str) -> str:
    return f"miniagents:run:{run_id}:{part}"


class RedisRelay:
    """Writes this worker's runs to Redis and reads any worker's runs back."""

    def __init__(self, url: str, *, maxlen: int, ttl: float, grace: float) -> None:
        self._redis = aioredis.from_url(url, decode_responses=True)
        self._maxlen = maxlen
        self._ttl_ms = int(ttl * 1000)
        self._grace = grace
        self._tasks: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        await self._redis.aclose()

    # -- the owner -------------------------------------------------------------------------

    async def register(self, run: ServedRun) -> None:
        """Mark `run` as owned by a live worker, then copy its items to Redis as they come."""
        await self._redis.set(_key(run.run_id, "owner"), "1", px=_OWNER_TTL_MS)
        loop = asyncio.get_running_loop()
        for work in (self._relay(run), self._heartbeat(run)):
            task = loop.create_task(work)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _relay(self, run: ServedRun) -> None:
        events_key = _key(run.run_id, "events")
        reply_key = _key(run.run_id, "reply")
        last_seq = 0
        try:
            async for batch in run.feed(0):
                pipe = self._redis.pipeline(transaction=False)
                for seq, data in batch.events:
                    pipe.xadd(
                        events_key,
                        {"d": data},
                        id=f"{seq}-0",
                        maxlen=self._maxlen,
                        approximate=True,
                    )
                    last_seq = seq
                if batch.replies:
                    pipe.rpush(reply_key, *batch.replies)
                if batch.end is not None:
                    pipe.xadd(events_key, {"end": json.dumps(batch.end)}, id=f"{last_seq + 1}-0")
                for key in (events_key, reply_key):
                    pipe.pexpire(key, self._ttl_ms)
                await pipe.execute()
        except Exception:
            logger.exception("Relaying run %s to Redis failed", run.run_id)
        finally:
            await self._redis.delete(_key(run.run_id, "owner"))

    async def _heartbeat(self, run: ServedRun) -> None:
        owner_key = _key(run.run_id, "owner")
        while not run.finished:
            await asyncio.sleep(_HEARTBEAT)
            await self._redis.set(owner_key, "1", px=_OWNER_TTL_MS, xx=True)

    async def followed_elsewhere(self, run_id: str) -> bool:
        """Whether a reader on another worker follows the run."""
        return bool(await self._redis.exists(_key(run_id, "attached")))

    # -- any reader ------------------------------------------------------------------------

    async def exists(self, run_id: str) -> bool:
        """Whether Redis knows the run."""
        return bool(await self._redis.exists(_key(run_id, "events"), _key(run_id, "owner")))

    async def feed(self, run_id: str, since: int) -> Feed:
        """The run's items after `since`, read from Redis; a `lost` end once its owner has gone
        without writing the end."""
        events_key = _key(run_id, "events")
        reply_key = _key(run_id, "reply")
        attached_key = _key(run_id, "attached")
        grace_ms = max(int(self._grace * 1000), 1)
        block_ms = max(min(1000, grace_ms // 3), 10)
        last_id = f"{since}-0"
        expected = since + 1
        replies_sent = 0
        while True:
            await self._redis.set(attached_key, "1", px=grace_ms)
            response: Any = await self._redis.xread(
                {events_key: last_id}, count=1000, block=block_ms
            )
            replies = await cast(
                Awaitable[list[str]], self._redis.lrange(reply_key, replies_sent, -1)
            )
            batch = Batch()
            batch.first_reply = replies_sent
            batch.replies = replies
            replies_sent += len(replies)
            entries: list[tuple[str, dict[str, Any]]] = response[0][1] if response else []
            for entry_id, fields in entries:
                last_id = entry_id
                if "end" in fields:
                    end: EndData = json.loads(fields["end"])
                    batch.end = end
                    break
                seq = int(entry_id.split("-", 1)[0])
                if seq != expected:
                    batch.end = {
                        "status": "lost",
                        "error_type": "EventsExpired",
                        "message": f"events {expected} to {seq - 1} of run {run_id} are no "
                        "longer kept (the stream was trimmed or expired)",
                    }
                    break
                expected = seq + 1
                batch.events.append((seq, fields["d"]))
            if (
                batch.end is None
                and not entries
                and not await self._redis.exists(_key(run_id, "owner"))
            ):
                # The owner may have written its last entries just before its key went.
                tail = await self._redis.xread({events_key: last_id}, count=1)
                if not tail:
                    batch.end = {
                        "status": "lost",
                        "error_type": "WorkerLost",
                        "message": f"the worker running run {run_id} stopped before it ended",
                    }
            if batch.events or batch.replies or batch.end is not None:
                yield batch
            if batch.end is not None:
                await self._redis.delete(attached_key)
                return


__all__ = ["RedisRelay"]
