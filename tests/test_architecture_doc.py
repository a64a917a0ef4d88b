"""The layer diagram of `docs/architecture.md` draws the imports the code has: a solid arrow for
each layer that imports another at module level, a dotted one for each that does so only inside
a function (when first needed), and no arrow the code does not have."""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_layers import imports_of, module_name, package_files

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

#: The diagram's nodes that stand for layers of the package, by the layer's name.
NODES = {
    "promising": "promising",
    "messages": "messages",
    "agents": "agents",
    "lcadapters": "langchain",
    "protocol": "protocol",
    "view": "view",
}

ARROW = re.compile(r"^\s*(\w+)\s*(-->|-\.->)(?:\|[^|]*\|)?\s*(\w+)\s*$")


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "miniagents_lc" or len(parts) < 2 or parts[1] not in NODES.values():
        return None
    return parts[1]


def _code_edges() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(layer, layer it imports) at module level, and those imported inside functions only."""
    at_module_level: set[tuple[str, str]] = set()
    in_functions: set[tuple[str, str]] = set()
    for path in package_files():
        importer = _layer(module_name(path))
        for _line, target, in_function in imports_of(path):
            imported = _layer(target)
            if importer is None or imported is None or importer == imported:
                continue
            (in_functions if in_function else at_module_level).add((importer, imported))
    return at_module_level, in_functions - at_module_level


def _diagram_edges() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(solid arrows, dotted arrows) between the layers of the doc's first diagram."""
    text = DOC.read_text(encoding="utf-8")
    diagram = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    solid: set[tuple[str, str]] = set()
    dotted: set[tuple[str, str]] = set()
    for line in diagram.splitlines():
        match = ARROW.match(line)
        if match and match[1] in NODES and match[3] in NODES:
            edge = (NODES[match[1]], NODES[match[3]])
            (solid if match[2] == "-->" else dotted).add(edge)
    return solid, dotted


def test_the_solid_arrows_are_the_module_level_imports_between_layers() -> None:
    assert _diagram_edges()[0] == _code_edges()[0]


def test_the_dotted_arrows_are_the_imports_made_inside_functions_only() -> None:
    assert _diagram_edges()[1] == _code_edges()[1]


def test_the_doc_names_every_instrument_of_the_package() -> None:
    """Each module that plugs into the agents as an `Instrument` is named in the doc."""
    instruments = sorted(
        str(path.relative_to(path.parents[1]))
        for path in package_files()
        if re.search(r"^class \w+\((Instrument|AgentTreeEvents)\)", path.read_text("utf-8"), re.M)
    )
    text = DOC.read_text(encoding="utf-8")
    assert instruments
    assert [module for module in instruments if f"`{module}`" not in text] == []
