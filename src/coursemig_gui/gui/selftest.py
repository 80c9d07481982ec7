"""``coursemig-gui --self-test [URL]``: check that this installation works, then exit.

Made for the frozen bundle, where a module imported only at run time (a keyring backend, psycopg's
binary driver, a Qt platform plugin, a data file) can be missing without anything failing until a
person reaches the screen that needs it. Prints one line per check, ``OK`` or ``FAIL`` and a
sentence, and returns 0 only if every check worked. Problems the pre-flight check finds in the
database itself (a missing privilege, say) are printed as ``NOTE`` lines: they are about that
database, not about this installation, so they do not fail the self-test.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_IMPORTED_AT = time.perf_counter()

# Password-store modules this installation must be able to import, per OS (the others may be
# present but cannot work there).
_KEYRING_MODULES = {
    "linux": ("keyring.backends.SecretService", "keyring.backends.kwallet"),
    "win32": ("keyring.backends.Windows",),
    "darwin": ("keyring.backends.macOS",),
}
_KEYRING_COMMON = ("keyring.backends.chainer", "keyring.backends.fail", "keyring.backends.null")
_DEFAULT_PLATFORM = {"win32": "windows", "darwin": "cocoa"}


@dataclass(frozen=True)
class Check:
    """The result of one check: a plain sentence, and notes that do not make it fail."""

    ok: bool
    name: str
    sentence: str
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        first = f"{'OK  ' if self.ok else 'FAIL'} {self.name}: {self.sentence}"
        return [first] + [f"NOTE {self.name}: {note}" for note in self.notes]


def run_self_test(
    url: str | None, *, report: Path | None = None, screenshot: Path | None = None
) -> int:
    """Run every check, print a line each (and write them to ``report``); 0 if all worked.

    Windowed Windows programs have no console, so ``report`` is how a person (or CI) reads the
    result there. ``screenshot``: the Window check also walks one page on and saves what the
    display shows of the window there (a blank picture fails it).
    """
    lines: list[str] = []

    def say(check: Check) -> None:
        for line in check.lines():
            lines.append(line)
            print(line, flush=True)

    checks: list[Check] = []
    app, qt_check = _start_qt()
    checks.append(qt_check)
    say(qt_check)
    steps: list[tuple[str, Callable[[], Check]]] = []
    if app is not None:
        steps.append(("Window", lambda: _show_wizard(screenshot)))
    steps += [
        ("Database driver", _check_driver),
        ("Password store", _check_keyring),
        ("Data files", _check_data_files),
        ("Command line", _check_command_line),
    ]
    if url:
        steps.append(("Database", lambda: _check_database(url)))
    for name, step in steps:
        check = _guarded(name, step)
        checks.append(check)
        say(check)

    failed = [c.name for c in checks if not c.ok]
    if failed:
        summary = f"Self-test failed: {len(failed)} of {len(checks)} checks did not work ({', '.join(failed)})."
    else:
        summary = f"Self-test passed: all {len(checks)} checks worked."
    lines.append(summary)
    print(summary, flush=True)
    if report is not None:
        try:
            Path(report).write_text("\n".join(lines) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"FAIL Report: could not write {report}: {exc}", file=sys.stderr, flush=True)
            return 1
    return 1 if failed else 0


def _guarded(name: str, step: Callable[[], Check]) -> Check:
    try:
        return step()
    except Exception as exc:  # noqa: BLE001 - every failure becomes a FAIL line, not a traceback
        message = getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}"
        return Check(False, name, message)


# -- Qt ---------------------------------------------------------------------------------------


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _start_qt():
    """Start the QApplication (offscreen without a display); a missing plugin is a FAIL line."""
    if not _has_display() and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        from PySide6.QtCore import QLibraryInfo, qVersion
    except ImportError as exc:
        return None, Check(False, "Qt", f"Qt could not be loaded: {exc}")
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":", 1)[0] or _DEFAULT_PLATFORM.get(
        sys.platform, "xcb"
    )
    plugin_dir = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    found = sorted(_platform_plugins(plugin_dir))
    # Qt aborts the whole process when the platform plugin is missing: look before creating it.
    if platform not in found:
        return None, Check(
            False,
            "Qt",
            f'the "{platform}" display plugin is missing from {plugin_dir} '
            f"(found: {', '.join(found) or 'none'}), so no window can open.",
        )
    from coursemig_gui.gui.app import make_application

    app = make_application(sys.argv[:1])
    notes = []
    if sys.platform.startswith("linux") and app.platformName() in ("offscreen", "minimal"):
        # Without a display the desktop plugins are not used; say whether they could load.
        for name in ("xcb", "wayland"):
            error = _plugin_load_error(plugin_dir, name)
            if error:
                notes.append(f'the "{name}" display plugin could not load here: {error}')
    return app, Check(
        True,
        "Qt",
        f'Qt {qVersion()} started with the "{app.platformName()}" display plugin '
        f"(plugins here: {', '.join(found)}).",
        tuple(notes),
    )


def _plugin_load_error(plugin_dir: Path, name: str) -> str:
    """Why a platform plugin's library cannot be loaded (a missing system library), or ""."""
    from PySide6.QtCore import QPluginLoader

    for path in plugin_dir.glob(f"*q{name}.*"):
        loader = QPluginLoader(str(path))
        if loader.load():
            return ""
        return loader.errorString()
    return "not found"


def _platform_plugins(plugin_dir: Path) -> set[str]:
    """Platform names from plugin files: libqxcb.so, qwindows.dll, libqcocoa.dylib."""
    names = set()
    if plugin_dir.is_dir():
        for path in plugin_dir.iterdir():
            stem = path.name.split(".", 1)[0].removeprefix("lib")
            if stem.startswith("q") and path.suffix in (".so", ".dll", ".dylib"):
                names.add(stem[1:])
    return names


def _show_wizard(screenshot: Path | None = None) -> Check:
    from PySide6.QtWidgets import QApplication

    from coursemig_gui.gui.wizard import MigrationWizard

    wizard = MigrationWizard()
    wizard.show()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        QApplication.processEvents()
        handle = wizard.windowHandle()
        if wizard.isVisible() and handle is not None and handle.isExposed():
            break
        time.sleep(0.01)
    seconds = seconds_since_start()
    shown = wizard.isVisible() and wizard.windowHandle() is not None
    page = wizard.currentPage()
    title = page.title() if page is not None else ""
    pages = len(wizard.pageIds())
    notes = []
    walked = _walk_and_screenshot(wizard, screenshot) if shown and screenshot else ""
    no_icon = QApplication.windowIcon().isNull()
    if no_icon and not getattr(sys, "frozen", False):
        # from a source tree the icon is optional; a bundle that lost it is broken
        notes.append("no app icon was found (coursemig_gui/resources/coursemig.svg).")
    wizard.shutdown()
    wizard.hide()
    wizard.deleteLater()
    QApplication.processEvents()
    if not shown or page is None:
        return Check(False, "Window", "the wizard window did not open.")
    if no_icon and getattr(sys, "frozen", False):
        return Check(False, "Window", "the app icon is missing from this installation.")
    if walked.startswith("FAIL "):
        return Check(False, "Window", walked.removeprefix("FAIL "))
    return Check(
        True,
        "Window",
        f'the wizard ({pages} pages) opened on its first page "{title}" '
        f"{seconds:.2f} s after the program started{walked}.",
        tuple(notes),
    )


def _walk_and_screenshot(wizard, path: Path) -> str:
    """One page on (New migration → Connect), then the window as the display shows it.

    The picture comes from the screen (on X11 read back from the X server), not from Qt's own
    drawing, so a display that shows nothing gives a blank picture. Returns the end of the
    Window sentence, or "FAIL " and why.
    """
    from PySide6.QtWidgets import QApplication

    wizard.start_page.start_new()
    page = wizard.currentPage()
    deadline = time.monotonic() + 1.0  # let the new page paint and the server catch up
    while time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)
    image = wizard.screen().grabWindow(wizard.winId()).toImage()
    colours = _colour_count(image)
    if image.isNull() or colours < 8:
        return f"FAIL the window on the screen was blank ({colours} colours) on the Connect page."
    if not image.save(str(path)):
        return f"FAIL the screenshot could not be saved to {path}."
    return (
        f'; walked on to "{page.title() if page else "?"}" and saved what the screen shows '
        f"({image.width()}×{image.height()}, {colours} colours) to {path}"
    )


def _colour_count(image, cap: int = 256) -> int:
    """Distinct colours on a grid of every 7th pixel (enough to tell a blank window)."""
    seen: set[int] = set()
    for y in range(0, image.height(), 7):
        for x in range(0, image.width(), 7):
            seen.add(image.pixel(x, y) & 0xFFFFFF)
            if len(seen) >= cap:
                return cap
    return len(seen)


def seconds_since_start() -> float:
    """Seconds since this process started (Linux: from /proc, so the bundle's own start counts).

    Elsewhere it is measured from when this module was imported, which leaves out Python's and
    Qt's start-up.
    """
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22, counted from after the command name
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(uptime - start_ticks / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _IMPORTED_AT


# -- the pieces Python imports at run time ---------------------------------------------------


def _check_driver() -> Check:
    import psycopg

    impl = psycopg.pq.__impl__
    libpq = psycopg.pq.version()
    libpq_text = f"{libpq // 10000}.{libpq % 100}"
    if impl != "binary":
        return Check(
            False,
            "Database driver",
            f'psycopg loaded its "{impl}" driver, not the binary one that comes with CourseMig: '
            "this installation is missing psycopg_binary.",
        )
    return Check(
        True,
        "Database driver",
        f"psycopg {psycopg.__version__} loaded its binary driver (libpq {libpq_text}).",
    )


def _check_keyring() -> Check:
    import importlib

    from keyring.backend import get_all_keyring

    from coursemig_gui.core.credentials import CredentialStore

    wanted = _KEYRING_MODULES.get(sys.platform, ()) + _KEYRING_COMMON
    missing = []
    for module in wanted:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{module} ({exc})")
    usable = sorted({f"{type(b).__module__}.{type(b).__name__}" for b in get_all_keyring()})
    store = CredentialStore()
    in_use = store.store_name if store.is_secure else "none secure (passwords are asked for)"
    if missing:
        return Check(
            False,
            "Password store",
            f"these password-store modules are missing from this installation: "
            f"{', '.join(missing)}.",
        )
    return Check(
        True,
        "Password store",
        f"backends present: {', '.join(m.rsplit('.', 1)[1] for m in wanted)}; "
        f"usable here: {', '.join(usable) or 'none'}; in use: {in_use}.",
    )


def _check_data_files() -> Check:
    from coursemig_gui import __version__
    from coursemig_gui.demo.sample_data import django_schema_sql

    schema = django_schema_sql()
    if "CREATE TABLE" not in schema:
        return Check(False, "Data files", "the sample-data schema (django_schema.sql) is empty.")
    return Check(
        True,
        "Data files",
        f"CourseMig {__version__}; the sample-data schema is readable ({len(schema):,} characters).",
    )


def _check_command_line() -> Check:
    """The ``coursemig`` command line of this installation answers ``--version``."""
    import subprocess

    from coursemig_gui import __version__
    from coursemig_gui.core.nightly import cli_program

    program = cli_program()
    if not Path(program[0]).exists():
        return Check(False, "Command line", f"{program[0]} is missing from this installation.")
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console window flashing on Windows
    result = subprocess.run(
        [*program, "--version"], capture_output=True, text=True, timeout=60, creationflags=flags
    )
    answer = result.stdout.strip()
    if result.returncode != 0 or answer != f"coursemig {__version__}":
        said = answer or result.stderr.strip()[-300:] or "nothing"
        return Check(
            False,
            "Command line",
            f"{program[0]} --version answered {said!r} (exit code {result.returncode}).",
        )
    return Check(True, "Command line", f"{program[0]} --version answers: {answer}.")


# -- a real database -------------------------------------------------------------------------


def _check_database(url: str) -> Check:
    from coursemig_gui.core.connection import connect
    from coursemig_gui.core.connection_strings import parse_connection_string
    from coursemig_gui.core.credentials import CredentialStore
    from coursemig_gui.core.preflight import preflight

    parsed = parse_connection_string(url)
    settings = parsed.settings
    password = parsed.password or CredentialStore().load(settings)
    with connect(settings, password) as conn:
        encrypted = conn.pgconn.ssl_in_use
        report = preflight(conn, role="target")
    security = "over TLS" if encrypted else "without encryption"
    return Check(
        True,
        "Database",
        f"connected to {settings.display_name()} {security}; pre-flight: {report.summary()}.",
        tuple(report.problems),
    )
