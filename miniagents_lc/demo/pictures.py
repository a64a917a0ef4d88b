"""`python -m miniagents_lc.demo.pictures [FOLDER]`: the docs' pictures, from real runs.

Runs the demo team offline twice (agents in parallel, then one after another) and writes into
FOLDER (default `docs/images`): `team-timeline.svg`, the two runs on one time axis, drawn from
the timestamps of their protocol events; `live-tree.svg`, the live tree as it stood while the
parallel run was streaming; `live-tree-done.svg`, the same tree at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from miniagents_lc.agents import MiniAgent
from miniagents_lc.demo.session import scripted_model_agent
from miniagents_lc.demo.team import DEFAULT_QUESTION, PROMPT, build_team
from miniagents_lc.view import LiveTree, RunState, timeline_svg

_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")

SNAPSHOT_AFTER_MS = 320
"""When, in the parallel run, the live tree is captured: some agents stream, some wait."""


async def _measure(team: MiniAgent, snapshot: Console | None) -> RunState:
    """Run `team` on the default question; `snapshot` records the tree mid-run."""
    prompt = PROMPT.invoke({"question": DEFAULT_QUESTION})
    view = LiveTree()
    async with await team.astream_events(prompt, version="v3") as run:
        async for event in run.events():
            view.state.apply_event(event)
            root = view.state.root
            stamp = event["params"]["timestamp"]
            if (
                snapshot is not None
                and root is not None
                and stamp - root.started_ms >= SNAPSHOT_AFTER_MS
            ):
                snapshot.print(view.render(now_ms=stamp))
                snapshot = None
        await run.output
    return view.state


async def draw_pictures() -> dict[str, str]:
    """Measure the demo team; returns each picture's SVG by file name."""
    team = build_team(scripted_model_agent)
    running = Console(record=True, width=110, file=io.StringIO())
    done = Console(record=True, width=110, file=io.StringIO())
    parallel = await _measure(team, running)
    sequential = await _measure(team.fork(sequential=True), None)
    final = LiveTree()
    final.state = parallel
    done.print(final.render())
    return {
        "team-timeline.svg": timeline_svg(
            [("agents in parallel", parallel), ("one after another", sequential)]
        ),
        "live-tree.svg": _offline(running.export_svg(title="python -m miniagents_lc (running)")),
        "live-tree-done.svg": _offline(done.export_svg(title="python -m miniagents_lc (done)")),
    }


def _offline(svg: str) -> str:
    """`svg` without the web fonts rich's export fetches from a CDN: the terminal's font
    falls back to the reader's monospace, and the picture loads nothing from elsewhere."""
    return _FONT_FACE.sub("", svg)


def write_pictures(folder: Path) -> list[Path]:
    """Measure the demo team and write its pictures into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, svg in asyncio.run(draw_pictures()).items():
        path = folder / name
        path.write_text(svg, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Write the pictures; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m miniagents_lc.demo.pictures",
        description="Regenerate the docs' pictures from a real offline run of the demo team.",
    )
    parser.add_argument("folder", nargs="?", default="docs/images", type=Path)
    args = parser.parse_args(argv)
    for path in write_pictures(args.folder):
        sys.stdout.write(f"wrote {path}\n")
    return 0


__all__ = [
    "SNAPSHOT_AFTER_MS",
    "draw_pictures",
    "main",
    "write_pictures",
]


if __name__ == "__main__":
    sys.exit(main())
