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
    # Not qtbot.addWidget: pytest-qt closes its widgets before fixtures end, and closing during
    # a run (a failed test) would open the "Stop the migration?" question and wait forever.
    window.show()
    yield window
    window.shutdown()  # cancels and waits for a run still going
    window.close()
    window.deleteLater()
