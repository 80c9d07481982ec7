"""What the benchmark scripts share: timing a subprocess with its peak RSS, the psql pipe, the
benchmark's fixed target tables and the ``coursemig`` command line."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

TARGET_PASSWORD = "bench-Pa55word"  # plain, so pgloader's URL needs no escaping


@dataclass
class Result:
    name: str
    rows: int
    seconds: float
    peak_rss_mb: float | None = None
    rejected: int = 0
    note: str = ""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class CpuMeter:
    """CPU seconds used by the two servers and by this process's children (CourseMig, psql)
    between ``start`` and ``stop``: a server's exited backends and parallel workers are
    counted in its postmaster's children's times, so every step closes its connections."""

    def __init__(self, data_dirs: list[Path]) -> None:
        self.data_dirs = data_dirs
        self._at = 0.0

    def _now(self) -> float:
        tick = os.sysconf("SC_CLK_TCK")
        used = sum(os.times()[2:4])  # children's user + system
        for data_dir in self.data_dirs:
            pid = (data_dir / "postmaster.pid").read_text().split()[0]
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used += sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
        return used

    def start(self) -> None:
        self._at = self._now()

    def stop(self) -> float:
        return self._now() - self._at


def run_measured(
    cmd: list[str], env: dict | None = None, limit: float | None = None
) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, stderr tail) of a subprocess; killed after
    ``limit`` seconds (exit code -9)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    timer = None
    if limit is not None:
        timer = threading.Timer(limit, proc.kill)
        timer.start()
    # read stderr to the end before reaping, so wait4 gets this child's own rusage
    stderr_data = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if timer is not None:
        timer.cancel()
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return (
        seconds,
        usage.ru_maxrss / 1024.0,
        proc.returncode,
        stderr_data.decode(errors="replace")[-2000:],
    )


def psql_pipe(
    src_url: str,
    tgt_url: str,
    table: str,
    target: str,
    columns: list[str],
    binary: bool = False,
    blocks: tuple[int, int] | None = None,
) -> float:
    """``psql \\copy … TO STDOUT | psql \\copy … FROM STDIN``: CSV, or binary; all of ``table``,
    or only the rows in its blocks ``blocks`` (first, end), for a load split over sessions."""
    cols = ", ".join(f'"{c}"' for c in columns)
    fmt = "(FORMAT binary)" if binary else "CSV"
    read = table
    if blocks is not None:
        first, end = blocks
        read = (
            f"(SELECT {cols} FROM {table} WHERE ctid >= '({first},0)'::tid"
            f" AND ctid < '({end},0)'::tid)"
        )
        out = f"\\copy {read} TO STDOUT {fmt}"
    else:
        out = f"\\copy {table} ({cols}) TO STDOUT {fmt}"
    into = f"\\copy {target} ({cols}) FROM STDIN {fmt}"
    start = time.perf_counter()
    reader = subprocess.Popen(["psql", src_url, "-X", "-q", "-c", out], stdout=subprocess.PIPE)
    writer = subprocess.run(
        ["psql", tgt_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", into],
        stdin=reader.stdout,
        capture_output=True,
        text=True,
    )
    reader.stdout.close()
    reader.wait()
    if writer.returncode != 0 or reader.returncode != 0:
        raise RuntimeError(f"psql pipe failed: {writer.stderr}")
    return time.perf_counter() - start


def make_target_table(tgt_admin: str, name: str) -> None:
    with psycopg.connect(tgt_admin, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")  # benchmark-local fixed names only
        conn.execute(
            f"CREATE TABLE {name} (pid varchar(30) PRIMARY KEY, slug varchar(200) UNIQUE NOT NULL, "
            "course_number varchar(100) NOT NULL, title varchar(200) NOT NULL, credit varchar(100), "
            "hours varchar(100), description varchar(15000), notes varchar(10000), link varchar(200), "
            "program_id varchar(10) NOT NULL)"
        )
        conn.execute(f"ALTER TABLE {name} OWNER TO citus")


def drop_tables(tgt_admin: str, names: list[str]) -> None:
    with psycopg.connect(tgt_admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f"DROP TABLE IF EXISTS {name} CASCADE")


def coursemig(*args: str) -> list[str]:
    return [sys.executable, "-m", "coursemig_gui.cli", *args]


def make_bench_databases(source_admin: str, target_admin: str) -> None:
    """The roles and databases every benchmark uses: ``django`` owning ``course_api`` on the
    source, ``citus`` (with a password) owning ``citus`` on the target."""
    with psycopg.connect(source_admin, autocommit=True) as conn:
        conn.execute("CREATE ROLE django LOGIN")
        conn.execute("CREATE DATABASE course_api OWNER django")
    with psycopg.connect(target_admin, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("CREATE ROLE citus LOGIN PASSWORD {}").format(
                psycopg.sql.Literal(TARGET_PASSWORD)
            )
        )
        conn.execute("CREATE DATABASE citus OWNER citus")
