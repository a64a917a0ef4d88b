"""How late the last token of a Responses API stream reaches its reader, in a fresh process.

    python adapters/openai/tests/last_token_lag.py [promise|astream ...]

prints one JSON line per reader named (`promise` if none is), each measured on a new agent
call in this process: only the first is a first call. The recorded stream
`recordings/responses_text.sse` is served by the offline kit to the real SDK, one event per
read, with a pause before the last text delta (so the reader has caught up and waits) and the
closing events right behind it, as the API sends them. The reader is `async for token in
promise` on `OpenAIAgent`'s reply (`promise`) or `agent.astream()` (`astream`).

- `lag_ms`: from the kit handing the last delta to the SDK to the reader holding its token.
- `seen_before_next_event`: whether the reader held it before the SDK was handed the next
  event, that is before the agent's producer went on to read (and parse) the closing events.

The first Responses stream of a process is the slow one to parse (the SDK builds its event
models then): run each measurement in a new process.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from miniagents_lc import MiniAgents

from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import OpenAIMock, split_sse

RECORDING = Path(__file__).with_name("recordings") / "responses_text.sse"
PAUSE = 0.05  # before the last delta: long enough for the reader to catch up and wait


async def measure(face: str) -> dict[str, object]:
    events = split_sse(RECORDING.read_bytes())
    last = max(n for n, event in enumerate(events) if b"response.output_text.delta" in event)
    delays = [PAUSE if n == last else 0.0 for n in range(len(events))]
    held: list[float] = []
    with OpenAIMock() as mock:
        reply = mock.sse("/responses", events, delay=delays)
        agent = OpenAIAgent.fork(model="gpt-4o", client=mock.async_client(), api="responses")
        if face == "astream":
            async for chunk in agent.astream("Hi"):
                if chunk.content:
                    held.append(time.monotonic())
        else:
            async with MiniAgents():
                async for promise in agent.trigger("Hi"):
                    async for _token in promise:
                        held.append(time.monotonic())
    request = reply.request
    assert request is not None
    sent = request.sent_at
    return {
        "face": face,
        "lag_ms": round((held[-1] - sent[last]) * 1000, 2),
        "seen_before_next_event": held[-1] < sent[last + 1],
    }


async def main(faces: list[str]) -> None:
    for face in faces:
        print(json.dumps(await measure(face)), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:] or ["promise"]))
