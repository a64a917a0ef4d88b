"""`python -m miniagents_lc.demo.pictures` draws the docs' pictures from a real run."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from miniagents_lc.demo.pictures import write_pictures

SVG = "{http://www.w3.org/2000/svg}"
FETCH = re.compile(r"url\(\s*[\"']?(https?:)?//")
TEAM = ["team", "researcher", "researcher-model", "skeptic", "skeptic-model", "planner"]


def test_the_pictures_show_the_demo_team_measured_in_parallel_and_in_sequence(
    tmp_path: Path,
) -> None:
    paths = write_pictures(tmp_path)
    assert sorted(path.name for path in paths) == [
        "live-tree-done.svg",
        "live-tree.svg",
        "team-timeline.svg",
    ]
    timeline = ET.parse(tmp_path / "team-timeline.svg").getroot()
    titles = [text.text or "" for text in timeline.iter(f"{SVG}text") if "—" in (text.text or "")]
    parallel, sequential = (float(title.split("—")[1].split()[0]) for title in titles)
    assert parallel * 1.5 < sequential
    agents = [text.text for text in timeline.iter(f"{SVG}text") if text.get("class") == "agent"]
    assert agents[: len(TEAM)] == TEAM
    assert agents.count("estimator-model") == 2
    for path in paths:
        assert not FETCH.search(path.read_text(encoding="utf-8")), f"{path.name} fetches"
    running = _states((tmp_path / "live-tree.svg").read_text(encoding="utf-8"))
    assert {"streaming", "waiting"} <= set(running)
    assert _states((tmp_path / "live-tree-done.svg").read_text(encoding="utf-8")) == ["done"] * 9


def _states(svg: str) -> list[str]:
    """The state shown after each agent's name (rich writes spaces as `&#160;`)."""
    return re.findall(r"&#160;&#160;(waiting|streaming|done|failed)&#160;\d", svg)
