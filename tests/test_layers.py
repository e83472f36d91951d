"""The arrows point one way: bot → handlers → storage, scheduler → handlers/storage — and SQL lives in storage.

Inside `handlers/` the floors are: `language` (reading Chinese) at the bottom, `core` (the
framework) above it, the feature packages above both in a fixed order, and `app.py` (which
includes every router) on top. A feature may use a feature below it, never one above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "handlers": {"telegram", "wechatpy", "bot", "scheduler", "aiohttp", "starlette", "sqlalchemy", "redis"},
    "storage": {"telegram", "wechatpy", "bot", "handlers", "scheduler", "starlette"},
    "scheduler": {"telegram", "wechatpy", "bot", "sqlalchemy"},
    "bot": {"sqlalchemy"},
}

# Calls that run SQL: only storage/ makes them on a session.
SQL_CALLS = {"execute", "scalar", "scalars", "get", "add", "add_all", "delete", "flush", "refresh", "merge",
             "begin_nested", "stream", "stream_scalars"}

# handlers' packages, top floor first: a package may import only those after it.
HANDLER_FLOORS = ["app", "people", "tasks", "activities", "programmes", "datamap", "core", "language"]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _imported_modules(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_layer_may(package: str) -> None:
    bad = {}
    for path in _sources(package):
        tops = {m.split(".")[0] for m in _imported_modules(_tree(path))}
        if hit := sorted(tops & FORBIDDEN[package]):
            bad[str(path.relative_to(ROOT))] = hit
    assert bad == {}


def _session_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        if "session" in node.attr:
            return node.attr
        node = node.value
    if isinstance(node, ast.Name) and "session" in node.id:
        return node.id
    return None


@pytest.mark.parametrize("package", ["handlers", "scheduler", "bot"])
def test_no_sql_outside_storage(package: str) -> None:
    """A session is only passed around above storage/: `session.execute(...)`, `.get(...)`, `.add(...)` are storage's."""
    bad = []
    for path in _sources(package):
        for node in ast.walk(_tree(path)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in SQL_CALLS and _session_name(node.func.value)):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node.func)}")
    assert bad == []


def _floor(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "handlers" or len(parts) < 2:
        return None
    return HANDLER_FLOORS.index(parts[1]) if parts[1] in HANDLER_FLOORS else None


def test_handler_packages_import_only_downward() -> None:
    """language < core < datamap < programmes < activities < tasks < people < app."""
    assert sorted(p.name for p in (ROOT / "handlers").iterdir() if p.is_dir() and p.name != "__pycache__") == \
        sorted(HANDLER_FLOORS[1:])
    bad = []
    for path in _sources("handlers"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        own = _floor(module)
        if own is None:
            continue
        for target in _imported_modules(_tree(path)):
            floor = _floor(target)
            if floor is not None and floor < own:
                bad.append(f"{module} → {target}")
    assert bad == []
