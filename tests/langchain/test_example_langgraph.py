"""examples/langgraph_messages_mode.py runs offline, prints the tokens as they come, exits 0."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "langgraph_messages_mode.py"

EXPECTED_TEXT = (
    "researcher: LangGraph streams chat-model tokens in messages mode.\n\n"
    "writer: An agent tree looks like one chat model to the graph."
)


async def test_example_prints_the_tokens_as_they_come_and_exits_zero() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    loop = asyncio.get_running_loop()
    reads: list[tuple[float, bytes]] = []

    async def read_all() -> bytes:
        assert process.stdout is not None
        assert process.stderr is not None
        while data := await process.stdout.read(4096):
            reads.append((loop.time(), data))
        return await process.stderr.read()

    try:
        stderr = await asyncio.wait_for(read_all(), timeout=60)
        return_code = await asyncio.wait_for(process.wait(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = b"".join(data for _when, data in reads).decode()
    assert return_code == 0, stderr.decode()
    assert output.startswith(EXPECTED_TEXT)
    assert "the state's last message is the same text" in output
    # Printed piece by piece while the model streams (words 30-40 ms apart), not all at the end.
    text_reads = [when for when, data in reads if not data.startswith(b"\n\n[streamed")]
    assert len(text_reads) >= 4
    assert text_reads[-1] - text_reads[0] >= 0.15
