"""What a new user reads first holds up: the home page points to every guide a newcomer needs,
the remote page's call runs as written, the tools page's diagrams are readable on a 1280-pixel
screen, and the benchmark runner writes its results where the docs say."""

from __future__ import annotations

import ast
import html
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from benchmarks import runner

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _section(page: str, heading: str) -> str:
    """The text of `page` under `## heading`, up to the next heading of that level."""
    text = (DOCS / page).read_text(encoding="utf-8")
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


@pytest.mark.parametrize("page", ["tools.md", "remote.md", "migration.md"])
def test_the_home_page_points_to_the_page_in_where_to_go_next(page: str) -> None:
    entries = _section("index.md", "Where to go next")
    assert re.search(rf"^- \[[^\]]+\]\({re.escape(page)}\): \S", entries, re.MULTILINE)


def test_the_remote_call_snippet_calls_inside_a_miniagents_context() -> None:
    snippet = _section("remote.md", "Call").split("```python\n", 1)[1].split("```", 1)[0]
    body = textwrap.indent(snippet, "    ")
    tree = ast.parse(f"async def _() -> None:\n{body}")
    contexts = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncWith)
        and any(ast.unparse(item.context_expr) == "MiniAgents()" for item in node.items)
    ]
    assert len(contexts) == 1, snippet
    triggers = [
        node
        for node in ast.walk(contexts[0])
        if isinstance(node, ast.Attribute) and node.attr == "trigger"
    ]
    assert triggers, "the call is not made inside `async with MiniAgents()`"


def test_the_benchmark_runner_writes_where_the_docs_and_gitignore_say() -> None:
    where = runner.DEFAULT_JSON.relative_to(ROOT).as_posix()
    assert where in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert f"The default is `{where}`." in (DOCS / "performance.md").read_text(encoding="utf-8")


#: The content column of a docs page at 1280 px (Material theme); a diagram wider than this
#: much more is scaled down until its text is too small to read.
CONTENT_WIDTH = 690
MOST_SCALED = 0.75


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        required = os.environ.get("MINIAGENTS_LC_REQUIRE", "").split(",")
        if "chromium" in required:
            pytest.fail("chromium is required (MINIAGENTS_LC_REQUIRE) but is not on PATH")
        reason = "chromium is not installed: the diagrams' width is not measured"
        print(f"skipped: {reason}")
        pytest.skip(reason)
    return found


def test_the_tools_page_diagrams_are_readable_at_1280_pixels(tmp_path: Path) -> None:
    chromium = _chromium()
    text = (DOCS / "tools.md").read_text(encoding="utf-8")
    diagrams = [block.split("```", 1)[0] for block in text.split("```mermaid\n")[1:]]
    assert diagrams
    mermaid = (DOCS / "assets" / "javascripts" / "mermaid.min.js").as_uri()
    page = tmp_path / "diagrams.html"
    page.write_text(
        f'<html><body><script src="{mermaid}"></script>'
        + "".join(f'<pre class="mermaid">{html.escape(diagram)}</pre>' for diagram in diagrams)
        + "<script>mermaid.initialize({startOnLoad: false}); mermaid.run().then(() => {"
        "document.title = 'widths:' + [...document.querySelectorAll('svg')]"
        ".map(svg => Math.round(svg.viewBox.baseVal.width)).join(',')});</script>"
        "</body></html>",
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            str(chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,1024",
            "--virtual-time-budget=15000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    title = re.search(r"<title>widths:([\d,]+)</title>", done.stdout)
    assert title, f"mermaid did not render the diagrams: {done.stderr[-2000:]}"
    widths = [int(width) for width in title.group(1).split(",")]
    assert len(widths) == len(diagrams)
    too_wide = [width for width in widths if CONTENT_WIDTH / width < MOST_SCALED]
    assert too_wide == [], f"diagrams {widths} px wide in a {CONTENT_WIDTH} px column"
