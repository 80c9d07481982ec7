"""Driving the real wizard against the real test servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coursemig_gui.gui.app import make_application
from coursemig_gui.gui.wizard import MigrationWizard


@pytest.fixture
def wizard(qtbot) -> Iterator[MigrationWizard]:
    make_application()
    window = MigrationWizard()
    qtbot.addWidget(window)
    window.show()
    yield window
    window.shutdown()
