"""One job per module: no module in ``src/`` is over 450 lines (nothing is allowed over)."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
LIMIT = 450


def test_no_module_is_over_the_limit():
    sizes = {
        str(p.relative_to(SRC)): len(p.read_text(encoding="utf-8").splitlines())
        for p in SRC.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}
