"""The layout's rules, read off the source: the one-way line between the gateway and the action server, the
packages' order inside the gateway, and the size limits that keep modules and functions readable.

Static (the import statements run at import time) where the rule is about the code as written;
one real import in a fresh interpreter for what the action server loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = (
    "actions",
    "background",
    "benchmarks",
    "cloudapi",
    "connectors",
    "deploy",
    "hotel",
    "sandbox",
    "tests",
)
GATEWAY = "connectors.whatsapp"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def sources() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PROJECT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def type_checking_blocks(tree: ast.Module) -> set[int]:
    """The ids of the import nodes under `if TYPE_CHECKING:`: names for annotations, never loaded, so no arrow
    (a route module names the `Gateway` that composes it)."""
    return {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for statement in node.body
        for child in ast.walk(statement)
    }


def imported_modules(path: Path) -> Iterator[str]:
    """Every project module `path` imports at run time, `from package import module` resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = type_checking_blocks(tree)
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        yield from (name for name in names if name.split(".")[0] in PROJECT_PACKAGES)


@cache
def import_graph() -> dict[str, frozenset[str]]:
    known = sources()
    return {
        name: frozenset(target for target in imported_modules(path) if target in known) for name, path in known.items()
    }


def under(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def arrows_from(package: str, to: str) -> list[str]:
    return sorted(
        f"{source} -> {target}"
        for source, targets in import_graph().items()
        if under(source, package)
        for target in targets
        if under(target, to)
    )


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("connectors", "actions"),
        ("actions", "connectors"),
        ("hotel", "connectors"),
        ("hotel", "actions"),
        ("cloudapi", "connectors"),
        ("cloudapi", "actions"),
        ("cloudapi", "hotel"),
        ("background", "connectors"),
        ("sandbox", "connectors"),
        ("sandbox", "actions"),
        *(("deploy", package) for package in ("actions", "connectors", "hotel", "cloudapi", "sandbox")),
    ],
)
def test_the_layers_import_one_way(package: str, forbidden: str) -> None:
    assert arrows_from(package, forbidden) == []


def test_the_action_server_loads_nothing_of_the_gateway() -> None:
    probe = "import sys, actions.actions; print(sorted(m for m in sys.modules if m.split('.')[0] == 'connectors'))"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def gateway_package(module: str) -> str:
    """The gateway's package a module belongs to (`store`, `agents`...), or the module itself at the top."""
    return module[len(GATEWAY) + 1 :].split(".")[0]


def package_cycle(arrows: set[tuple[str, str]]) -> list[str]:
    """One cycle among the packages, as a path that ends where it starts; empty when there is none."""
    following: dict[str, set[str]] = {}
    for source, target in arrows:
        following.setdefault(source, set()).add(target)
    done: set[str] = set()

    def visit(package: str, path: list[str]) -> list[str]:
        if package in path:
            return [*path[path.index(package) :], package]
        if package in done:
            return []
        for target in sorted(following.get(package, ())):
            if cycle := visit(target, [*path, package]):
                return cycle
        done.add(package)
        return []

    return next((cycle for package in sorted(following) if (cycle := visit(package, []))), [])


def test_the_gateway_packages_import_each_other_one_way() -> None:
    arrows = {
        (gateway_package(source), gateway_package(target))
        for source, targets in import_graph().items()
        if under(source, GATEWAY) and source != GATEWAY
        for target in targets
        if under(target, GATEWAY) and target != GATEWAY
    }
    assert package_cycle({(a, b) for a, b in arrows if a != b}) == []


def test_settings_import_no_route_module() -> None:
    assert arrows_from(f"{GATEWAY}.settings", f"{GATEWAY}.api") == []
    assert [a for a in arrows_from(f"{GATEWAY}.settings", GATEWAY) if "routes" in a] == []


@cache
def code_files() -> list[Path]:
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / line for line in tracked.stdout.split() if (ROOT / line).exists()]


def test_no_module_is_over_the_limit() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in code_files()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_the_limit() -> None:
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in code_files()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_every_package_says_what_it_holds_and_exports() -> None:
    packages = [ROOT / name for name in ("cloudapi", "hotel", "background", "actions", "connectors/whatsapp", "deploy")]
    inits = [path for package in packages for path in [package / "__init__.py", *package.glob("*/__init__.py")]]
    silent = [
        str(path.relative_to(ROOT))
        for path in inits
        if ast.get_docstring(tree := ast.parse(path.read_text(encoding="utf-8"))) is None
        or not any(
            isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in n.targets) for n in tree.body
        )
    ]
    assert silent == []
