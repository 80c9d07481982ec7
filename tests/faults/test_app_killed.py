"""Issue 9, item 4: the app dies mid-table (the CLI process killed with SIGKILL).

The target table is as it was before (absent, or unchanged), the server ends the orphaned
backend when its socket closes so nothing is left locked, and running again works.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.faults, pytest.mark.skipif(os.name != "posix", reason="SIGKILL")]

ROWS = 50_000


@pytest.fixture
def big_source(source_db):
    with source_db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE big (id integer PRIMARY KEY, t text NOT NULL, pad text)")
        conn.execute(
            "INSERT INTO big SELECT g, md5(g::text), repeat(chr(65 + g % 26), 100) "
            f"FROM generate_series(1, {ROWS}) g"
        )
    return source_db


def _cli(source_db, target_db, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "coursemig_gui.cli",
        "migrate",
        "--source",
        source_db.url,
        "--target",
        target_db.url,
        "--tables",
        "big",
        "--batch-rows",
        "200",
        "-q",
        *extra,
    ]


def _active_copy(target_db) -> bool:
    return bool(
        target_db.rows(
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND usename = 'citus' "
            "AND state = 'active' AND query LIKE 'COPY%FROM STDIN%'"
        )
    )


def _leftovers(target_db) -> tuple[int, int]:
    """(backends of the role citus, locks held by any other backend) in the test database."""
    backends = target_db.rows(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND usename = 'citus'"
    )[0][0]
    locks = target_db.rows(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE d.datname = current_database() AND l.pid <> pg_backend_pid()"
    )[0][0]
    return backends, locks


def _state(target_db):
    if target_db.rows("SELECT to_regclass('public.big')")[0][0] is None:
        return None
    return target_db.rows("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM big")[0]


@pytest.mark.parametrize("existing", [False, True], ids=["new-table", "existing-table"])
def test_sigkill_mid_table(big_source, target_db, existing):
    extra: tuple[str, ...] = ()
    if existing:
        with target_db.connect(autocommit=True) as conn:
            conn.execute("CREATE TABLE big (id integer PRIMARY KEY, t text NOT NULL, pad text)")
            conn.execute("INSERT INTO big SELECT -g, 'before', NULL FROM generate_series(1, 10) g")
        extra = ("--if-exists", "append")
    before = _state(target_db)

    proc = subprocess.Popen(
        _cli(big_source, target_db, *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while not _active_copy(target_db):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no COPY was seen"
            time.sleep(0.01)
        # the COPY is open inside the table's transaction (one COPY streams a clean table's
        # rows, so waiting longer could see the whole table committed)
        time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    # The server notices the closed socket and ends the orphaned backend, rolling back.
    deadline = time.monotonic() + 10
    while _leftovers(target_db) != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _leftovers(target_db) == (0, 0)
    assert _state(target_db) == before  # absent, or exactly the ten rows it had

    again = subprocess.run(
        _cli(big_source, target_db, *extra), capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    count, distinct, low, high = _state(target_db)
    assert count == distinct == ROWS + (10 if existing else 0)
    assert (low, high) == (-10 if existing else 1, ROWS)
