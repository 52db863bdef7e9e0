"""The import rules of the layout (DESIGN.md, apps/data_api/__init__.py), read from the source:
no import loop anywhere, and each package imports only what lies below it. Imports inside
functions and under TYPE_CHECKING count: a loop a reader must follow is a loop."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mortar", "apps", "models_registry")

DATA_API_STAGES = [f"apps.data_api.{stage}" for stage in
                   ("views", "urls", "request", "write", "read", "schema")]
# (importer, what it must never import): a module's name or a package's prefix.
RULES = [
    ("models_registry", ["apps", "mortar", "graphql", "graphene", "graphene_django"]),
    ("apps", ["mortar"]),
    ("apps.ratelimit", ["apps.identity", "apps.data_api", "apps.rest_api", "apps.watch",
                        "apps.webhooks", "apps.audit"]),
    ("apps.identity", ["apps.data_api", "apps.rest_api", "apps.watch", "apps.webhooks",
                       "apps.audit"]),
    # REST endpoints, watchers and webhooks use the data API, which knows nothing of them
    ("apps.data_api", ["apps.rest_api", "apps.watch", "apps.webhooks", "apps.audit"]),
    # the change feed's two readers are independent of each other
    ("apps.watch", ["apps.webhooks", "apps.rest_api", "apps.audit"]),
    ("apps.webhooks", ["apps.watch", "apps.rest_api", "apps.audit"]),
    # the audit log listens to identity and the data API (their signals): no app knows of it
    ("apps.rest_api", ["apps.audit"]),
    # the request stage uses the others; write/ may read records back through read/
    ("apps.data_api.read", ["apps.data_api.write", "apps.data_api.request",
                            "apps.data_api.schema", "apps.data_api.views"]),
    ("apps.data_api.write", ["apps.data_api.request", "apps.data_api.schema",
                             "apps.data_api.views"]),
    ("apps.data_api.schema", ["apps.data_api.read", "apps.data_api.write",
                              "apps.data_api.request", "apps.data_api.views"]),
    ("apps.data_api.sql", ["apps.data_api."]),  # only itself (checked below)
    # shared by every stage, so beneath them all
    *[(f"apps.data_api.{low}", DATA_API_STAGES)
      for low in ("errors", "kinds", "context", "freshness", "cors")],
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imported_names(name: str, path: Path) -> set[str]:
    """Every dotted name `name`'s module imports (relative imports resolved); for
    `from x import y`, both x and x.y (y may be a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports."""
    modules = project_modules()
    return {name: {i for i in imported_names(name, path) if i in modules and i != name}
            for name, path in modules.items()}


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in graph[node]:
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix.rstrip(".") + ".")


def test_no_import_loop_anywhere():
    assert loops(import_graph()) == []


def test_the_loop_finder_finds_a_loop():
    assert loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("importer, forbidden", RULES, ids=[rule[0] for rule in RULES])
def test_each_package_imports_only_what_lies_below_it(importer, forbidden):
    broken = []
    for name, path in project_modules().items():
        if not within(name, importer):
            continue
        for imported in imported_names(name, path):
            for rule in forbidden:
                if within(imported, rule) and not within(imported, importer):
                    broken.append(f"{name} imports {imported}")
    assert broken == []


def test_the_data_api_stages_exist():
    """The rules above name real packages (a renamed stage would make them vacuous)."""
    modules = project_modules()
    for stage in DATA_API_STAGES + ["apps.data_api.sql"]:
        assert stage in modules, stage
