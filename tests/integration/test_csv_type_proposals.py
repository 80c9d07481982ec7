"""Issue 20, item 3: CSV files without a manifest get types proposed from a sample; a later
value that breaks the proposal is a rejected row with its reason, never another value."""

from __future__ import annotations

from pathlib import Path

from coursemig_gui.cli import main

HEADER = "id,price,day,active,name,stamp\n"


def _rows(count: int) -> list[str]:
    return [
        f"{i},{i}.25,2026-11-{1 + i % 28:02d},{'true' if i % 2 else 'false'},Course {i},"
        f"2026-11-28 10:{i % 60:02d}:00+00"
        for i in range(1, count + 1)
    ]


def _types(target_db, table: str) -> dict[str, str]:
    return dict(
        target_db.rows(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table],
        )
    )


def _run(folder: Path, target_db, capsys, *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(
        [
            "import",
            str(folder),
            "--target",
            target_db.url,
            "--rejects-dir",
            str(folder.parent / "rejects"),
            *extra,
        ]
    )
    return code, capsys.readouterr().err


def test_types_are_proposed_and_a_later_misfit_is_rejected(tmp_path, target_db, capsys):
    folder = tmp_path / "csv"
    folder.mkdir()
    rows = _rows(1500)
    rows[1299] = rows[1299].replace("1300,", "13x0,", 1)  # past the 1000 sampled rows
    (folder / "offers.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    code, err = _run(folder, target_db, capsys)
    assert code == 3, err  # finished, with a rejected row
    assert _types(target_db, "offers") == {
        "id": "integer",
        "price": "numeric",
        "day": "date",
        "active": "boolean",
        "name": "text",
        "stamp": "timestamp with time zone",
    }
    assert target_db.rows("SELECT count(*) FROM offers") == [(1499,)]
    assert target_db.rows("SELECT count(*) FROM offers WHERE id = 1300") == [(0,)]
    assert "row 1300 (line 1301) of offers.csv, column id" in err
    assert "13x0" in err or "integer" in err
    rejects = list((tmp_path / "rejects").rglob("*.csv"))
    assert rejects and "13x0" in rejects[0].read_text(encoding="utf-8")


def test_all_text_keeps_every_column_text(tmp_path, target_db, capsys):
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "offers.csv").write_text(HEADER + "\n".join(_rows(5)) + "\n", encoding="utf-8")
    code, err = _run(folder, target_db, capsys, "--all-text", "-q")
    assert code == 0, err
    assert set(_types(target_db, "offers").values()) == {"text"}
