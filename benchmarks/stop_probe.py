"""How fast a stop crosses a wire: an agent streams one token and would then wait a minute;
the time its `finally` runs goes to a file named by its input, for the measuring process to
read. Times are `time.monotonic()`, which Linux keeps system-wide, so a server process and its
client compare them directly."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

FIRST_TOKEN = "tok "


async def first_then_wait(stop_file: str) -> AsyncIterator[str]:
    """One token, then a minute's wait; the time its `finally` runs goes to `stop_file`."""
    try:
        yield FIRST_TOKEN
        await asyncio.sleep(60)
    finally:
        _write_time(Path(stop_file))


def _write_time(path: Path) -> None:
    # Written whole, then renamed, so a reader never sees part of it (a small local file: no
    # wait worth a thread).
    partial = path.with_suffix(".part")
    partial.write_text(repr(time.monotonic()))
    os.replace(partial, path)


def _read_time(path: Path) -> float | None:
    return float(path.read_text()) if path.exists() else None


async def stopped_at(stop_file: Path, within: float = 10.0) -> float:
    """When the agent that writes `stop_file` stopped (waits for the file; `RuntimeError`
    after `within` seconds)."""
    deadline = time.monotonic() + within
    while (stopped := _read_time(stop_file)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the agent did not stop within {within} s")
        await asyncio.sleep(0.001)
    return stopped


__all__ = ["FIRST_TOKEN", "first_then_wait", "stopped_at"]
