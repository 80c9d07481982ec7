"""``coursemig-gui``: starts the wizard (optionally with a saved migration, or the demo)."""

from __future__ import annotations

import argparse
import platform
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QTimer, qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from coursemig_gui import __version__
from coursemig_gui.core.errors import FriendlyError

APP_NAME = "CourseMig"
RESOURCES = Path(__file__).resolve().parent.parent / "resources"
# In a source checkout the packaging folder holds the icon too (made by packaging/make_icon.py).
CHECKOUT_RESOURCES = Path(__file__).resolve().parents[3] / "resources"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="coursemig-gui",
        description="Copy a Django app's tables to Azure Cosmos DB for PostgreSQL or any PostgreSQL.",
    )
    parser.add_argument("profile", nargs="?", type=Path, help="a saved migration (.json) to open")
    parser.add_argument(
        "--demo", action="store_true", help="start two practice databases with sample data"
    )
    parser.add_argument(
        "--self-test",
        nargs="?",
        const="",
        metavar="URL",
        help="check this installation (and optionally a database URL), then exit",
    )
    parser.add_argument(
        "--self-test-report",
        type=Path,
        metavar="FILE",
        help="with --self-test: also write the results to FILE (Windows shows no console)",
    )
    parser.add_argument(
        "--self-test-screenshot",
        type=Path,
        metavar="PNG",
        help="with --self-test: walk one page on and save what the screen shows to PNG",
    )
    return parser.parse_args(argv)


def about_text() -> str:
    import psycopg

    libpq = psycopg.pq.version()
    libpq_text = f"{libpq // 10000}.{libpq % 100}" if libpq >= 100000 else str(libpq)
    return (
        f"<h3>{APP_NAME} {__version__}</h3>"
        "<p>Copies a Django app's tables to Azure Cosmos DB for PostgreSQL or any PostgreSQL, "
        "with CSV files along the way.</p>"
        f"<p>Qt {qVersion()} · PySide6 {pyside_version} · psycopg {psycopg.__version__} · "
        f"libpq {libpq_text} · Python {platform.python_version()}<br>"
        f"{platform.system()} {platform.release()}</p>"
    )


def run_self_test(url: str, report: Path | None = None, screenshot: Path | None = None) -> int:
    """``--self-test [URL]``: the checks live in gui/selftest.py (issue 7)."""
    from coursemig_gui.gui.selftest import run_self_test as self_test

    return self_test(url or None, report=report, screenshot=screenshot)


def make_application(argv: Sequence[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(__version__)
    for folder in (RESOURCES, CHECKOUT_RESOURCES):
        icon = folder / "coursemig.svg"
        if icon.exists():
            app.setWindowIcon(QIcon(str(icon)))
            break
    # No stylesheet and no fixed palette: the platform's theme (light or dark) and font size win.
    return app  # type: ignore[return-value]


def open_window(args: argparse.Namespace):
    """The wizard, shown, with the profile opened or the demo starting (as the arguments say)."""
    from coursemig_gui.gui.wizard import MigrationWizard

    wizard = MigrationWizard()
    wizard.show()
    if args.profile:
        try:
            wizard.open_profile(args.profile)
        except FriendlyError as exc:
            wizard.start_page.banner.show_error(exc)
        else:
            wizard.next()
    elif args.demo:
        QTimer.singleShot(0, wizard.start_page.start_demo)
    return wizard


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test is not None:
        return run_self_test(args.self_test, args.self_test_report, args.self_test_screenshot)
    app = make_application()
    wizard = open_window(args)
    # Ctrl-C or a logout's SIGTERM must still stop the workers and the demo servers: quit the
    # event loop (the handler runs when Python next gets control, hence the idle timer), and
    # shut the wizard down on the way out.
    app.aboutToQuit.connect(wizard.shutdown)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: app.quit())
    wake = QTimer()
    wake.start(250)
    wake.timeout.connect(lambda: None)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
