"""The public API is declared and true: every public module says what it exports (`__all__`),
every name it lists exists, the top-level package re-exports what the API page says it does,
and every name the documentation points to can be imported."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import miniagents_lc

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "miniagents_lc"
DOCS = ROOT / "docs"

#: The packages whose public names `docs/api.md` says are also importable from `miniagents_lc`.
RE_EXPORTED = ("promising", "messages", "agents", "langchain")


def public_modules() -> list[str]:
    """Every module of the package whose dotted name has no part starting with `_`."""
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if not any(part.startswith("_") for part in parts):
            names.append(".".join(parts))
    return names


@pytest.mark.parametrize("name", public_modules())
def test_every_public_module_declares_its_exports(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{name} has no __all__ list"
    missing = [item for item in exported if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ lists names it does not define: {missing}"
    assert len(set(exported)) == len(exported), f"{name}.__all__ lists a name twice"


def test_the_api_page_promises_the_top_level_re_exports() -> None:
    # The promise this test holds the package to, as the page words it.
    assert "is\nalso importable from `miniagents_lc` itself" in (DOCS / "api.md").read_text()


@pytest.mark.parametrize("package", RE_EXPORTED)
def test_the_top_level_package_re_exports_each_layer(package: str) -> None:
    layer = importlib.import_module(f"miniagents_lc.{package}")
    absent = sorted(set(layer.__all__) - set(miniagents_lc.__all__))
    assert not absent, f"miniagents_lc does not re-export {absent} from {package}"
    assert all(getattr(miniagents_lc, name) is getattr(layer, name) for name in layer.__all__)


def documented_names() -> list[str]:
    """Every dotted name the docs render (`::: name`) or link to (`[text][name]`)."""
    found: set[str] = set()
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        found.update(re.findall(r"^::: ([\w.]+)", text, flags=re.MULTILINE))
        found.update(re.findall(r"\]\[((?:miniagents_lc|miniagents_lc_openai)[\w.]*)\]", text))
    return sorted(found)


def test_the_docs_document_names() -> None:
    assert "miniagents_lc.agents.MiniAgent" in documented_names()


@pytest.mark.parametrize("dotted", documented_names())
def test_every_documented_name_is_importable(dotted: str) -> None:
    module_name, attributes = dotted, []
    while True:
        try:
            target: object = importlib.import_module(module_name)
            break
        except ModuleNotFoundError:
            module_name, _, attribute = module_name.rpartition(".")
            assert module_name, f"{dotted}: no module of that name"
            attributes.insert(0, attribute)
    for attribute in attributes:
        assert hasattr(target, attribute), f"{dotted}: {attribute} not found"
        target = getattr(target, attribute)
