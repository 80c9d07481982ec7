"""The layer rule: core/ (and the demo wing) never import Qt, so the CLI and scripts run without
a display."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "src" / "coursemig_gui" / "core"
DEMO = CORE.parent / "demo"
QT_MODULES = ("PySide6", "shiboken6", "PyQt5", "PyQt6")


def test_no_module_under_core_imports_qt():
    offenders = []
    for path in sorted([*CORE.rglob("*.py"), *DEMO.rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in QT_MODULES]
    assert not offenders, offenders


def test_core_and_cli_import_without_loading_qt():
    code = (
        "import sys, pkgutil, importlib, coursemig_gui.core as c, coursemig_gui.cli\n"
        "for m in pkgutil.iter_modules(c.__path__): importlib.import_module('coursemig_gui.core.' + m.name)\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('PySide6', 'shiboken6')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
