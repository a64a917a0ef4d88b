"""The repository stands alone: nothing in it reaches for reference material beside a checkout.

A clone is built, installed and tested on its own; a folder next to it (such as a `shared`
folder of notes and recordings) is not part of the product and may not exist at all.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_PARTS = "(?:fixtures|design|notes|seed|hooks)"
#: A path up and out of the checkout into `shared`, or into one of that folder's parts, written
#: as text or as `pathlib` parts.
OUTSIDE_REFERENCE = re.compile(
    rf"\.\./shared\b|\bshared/{_PARTS}\b|[\"']shared[\"']\s*/\s*[\"']{_PARTS}[\"']"
)


def tracked_files() -> list[Path]:
    """The files git tracks in this checkout (a test run outside a git checkout fails here)."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.fail(f"this check needs git and a git checkout; {ROOT} is not one")
    listed = subprocess.run(
        [git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
    ).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_the_check_sees_the_whole_repository() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in tracked_files()}

    assert {"README.md", "pyproject.toml", ".ci/run"} <= names


def test_no_tracked_file_refers_to_folders_beside_the_checkout() -> None:
    offenders = []
    for path in tracked_files():
        if path == Path(__file__).resolve() or not path.is_file():
            continue  # this file spells the patterns out; a missing one is deleted, not committed
        content = path.read_bytes()
        if b"\0" in content:
            continue  # binary
        for number, line in enumerate(content.decode("utf-8", "replace").splitlines(), 1):
            if OUTSIDE_REFERENCE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")

    assert offenders == []


# The examples are assembled from parts, so that this file's own text holds no such reference
# for a scan by other tools (the check above skips this file; a plain grep would not).
_Q, _UP, _SLASH = '"', "..", "/"


@pytest.mark.parametrize(
    "line",
    [
        f"FIXTURES = Path(__file__).parents[3].parent / {_Q}shared{_Q} / {_Q}fixtures{_Q} / "
        f"{_Q}openai_sse{_Q}",
        f"What the SDK does is listed in {_UP}/shared{_SLASH}notes/openai-streaming.md.",
        "The shapes mirror the recorded fixtures in shared/fixtures/openai_sse.",
    ],
)
def test_the_pattern_catches_references_written_in_the_usual_ways(line: str) -> None:
    assert OUTSIDE_REFERENCE.search(line) is not None
