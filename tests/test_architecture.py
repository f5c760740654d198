"""The layout's rules (see the README's "Development"): a core without discord.py, no import
cycles in bot/, and no function-local imports of bot modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
#: Packages and modules that never load discord.py (render.targets is where replies meet it).
CORE = (
    "nexai",
    "storage",
    "quota",
    "chat",
    "render",
    "media",
    "i18n",
    "errors",
    "config",
    "catalog",
)
DISCORD_SIDE = {"bot.render.targets"}
#: Imports inside a function that are there for start-up speed or memory, not to dodge a cycle.
LATE_IMPORTS = {
    ("bot.__main__", "bot.app"),
    ("bot.__main__", "bot.storage.copy"),
    ("bot.__main__", "bot.storage.postgres"),
    ("bot.storage.backends", "bot.storage.postgres"),
}
#: Libraries a started bot holds only once a feature uses them (each costs MiB of RSS).
LOADED_WHEN_USED = ("av", "pypdf", "PIL", "asyncpg", "matplotlib", "numpy", "prometheus_client")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def bot_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(BOT.rglob("*.py"))}


def core_modules() -> list[str]:
    names = bot_modules()
    return [
        name
        for name in names
        if name.split(".")[1:2] and name.split(".")[1] in CORE and name not in DISCORD_SIDE
    ]


def imported(node: ast.Import | ast.ImportFrom, here: str) -> Iterator[str]:
    """The bot modules an import statement loads."""
    modules = bot_modules()
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name in modules)
        return
    if node.module is None or not node.module.startswith("bot"):
        return
    for alias in node.names:
        candidate = f"{node.module}.{alias.name}"
        yield candidate if candidate in modules else node.module


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported (not those for type checkers only)."""
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif (isinstance(node, ast.If) and not is_type_checking(node)) or isinstance(node, ast.Try):
            yield from (n for n in node.body if isinstance(n, ast.Import | ast.ImportFrom))


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in bot_modules().items():
        tree = ast.parse(path.read_text())
        graph[name] = {
            target
            for node in top_level_imports(tree)
            for target in imported(node, name)
            if target != name
        }
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(graph.get(node, ())):
            if cycle := visit(target):
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if cycle := visit(node):
            return cycle
    return None


def test_the_core_never_loads_discord() -> None:
    """Should import the API client, storage, quotas, chat, rendering and i18n in a fresh
    interpreter without loading discord.py."""
    modules = core_modules()
    assert len(modules) > 25
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('discord' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "False"


def test_a_started_bot_loads_heavy_libraries_only_when_used() -> None:
    """Should import the command line (what `nexbot run` loads) and every cog without PyAV,
    pypdf, Pillow, asyncpg, matplotlib, numpy, prometheus-client or aiohttp's server: together
    about 33 MiB of RSS that a bot which never transcodes, reads a PDF, uses PostgreSQL or
    serves metrics should not hold."""
    cogs = sorted(path.stem for path in (ROOT / "cogs").glob("*.py") if path.stem != "__init__")
    code = (
        "import sys\nimport bot.__main__\n"
        f"for c in {cogs!r}: __import__('cogs.' + c)\n"
        f"loaded = {{m.split('.')[0] for m in sys.modules}} & {set(LOADED_WHEN_USED)!r}\n"
        "print(sorted(loaded | ({'aiohttp.web'} & set(sys.modules))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"


def test_no_import_cycles_in_bot() -> None:
    assert find_cycle(import_graph()) is None


def test_find_cycle_sees_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.mark.parametrize("name", sorted(bot_modules()))
def test_bot_modules_are_imported_at_the_top(name: str) -> None:
    """Should import bot modules at module level: a function-local import hides a cycle."""
    tree = ast.parse(bot_modules()[name].read_text())
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in imported(node, name):
                    assert (name, target) in LATE_IMPORTS, f"{name} imports {target} late"


def test_package_inits_only_re_export() -> None:
    for path in BOT.rglob("__init__.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            is_all = isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
            )
            assert is_docstring or is_all or isinstance(node, ast.ImportFrom), path
