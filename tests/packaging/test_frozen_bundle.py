"""The frozen Linux bundle: built by packaging/build.sh, then run like a person would run it.

The bundle is rebuilt only when a source, resource, packaging file, pyproject.toml or the venv's
installed packages are newer than it (a clean CI checkout always builds); set
``COURSEMIG_REBUILD_BUNDLE=1`` to force a build. Size and start-up time are printed (``-s``) and
written to packaging/dist/measurements.txt.
"""

from __future__ import annotations

import fcntl
import os
import platform
import re
import subprocess
import sys
import sysconfig
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from real_display import assert_not_blank, xcb_env

from coursemig_gui import __version__

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "packaging" / "dist"
WORK = ROOT / "packaging" / "build"
BUNDLE = DIST / "coursemig"
EXE = BUNDLE / "coursemig"
CLI = BUNDLE / "coursemig-cli"
INTERNAL = BUNDLE / "_internal"
TARBALL_NAME = f"coursemig-{__version__}-linux-{platform.machine()}"
TARBALL = DIST / f"{TARBALL_NAME}.tar.gz"
MEASUREMENTS = DIST / "measurements.txt"

SIZE_BUDGET_MB = 150
STARTUP_GOAL_S = 2.0  # the aim on this box
# What fails the test: generous, because other work on a 2-core box triples the figure (seen:
# 0.6 s idle, 3 s at load average 6); it still catches a bundle that unpacks or compiles at start.
STARTUP_LIMIT_S = 8.0
BUILD_TIMEOUT_S = 600

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(BUILD_TIMEOUT_S + 300),
    pytest.mark.skipif(sys.platform != "linux", reason="builds the Linux bundle"),
]

_INPUTS = [
    ROOT / "src",
    ROOT / "resources",
    ROOT / "packaging" / "coursemig.spec",
    ROOT / "packaging" / "coursemig_main.py",
    ROOT / "packaging" / "build.sh",
    ROOT / "packaging" / "linux",
    ROOT / "pyproject.toml",
    ROOT / "docs" / "user-guide.md",  # carried in the bundle
]


def _newest_input() -> float:
    newest = Path(sysconfig.get_paths()["purelib"]).stat().st_mtime  # a package (un)installed
    for base in _INPUTS:
        paths = [base] if base.is_file() else base.rglob("*")
        for path in paths:
            if "__pycache__" in path.parts or any(p.endswith(".egg-info") for p in path.parts):
                continue
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def _built_at() -> float | None:
    if not (EXE.is_file() and TARBALL.is_file()):
        return None
    return min(EXE.stat().st_mtime, TARBALL.stat().st_mtime)


def _record(line: str) -> None:
    line += f" [load average {os.getloadavg()[0]:.1f}]"
    print(f"\n[bundle] {line}")
    DIST.mkdir(parents=True, exist_ok=True)
    with MEASUREMENTS.open("a", encoding="utf-8") as out:
        out.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")


@pytest.fixture(scope="module")
def bundle() -> Iterator[Path]:
    """The frozen program, built by packaging/build.sh unless an up-to-date one is there."""
    WORK.mkdir(parents=True, exist_ok=True)
    with (WORK / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run on this checkout may be building
        built = _built_at()
        if os.environ.get("COURSEMIG_REBUILD_BUNDLE") or built is None or built < _newest_input():
            env = dict(os.environ, PYTHON=sys.executable)
            started = time.perf_counter()
            result = subprocess.run(
                [str(ROOT / "packaging" / "build.sh")],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_S,
            )
            seconds = time.perf_counter() - started
            assert result.returncode == 0, (
                f"packaging/build.sh failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
            )
            _record(f"built bundle and tar.gz in {seconds:.0f} s")
        else:
            print("\n[bundle] up to date, not rebuilt")
    yield EXE


def _headless_env() -> dict[str, str]:
    """The environment of a machine without a display: the self-test must pick offscreen itself."""
    env = dict(os.environ)
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "PGPASSWORD"):
        env.pop(name, None)
    return env


def _run(exe: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(exe), *args], env=_headless_env(), capture_output=True, text=True, timeout=timeout
    )


def _startup_seconds(stdout: str) -> float:
    match = re.search(r"^OK   Window: .* (\d+\.\d+) s after the program started", stdout, re.M)
    assert match, stdout
    return float(match.group(1))


def test_frozen_self_test_passes_against_the_tls_scram_target(bundle, target_db, tmp_path):
    report = tmp_path / "self-test.txt"
    started = time.perf_counter()
    result = _run(bundle, "--self-test", target_db.url, "--self-test-report", str(report))
    wall = time.perf_counter() - started
    out = result.stdout
    assert result.returncode == 0, f"{out}\n{result.stderr[-4000:]}"
    assert "FAIL" not in out
    for name in ("Qt", "Window", "Database driver", "Password store", "Data files", "Database"):
        assert re.search(rf"^OK   {name}: ", out, re.M), f"no OK line for {name}:\n{out}"
    assert 'with the "offscreen" display plugin' in out
    assert "loaded its binary driver" in out
    assert "SecretService, kwallet" in out  # the Linux keyring backends made it into the bundle
    assert f"CourseMig {__version__};" in out  # the version from the bundled metadata
    assert re.search(
        r"^OK   Database: connected to citus@127\.0\.0\.1:\d+/\S+ over TLS;", out, re.M
    )
    assert "pre-flight: Connected to PostgreSQL" in out
    assert out.rstrip().endswith("Self-test passed: all 7 checks worked.")
    # the report file says what stdout said (a windowed Windows build has only the file)
    assert report.read_text(encoding="utf-8").splitlines() == out.splitlines()

    startup = _startup_seconds(out)
    _record(
        f"start-up to the wizard's first page: {startup:.2f} s (aim {STARTUP_GOAL_S:.0f} s); "
        f"whole self-test with the database: {wall:.2f} s"
    )
    assert startup < STARTUP_LIMIT_S


def test_frozen_self_test_fails_with_a_sentence_on_a_wrong_password(bundle, target_db):
    parts = urlsplit(target_db.url)
    netloc = f"{parts.username}:not-the-password@{parts.hostname}:{parts.port}"
    wrong = urlunsplit(parts._replace(netloc=netloc))
    result = _run(bundle, "--self-test", wrong)
    assert result.returncode == 1, result.stdout
    line = next(li for li in result.stdout.splitlines() if li.startswith("FAIL Database: "))
    assert "password" in line.lower()
    assert "Traceback" not in result.stdout + result.stderr
    assert "Self-test failed: 1 of 7 checks did not work (Database)." in result.stdout


def test_bundle_size_and_contents(bundle):
    size = sum(p.lstat().st_size for p in BUNDLE.rglob("*") if not p.is_symlink())
    mb = size / 1024 / 1024
    du = subprocess.run(["du", "-sh", str(BUNDLE)], capture_output=True, text=True).stdout.split()
    _record(
        f"unpacked bundle: {mb:.0f} MB (du -sh: {du[0] if du else '?'}), budget {SIZE_BUDGET_MB} MB"
    )
    assert mb < SIZE_BUDGET_MB

    platforms = INTERNAL / "PySide6" / "Qt" / "plugins" / "platforms"
    for plugin in ("libqoffscreen.so", "libqxcb.so", "libqminimal.so", "libqwayland.so"):
        assert (platforms / plugin).is_file(), plugin
    assert (INTERNAL / "coursemig_gui" / "demo" / "django_schema.sql").is_file()
    assert (INTERNAL / "coursemig_gui" / "resources" / "coursemig.svg").is_file()
    assert (INTERNAL / "coursemig_gui" / "docs" / "user-guide.md").is_file()
    assert (INTERNAL / "coursemig_gui" / "docs" / "screenshots" / "1-start.png").is_file()
    assert (INTERNAL / f"coursemig_gui-{__version__}.dist-info").is_dir()
    assert list(INTERNAL.glob("keyring-*.dist-info/entry_points.txt"))
    assert list((INTERNAL / "psycopg_binary").glob("_psycopg.*.so"))
    assert (INTERNAL / "certifi" / "cacert.pem").is_file()  # verify-full's public roots
    # left out on purpose
    for unused in ("tkinter", "django", "pytest", "PySide6/Qt/translations"):
        assert not (INTERNAL / unused).exists(), unused
    assert not list(INTERNAL.rglob("*QtWebEngine*")) and not list(INTERNAL.rglob("*Qt63D*"))
    assert not (platforms / "libqeglfs.so").exists()


def test_frozen_bundle_starts_on_a_real_display_walks_a_page_and_shows_it(
    bundle, xvfb_display, tmp_path
):
    """The bundle on Xvfb with the xcb platform: its own xcb plugin and the libraries it needs."""
    shot = tmp_path / "frozen-connect.png"
    env = dict(xcb_env(xvfb_display), COURSEMIG_HOME=str(tmp_path / "home"))
    result = subprocess.run(
        [str(bundle), "--self-test", "--self-test-screenshot", str(shot)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-4000:]
    assert 'started with the "xcb" display plugin' in out
    assert 'walked on to "Connect" and saved what the screen shows' in out
    assert f"OK   Command line: {CLI} --version answers: coursemig {__version__}." in out
    assert_not_blank(shot)


def test_tarball_installs_and_the_installed_copy_runs(bundle, tmp_path):
    with tarfile.open(TARBALL) as tar:
        names = set(tar.getnames())
        for member in (
            "coursemig/coursemig",
            "coursemig/coursemig-cli",
            "coursemig.desktop",
            "coursemig.png",
            "install.sh",
            "VERSION",
        ):
            assert f"{TARBALL_NAME}/{member}" in names, member
        tar.extractall(tmp_path, filter="tar")
    unpacked = tmp_path / TARBALL_NAME
    assert (unpacked / "VERSION").read_text().strip() == __version__

    prefix = tmp_path / "prefix"
    env = dict(_headless_env(), PREFIX=str(prefix))
    result = subprocess.run(
        ["sh", str(unpacked / "install.sh")], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    installed = prefix / "lib" / "coursemig" / "coursemig"
    desktop = (prefix / "share" / "applications" / "coursemig.desktop").read_text()
    assert f'Exec="{installed}" %f' in desktop
    assert f"TryExec={installed}" in desktop
    assert (prefix / "share" / "icons" / "hicolor" / "256x256" / "apps" / "coursemig.png").is_file()

    # the copy runs from its new place: nothing in the bundle points back at the build folder
    ran = _run(prefix / "bin" / "coursemig-gui", "--self-test")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Self-test passed" in ran.stdout
    cli_path = prefix / "lib" / "coursemig" / "coursemig-cli"
    assert (
        f"OK   Command line: {cli_path} --version answers: coursemig {__version__}." in ran.stdout
    )
    # the command line is on the PATH as "coursemig"
    assert (prefix / "bin" / "coursemig").resolve() == cli_path
    ran = _run(prefix / "bin" / "coursemig", "--version")
    assert ran.returncode == 0 and ran.stdout.strip() == f"coursemig {__version__}", ran.stderr

    result = subprocess.run(
        ["sh", str(unpacked / "install.sh"), "--uninstall"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not installed.exists()
    assert not (prefix / "share" / "applications" / "coursemig.desktop").exists()
    assert not (prefix / "bin" / "coursemig").exists()


def test_installed_command_line_runs_a_saved_profile(
    bundle, source_db, target_db, secret_keyring, tmp_path
):
    """IT staff's nightly job: `coursemig run PROFILE.json` from the installed tarball, the
    password coming from the keyring (the real gnome-keyring run-tests.sh starts)."""
    from coursemig_gui.core.connection_strings import parse_connection_string
    from coursemig_gui.core.credentials import CredentialStore

    with tarfile.open(TARBALL) as tar:
        tar.extractall(tmp_path, filter="tar")
    prefix = tmp_path / "prefix"
    env = dict(_headless_env(), PREFIX=str(prefix), COURSEMIG_HOME=str(tmp_path / "home"))
    installed = subprocess.run(
        ["sh", str(tmp_path / TARBALL_NAME / "install.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    coursemig = prefix / "bin" / "coursemig"
    profile = tmp_path / "courses.json"
    # the profile names the connections; the password is not in it, nor on the command line
    target_url = target_db.url.replace(f":{quote(target_db.password, safe='')}@", "@")
    assert target_db.password not in target_url
    # what "Remember password" on the Connect page does
    assert CredentialStore().save(parse_connection_string(target_url).settings, target_db.password)
    planned = subprocess.run(
        [
            str(coursemig),
            "plan",
            "--source",
            source_db.url,
            "--target",
            target_url,
            "--app",
            "courses",
            "--name",
            "Courses",
            "-o",
            str(profile),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert target_db.password not in profile.read_text()
    assert "PGPASSWORD" not in env  # the keyring is the only place the password is
    ran = subprocess.run(
        [str(coursemig), "run", str(profile), "--json-report", str(tmp_path / "report.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    expected = source_db.rows("SELECT count(*) FROM courses_course")[0][0]
    assert target_db.rows("SELECT count(*) FROM course")[0][0] == expected
