"""Planning a migration: the order tables load in (parents before children)."""

from __future__ import annotations

from coursemig_gui.core.catalog import Catalog
from coursemig_gui.core.mapping import TableMapping


def load_order(mappings: list[TableMapping], catalog: Catalog | None) -> list[TableMapping]:
    """Parents before children (foreign keys), otherwise in the given order."""
    included = [m for m in mappings if m.include]
    if catalog is None:
        return included
    by_source = {m.source: m for m in included}
    done: set[str] = set()
    ordered: list[TableMapping] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name in visiting:
            return  # a cycle: keep the given order for its members
        visiting.add(name)
        table = catalog.table(name)
        for parent in sorted(table.parents if table else ()):
            if parent in by_source:
                visit(parent)
        visiting.discard(name)
        done.add(name)
        ordered.append(by_source[name])

    for m in included:
        visit(m.source)
    return ordered
