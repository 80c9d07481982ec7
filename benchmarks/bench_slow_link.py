"""A whole Django app over a slow link: CourseMig against a psql pipe per table doing the same
work, in one run, with every connection to either server going through a proxy that delays
each packet (``--delay-ms``, one way; 15 ms makes a 30 ms round trip, as to a cloud region).

The same work on both sides: the courses app's tables created with the DDL CourseMig shows
(types, keys, identities), every row copied, the source's other indexes made, the foreign keys
added and the identities moved past the copied ids. The pipe: ``psql -f`` for the tables, one
``psql \\copy | psql \\copy`` per table, ``psql -f`` for the indexes, foreign keys and
identities. CourseMig: ``coursemig migrate
--app courses`` with its defaults (verification on, three tables at once), with
``--no-verify`` (the pipe verifies nothing), and one table at a time (``--loaders 1``, as the
pipe). Alternated rounds, medians, round trips and connections counted at the proxies.

    .venv/bin/python benchmarks/bench_slow_link.py [--delay-ms 15] [--courses 3547] [--rounds 5]

Never a pass/fail test: figures to read.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from bench_tools import TARGET_PASSWORD, coursemig, make_bench_databases
from psycopg import sql
from slow_link import SlowLink

from coursemig_gui.core.catalog import read_catalog
from coursemig_gui.core.ddl import INDEXES_MARKER, ddl_script
from coursemig_gui.core.mapping import default_mappings, rename_reserved_words, select_tables
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.demo.localserver import start_local_server
from coursemig_gui.demo.sample_data import fill_sample_data

AFTER_LOADS = "\n\n-- after every table is loaded\n"


def pipe_scripts(src_url: str) -> tuple[str, list[tuple[str, str]], str]:
    """(the CREATE script, a (read, write) ``\\copy`` pair per table, the script for after the
    loads), from the catalog and mappings CourseMig itself would use."""
    with psycopg.connect(src_url) as conn:
        catalog = read_catalog(conn)
    mappings = default_mappings(catalog, select_tables(catalog, apps=["courses"]))
    rename_reserved_words(mappings, catalog.reserved_words)
    creates, _, fks = ddl_script(catalog, mappings, MigrationOptions()).partition(AFTER_LOADS)
    # the source's other indexes, built after the copies as CourseMig builds them
    creates, _, indexes = creates.partition(INDEXES_MARKER)
    copies, after = [], [indexes, fks]
    for tm in mappings:
        table = catalog.table(tm.source)
        sources = sql.SQL(", ").join(sql.Identifier(cm.source) for cm in tm.included_columns)
        targets = sql.SQL(", ").join(sql.Identifier(cm.target) for cm in tm.included_columns)
        read = sql.SQL("\\copy (SELECT {} FROM {}) TO STDOUT CSV").format(
            sources, sql.Identifier(tm.source)
        )
        write = sql.SQL("\\copy {} ({}) FROM STDIN CSV").format(sql.Identifier(tm.target), targets)
        copies.append((read.as_string(None), write.as_string(None)))
        for cm in tm.included_columns:
            col = table.column(cm.source)
            if col.identity or (col.default or "").startswith("nextval("):
                after.append(
                    sql.SQL("SELECT setval(pg_get_serial_sequence({}, {}), max({})) FROM {};")
                    .format(
                        sql.Literal(sql.Identifier(tm.target).as_string(None)),
                        sql.Literal(cm.target),
                        sql.Identifier(cm.target),
                        sql.Identifier(tm.target),
                    )
                    .as_string(None)
                )
    return creates, copies, "\n".join(after)


def run_pipe(src: str, tgt: str, creates: str, copies, after: str, work: Path, env) -> float:
    (work / "create.sql").write_text(creates)
    (work / "after.sql").write_text(after)
    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    start = time.perf_counter()
    subprocess.run([*psql, tgt, "-f", str(work / "create.sql")], check=True, env=env)
    for read, write in copies:
        reader = subprocess.Popen([*psql, src, "-c", read], stdout=subprocess.PIPE, env=env)
        subprocess.run([*psql, tgt, "-c", write], stdin=reader.stdout, check=True, env=env)
        reader.stdout.close()
        if reader.wait() != 0:
            raise RuntimeError(f"psql failed: {read}")
    subprocess.run(
        [*psql, tgt, "-f", str(work / "after.sql")], check=True, stdout=subprocess.DEVNULL, env=env
    )
    return time.perf_counter() - start


def run_tool(src: str, tgt: str, env: dict, *extra: str) -> float:
    start = time.perf_counter()
    command = coursemig("migrate", "--source", src, "--target", tgt, "--app", "courses")
    done = subprocess.run(
        [*command, "--rename-reserved", "-q", *extra], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"coursemig failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds


def empty_target(tgt_admin: str) -> None:
    with psycopg.connect(tgt_admin, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public AUTHORIZATION citus")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay-ms", type=float, default=15.0, help="one way, each server")
    parser.add_argument("--courses", type=int, default=3547)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="coursemig-slow-"))
    env = dict(os.environ, COURSEMIG_HOME=str(work / "home"), PGPASSWORD=TARGET_PASSWORD)
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    source = start_local_server("slow-source")
    target = start_local_server("slow-target", tls=True, require_password=True)
    links: list[SlowLink] = []
    try:
        make_bench_databases(source.admin_conninfo(), target.admin_conninfo())
        fill_sample_data(source.url("django", "course_api"), courses=args.courses, seed=7)
        tgt_admin = target.admin_conninfo("citus")
        links = [SlowLink(source.port, args.delay_ms), SlowLink(target.port, args.delay_ms)]
        src = source.url("django", "course_api").replace(f":{source.port}/", f":{links[0].port}/")
        tgt = target.url("citus", "citus", sslmode="require").replace(
            f":{target.port}/", f":{links[1].port}/"
        )
        creates, copies, after = pipe_scripts(source.url("django", "course_api"))
        steps = {
            "psql pipe per table": lambda: run_pipe(src, tgt, creates, copies, after, work, env),
            "CourseMig (defaults)": lambda: run_tool(src, tgt, env),
            "CourseMig --no-verify": lambda: run_tool(src, tgt, env, "--no-verify"),
            "CourseMig --loaders 1": lambda: run_tool(src, tgt, env, "--loaders", "1"),
            "CourseMig --loaders 1 --no-verify": lambda: run_tool(
                src, tgt, env, "--loaders", "1", "--no-verify"
            ),
        }
        seconds: dict[str, list[float]] = {name: [] for name in steps}
        trips: dict[str, tuple[int, int, int, int]] = {}
        start_load = os.getloadavg()[0]
        print(f"{len(copies)} tables, {args.delay_ms:g} ms each way; {args.rounds} rounds")
        for round_no in range(args.rounds):
            names = list(steps) if round_no % 2 == 0 else list(reversed(steps))
            for name in names:
                empty_target(tgt_admin)
                for link in links:
                    link.take_counts()
                seconds[name].append(steps[name]())
                s, t = (link.take_counts() for link in links)
                trips[name] = (s.round_trips, s.connections, t.round_trips, t.connections)
        pipe = statistics.median(seconds["psql pipe per table"])
        rows = []
        print(f"load average {start_load:.1f} at start, {os.getloadavg()[0]:.1f} at end")
        print(f"{'same work':34} {'seconds':>8} {'ratio':>6}  round trips / connections")
        for name, values in seconds.items():
            median = statistics.median(values)
            s_rt, s_c, t_rt, t_c = trips[name]
            print(
                f"{name:34} {median:8.2f} {pipe / median:5.2f}x  "
                f"source {s_rt} / {s_c}, target {t_rt} / {t_c}"
            )
            rows.append([name, args.delay_ms, f"{median:.2f}", f"{pipe / median:.2f}",
                         s_rt, s_c, t_rt, t_c])  # fmt: skip
        with (out / "slow_link.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["step", "delay_ms_one_way", "seconds", "pipe_over_step",
                             "source_round_trips", "source_connections",
                             "target_round_trips", "target_connections"])  # fmt: skip
            writer.writerows(rows)
    finally:
        for link in links:
            link.close()
        source.destroy()
        target.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
