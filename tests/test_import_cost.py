"""`import miniagents_lc` is cheap, and what it no longer loads up front still works on first
need: each check runs in a fresh interpreter, where nothing was imported before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from benchmarks import import_time

ROOT = Path(__file__).resolve().parents[1]

#: What `import miniagents_lc` must not load: LangChain's tracers and Runnable, langsmith, rich
#: and the project's own layers (each loads when a name from it is first used).
HEAVY = (
    "langsmith",
    "langchain_core.tracers",
    "langchain_core.callbacks.manager",
    "langchain_core.runnables.base",
    "rich",
    "miniagents_lc.agents",
    "miniagents_lc.messages",
    "miniagents_lc.langchain",
    "miniagents_lc.protocol",
    "miniagents_lc.view",
)


def _fresh(code: str) -> str:
    """Run `code` in a fresh interpreter with the repository first on the path; its stdout."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_package_loads_none_of_the_heavy_modules() -> None:
    loaded = _fresh(
        f"""
        import json, sys
        import miniagents_lc
        print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))
        """
    )
    assert json.loads(loaded) == []


def test_every_re_exported_name_and_subpackage_still_resolves_on_first_use() -> None:
    missing = _fresh(
        """
        import miniagents_lc
        from miniagents_lc import MiniAgent, Message, tool_agent, flatten
        from miniagents_lc.agents import MiniAgent as Agent
        assert MiniAgent is Agent and miniagents_lc.protocol.EventLog is not None
        print([name for name in miniagents_lc.__all__ if not hasattr(miniagents_lc, name)])
        """
    )
    assert missing.strip() == "[]"


_ECHO = """
import asyncio, json
from miniagents_lc import miniagent

@miniagent
async def echo(ctx):
    ctx.reply("echo")
"""

#: Per feature: a `main()` that uses it on an agent's first run, and what `main()` returns.
_FIRST_RUN: dict[str, tuple[str, list[str]]] = {
    "a v3 event stream": (
        """
        async def main():
            async with await echo.astream_events("hi", version="v3") as run:
                return sorted({event["method"] async for event in run})
        """,
        ["lifecycle", "messages"],
    ),
    "usage by agent": (
        """
        async def main():
            message = await echo.ainvoke("hi", {"configurable": {"usage_by_agent": True}})
            return [entry["agent"] for entry in message.response_metadata["usage_by_agent"]]
        """,
        ["echo"],
    ),
}


def _main_of_echo(main: str) -> Any:
    """What `main()` (async, given the `echo` agent and `sys`) returns, run in a fresh
    interpreter and passed back as JSON."""
    code = "import sys\n" + _ECHO + textwrap.dedent(main)
    return json.loads(_fresh(code + "\nprint(json.dumps(asyncio.run(main())))\n"))


@pytest.mark.parametrize("feature", list(_FIRST_RUN))
def test_what_the_layers_above_add_to_agents_works_without_importing_them(feature: str) -> None:
    """A v3 stream (the protocol layer's, imported when asked for) and the usage by agent
    (the run's own records) work with no import of a layer above in the program."""
    main, expected = _FIRST_RUN[feature]
    assert _main_of_echo(main) == expected


def test_a_run_outside_any_event_stream_imports_no_layer_above_the_agents() -> None:
    """Nothing installs itself at import time: a plain run pays for no layer it does not use."""
    main = """
        async def main():
            await echo.ainvoke("hi")
            return sorted(
                layer for layer in ("protocol", "view") if f"miniagents_lc.{layer}" in sys.modules
            )
        """
    assert _main_of_echo(main) == []


@pytest.mark.parametrize("face", ["ainvoke", "astream"])
def test_an_agents_first_run_imports_nothing(face: str) -> None:
    """What LangChain's callbacks import on a first run (its tracers, langsmith, tenacity) is
    loaded with the agents, so the first run's way to its first token pays no import."""
    main = f"""
        async def main():
            before = set(sys.modules)
            if "{face}" == "astream":
                async for _chunk in echo.astream("hi"):
                    pass
            else:
                await echo.ainvoke("hi")
            return sorted(set(sys.modules) - before)
        """
    assert _main_of_echo(main) == []


def test_the_import_time_benchmark_prints_both_imports_side_by_side() -> None:
    text, ratio = import_time.report(runs=1)
    for ours, baseline in import_time.PAIRS:
        assert ours in text
        assert baseline in text
    assert ratio > 0
