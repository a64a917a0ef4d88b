"""Runs' events in Redis Streams, so any server serves any resume.

Keys of a run (`miniagents:run:<id>:...`): `events`, a stream (an entry per written batch of
events, id `<last seq>-0`, the `end` entry last, `MAXLEN`-bounded, expiring); `reply`, the
reply order; `server`, the id of the server that runs it; `owner`, that server's id again
while it runs, re-set every heartbeat with a lifetime derived from the measured lag of its
loop; `followers` and `attached:<server>`, the leases of the servers whose clients follow it.
Per server, `miniagents:server:<id>` holds the Redis client id of a connection the server
keeps open for as long as it lives.

Everything a server sends to Redis is shared: one connection pool (blocking, bounded), one
writer that sends every run's pending writes in one transaction per round trip, one heartbeat
for every key it keeps alive, and per run followed here one reader (a single `XREAD` covers
them all), whatever the number of requests following it.

Liveness: a quiet run whose `owner` key has lapsed is only slow while Redis still holds its
server's connection (a stalled process keeps its sockets; a dead one's are closed by its
kernel), and a run whose `end` is in Redis is over, never lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from miniagents_lc.remote._feed import Batch, EventItem, Feed
from miniagents_lc.remote._lag import LagMeter
from miniagents_lc.remote._runs import ServedRun
from miniagents_lc.remote.wire import EndData

logger = logging.getLogger("miniagents_lc.remote")

HEARTBEAT = 1.0
"""Seconds between two refreshes of the keys a server keeps alive."""
MIN_LIFETIME = 3.0
"""The shortest lifetime of an `owner` key or a follower's lease (seconds)."""
GIVE_UP_AFTER = 60.0
"""A run with no owner key and no news for this long is lost even if its server still holds
its Redis connection (a process stalled for good)."""
_BLOCK_MS = 100
_READ_COUNT = 1000


def _key(run_id: str, part: str) -> str:
    return f"miniagents:run:{run_id}:{part}"


def _server_key(server_id: str) -> str:
    return f"miniagents:server:{server_id}"


def _lost(error_type: str, message: str) -> EndData:
    return {"status": "lost", "error_type": error_type, "message": message}


class _Writer:
    """Sends every pending write of every run in one transaction per round trip."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._pending: list[tuple[Callable[[Pipeline], None], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()

    async def write(self, build: Callable[[Pipeline], None]) -> None:
        """Queue the commands `build` adds to a pipeline; return once Redis has them."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((build, future))
        self._wake.set()
        await future

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, []
            pipe = self._redis.pipeline(transaction=True)
            sizes = []
            for build, _ in pending:
                before = len(pipe.command_stack)
                build(pipe)
                sizes.append(len(pipe.command_stack) - before)
            try:
                results: list[Any] = await pipe.execute(raise_on_error=False)
            except Exception as error:  # the round trip failed: every writer hears why
                for _, future in pending:
                    if not future.done():
                        future.set_exception(error)
                continue
            start = 0
            for (_, future), size in zip(pending, sizes, strict=True):
                failed = [r for r in results[start : start + size] if isinstance(r, Exception)]
                start += size
                if future.done():
                    continue
                if failed:
                    future.set_exception(failed[0])
                else:
                    future.set_result(None)


class _Follower:
    """One run followed from Redis by this server: its events from `base` on, read once for
    every request following it."""

    def __init__(self, run_id: str, base: int) -> None:
        self.run_id = run_id
        self.events_key = _key(run_id, "events")
        self.base = base
        self.last_id = f"{base}-0"
        self.events: list[EventItem] = []
        self.replies: list[str] = []
        self.end: EndData | None = None
        self.requests = 0
        self.ready = asyncio.get_running_loop().create_future()
        self.quiet_since = asyncio.get_running_loop().time()
        self.owner_missing_since: float | None = None
        self.dead: tuple[int, EndData] | None = None
        """(the read round during which the owner was found dead, the end to give)"""
        self._changed = asyncio.Event()

    def take(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        """Append the events of entries read from the stream (in order), from `base + 1` on.

        An entry holds the events of one written batch: `f`, the first `seq`, and `d`, their
        JSON a line each; its id is `<last seq>-0`."""
        for entry_id, fields in entries:
            if self.end is not None:
                return
            self.last_id = entry_id
            if "end" in fields:
                self.end = json.loads(fields["end"])
                return
            first = int(fields["f"])
            expected = self.base + len(self.events) + 1
            if first > expected:
                self.end = _lost(
                    "EventsExpired",
                    f"events {expected} to {first - 1} of run {self.run_id} are no longer kept "
                    "(the stream was trimmed or expired)",
                )
                return
            for offset, data in enumerate(fields["d"].split("\n")):
                if first + offset >= expected:  # a batch may start before what is wanted
                    self.events.append((first + offset, data))
        if entries:
            self.quiet_since = asyncio.get_running_loop().time()

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def signal(self) -> asyncio.Event:
        """Set at the next change after now."""
        return self._changed


class RedisRelay:
    """Writes this server's runs to Redis and reads any server's runs back."""

    def __init__(
        self,
        url: str,
        *,
        maxlen: int,
        ttl: float,
        grace: float,
        max_connections: int = 32,
        pool_timeout: float = 30.0,
    ) -> None:
        self.server_id = uuid.uuid4().hex[:16]
        # Blocking: past `max_connections` a command waits for a connection (up to
        # `pool_timeout`) instead of failing; the URL's own `?max_connections=` wins.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, decode_responses=True, max_connections=max_connections, timeout=pool_timeout
        )
        self._redis = aioredis.Redis.from_pool(pool)  # closing it closes the pool
        # One connection held for the server's life: Redis's view of it says the server lives.
        self._presence = aioredis.Redis.from_url(
            url, decode_responses=True, single_connection_client=True
        )
        self._presence_id: int | None = None
        self._maxlen = maxlen
        self._ttl_ms = int(ttl * 1000)
        self._grace = grace
        self.lag = LagMeter()
        self._writer = _Writer(self._redis)
        self._owned: dict[str, ServedRun] = {}
        self._followers: dict[str, _Follower] = {}
        self._round = 0
        self._tail_wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start(self) -> None:
        # Started by the first request, in the loop that serves (an app mounted in another app
        # gets no lifespan events of its own).
        if self._started:
            return
        self._started = True
        await self._publish_presence()
        self._spawn(self.lag.run(), "miniagents-lag")
        self._spawn(self._writer.run(), "miniagents-redis-writer")
        self._spawn(self._beat(), "miniagents-heartbeat")
        self._spawn(self._tail(), "miniagents-redis-reader")

    async def _publish_presence(self) -> None:
        client_id = await self._presence.client_id()
        await self._redis.set(_server_key(self.server_id), client_id, px=self._ttl_ms)
        self._presence_id = client_id

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        await self._presence.aclose()
        await self._redis.aclose()

    def _lifetime_ms(self) -> int:
        return int(self.lag.lifetime(MIN_LIFETIME, HEARTBEAT) * 1000)

    # -- the owner -------------------------------------------------------------------------

    async def register(self, run: ServedRun) -> bool:
        """Claim `run` for this live server and copy its items to Redis as they come; False
        if another server has claimed its id (a retried POST reached two servers)."""
        await self._start()
        run_id = run.run_id
        claimed = await self._redis.set(
            _key(run_id, "server"), self.server_id, nx=True, px=self._ttl_ms
        )
        if not claimed:
            return False
        lifetime = self._lifetime_ms()

        def build(pipe: Pipeline) -> None:
            pipe.set(_key(run_id, "owner"), self.server_id, px=lifetime)

        await self._writer.write(build)
        self._owned[run_id] = run
        self._spawn(self._relay(run), f"relay:{run_id}")
        return True

    async def _relay(self, run: ServedRun) -> None:
        run_id = run.run_id
        events_key = _key(run_id, "events")
        reply_key = _key(run_id, "reply")
        last_seq = 0
        try:
            async for batch in run.feed(0):
                first_seq = last_seq

                def build(pipe: Pipeline, batch: Batch = batch, end_seq: int = first_seq) -> None:
                    if batch.events:
                        # One entry per batch (a command per event would cost the server
                        # more than the rest of the run's streaming).
                        end_seq = batch.events[-1][0]
                        pipe.xadd(
                            events_key,
                            {"f": batch.events[0][0], "d": "\n".join(d for _, d in batch.events)},
                            id=f"{end_seq}-0",
                            maxlen=self._maxlen,
                            approximate=True,
                        )
                    if batch.replies:
                        pipe.rpush(reply_key, *batch.replies)
                    if batch.end is not None:
                        end = json.dumps(batch.end)
                        pipe.xadd(events_key, {"end": end}, id=f"{end_seq + 1}-0")
                        pipe.delete(_key(run_id, "owner"))
                    for key in (events_key, reply_key, _key(run_id, "server")):
                        pipe.pexpire(key, self._ttl_ms)

                if batch.events:
                    last_seq = batch.events[-1][0]
                await self._writer.write(build)
        except Exception:
            logger.exception("Relaying run %s to Redis failed", run_id)
        finally:
            self._owned.pop(run_id, None)

    async def followed_elsewhere(self, run_id: str) -> bool:
        """Whether a client on another server follows the run (if Redis cannot say: yes, and
        the owner asks again after another grace period)."""
        try:
            servers = await cast(
                Coroutine[Any, Any, set[str]], self._redis.smembers(_key(run_id, "followers"))
            )
            if not servers:
                return False
            keys = [_key(run_id, f"attached:{server}") for server in servers]
            return bool(await self._redis.exists(*keys))
        except Exception:
            logger.exception("Asking Redis who follows run %s failed; keeping it", run_id)
            return True

    async def _beat(self) -> None:
        """Every heartbeat: re-assert (SET, not SET XX: a lapsed key comes back) the owner key
        of every run this server runs, and the lease of every run its clients follow."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(HEARTBEAT)
            lifetime = self._lifetime_ms()
            try:
                client_id = await self._presence.client_id()
                pipe = self._redis.pipeline(transaction=False)
                pipe.set(_server_key(self.server_id), client_id, px=self._ttl_ms)
                for run_id, run in list(self._owned.items()):
                    if not run.finished:
                        pipe.set(_key(run_id, "owner"), self.server_id, px=lifetime)
                for follower in self._followers.values():
                    if follower.end is None:
                        self._lease(pipe, follower.run_id, lifetime)
                await pipe.execute()
                self._presence_id = client_id
                now = loop.time()
                quiet = [
                    follower
                    for follower in self._followers.values()
                    if now - follower.quiet_since >= HEARTBEAT
                    and follower.end is None
                    and follower.dead is None
                ]
                if quiet:
                    await self._check_owners(quiet, now)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("The Redis heartbeat failed; trying again")

    def _lease(self, pipe: Pipeline, run_id: str, lifetime_ms: int) -> None:
        """Tell the run's owner that a client of this server follows it."""
        pipe.set(_key(run_id, f"attached:{self.server_id}"), "1", px=lifetime_ms)
        pipe.sadd(_key(run_id, "followers"), self.server_id)
        pipe.pexpire(_key(run_id, "followers"), self._ttl_ms)

    async def _check_owners(self, quiet: list[_Follower], now: float) -> None:
        """Quiet runs: slow, or their server gone? Dead only on evidence."""
        pipe = self._redis.pipeline(transaction=False)
        for follower in quiet:
            pipe.exists(_key(follower.run_id, "owner"))
            pipe.get(_key(follower.run_id, "server"))
        answers = await pipe.execute()
        alive: dict[str, bool] = {}  # per server, asked once
        for index, follower in enumerate(quiet):
            owner_alive, server_id = answers[2 * index : 2 * index + 2]
            if owner_alive:
                follower.owner_missing_since = None
                continue
            if follower.owner_missing_since is None:
                follower.owner_missing_since = now
            if server_id is not None and server_id not in alive:
                alive[server_id] = await self._server_alive(server_id)
            run_id = follower.run_id
            if server_id is not None and alive[server_id]:
                if now - follower.owner_missing_since < GIVE_UP_AFTER:
                    continue  # stalled, not dead: its connection to Redis is open
                end = _lost(
                    "WorkerLost",
                    f"the server running run {run_id} has sent nothing for "
                    f"{GIVE_UP_AFTER:.0f} s (stalled)",
                )
            else:
                end = _lost(
                    "WorkerLost", f"the server running run {run_id} stopped before it ended"
                )
            # The tail declares it lost only after a read that started after this verdict,
            # so every entry written before the server died is delivered first.
            follower.dead = (self._round, end)

    async def _server_alive(self, server_id: str) -> bool:
        client_id = await self._redis.get(_server_key(server_id))
        if client_id is None:
            return False
        clients = await cast(
            Coroutine[Any, Any, list[dict[str, str]]],
            self._redis.client_list(client_id=[client_id]),
        )
        return bool(clients)

    # -- any reader ------------------------------------------------------------------------

    async def exists(self, run_id: str) -> bool:
        """Whether Redis knows the run."""
        await self._start()
        return bool(await self._redis.exists(_key(run_id, "events"), _key(run_id, "server")))

    async def _join(self, run_id: str, since: int) -> _Follower:
        follower = self._followers.get(run_id)
        if follower is not None:
            follower.requests += 1
            await asyncio.shield(follower.ready)
            return follower
        follower = self._followers[run_id] = _Follower(run_id, since)
        follower.requests += 1
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.xread({follower.events_key: follower.last_id}, count=_READ_COUNT)
            pipe.lrange(_key(run_id, "reply"), 0, -1)
            self._lease(pipe, run_id, self._lifetime_ms())  # at once: the owner may be asking
            response, replies, *_ = await pipe.execute()
        except BaseException as error:
            del self._followers[run_id]
            if not follower.ready.done():
                follower.ready.set_exception(error)
                follower.ready.exception()  # retrieved: the next request reads it afresh
            raise
        for _, entries in response or []:
            follower.take(entries)
        follower.replies.extend(replies)
        follower.ready.set_result(None)
        self._tail_wake.set()
        return follower

    def _leave(self, follower: _Follower) -> None:
        follower.requests -= 1
        if follower.requests > 0 or self._followers.get(follower.run_id) is not follower:
            return
        del self._followers[follower.run_id]
        if follower.end is None:
            lease = _key(follower.run_id, f"attached:{self.server_id}")
            self._spawn(self._drop_lease(lease), f"unlease:{follower.run_id}")

    async def _drop_lease(self, lease: str) -> None:
        try:
            await self._redis.delete(lease)
        except Exception:
            logger.exception("Dropping the lease %s failed (it expires by itself)", lease)

    async def _tail(self) -> None:
        """Read every run followed here, all in one blocking `XREAD`, until cancelled."""
        while True:
            live = [f for f in self._followers.values() if f.end is None and f.ready.done()]
            if not live:
                self._tail_wake.clear()
                await self._tail_wake.wait()
                continue
            self._round += 1
            this_round = self._round
            try:
                response: Any = await self._redis.xread(
                    {f.events_key: f.last_id for f in live}, count=_READ_COUNT, block=_BLOCK_MS
                )
                by_key = {f.events_key: f for f in live}
                fresh: list[_Follower] = []
                for key, entries in response or []:
                    follower = by_key[key]
                    follower.take(entries)
                    fresh.append(follower)
                fresh_ids = {f.run_id for f in fresh}
                if fresh:
                    pipe = self._redis.pipeline(transaction=False)
                    for follower in fresh:
                        pipe.lrange(_key(follower.run_id, "reply"), len(follower.replies), -1)
                    for follower, replies in zip(fresh, await pipe.execute(), strict=True):
                        follower.replies.extend(replies)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Reading runs from Redis failed; trying again")
                await asyncio.sleep(HEARTBEAT / 4)
                continue
            for follower in live:
                if follower.dead is not None and follower.end is None:
                    verdict_round, end = follower.dead
                    if this_round > verdict_round and follower.run_id not in fresh_ids:
                        follower.end = end
                if follower.run_id in fresh_ids or follower.end is not None:
                    follower.notify()

    async def feed(self, run_id: str, since: int) -> Feed:
        """The run's items after `since`, read from Redis; a `lost` end once its server has
        gone without writing the end."""
        follower = await self._join(run_id, since)
        try:
            index = since - follower.base
            if index < 0:
                # An earlier start than this server's reader: that part once, from Redis.
                early = Batch()
                early_follower = _Follower(run_id, since)
                pipe = self._redis.pipeline(transaction=True)
                pipe.xrange(follower.events_key, f"{since + 1}-0", f"{follower.base}-0")
                # and the entry holding the last of them, if its batch went on past them
                pipe.xrange(follower.events_key, f"({follower.base}-0", "+", count=1)
                before, straddling = await pipe.execute()
                early_follower.take([*before, *straddling])
                early.events = [e for e in early_follower.events if e[0] <= follower.base]
                if len(early.events) < follower.base - since:
                    early.end = _lost(
                        "EventsExpired", f"events after {since} of run {run_id} are gone"
                    )
                    yield early
                    return
                yield early
                index = 0
            replies_sent = 0
            while True:
                changed = follower.signal()
                end = follower.end  # before the events: an end follows all of them
                batch = Batch()
                batch.events = follower.events[index : index + _READ_COUNT]
                index += len(batch.events)
                batch.first_reply = replies_sent
                batch.replies = follower.replies[replies_sent:]
                replies_sent += len(batch.replies)
                caught_up = index >= len(follower.events)
                if caught_up:
                    batch.end = end
                if batch.events or batch.replies or batch.end is not None:
                    yield batch
                if batch.end is not None:
                    return
                if caught_up:
                    await changed.wait()
        finally:
            self._leave(follower)


__all__ = ["GIVE_UP_AFTER", "HEARTBEAT", "MIN_LIFETIME", "RedisRelay"]
