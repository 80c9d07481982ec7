"""``coursemig-gui --self-test`` from the source tree: quick, and independent of the bundle."""

from __future__ import annotations

import os
import subprocess
import sys

from coursemig_gui.gui.selftest import run_self_test


def test_self_test_passes_against_the_tls_scram_target(target_db, capsys, tmp_path):
    report = tmp_path / "report.txt"
    assert run_self_test(target_db.url, report=report) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert "OK   Database: connected to citus@" in out
    assert "over TLS" in out
    assert report.read_text(encoding="utf-8").splitlines() == out.splitlines()


def test_a_connection_string_for_another_database_is_a_fail_line(capsys):
    assert run_self_test("mysql://root@localhost/app") == 1
    out = capsys.readouterr().out
    assert 'FAIL Database: This is a connection string for "mysql", not PostgreSQL.' in out
    assert "Self-test failed: 1 of 7 checks did not work (Database)." in out


def test_a_missing_display_plugin_is_a_fail_line_not_an_abort():
    # Qt aborts the process when it cannot load the platform plugin: the self-test looks first.
    env = dict(os.environ, QT_QPA_PLATFORM="nosuchplatform")
    result = subprocess.run(
        [sys.executable, "-m", "coursemig_gui", "--self-test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'FAIL Qt: the "nosuchplatform" display plugin is missing' in result.stdout
    assert "Traceback" not in result.stderr
