"""The Columns page shows a generated column as computed by the database: its copy box and its
type cannot be changed (the target computes it from the source's expression); its name can."""

from __future__ import annotations

from PySide6.QtCore import Qt

from coursemig_gui.core.catalog import Column, Table
from coursemig_gui.core.mapping import default_mapping
from coursemig_gui.gui.app import make_application
from coursemig_gui.gui.models.columns import ColumnsModel


def test_a_generated_column_is_shown_computed_and_fixed(qtbot):
    make_application()
    table = Table(
        "gc_lesson",
        (
            Column("title", "text", True, position=1),
            Column(
                "title_length",
                "integer",
                False,
                position=2,
                generated="length(title)",
                generated_from=("title",),
            ),
        ),
    )
    tm = default_mapping(table)
    model = ColumnsModel()
    model.set_table(tm, table)
    notes = model.data(model.index(1, model.NOTES))
    assert notes == (
        "Computed by the database (GENERATED ALWAYS AS length(title)): not copied, the target "
        "computes it."
    )
    for column in (model.INCLUDE, model.TARGET_TYPE):
        flags = model.flags(model.index(1, column))
        assert not flags & Qt.ItemFlag.ItemIsUserCheckable
        assert not flags & Qt.ItemFlag.ItemIsEditable
    assert not model.set_column_type("title_length", "text")
    assert not model.setData(
        model.index(1, model.INCLUDE), Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole
    )
    assert tm.columns[1].include and tm.columns[1].target_type == "integer"
    assert model.rename_column("title_length", "name_length")
    # a plain column is as it was
    assert model.flags(model.index(0, model.TARGET_TYPE)) & Qt.ItemFlag.ItemIsEditable
    assert model.data(model.index(0, model.NOTES)) == ""
