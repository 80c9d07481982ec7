"""The wizard from the source install on a real X display (Xvfb, the xcb platform).

Starts the program the way a desktop does, walks from Start to Connect, and reads back what the
display shows; a missing xcb library or plugin fails here, where the offscreen tests pass.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from real_display import assert_not_blank, xcb_env

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="X11 display")


def test_source_install_starts_on_xcb_walks_a_page_and_shows_it(xvfb_display, tmp_path):
    shot = tmp_path / "connect.png"
    result = subprocess.run(
        [sys.executable, "-m", "coursemig_gui", "--self-test", "--self-test-screenshot", str(shot)],
        env=dict(xcb_env(xvfb_display), COURSEMIG_HOME=str(tmp_path / "home")),
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-4000:]
    assert 'started with the "xcb" display plugin' in out
    assert 'walked on to "Connect" and saved what the screen shows' in out
    assert_not_blank(shot)
