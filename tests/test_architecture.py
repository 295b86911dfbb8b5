"""The layout stays true: bot/ imports go one way (channels and tools -> core -> language, knowledge, flows, desk
-> storage -> the base modules), without cycles, and another package is imported through its __init__ (its
__all__), never through one of its modules. Read with ast, so it also sees imports inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
BASE = ("bot", "bot.config", "bot.errors", "bot.messages", "bot.contentfiles", "bot.yamlfile", "bot.redact")
EDGE = ("bot.cli", "bot.app", "bot.__main__")
# rank of each package: an import may only go to the same rank (without a cycle) or a lower one
RANKS = {"base": 0, "storage": 1, "language": 2, "knowledge": 2, "flows": 2, "desk": 2, "core": 3, "channels": 4, "tools": 4,
         "edge": 5}


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(BOT.parent).with_suffix("").parts).removesuffix(".__init__")


def package(module: str) -> str:
    if module in BASE:
        return "base"
    if module in EDGE:
        return "edge"
    return module.split(".")[1]


def imports(path: Path, modules: set[str]) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names) of every absolute import of a bot module in this file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names if alias.name.startswith("bot")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bot":
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            names = [alias.name for alias in node.names]
            # "from bot.core import answer" imports the module bot.core.answer
            submodules = [f"{node.module}.{name}" for name in names if f"{node.module}.{name}" in modules]
            found.append((node.lineno, node.module, [name for name in names if f"{node.module}.{name}" not in modules]))
            found += [(node.lineno, sub, []) for sub in submodules]
    return found


def public_names(init: Path) -> set[str]:
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


FILES = {module_name(path): path for path in BOT.rglob("*.py") if "migrations" not in path.parts}
MODULES = set(FILES)
GRAPH = {module: imports(path, MODULES) for module, path in FILES.items()}


def test_every_module_has_a_layer() -> None:
    unknown = sorted(module for module in MODULES if package(module) not in RANKS)
    assert not unknown, f"modules outside the layout (add them to a package, or to BASE/EDGE here): {unknown}"


def test_no_import_goes_up_a_layer() -> None:
    upward = [f"{FILES[module].relative_to(BOT.parent)}:{line} imports {target} ({package(module)} may not use {package(target)})"
              for module, found in GRAPH.items() for line, target, _ in found
              if target in MODULES and RANKS[package(target)] > RANKS[package(module)]]
    assert not upward, "\n".join(upward)


def test_other_packages_are_imported_through_their_init() -> None:
    """``from bot.knowledge import decide``, not ``from bot.knowledge.retrieval import decide``: a package's
    modules are its own business; its __init__ names what others may use (a module named there, like the
    tools, counts too)."""
    wrong = []
    for module, found in GRAPH.items():
        for line, target, names in found:
            if target not in MODULES or package(target) in ("base", "edge") or package(target) == package(module):
                continue
            init = FILES[target]
            parent = target.rsplit(".", 1)[0]
            if init.name != "__init__.py":  # a module: allowed only when its package's __init__ names it
                if target.rsplit(".", 1)[1] not in public_names(FILES[parent]):
                    wrong.append(f"{FILES[module].relative_to(BOT.parent)}:{line} imports the module {target}")
                continue
            hidden = sorted(set(names) - public_names(init))
            if hidden:
                wrong.append(f"{FILES[module].relative_to(BOT.parent)}:{line} imports {hidden} from {target}, not in its __all__")
    assert not wrong, "\n".join(wrong)


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of this graph, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_no_module_imports_itself_through_others() -> None:
    edges = {module: {target for _, target, _ in found if target in MODULES and target != module and not FILES[target].name == "__init__.py"}
             for module, found in GRAPH.items()}
    found = cycle(edges)
    assert found is None, " -> ".join(found or [])


def test_packages_form_no_cycle() -> None:
    edges: dict[str, set[str]] = {}
    for module, found in GRAPH.items():
        for _, target, _ in found:
            if target in MODULES and package(target) != package(module):
                edges.setdefault(package(module), set()).add(package(target))
    found = cycle(edges)
    assert found is None, " -> ".join(found or [])


@pytest.mark.parametrize("package_dir", sorted(path.parent for path in BOT.rglob("__init__.py") if "migrations" not in path.parts),
                         ids=lambda path: str(path.relative_to(BOT.parent)))
def test_every_package_says_what_it_is_and_names_its_entry_points(package_dir: Path) -> None:
    init = package_dir / "__init__.py"
    tree = ast.parse(init.read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree)
    assert docstring and "\n" not in docstring.strip(), f"{init}: a one-line docstring says what the package owns"
    if package_dir != BOT:
        names = public_names(init)
        assert names, f"{init}: __all__ names its public entry points"
        defined = {alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names}
        submodules = {path.stem for path in package_dir.glob("*.py")} | {path.name for path in package_dir.iterdir() if path.is_dir()}
        assert names <= defined | submodules, f"{init}: __all__ names what it does not import: {sorted(names - defined - submodules)}"


@pytest.mark.parametrize("package_dir", sorted(path.parent for path in BOT.rglob("__init__.py") if "migrations" not in path.parts),
                         ids=lambda path: str(path.relative_to(BOT.parent)))
def test_no_package_hides_one_of_its_modules_behind_a_name(package_dir: Path) -> None:
    """``from bot.flows.extract import extract`` in flows/__init__ would make ``bot.flows.extract`` the function, so that
    ``import bot.flows.extract as module`` (or a monkeypatch of it) no longer finds the module."""
    tree = ast.parse((package_dir / "__init__.py").read_text(encoding="utf-8"))
    submodules = {path.stem for path in package_dir.glob("*.py")} | {path.name for path in package_dir.iterdir() if path.is_dir()}
    hiding = sorted(alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                    for alias in node.names if (alias.asname or alias.name) in submodules
                    and f"{node.module}.{alias.name}" != f"{module_name(package_dir / '__init__.py')}.{alias.asname or alias.name}")
    assert not hiding, f"{package_dir / '__init__.py'} binds names of its own modules to something else: {hiding}"


def test_the_check_sees_a_cycle_and_an_upward_import() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
    assert RANKS[package("bot.storage.repository")] < RANKS[package("bot.core.router")]
    assert package("bot.config") == "base" and package("bot.cli") == "edge"
