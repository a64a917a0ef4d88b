"""Imports point one way: down the layer list, never up.

`promising` (standard library only, like `per_loop`) ← `messages` ← `agents` ← `protocol` ←
`view`, `langchain` ← the test kit (`testing`: its chat-model doubles and adapter contract use
the layers below) ← `demo` (which runs on those doubles), with remote serving (`remote`, which
mounts `a2a`) and the top-level package on top.
Every import counts, wherever it is written: at module level, inside a function (a lazy import
is still a dependency) and under `TYPE_CHECKING` (a type named from a layer above ties the
lower layer to it just the same). Relative imports are resolved against their package.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "miniagents_lc"

#: Each layer may import its own modules and those of lower layers, nothing above.
LAYERS: dict[str, int] = {
    "promising": 0,
    "per_loop": 0,
    # LangChain's and LangGraph's private names, reached from here alone (see its docstring).
    "_compat": 1,
    "messages": 1,
    "agents": 2,
    "protocol": 3,
    "view": 4,
    "langchain": 4,
    # The kit's chat-model doubles are what the offline demo runs on.
    "testing": 5,
    "demo": 6,
    "remote": 6,
    "agui": 6,
    "otel": 6,
    "a2a": 6,
}
TOP = 7
"""The top-level package (`__init__`, `__main__`): above every layer."""

#: Distributions built on the project, so above every one of its layers.
ABOVE_THE_PACKAGE = ("miniagents_lc_openai", "miniagents_lc_anthropic")

#: Upward imports allowed on purpose, each inside a function only: (importing module, imported).
ALLOWED_INSIDE_FUNCTIONS = {
    # The demo runs against OpenAI only when asked to; the adapter is an optional install.
    ("miniagents_lc.demo.session", "miniagents_lc_openai"),
    # The agents' slots are filled by the layers above on an agent's first run, not when the
    # package is imported (which stays cheap): see `miniagents_lc.agents.event_streams`.
    ("miniagents_lc.agents.event_streams", "miniagents_lc.protocol"),
    ("miniagents_lc.agents.event_streams", "miniagents_lc.view"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rank(module: str) -> int | None:
    """The layer of a module of the project (`None` for anything else)."""
    if module.split(".")[0] in ABOVE_THE_PACKAGE:
        return TOP + 1
    parts = module.split(".")
    if parts[0] != "miniagents_lc":
        return None
    if len(parts) == 1 or parts[1] == "__main__":
        return TOP
    return LAYERS[parts[1]]


def imports_of(path: Path) -> Iterator[tuple[int, str, bool]]:
    """Every import in a file: (line, absolute module imported, written inside a function)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: str) -> Iterator[tuple[int, str, bool]]:
    """Every import in the source of a module of `package`."""
    tree = ast.parse(source)

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[int, str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield child.lineno, alias.name, in_function
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from package import module` imports the module when it is one.
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    target = candidate if _is_module(candidate) else base
                    yield child.lineno, target, in_function
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from walk(child, inside)

    yield from walk(tree, False)


def _is_module(dotted: str) -> bool:
    parts = dotted.split(".")
    if parts[0] != "miniagents_lc":
        return False
    base = PACKAGE_DIR.parent.joinpath(*parts)
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def package_files() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


def test_every_package_has_a_layer() -> None:
    subpackages = {path.name for path in PACKAGE_DIR.iterdir() if (path / "__init__.py").exists()}
    assert subpackages <= set(LAYERS), (
        f"give {sorted(subpackages - set(LAYERS))} a place in LAYERS in tests/test_layers.py"
    )


@pytest.mark.parametrize("path", package_files(), ids=lambda path: module_name(path))
def test_no_import_points_up(path: Path) -> None:
    importer = module_name(path)
    own = rank(importer)
    assert own is not None
    upward = [
        f"{path.relative_to(PACKAGE_DIR.parent)}:{line} imports {target} (layer {above} > {own})"
        for line, target, in_function in imports_of(path)
        if (above := rank(target)) is not None
        and above > own
        and not (in_function and _allowed_inside_functions(importer, target))
    ]
    assert not upward, "imports pointing up the layers:\n" + "\n".join(upward)


def _allowed_inside_functions(importer: str, target: str) -> bool:
    """Whether `ALLOWED_INSIDE_FUNCTIONS` lets `importer` import `target` (or a module in it)."""
    return any(
        importer == allowed_importer and (target == allowed or target.startswith(f"{allowed}."))
        for allowed_importer, allowed in ALLOWED_INSIDE_FUNCTIONS
    )


@pytest.mark.parametrize(
    "path", sorted((PACKAGE_DIR / "promising").rglob("*.py")), ids=lambda path: path.name
)
def test_the_engine_needs_the_standard_library_only(path: Path) -> None:
    foreign = [
        f"{path.name}:{line} imports {target}"
        for line, target, _ in imports_of(path)
        if target.split(".")[0] not in {*sys.stdlib_module_names, "miniagents_lc", "__future__"}
    ]
    assert not foreign, "\n".join(foreign)


def test_the_demo_loads_the_openai_adapter_only_when_asked() -> None:
    cli = PACKAGE_DIR / "demo" / "session.py"
    at_module_level = [
        line
        for line, target, in_function in imports_of(cli)
        if target.startswith("miniagents_lc_openai") and not in_function
    ]
    assert at_module_level == []
    assert any(target.startswith("miniagents_lc_openai") for _, target, _ in imports_of(cli))


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from miniagents_lc.protocol import EventLog\n", "miniagents_lc.protocol"),
        (
            "def f():\n    from miniagents_lc.langchain import chat_model\n",
            "miniagents_lc.langchain.chat_model",
        ),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..demo import cli\n",
            "miniagents_lc.demo.cli",
        ),
    ],
    ids=["module level", "inside a function", "relative, under TYPE_CHECKING"],
)
def test_the_check_sees_every_kind_of_import(source: str, found: str) -> None:
    targets = [target for _, target, _ in imports_in(source, "miniagents_lc.agents")]
    assert found in targets
    assert all((rank(target) or 0) > LAYERS["agents"] for target in targets if target == found)
