"""Pasted strings that fail to parse are explained without their password; files holding data
are created private; spreadsheet cells cannot start a formula."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from coursemig_gui.core.connection_strings import parse_connection_string
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.masking import mask_secrets
from coursemig_gui.core.private_files import open_private, spreadsheet_row, spreadsheet_safe

SECRET = "Hunter2secret"


@pytest.mark.parametrize(
    "text",
    [
        f"host=db.example.com password={SECRET} two words user=u",
        f"host=db.example.com password='{SECRET} never closed",
        f'Server=db.example.com;Password="{SECRET};User Id=u',
        f"Server=db.example.com;Port=5432;Password={SECRET};Ssl Mode=bogus",
        f"postgresql://u:{SECRET}@@db.example.com:5432/db?sslmode=bogus",
        f"postgresql://u:{SECRET}@db.example.com:notaport/db",
        f"jdbc:postgresql://db.example.com/db?user=u&password={SECRET}&sslmode=nonsense",
        f"psql 'host=db.example.com password={SECRET} sslmode=maybe'",
        f"mysql://u:{SECRET}@db.example.com/db",
    ],
)
def test_a_string_that_fails_to_parse_is_explained_without_its_password(text):
    with pytest.raises(FriendlyError) as info:
        parse_connection_string(text)
    shown = info.value.full_text()  # what the banner shows and its Copy button copies
    assert SECRET not in shown
    assert SECRET[:6] not in shown


def test_masking_keeps_the_shape_of_the_text():
    assert mask_secrets("host=h password='a b' user=u") == "host=h password='****' user=u"
    assert mask_secrets("host=h password='open") == "host=h password='****"
    assert mask_secrets("postgres://me:p@ss@h/db") == "postgres://me:****@h/db"
    assert mask_secrets("Server=h;Pwd=x y;Database=d") == "Server=h;Pwd=****;Database=d"


def test_unrelated_errors_keep_their_sentence():
    with pytest.raises(FriendlyError) as info:
        parse_connection_string(f"host=h password={SECRET} sslmode=bogus")
    assert '"bogus" is not a security setting' in info.value.message


@pytest.mark.skipif(sys.platform == "win32", reason="file modes are POSIX")
@pytest.mark.parametrize("mode", ["w", "wb", "a", "x"])
def test_private_files_are_created_for_the_owner_only(tmp_path, mode):
    old = os.umask(0)  # even with a permissive umask
    try:
        path = tmp_path / f"f-{mode}"
        with open_private(path, mode) as f:
            f.write(b"x" if "b" in mode else "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ValueError):
        open_private(path, "r")


@pytest.mark.parametrize(
    "cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x","y")']
)
def test_cells_that_would_be_formulas_become_text(cell):
    assert spreadsheet_safe(cell) == "'" + cell


def test_other_cells_are_untouched():
    assert spreadsheet_row(["plain", 12, -3, None, "a=b", ""]) == ["plain", 12, -3, None, "a=b", ""]
