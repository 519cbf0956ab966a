"""The core sits below the apps: it imports none of them, so any resource can use it unchanged."""

import ast
from pathlib import Path

from django.apps import apps

CORE = Path(__file__).resolve().parents[2] / "core"


def app_packages() -> set[str]:
    """The project's own apps: every installed app at the top of the tree, but the core."""
    return {config.name for config in apps.get_app_configs() if Path(config.path).parent == CORE.parent} - {"core"}


def _dynamic_import_of(call: ast.Call) -> str | None:
    """The module `import_module("x")`, `import_string("x.y")` or `__import__("x")` names, if any."""
    name = getattr(call.func, "id", getattr(call.func, "attr", None))
    if name in ("import_module", "import_string", "__import__") and call.args:
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def imported_modules(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _dynamic_import_of(node):
            found.append((node.lineno, _dynamic_import_of(node)))
    return found


def test_the_project_has_apps_besides_the_core():
    assert {"accounts", "tasks"} <= app_packages()


def test_the_core_imports_no_app():
    apps_ = app_packages()
    offending = [
        f"{path.relative_to(CORE.parent)}:{line} imports {module}"
        for path in sorted(CORE.rglob("*.py"))
        for line, module in imported_modules(path)
        if module.split(".")[0] in apps_
    ]
    assert offending == []
