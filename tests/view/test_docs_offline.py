"""The docs build strictly and work offline: no page loads a script, a stylesheet or a picture
from another host, the diagrams' renderer ships with the site, and the pictures are there."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FETCH = re.compile(r"url\(\s*[\"']?(https?:)?//")


class _References(HTMLParser):
    """Every script, stylesheet and image a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.scripts.append(found["src"] or "")
        elif tag == "link" and "stylesheet" in (found.get("rel") or "") and found.get("href"):
            self.stylesheets.append(found["href"] or "")
        elif tag == "img" and found.get("src"):
            self.images.append(found["src"] or "")


def _external(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert build.returncode == 0, f"the docs do not build strictly:\n{build.stderr}"
    return folder


def _pages(site: Path) -> dict[Path, _References]:
    pages = {}
    for page in site.rglob("*.html"):
        references = _References()
        references.feed(page.read_text(encoding="utf-8"))
        pages[page] = references
    return pages


def test_no_page_loads_anything_from_another_host(site: Path) -> None:
    pages = _pages(site)
    assert len(pages) > 5
    for page, references in pages.items():
        loaded = references.scripts + references.stylesheets + references.images
        assert [url for url in loaded if _external(url)] == [], page


def test_pages_with_diagrams_load_the_shipped_renderer(site: Path) -> None:
    page = site / "architecture" / "index.html"
    assert 'class="mermaid"' in page.read_text(encoding="utf-8")
    scripts = _pages(site)[page].scripts
    renderer = [src for src in scripts if src.endswith("mermaid.min.js")]
    assert renderer, scripts
    assert (page.parent / renderer[0]).resolve().stat().st_size > 1_000_000


def test_the_shipped_renderer_names_no_path_outside_the_repository() -> None:
    # The bundler labels its modules with the paths it built them from; the copy shortens them.
    renderer = (ROOT / "docs" / "assets" / "javascripts" / "mermaid.min.js").read_text("utf-8")
    assert re.findall(r"\"(?:\.\./)+[\w.@-]+/", renderer) == []
    assert renderer.count('"node_modules/.pnpm/') > 40  # the labels are there, shortened


def test_the_shipped_renderer_quotes_no_shared_folder_name() -> None:
    # Langium's `shared` getter keeps its display name, written as a template literal (mkdocs.yml).
    renderer = (ROOT / "docs" / "assets" / "javascripts" / "mermaid.min.js").read_text("utf-8")
    assert re.findall(r"[\"']shared[\"']", renderer) == []
    assert renderer.count("E(()=>e.shared,`shared`)") == 1


@pytest.mark.parametrize(
    ("page", "picture"),
    [
        ("index.html", "images/live-tree.svg"),
        ("concepts/index.html", "images/team-timeline.svg"),
        ("view/index.html", "images/team-timeline.svg"),
        ("view/index.html", "images/live-tree.svg"),
        ("view/index.html", "images/live-tree-done.svg"),
    ],
)
def test_the_pictures_are_shown(site: Path, page: str, picture: str) -> None:
    images = _pages(site)[site / page].images
    shown = [src for src in images if src.endswith(picture)]
    assert shown, images
    svg = (site / page).parent.joinpath(shown[0]).resolve().read_text(encoding="utf-8")
    assert svg.startswith("<svg")
    assert not FETCH.search(svg), f"{picture} fetches a resource from another host"
