"""A real X display for the tests that need one: Debian's Xvfb, on a display number it picks.

The GUI tests run offscreen; these start the program on the ``xcb`` platform against this
display, so a missing system library or Qt plugin fails as it would on a desktop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """``:N`` of a running Xvfb (installed by scripts/bootstrap.sh), stopped at the end."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("Xvfb is not installed: scripts/bootstrap.sh installs Debian's xvfb")
    read, write = os.pipe()
    # -displayfd: Xvfb picks a free display number and writes it when it is ready
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", "1600x1200x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        process.kill()
        pytest.fail(f"Xvfb did not start: {process.stderr.read().decode()[-2000:]}")
    try:
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def xcb_env(display: str) -> dict[str, str]:
    """The environment of a desktop session on ``display`` (no Wayland, no offscreen)."""
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
    for name in ("WAYLAND_DISPLAY", "QT_SCALE_FACTOR", "PGPASSWORD"):
        env.pop(name, None)
    return env


def assert_not_blank(png: Path, *, min_width: int = 400) -> None:
    """The screenshot exists, has a window's size and more than a handful of colours."""
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert not image.isNull(), f"no picture at {png}"
    assert image.width() >= min_width and image.height() >= 300, image.size()
    colours = {
        image.pixel(x, y) & 0xFFFFFF
        for y in range(0, image.height(), 5)
        for x in range(0, image.width(), 5)
    }
    assert len(colours) > 16, f"{png} is nearly blank: {len(colours)} colours"
