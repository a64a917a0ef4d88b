"""Package boundaries you can see: what one package may use of another.

- A package uses another through its public face only: names it exports from the package
  itself, from its named low-level module (`promising.lowlevel`, `agents.lowlevel`, ...), or from
  a module listed below as public. Never a `_` name, never a `_` module, never a `_` attribute
  that only another package defines.
- LangChain's and LangGraph's private names are reached from `miniagents_lc._compat` alone.
- No import cycle inside a package, counting every import that runs: at module level and
  inside functions alike (a lazy import is still a call back into the module it names). Imports
  under `TYPE_CHECKING` only name types, for annotations; they are how two modules refer to
  each other's types without depending on each other.

Packages are the subpackages of `miniagents_lc` (its top-level modules count as one package)
and the adapters' distributions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (
    ROOT / "miniagents_lc",
    ROOT / "adapters" / "openai" / "miniagents_lc_openai",
    ROOT / "adapters" / "anthropic" / "miniagents_lc_anthropic",
)

#: Modules other packages may import from besides a package's root and its `lowlevel`: entry
#: points and the documented pieces of the demo and the test kit.
PUBLIC_MODULES = frozenset(
    {
        "miniagents_lc.per_loop",
        "miniagents_lc.demo.cli",
        "miniagents_lc.demo.team",
        "miniagents_lc.testing.chat_models",
        "miniagents_lc.testing.pytest_support",
    }
)

#: The one module allowed to name third-party privates (and to be imported across packages
#: despite its underscore).
COMPAT = "miniagents_lc._compat"
THIRD_PARTY_WATCHED = ("langchain", "langchain_core", "langgraph", "langsmith")


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module

    @property
    def package(self) -> str:
        return package_of(self.name)

    @property
    def parent(self) -> str:
        """The package relative imports start from."""
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]


def package_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "miniagents_lc":
        return parts[0]
    if len(parts) == 1 or parts[1].startswith("_") or parts[1] == "per_loop":
        return "miniagents_lc"  # the top-level modules (and `_compat`, `per_loop`)
    return ".".join(parts[:2])


def project_modules() -> list[Module]:
    modules = []
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            parts = path.relative_to(source.parent).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules.append(Module(name, path, ast.parse(path.read_text(encoding="utf-8"))))
    return modules


MODULES = project_modules()


def exports(module: Module) -> frozenset[str]:
    """The names in a module's `__all__` (a literal list or tuple of strings)."""
    for node in module.tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            and isinstance(node.value, ast.List | ast.Tuple)
        ):
            return frozenset(
                e.value
                for e in node.value.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            )
    return frozenset()


#: What each package exports from its `__init__`.
EXPORTS = {m.name: exports(m) for m in MODULES if m.path.name == "__init__.py"}


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.parent.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports(module: Module) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module imported, names imported from it) for every import of `module`."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, absolute(module, node), [alias.name for alias in node.names]


def cross_package_import_problems(module: Module) -> Iterator[str]:
    where = f"{module.path.relative_to(ROOT)}"
    for line, imported, names in imports(module):
        top = imported.split(".")[0]
        if top in THIRD_PARTY_WATCHED and module.name != COMPAT:
            private = [p for p in imported.split(".") if is_private(p)]
            private += [n for n in names if is_private(n)]
            if private:
                yield f"{where}:{line}: {imported} {private} (third-party privates go in {COMPAT})"
            continue
        if not imported.startswith("miniagents_lc") or package_of(imported) == module.package:
            continue
        if imported == COMPAT:
            continue
        private = [p for p in imported.split(".") if is_private(p)]
        private += [n for n in names if is_private(n)]
        if private:
            yield f"{where}:{line}: imports private {private} of {imported}"
            continue
        package = package_of(imported)
        allowed = {package, f"{package}.lowlevel", *PUBLIC_MODULES}
        exported = EXPORTS.get(package, frozenset())
        if names == [imported.rpartition(".")[2]] and names[0] in exported:
            # A public function named like its module (`langchain.tool_agent`): mypy reads
            # the package's attribute as the module, so it is imported from the module.
            continue
        if imported not in allowed and not any(
            f"{imported}.{name}" in allowed or f"{imported}.{name}" == COMPAT for name in names
        ):
            yield f"{where}:{line}: imports {imported}, not the public face of {package}"


def test_no_package_imports_what_another_package_keeps_to_itself() -> None:
    problems = [p for module in MODULES for p in cross_package_import_problems(module)]
    assert not problems, "\n".join(problems)


def private_names_defined(modules: list[Module]) -> dict[str, set[str]]:
    """For each `_` name, the packages that define it (as a function, class, attribute
    assigned on anything, slot or module-level name)."""
    defined: dict[str, set[str]] = {}

    def define(name: str, package: str) -> None:
        if is_private(name):
            defined.setdefault(name, set()).add(package)

    for module in modules:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                define(node.name, module.package)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                define(node.attr, module.package)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                define(node.id, module.package)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                define(node.target.id, module.package)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                # `__slots__ = ("_a", "_b")` defines attributes too.
                define(node.value, module.package)
    return defined


def test_no_package_reads_a_private_attribute_only_another_package_defines() -> None:
    defined = private_names_defined(MODULES)
    problems = []
    for module in MODULES:
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Attribute) or not is_private(node.attr):
                continue
            owners = defined.get(node.attr, set())
            if owners and module.package not in owners:
                problems.append(
                    f"{module.path.relative_to(ROOT)}:{node.lineno}: reads .{node.attr}, "
                    f"defined only in {sorted(owners)}"
                )
    assert not problems, "\n".join(problems)


def runtime_imports(module: Module) -> Iterator[tuple[int, str, list[str]]]:
    """The imports of `module` that run: at module level and inside functions (a lazy import
    still calls back into the module it names), not those under `if TYPE_CHECKING:`, which
    only name types (how Python spells a forward reference between two modules)."""

    def walk(node: ast.AST) -> Iterator[tuple[int, str, list[str]]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                yield from (item for stmt in child.orelse for item in walk_one(stmt))
                continue
            yield from walk_one(child)

    def walk_one(node: ast.AST) -> Iterator[tuple[int, str, list[str]]]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, absolute(module, node), [alias.name for alias in node.names]
        else:
            yield from walk(node)

    return walk(module.tree)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def internal_imports(module: Module, names: set[str]) -> set[str]:
    """The modules of `names` (its own package's) that `module` imports when it runs."""
    found = set()
    for _line, imported, from_names in runtime_imports(module):
        for candidate in (imported, *(f"{imported}.{name}" for name in from_names)):
            if candidate in names and candidate != module.name:
                found.add(candidate)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


PACKAGES = sorted({module.package for module in MODULES})


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside_a_package(package: str) -> None:
    names = {module.name for module in MODULES if module.package == package}
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        if module.package != package or module.path.name == "__init__.py":
            continue
        # A package's `__init__` re-exports its modules: importing a sibling through it is
        # importing that sibling's public face, not a cycle through the package.
        graph[module.name] = internal_imports(module, names) - {package}
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from miniagents_lc.agents.runnable import _AgentRun\n", "imports private"),
        ("from miniagents_lc.agents.agent import MiniAgent\n", "not the public face"),
        ("from langchain_core.tracers._streaming import X\n", "third-party privates"),
    ],
)
def test_the_import_check_catches_what_it_forbids(source: str, expected: str) -> None:
    path = ROOT / "miniagents_lc" / "view" / "example.py"
    module = Module("miniagents_lc.view.example", path, ast.parse(source))
    problems = list(cross_package_import_problems(module))
    assert len(problems) == 1
    assert expected in problems[0]


def test_the_cycle_check_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
