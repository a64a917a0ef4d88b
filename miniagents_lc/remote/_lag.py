"""How late this process's event loop runs: what the liveness lifetimes are derived from.

A key refreshed by a loop must outlive the loop's worst recent lag, or a busy (not dead) process
looks dead. `LagMeter` ticks every `interval` seconds and keeps the worst lateness of each
second over the last `window` seconds.
"""

from __future__ import annotations

import asyncio
import collections
import math


class LagMeter:
    """The worst lag of the running loop over the last `window` seconds."""

    def __init__(self, *, interval: float = 0.1, window: float = 30.0) -> None:
        self._interval = interval
        self._window = window
        # (whole second of loop time, worst lag in it), oldest first
        self._worst: collections.deque[tuple[int, float]] = collections.deque()

    @property
    def worst(self) -> float:
        """The worst lag (seconds) seen over the window; 0 before any measurement."""
        return max((lag for _, lag in self._worst), default=0.0)

    def record(self, now: float, lag: float) -> None:
        """Note that a tick due at `now - lag` ran at loop time `now`."""
        second = math.floor(now)
        if self._worst and self._worst[-1][0] == second:
            if lag > self._worst[-1][1]:
                self._worst[-1] = (second, lag)
        else:
            self._worst.append((second, lag))
        while self._worst and self._worst[0][0] < second - self._window:
            self._worst.popleft()

    async def run(self) -> None:
        """Measure until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self._interval
            await asyncio.sleep(self._interval)
            now = loop.time()
            self.record(now, max(0.0, now - due))

    def lifetime(self, floor: float, period: float) -> float:
        """A lifetime for a key refreshed every `period` seconds by this loop: at least `floor`,
        and long enough for two refreshes to be missed at four times the worst recent lag."""
        return max(floor, 2 * period + 4 * self.worst)


__all__ = ["LagMeter"]
