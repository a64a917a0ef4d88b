"""Every install command the project shows works from a clone, as written.

Nothing of this project is published on a package index, so an install instruction must name
its projects by their folder in the clone (`pip install -e ".[remote]"`, run from the clone's
root), never by distribution name (`pip install 'miniagents-lc[remote]'` fails). The commands
are found in the READMEs and the docs (code blocks and inline code) and in the strings of the
shipped Python code (`ImportError` messages, docstrings, the test kits' `INSTALL`), then
checked against the `pyproject.toml`s of the clone: each folder is a project, each extra
exists, each project the installed ones depend on is installed by the same command, and any
other requirement is a well-formed name of a published distribution.

The docs' home page repeats the README's two commands verbatim.
"""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
PIP_INSTALL = re.compile(r"pip install (?P<arguments>[^`\n]*)")
# A requirement on a published distribution: a PEP 508 name, optional extras and version.
PUBLISHED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[\w,-]+\])?([<>=!~]=?[\w.*,<>=!~]+)?$")
# `<install>`, `{install}`: a template whose filled-in forms are checked where they are defined.
PLACEHOLDER = re.compile(r"<\w+>|\{[^}]*\}|\x00")


@cache
def projects_by_folder() -> dict[Path, str]:
    """This clone's projects: their folder (relative to the root) and distribution name."""
    found = {}
    for pyproject in [ROOT / "pyproject.toml", *sorted(ROOT.glob("adapters/*/pyproject.toml"))]:
        name = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
        found[pyproject.parent.relative_to(ROOT)] = name
    return found


@cache
def projects_by_name() -> dict[str, Path]:
    return {name: folder for folder, name in projects_by_folder().items()}


@cache
def _pyproject(name: str) -> dict[str, object]:
    data: dict[str, object] = tomllib.loads(
        (ROOT / projects_by_name()[name] / "pyproject.toml").read_text(encoding="utf-8")
    )
    return data


def _extras_of(name: str) -> set[str]:
    project = _pyproject(name)["project"]
    assert isinstance(project, dict)
    return set(project.get("optional-dependencies", {}))


def _requires(name: str, extras: set[str]) -> set[str]:
    """The names of this clone's projects that installing `name` with `extras` needs."""
    project = _pyproject(name)["project"]
    assert isinstance(project, dict)
    required = list(project.get("dependencies", []))
    for extra in extras:
        required += project["optional-dependencies"][extra]
    names = {re.split(r"[\[<>=!~; ]", requirement)[0] for requirement in required}
    return names & set(projects_by_name())


def _folder_spec(name: str) -> str:
    """How a command names the folder of project `name`, from the clone's root."""
    folder = projects_by_name()[name]
    return "." if folder == Path() else f"./{folder.as_posix()}"


def problems(arguments: str) -> list[str]:
    """What is wrong with `pip install <arguments>` run from the clone's root; [] if nothing."""
    words = shlex.split(arguments, comments=True)
    found: list[str] = []
    installed: dict[str, set[str]] = {}
    requirements: list[tuple[str, bool]] = []  # (requirement, whether it came after -e)
    editable = False
    for word in words:
        if word in ("-e", "--editable"):
            editable = True
            continue
        if word.startswith("-"):
            if word in ("-r", "--requirement", "-c", "--constraint"):
                found.append(f"{word}: a file of requirements is not checked here; list them")
            continue
        requirements.append((word, editable))
        editable = False
    if not requirements:
        found.append("installs nothing")
    for requirement, after_e in requirements:
        if requirement.startswith((".", "/")):
            match = re.fullmatch(r"(?P<path>[^\[]+)(\[(?P<extras>[^\]]*)\])?", requirement)
            assert match is not None
            folder = Path(match["path"])
            name = projects_by_folder().get(folder) if not folder.is_absolute() else None
            if name is None:
                found.append(f"{requirement}: no project of this clone in {folder}")
                continue
            extras = {extra.strip() for extra in (match["extras"] or "").split(",") if extra}
            unknown = extras - _extras_of(name)
            if unknown:
                found.append(f"{requirement}: {name} has no extra {sorted(unknown)}")
            installed.setdefault(name, set()).update(extras & _extras_of(name))
        elif after_e:
            found.append(f"-e {requirement}: an editable install needs a folder of the clone")
        elif not PUBLISHED.match(requirement):
            found.append(f"{requirement}: neither a folder of the clone nor a requirement")
        elif (name := re.split(r"[\[<>=!~]", requirement)[0]) in projects_by_name():
            found.append(
                f"{requirement}: not published; from the clone's root: pip install -e "
                f'"{_folder_spec(name)}"'
            )
    for name, extras in installed.items():
        for needed in sorted(_requires(name, extras) - set(installed)):
            found.append(
                f"{name} needs {needed}, which is not published: install "
                f'"{_folder_spec(needed)}" in the same command'
            )
    return found


@dataclass(frozen=True)
class Command:
    where: str  # file:line
    arguments: str  # what follows `pip install`


def _commands_in_text(text: str) -> list[tuple[int, str]]:
    """`pip install` commands of a markdown text (in code blocks and inline code), by line."""
    found = []
    for block in FENCE.finditer(text):
        first_line = text.count("\n", 0, block.start(2)) + 1
        for offset, line in enumerate(block[2].splitlines()):
            for part in re.split(r"&&|;|\|\|", line):
                match = PIP_INSTALL.search(part)
                if match:
                    found.append((first_line + offset, match["arguments"]))
    outside = FENCE.sub(lambda block: "\n" * block[0].count("\n"), text)
    for code in INLINE_CODE.finditer(outside):
        match = PIP_INSTALL.search(code[1])
        if match:
            found.append((outside.count("\n", 0, code.start()) + 1, match["arguments"]))
    return found


def _strings_of(source: str) -> list[tuple[int, str]]:
    """The string constants of Python source (f-strings with `\\0` for each value), by line;
    a module-level `INSTALL = "..."` is a kit's install arguments, so it reads as a command."""
    found = []
    tree = ast.parse(source)
    in_f_strings = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    for node in ast.walk(tree):
        if id(node) in in_f_strings:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "\x00" for part in node.values
            )
            found.append((node.lineno, text))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif (
            isinstance(node, ast.Assign)
            and [getattr(target, "id", None) for target in node.targets] == ["INSTALL"]
            and isinstance(node.value, ast.Constant)
        ):
            found.append((node.lineno, f"`pip install {node.value.value}`"))
    return found


@cache
def install_commands() -> tuple[Command, ...]:
    found: list[Command] = []
    markdown = [ROOT / "README.md", *ROOT.glob("adapters/*/README.md"), *ROOT.glob("docs/*.md")]
    for path in sorted(markdown):
        for line, arguments in _commands_in_text(path.read_text(encoding="utf-8")):
            found.append(Command(f"{path.relative_to(ROOT)}:{line}", arguments))
    sources = [
        *ROOT.glob("miniagents_lc/**/*.py"),
        *ROOT.glob("adapters/*/miniagents_lc_*/**/*.py"),
        *ROOT.glob("examples/*.py"),
        *ROOT.glob("benchmarks/*.py"),
    ]
    for path in sorted(sources):
        for line, text in _strings_of(path.read_text(encoding="utf-8")):
            for match in PIP_INSTALL.finditer(text):
                if not PLACEHOLDER.search(match["arguments"]):
                    at = line + text.count("\n", 0, match.start())
                    found.append(Command(f"{path.relative_to(ROOT)}:{at}", match["arguments"]))
    return tuple(found)


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [code.strip() for language, code in FENCE.findall(text) if language == "bash"][:2]


def test_the_docs_home_page_shows_the_readmes_two_commands_verbatim() -> None:
    text = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    shown = [code.strip() for language, code in FENCE.findall(text) if language == "bash"]

    assert shown[:2] == _readme_commands()


@pytest.mark.parametrize("command", install_commands(), ids=lambda command: command.where)
def test_every_install_command_works_from_a_clone_as_written(command: Command) -> None:
    assert problems(command.arguments) == [], f"{command.where}: pip install {command.arguments}"


@pytest.mark.parametrize(
    "where",
    [
        "README.md",  # command 1
        "adapters/openai/README.md",
        "adapters/anthropic/README.md",
        "docs/index.md",
        "docs/remote.md",
        "miniagents_lc/remote/__init__.py",  # the ImportError without the extra
        "miniagents_lc/testing/__init__.py",  # the kits' install arguments
        "adapters/openai/miniagents_lc_openai/testing/__init__.py",
        "adapters/anthropic/miniagents_lc_anthropic/testing/pytest_plugin.py",
    ],
)
def test_the_install_commands_are_found_where_they_are_shown(where: str) -> None:
    assert any(command.where.startswith(f"{where}:") for command in install_commands())


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ("'miniagents-lc[remote]'", "miniagents-lc[remote]: not published"),
        ("miniagents-lc-openai", "miniagents-lc-openai: not published"),
        ('-e "./adapters/openai[testing]"', "needs miniagents-lc, which is not published"),
        ('-e ".[remot]"', "has no extra ['remot']"),
        ('-e "./adapters/gemini"', "no project of this clone in adapters/gemini"),
        ("-e miniagents-lc", "an editable install needs a folder of the clone"),
        ("(from the root)", "neither a folder of the clone nor a requirement"),
    ],
)
def test_a_command_that_cannot_work_from_a_clone_is_refused_saying_why(
    arguments: str, problem: str
) -> None:
    assert any(problem in found for found in problems(arguments)), problems(arguments)


@pytest.mark.parametrize(
    "arguments",
    [
        '-e ".[dev,testing,remote]" -e "./adapters/openai[testing]"',
        '-e . -e "./adapters/anthropic"',
        "pytest pytest-asyncio",
        '-e ".[bench]"              # miniagents==0.0.35, psutil',
    ],
)
def test_a_command_that_works_from_a_clone_passes(arguments: str) -> None:
    assert problems(arguments) == []
