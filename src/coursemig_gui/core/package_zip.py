"""An export folder as one zip file for hand-over, and a zip opened again for an import."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.export_package import MANIFEST_NAME
from coursemig_gui.core.private_files import open_private


def zip_path(folder: Path) -> Path:
    folder = Path(folder)
    return folder.with_name(folder.name + ".zip")


def zip_package(folder: Path, names: list[str]) -> Path:
    """``<folder>.zip`` next to the folder, holding the named files; the manifest goes in last
    and the zip is renamed into place only when complete."""
    folder = Path(folder)
    target = zip_path(folder)
    part = target.with_name(target.name + ".part")
    ordered = [n for n in names if n != MANIFEST_NAME] + [MANIFEST_NAME]
    part.unlink(missing_ok=True)  # an earlier try's part would keep its own permissions
    # every row of the export is in it: only its owner may read it, as the CSV files
    with (
        open_private(part, "wb") as f,
        zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf,
    ):
        for name in ordered:
            zf.write(folder / name, arcname=name)
    part.replace(target)
    return target


@contextmanager
def unpacked(path: Path) -> Iterator[Path]:
    """A folder holding the package: the folder itself, or a zip's files unpacked into a
    temporary folder that is removed afterwards."""
    path = Path(path)
    if path.is_dir() or not path.exists():  # a missing one is said where it is looked for
        yield path
        return
    temp = Path(tempfile.mkdtemp(prefix="coursemig-import-"))
    try:
        yield unpack_zip(path, temp)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def unpack_zip(path: Path, folder: Path) -> Path:
    """A zip's files unpacked into ``folder`` (only plain names at its top); returns ``folder``."""
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise FriendlyError(
            f"{path.name} is neither a folder nor a zip file CourseMig can read (a zip file cut "
            "short or damaged on its way reads like this): export it again, or copy it again "
            "from where it was made.",
            str(path),
        )
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                name = PurePosixPath(info.filename)
                if info.is_dir():
                    continue
                if name.is_absolute() or ".." in name.parts or len(name.parts) != 1:
                    raise FriendlyError(
                        f"The zip file {path.name} holds {info.filename}, which is not a "
                        "plain file name; CourseMig reads only files at the top of the zip.",
                        info.filename,
                    )
                with zf.open(info) as src, (folder / name.name).open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    except zipfile.BadZipFile as exc:
        raise FriendlyError(
            f"The zip file {path.name} could not be read: {exc}.", str(exc)
        ) from exc
    return folder
