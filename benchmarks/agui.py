"""AG-UI streaming, side by side: `python -m benchmarks.agui [--quick]`.

One server process (uvicorn, loopback) serves everything; the clients run here and in Node.

1. One stream of 100,000 tokens (10,000 with `--quick`) from the same token generator, read
   through AG-UI (`/agui/tokens`, httpx-sse, every event validated by ag-ui-protocol) and
   through `RemoteAgent` (`create_app`'s own protocol): tokens/s, and the first token of a
   one-token run (median of sequential requests, from sending the request).
2. The latency tree (16 parallel leaves, 4 x 4; each leaf waits 0.2 s, then streams 20 tokens
   10 ms apart), read by the official JS client (`@ag-ui/client` in Node,
   `tests/js/agui/first_token.mjs`): how long after its production the first token of the first
   leaf reaches the client (each leaf stamps its first token with the time it made it), the
   first token and the total from the request, and the order the leaves' text comes in. The
   anchor beside it: LangGraph's own AG-UI adapter (`ag-ui-langgraph`) serving a LangGraph graph
   of the same shape (16 parallel nodes in 4 subgraphs, each streaming a chat model's reply
   with the same timing).
3. How fast a client that leaves stops the agents (median of sequential runs): an agent
   streams one token and would then wait a minute; from the client closing its connection
   after that token to the agent's `finally` (`benchmarks.stop_probe`). The target: 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import operator
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from langchain_core.messages import AnyMessage
from typing_extensions import TypedDict

# The same token generator and `RemoteAgent` reader as the remote benchmark's.
from benchmarks.remote import TOKEN, produce, read_remote_agent
from benchmarks.stop_probe import first_then_wait, stopped_at

FAN_OUT = 4
FIRST_DELAY = 0.2
LEAF_TOKENS = 20
TOKEN_GAP = 0.01
JS_DIR = Path(__file__).resolve().parents[1] / "tests" / "js"
SIZES = {
    "full": {"long": 100_000, "latency_runs": 20, "tree_runs": 5},
    "quick": {"long": 10_000, "latency_runs": 5, "tree_runs": 1},
}


# -- the server ------------------------------------------------------------------------------


class State(TypedDict):
    """The LangGraph anchor's state: the conversation, each leaf adding its reply."""

    messages: Annotated[list[AnyMessage], operator.add]


async def leaf_tokens(leaf: str) -> AsyncIterator[str]:
    """A leaf's reply, each token tagged `[leaf]`; the first carries the wall-clock ms at which
    it was made."""
    await asyncio.sleep(FIRST_DELAY)
    yield f"[{leaf}]@{time.time() * 1000:.3f} "
    for index in range(1, LEAF_TOKENS):
        await asyncio.sleep(TOKEN_GAP)
        yield f"[{leaf}]t{index} "


def build_server() -> Any:
    """Our agents (`create_app`: `/agents/...` and `/agui/...`) and the LangGraph anchor
    (`/langgraph`), in one app."""
    from ag_ui_langgraph import LangGraphAgent, add_langgraph_fastapi_endpoint
    from fastapi import FastAPI

    from miniagents_lc import InteractionContext, Message, MiniAgent, miniagent
    from miniagents_lc.remote import create_app

    @miniagent
    async def tokens(ctx: InteractionContext, n: int = 1) -> None:
        ctx.reply(Message.promise(produce(n), role="assistant"))

    @miniagent
    async def stoppable(ctx: InteractionContext) -> None:
        stop_file = str((await ctx.message_promises.acollect_messages())[0])
        ctx.reply(Message.promise(first_then_wait(stop_file), role="assistant"))

    def leaf(tag: str) -> MiniAgent:
        async def answer(ctx: InteractionContext) -> None:
            ctx.reply(Message.promise(leaf_tokens(tag), role="assistant"))

        return MiniAgent(answer, alias=f"leaf-{tag}")

    def branch(index: int) -> MiniAgent:
        leaves = [leaf(f"{index}-{j}") for j in range(FAN_OUT)]

        async def ask(ctx: InteractionContext) -> None:
            ctx.reply([one.trigger(ctx.message_promises) for one in leaves])

        return MiniAgent(ask, alias=f"branch-{index}")

    branches = [branch(i) for i in range(FAN_OUT)]

    @miniagent
    async def tree(ctx: InteractionContext) -> None:
        ctx.reply([one.trigger(ctx.message_promises) for one in branches])

    app = FastAPI()
    add_langgraph_fastapi_endpoint(
        app,
        LangGraphAgent(name="tree", graph=langgraph_tree(), emit_raw_events=False),
        "/langgraph",
    )
    app.mount("/", create_app([tokens, tree, stoppable]))
    return app


def langgraph_tree() -> Any:
    """The same shape in LangGraph: 4 subgraphs of 4 parallel nodes, each node streaming a
    scripted chat model's reply with the leaves' timing."""
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph

    from miniagents_lc.testing.chat_models import ScriptedChatModel

    def node(tag: str) -> Any:
        reply = " ".join(f"[{tag}]t{index}" for index in range(LEAF_TOKENS))
        model = ScriptedChatModel(
            reply=reply, first_token_delay=FIRST_DELAY, token_delay=TOKEN_GAP, model=tag
        )

        async def run(state: State) -> dict[str, Any]:
            return {"messages": [await model.ainvoke(state["messages"])]}

        return run

    def subgraph(index: int) -> Any:
        graph = StateGraph(State)
        for j in range(FAN_OUT):
            graph.add_node(f"leaf-{index}-{j}", node(f"{index}-{j}"))
            graph.add_edge(START, f"leaf-{index}-{j}")
            graph.add_edge(f"leaf-{index}-{j}", END)
        return graph.compile()

    graph = StateGraph(State)
    for index in range(FAN_OUT):
        graph.add_node(f"branch-{index}", subgraph(index))
        graph.add_edge(START, f"branch-{index}")
        graph.add_edge(f"branch-{index}", END)
    # The adapter reads the thread's state before and after each run.
    return graph.compile(checkpointer=InMemorySaver())


def serve(port: int) -> None:
    import uvicorn

    warnings.filterwarnings("ignore")
    uvicorn.run(build_server(), host="127.0.0.1", port=port, log_level="error", access_log=False)


# -- the clients -----------------------------------------------------------------------------


def run_input(text: str = "go", **forwarded: Any) -> dict[str, Any]:
    return {
        "threadId": "bench",
        "runId": f"run-{time.perf_counter_ns()}",
        "messages": [{"id": "q", "role": "user", "content": text}],
        "tools": [],
        "context": [],
        "state": {},
        "forwardedProps": forwarded,
    }


async def read_agui(client: Any, adapter: Any, base_url: str, n: int, first: list[float]) -> int:
    """Characters of text read from one AG-UI run of `tokens`, every event validated."""
    from ag_ui.core import TextMessageContentEvent
    from httpx_sse import aconnect_sse

    chars = 0
    body = run_input(n=n)
    async with aconnect_sse(client, "POST", f"{base_url}/agui/tokens", json=body) as source:
        async for sse in source.aiter_sse():
            event = adapter.validate_json(sse.data)
            if isinstance(event, TextMessageContentEvent):
                if not chars:
                    first.append(time.perf_counter())
                chars += len(event.delta)
    return chars


async def measure_stream(way: str, base_url: str, sizes: dict[str, int]) -> dict[str, float]:
    """First token (median, ms) and tokens/s of the long stream, for one way."""
    import httpx
    from ag_ui.core import Event
    from pydantic import TypeAdapter

    from miniagents_lc import MiniAgents
    from miniagents_lc.remote import RemoteAgent

    adapter: TypeAdapter[Any] = TypeAdapter(Event)
    async with MiniAgents(), httpx.AsyncClient(timeout=httpx.Timeout(600)) as client:
        agent = RemoteAgent(base_url, "tokens", timeout=600)

        async def read(n: int, first: list[float]) -> int:
            if way == "agui":
                return await read_agui(client, adapter, base_url, n, first)
            return await read_remote_agent(agent, n, first)

        await read(10, [])  # warm up connections and lazy imports
        samples = []
        for _ in range(sizes["latency_runs"]):
            first: list[float] = []
            started = time.perf_counter()
            await read(1, first)
            samples.append((first[0] - started) * 1000)
        started = time.perf_counter()
        chars = await read(sizes["long"], [])
        elapsed = time.perf_counter() - started
    if chars != sizes["long"] * len(TOKEN):
        raise RuntimeError(f"{way}: read {chars} characters, expected {sizes['long'] * 4}")
    return {"first_ms": statistics.median(samples), "tokens_per_s": sizes["long"] / elapsed}


async def measure_stop(base_url: str, runs: int) -> float:
    """Median ms from the client leaving after the first token to the agent's `finally`."""
    import httpx
    from ag_ui.core import Event, TextMessageContentEvent
    from httpx_sse import aconnect_sse
    from pydantic import TypeAdapter

    adapter: TypeAdapter[Any] = TypeAdapter(Event)
    stop_dir = Path(tempfile.mkdtemp(prefix="agui-stops-"))

    async def once(client: httpx.AsyncClient) -> float:
        stop_file = stop_dir / f"{time.perf_counter_ns()}"
        body = run_input(str(stop_file))
        async with aconnect_sse(client, "POST", f"{base_url}/agui/stoppable", json=body) as source:
            async for sse in source.aiter_sse():
                if isinstance(adapter.validate_json(sse.data), TextMessageContentEvent):
                    break
        left = time.monotonic()  # leaving the block closed the connection
        return (await stopped_at(stop_file) - left) * 1000

    async with httpx.AsyncClient(timeout=httpx.Timeout(60)) as client:
        await once(client)  # warm up
        return statistics.median([await once(client) for _ in range(runs)])


def js_first_token(url: str) -> dict[str, Any]:
    """The latency tree through the official JS client."""
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "@ag-ui" / "client").is_dir():
        raise SystemExit("needs Node and the JS clients: npm ci --prefix tests/js")
    done = subprocess.run(
        [node, str(JS_DIR / "agui" / "first_token.mjs"), url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"first_token.mjs failed: {done.stderr[-1500:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def tree_runs(url: str, runs: int) -> dict[str, Any]:
    """The median figures of `runs` runs of the tree (and the last run's text order)."""
    results = [js_first_token(url) for _ in range(runs)]
    merged = dict(results[-1])
    for key in ("firstMs", "totalMs", "firstLagMs"):
        values = [result[key] for result in results if result[key] is not None]
        merged[key] = statistics.median(values) if values else None
    return merged


def leaf_order(run: dict[str, Any]) -> str:
    """How the leaves' text came: one leaf after another, or interleaved (every token names
    its leaf)."""
    leaves = [match for delta in run["deltas"] for match in re.findall(r"\[(\d+-\d+)\]", delta)]
    runs = [leaf for index, leaf in enumerate(leaves) if index == 0 or leaves[index - 1] != leaf]
    messages = run["messages"]
    if len(runs) == len(set(leaves)):
        order = "in reply order" if runs == sorted(runs) else "out of order"
        return f"one leaf after another, {order} ({messages} text messages)"
    return f"interleaved: {len(runs)} switches between leaves ({messages} text messages)"


# -- the run ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the benchmark server did not start on 127.0.0.1:{port}")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 tokens, fewer samples")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    sizes = SIZES["quick" if args.quick else "full"]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.agui", "--serve", str(port)],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, server)
        stream = {
            way: asyncio.run(measure_stream(way, base_url, sizes)) for way in ("agui", "remote")
        }
        stop_ms = asyncio.run(measure_stop(base_url, sizes["latency_runs"]))
        ours = tree_runs(f"{base_url}/agui/tree", sizes["tree_runs"])
        anchor = tree_runs(f"{base_url}/langgraph", sizes["tree_runs"])
    finally:
        server.terminate()
        server.wait(10)
    agui, remote = stream["agui"], stream["remote"]
    print(
        f"One stream of {sizes['long']:,} tokens (loopback; a loaded machine gives noisy figures)"
    )
    print(f"{'':24}{'AG-UI':>14}{'RemoteAgent':>14}   target")
    print(
        f"{'tokens/s':24}{agui['tokens_per_s']:>14,.0f}{remote['tokens_per_s']:>14,.0f}"
        f"   AG-UI >= 50% ({agui['tokens_per_s'] / remote['tokens_per_s']:.0%})"
    )
    print(
        f"{'first token (ms)':24}{agui['first_ms']:>14.1f}{remote['first_ms']:>14.1f}"
        f"   AG-UI <= RemoteAgent + 1 ms ({agui['first_ms'] - remote['first_ms']:+.1f})"
    )
    print()
    print(
        f"Latency tree, 16 leaves, read by @ag-ui/client in Node (median of {sizes['tree_runs']})"
    )
    print(f"{'':34}{'miniagents_lc':>16}{'ag-ui-langgraph':>18}")
    lag = ours["firstLagMs"]
    print(f"{'first leaf token, production->JS':34}{lag:>14.1f}ms{'n/a':>18}   target <= 5 ms")
    print(f"{'first token from request (ms)':34}{ours['firstMs']:>16.1f}{anchor['firstMs']:>18.1f}")
    print(f"{'total (ms)':34}{ours['totalMs']:>16.1f}{anchor['totalMs']:>18.1f}")
    print(f"{'sub-agent events':34}{ours['subagents']:>16}{anchor['subagents']:>18}")
    print(f"order of the leaves' text:\n  miniagents_lc:   {leaf_order(ours)}")
    print(f"  ag-ui-langgraph: {leaf_order(anchor)}")
    print()
    print(
        f"The agents stop {stop_ms:.1f} ms after the client leaves (median of "
        f"{sizes['latency_runs']}; target <= 50 ms)"
    )


if __name__ == "__main__":
    main()
