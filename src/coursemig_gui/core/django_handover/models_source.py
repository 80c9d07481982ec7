"""Reading and editing an app's ``models.py`` with Python's ``ast``: never imported, never run.

Edits are made on the original text (byte offsets from the syntax tree), so everything the
developer wrote — comments, layout, quotes — stays as it was apart from the added keywords.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path

# Folders that hold no app of the project (or far too many files to walk).
_SKIP_DIRS = frozenset(
    {
        "node_modules",
        "venv",
        "env",
        "site-packages",
        "__pycache__",
        "migrations",
        "static",
        "media",
        "templates",
        "dist",
        "build",
    }
)
_MAX_DEPTH = 5
_FK_CALLS = ("ForeignKey", "OneToOneField")


@dataclass
class FieldSource:
    name: str
    call: ast.Call
    column: str | None  # None for a ManyToManyField (it has a table, not a column)


@dataclass
class ModelSource:
    class_name: str
    node: ast.ClassDef
    fields: dict[str, FieldSource] = field(default_factory=dict)
    db_table: str | None = None

    def field_for_column(self, column: str) -> str | None:
        return next((f.name for f in self.fields.values() if f.column == column), None)


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == name), None)


def _constant(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _meta(node: ast.ClassDef) -> ast.ClassDef | None:
    return next((n for n in node.body if isinstance(n, ast.ClassDef) and n.name == "Meta"), None)


def _meta_db_table(meta: ast.ClassDef) -> ast.Assign | None:
    for stmt in meta.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "db_table" for t in stmt.targets
        ):
            return stmt
    return None


def read_models(tree: ast.Module) -> list[ModelSource]:
    """Every top-level class with field assignments, its fields and the column each one uses."""
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        model = ModelSource(node.name, node)
        meta = _meta(node)
        assign = _meta_db_table(meta) if meta else None
        model.db_table = _constant(assign.value) if assign else None
        for stmt in node.body:
            target, value = None, None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0], stmt.value
            elif isinstance(stmt, ast.AnnAssign):
                target, value = stmt.target, stmt.value
            if not (isinstance(target, ast.Name) and isinstance(value, ast.Call)):
                continue
            kind = _call_name(value)
            if not (kind.endswith("Field") or kind.endswith(_FK_CALLS)):
                continue
            column = _constant(kw.value) if (kw := _keyword(value, "db_column")) else None
            if kind.endswith("ManyToManyField"):
                column = None
            elif column is None:
                column = target.id + "_id" if kind.endswith(_FK_CALLS) else target.id
            model.fields[target.id] = FieldSource(target.id, value, column)
        found.append(model)
    return found


def find_model(models: list[ModelSource], app: str, model: str, table: str) -> ModelSource | None:
    """Django's model name is the class name in lower case; a Meta.db_table names the table."""
    for m in models:
        if m.db_table == table:
            return m
    return next((m for m in models if m.class_name.lower() == model and m.db_table is None), None)


def find_models_files(project: Path, app: str) -> list[Path]:
    """The files holding an app's models: ``<app>/models.py`` or ``<app>/models/*.py``, the app
    folder found by its label (an AppConfig's ``label = ...`` wins over the folder name)."""
    by_name: list[Path] = []
    project = project.resolve()
    for root, dirs, files in os.walk(project):
        here = Path(root)
        depth = len(here.relative_to(project).parts)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS and depth < _MAX_DEPTH
        )
        has_models = "models.py" in files or (here / "models" / "__init__.py").is_file()
        if not has_models:
            continue
        if "apps.py" in files and _app_config_label(here / "apps.py") == app:
            return _models_files(here)
        if here.name == app:
            by_name.append(here)
    return _models_files(by_name[0]) if by_name else []


def _models_files(app_dir: Path) -> list[Path]:
    if (app_dir / "models.py").is_file():
        return [app_dir / "models.py"]
    return sorted((app_dir / "models").glob("*.py"))


def _app_config_label(path: Path) -> str | None:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "label" for t in node.targets
        ):
            return _constant(node.value)
    return None


# -- editing ----------------------------------------------------------------------------------


def py_string(text: str) -> str:
    """A double-quoted Python literal, as Django's docs write them."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class SourceEditor:
    """Collects edits as byte ranges of the original text and applies them back to front."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8")
        self.line_starts = [0]
        for i, byte in enumerate(self.data):
            if byte == 0x0A:
                self.line_starts.append(i + 1)
        self.edits: list[tuple[int, int, str]] = []

    def offset(self, lineno: int, col: int) -> int:
        return self.line_starts[lineno - 1] + col

    def line_end(self, lineno: int) -> int:
        end = self.line_starts[lineno] - 1 if lineno < len(self.line_starts) else len(self.data)
        return end - 1 if end > 0 and self.data[end - 1 : end] == b"\r" else end

    def replace(self, node: ast.AST, new: str) -> None:
        start = self.offset(node.lineno, node.col_offset)
        end = self.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
        self.edits.append((start, end, new))

    def insert(self, at: int, new: str) -> None:
        self.edits.append((at, at, new))

    def set_keyword(self, call: ast.Call, name: str, value: str) -> None:
        """``name=value`` on a field call: replaced when there, else added after the last
        argument (``null=True`` -> ``null=True, db_column="end_time"``)."""
        existing = _keyword(call, name)
        if existing is not None:
            self.replace(existing.value, py_string(value))
            return
        args = [*call.args, *call.keywords]
        if args:
            last = max(args, key=lambda n: (n.end_lineno or 0, n.end_col_offset or 0))
            at = self.offset(last.end_lineno or last.lineno, last.end_col_offset or 0)
            self.insert(at, f", {name}={py_string(value)}")
        else:  # Field(): right after the opening parenthesis, i.e. before the closing one
            end = self.offset(call.end_lineno or call.lineno, call.end_col_offset or 0)
            self.insert(end - 1, f"{name}={py_string(value)}")

    def set_db_table(self, model: ModelSource, table: str) -> None:
        """``db_table`` in the model's ``class Meta`` (added after the class body when none)."""
        node = model.node
        indent = " " * node.body[0].col_offset
        step = " " * max(4, node.body[0].col_offset - node.col_offset)
        meta = _meta(node)
        if meta is not None:
            assign = _meta_db_table(meta)
            if assign is not None:
                self.replace(assign.value, py_string(table))
                return
            last = meta.body[-1]
            inner = " " * meta.body[0].col_offset
            self.insert(
                self.line_end(last.end_lineno or last.lineno),
                f"\n{inner}db_table = {py_string(table)}",
            )
            return
        last = node.body[-1]
        self.insert(
            self.line_end(last.end_lineno or last.lineno),
            f"\n\n{indent}class Meta:\n{indent}{step}db_table = {py_string(table)}",
        )

    def result(self) -> str:
        data = self.data
        for start, end, new in sorted(self.edits, key=lambda e: (e[0], e[1]), reverse=True):
            data = data[:start] + new.encode("utf-8") + data[end:]
        return data.decode("utf-8")
