"""Speed and memory of CourseMig against a raw ``psql \\copy | psql \\copy`` pipe, in one run.

Starts two throwaway servers (the target like Azure: TLS + SCRAM), fills the source with N
course rows (default 1,000,000), then times, between the same servers:

- the FAIR PAIRS first (``fair_pairs.py``): CourseMig against a psql pipe doing the same work,
  alternated, with the load average at start and end and the peak RSS; the table it prints is
  the one the README quotes. ``--only fair`` stops after them;
- the psql pipe into a keyed table (the yardstick for the runs below, measured in this run),
- the tool's direct transfer (binary where types match), CSV streaming, and via CSV files,
- the tool with 100 bad rows (duplicate keys) spread over the table,
- pgloader loading the same CSV (when the Debian package ``pgloader`` is installed),
- the whole sample database with 1 and with 2 loaders.

The tool runs as a ``coursemig`` subprocess so its peak RSS is measured exactly (wait4).
Prints a table, writes results CSV and a chart PNG. Never a pass/fail test: figures to read.

    .venv/bin/python benchmarks/bench_transfer.py [--courses N] [--only fair] [--rounds R]
        [--out DIR] [--skip-pgloader] [--skip-whole]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from bench_tools import (
    TARGET_PASSWORD,
    CpuMeter,
    Result,
    coursemig,
    drop_tables,
    make_bench_databases,
    make_target_table,
    psql_pipe,
    run_measured,
)
from fair_pairs import Bench, run_fair_pairs

import coursemig_gui
from coursemig_gui.demo.localserver import start_local_server
from coursemig_gui.demo.sample_data import fill_sample_data


def chart(results: list[Result], baseline: float, path: Path) -> None:
    """A horizontal bar chart of ratios to the psql pipe, drawn with Qt (no extra dependency)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - fonts need it
    rows = [r for r in results if r.rows]
    width, bar_h, left = 900, 34, 330
    height = 60 + bar_h * len(rows)
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    p = QPainter(image)
    p.setFont(QFont("DejaVu Sans", 10))
    p.drawText(
        QRectF(10, 8, width - 20, 24),
        Qt.AlignmentFlag.AlignLeft,
        "Rows per second, relative to psql \\copy | psql \\copy (= 1.00)",
    )
    top = max(r.rows_per_second / baseline for r in rows) or 1
    for i, r in enumerate(rows):
        y = 40 + i * bar_h
        ratio = r.rows_per_second / baseline
        p.setPen(QColor("black"))
        p.drawText(QRectF(10, y, left - 20, bar_h - 6), Qt.AlignmentFlag.AlignVCenter, r.name)
        w = (width - left - 80) * ratio / top
        p.fillRect(
            QRectF(left, y + 4, w, bar_h - 12),
            QColor("#2f6fb3" if "psql" not in r.name else "#888"),
        )
        p.drawText(
            QRectF(left + w + 6, y, 70, bar_h - 6), Qt.AlignmentFlag.AlignVCenter, f"{ratio:.2f}×"
        )
    p.end()
    image.save(str(path))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--courses", type=int, default=1_000_000)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--skip-pgloader", action="store_true")
    parser.add_argument(
        "--pgloader-limit",
        type=float,
        default=240,
        help="seconds before pgloader's bad-rows run is stopped (it retries row by row)",
    )
    parser.add_argument("--skip-whole", action="store_true", help="skip the whole-database runs")
    parser.add_argument(
        "--only",
        choices=["fair", "all"],
        default="all",
        help="fair: only the fair pairs against the pipe (a few minutes at --courses 200000)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="rounds of each fair pair (medians are printed)"
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="coursemig-bench-"))
    os.chmod(work, 0o777)
    env = dict(os.environ, COURSEMIG_HOME=str(work / "home"))
    # An installed CourseMig (a wheel, the frozen bundle) starts from compiled bytecode; with
    # PYTHONDONTWRITEBYTECODE a source tree compiles every module again on every run (~0.15 s)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")  # compiled once, outside the tree
    package = Path(coursemig_gui.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], env=env, check=True)

    print(f"Starting servers and filling {args.courses:,} courses…", flush=True)
    source = start_local_server("bench-source")
    target = start_local_server("bench-target", tls=True, require_password=True)
    results: list[Result] = []
    try:
        make_bench_databases(source.admin_conninfo(), target.admin_conninfo())
        src_url = source.url("django", "course_api")
        tgt_url = target.url("citus", "citus", TARGET_PASSWORD, sslmode="require")
        tgt_admin = target.admin_conninfo("citus")
        t0 = time.perf_counter()
        fill_sample_data(src_url, courses=args.courses, seed=7)
        print(f"  filled in {time.perf_counter() - t0:.1f}s", flush=True)
        # the fill's after-effects (autovacuum of a million new rows, a checkpoint) would
        # otherwise land in the first timed runs, whichever side they are
        with psycopg.connect(source.admin_conninfo("course_api"), autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) courses_course")
            conn.execute("CHECKPOINT")
        with psycopg.connect(src_url) as conn:
            columns = [
                r[0]
                for r in conn.execute(
                    "SELECT attname FROM pg_attribute WHERE attrelid = 'courses_course'::regclass "
                    "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
                )
            ]
            n = conn.execute("SELECT count(*) FROM courses_course").fetchone()[0]
            size = conn.execute(
                "SELECT pg_size_pretty(pg_table_size('courses_course'))"
            ).fetchone()[0]
        print(f"  courses_course: {n:,} rows, {size}", flush=True)

        fair = Bench(src_url, tgt_url, tgt_admin, columns, work, env, max(1, args.rounds), n)
        fair.cpu = CpuMeter([source.data_dir, target.data_dir])
        fair.admins = [source.admin_conninfo("course_api"), tgt_admin]
        run_fair_pairs(fair, out)
        if args.only == "fair":
            return 0

        # 1. the yardstick, measured twice (the first run warms the caches for everyone)
        make_target_table(tgt_admin, "course_psql")
        psql_pipe(src_url, tgt_url, "courses_course", "course_psql", columns)
        make_target_table(tgt_admin, "course_psql")
        psql_seconds = psql_pipe(src_url, tgt_url, "courses_course", "course_psql", columns)
        results.append(Result("psql \\copy | psql \\copy", n, psql_seconds))
        drop_tables(tgt_admin, ["course_psql"])
        baseline = n / psql_seconds

        def tool(name: str, *extra: str, drop: list[str] | None = None, note: str = "") -> Result:
            seconds, rss, code, err = run_measured(
                coursemig(
                    "migrate",
                    "--source",
                    src_url,
                    "--target",
                    tgt_url,
                    "--no-verify",
                    "-q",
                    "--rejects-dir",
                    str(work / "rejects"),
                    *extra,
                ),
                env,
            )
            if code not in (0, 3):
                raise RuntimeError(f"{name} failed ({code}): {err}")
            result = Result(name, n, seconds, rss, note=note)
            results.append(result)
            print(
                f"  {name}: {seconds:.1f}s ({result.rows_per_second / baseline:.2f}×), "
                f"peak RSS {rss:.0f} MB",
                flush=True,
            )
            drop_tables(tgt_admin, drop or [])
            return result

        course_only = ["--tables", "courses_course", "--no-foreign-keys"]
        tool(
            "CourseMig direct (binary, new table)",
            *course_only,
            "--rename-table",
            "courses_course=course_b",
            drop=["course_b"],
        )
        tool(
            "CourseMig direct (CSV stream, new table)",
            *course_only,
            "--no-binary",
            "--rename-table",
            "courses_course=course_c",
            drop=["course_c"],
        )

        # 100 bad rows spread over the table: their keys are already in the target
        with psycopg.connect(src_url) as s:
            step = max(1, n // 100)
            bad = s.execute(
                "SELECT pid, slug || '-x', course_number, title, program_id FROM ("
                "SELECT *, row_number() OVER () AS r FROM courses_course) q WHERE r %% %s = 0 LIMIT 100",
                [step],
            ).fetchall()

        def table_with_bad_rows(name: str) -> None:
            make_target_table(tgt_admin, name)
            with psycopg.connect(tgt_admin, autocommit=True) as t:
                t.cursor().executemany(
                    f"INSERT INTO {name} (pid, slug, course_number, title, program_id) VALUES (%s,%s,%s,%s,%s)",
                    bad,
                )

        def loaded(name: str) -> int:
            with psycopg.connect(tgt_admin) as conn:
                return conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] - len(bad)

        # into an existing table whose keys are in place: the fair baseline for bad rows
        make_target_table(tgt_admin, "course_keys")
        tool(
            "CourseMig direct, existing table",
            *course_only,
            "--rename-table",
            "courses_course=course_keys",
            "--if-exists",
            "append",
            drop=["course_keys"],
        )

        table_with_bad_rows("course_bad")
        r = tool(
            "CourseMig direct, existing table, 100 bad rows",
            *course_only,
            "--rename-table",
            "courses_course=course_bad",
            "--if-exists",
            "append",
            "--max-rejects",
            "1000",
            drop=[],
        )
        r.rejected = n - loaded("course_bad")
        r.note = f"{r.rejected} rows rejected"
        drop_tables(tgt_admin, ["course_bad"])

        # the yardstick again, into a table with the same keys, right after the existing-table
        # runs: shows how much the machine's state drifted during the run
        make_target_table(tgt_admin, "course_psql")
        again = psql_pipe(src_url, tgt_url, "courses_course", "course_psql", columns)
        results.append(Result("psql pipe again (after the runs above)", n, again))
        print(f"  psql pipe again: {again:.1f}s", flush=True)
        drop_tables(tgt_admin, ["course_psql"])

        # via CSV files: export, then import (the two timed together)
        csv_dir = work / "csv"
        s1, rss1, c1, e1 = run_measured(
            coursemig(
                "export",
                "--source",
                src_url,
                "--tables",
                "courses_course",
                "--to",
                str(csv_dir),
                "-q",
            ),
            env,
        )
        s2, rss2, c2, e2 = run_measured(
            coursemig(
                "import",
                str(csv_dir),
                "--target",
                tgt_url,
                "--tables",
                "courses_course",
                "--rename-table",
                "courses_course=course_csv",
                "--no-verify",
                "-q",
            ),
            env,
        )
        if c1 or c2:
            raise RuntimeError(f"CSV route failed: {e1} {e2}")
        results.append(
            Result(
                "CourseMig via CSV files",
                n,
                s1 + s2,
                max(rss1, rss2),
                note=f"export {s1:.1f}s + import {s2:.1f}s",
            )
        )
        print(f"  via CSV: {s1 + s2:.1f}s ({(n / (s1 + s2)) / baseline:.2f}×)", flush=True)
        drop_tables(tgt_admin, ["course_csv"])

        # the CSV file alone into a table holding the 100 bad keys: CourseMig import vs pgloader
        table_with_bad_rows("course_csvbad")
        seconds, rss, code, err = run_measured(
            coursemig(
                "import",
                str(csv_dir),
                "--target",
                tgt_url,
                "--tables",
                "courses_course",
                "--rename-table",
                "courses_course=course_csvbad",
                "--if-exists",
                "append",
                "--max-rejects",
                "1000",
                "--no-verify",
                "-q",
                "--rejects-dir",
                str(work / "rejects2"),
            ),
            env,
        )
        rejected = n - loaded("course_csvbad")
        results.append(
            Result(
                "CourseMig import of the CSV, 100 bad rows",
                n,
                seconds,
                rss,
                rejected,
                note=f"{rejected} rows rejected",
            )
        )
        print(f"  import with bad rows: {seconds:.1f}s, {rejected} rejected", flush=True)
        drop_tables(tgt_admin, ["course_csvbad"])

        if not args.skip_pgloader:
            pgloader = shutil.which("pgloader")
            if pgloader is None:
                print("  pgloader not installed (apt-get install pgloader): skipped", flush=True)
            else:
                cols = ", ".join(columns)
                csv_path = csv_dir / "courses_course.csv"
                os.chmod(work, 0o755)
                # pgloader verifies TLS against OpenSSL's default store: hand it the test CA
                pgl_env = dict(os.environ, SSL_CERT_FILE=str(target.ca_cert))

                def pgloader_run(table: str, label: str, limit: float) -> None:
                    load = work / f"{table}.load"
                    # pgloader maps the CSV's fields by position, in the header's order
                    load.write_text(
                        f"LOAD CSV FROM '{csv_path}' ({cols})\n"
                        f"INTO postgresql://citus:{TARGET_PASSWORD}"
                        f"@127.0.0.1:{target.port}/citus?sslmode=require&tablename={table} ({cols})\n"
                        "WITH skip header = 1, fields optionally enclosed by '\"', fields escaped by "
                        "double-quote, fields terminated by ',', batch rows = 25000\n"
                        "SET work_mem to '32MB';\n"
                    )
                    seconds, rss, code, err = run_measured([pgloader, str(load)], pgl_env, limit)
                    if code == -9:
                        results.append(
                            Result(
                                label,
                                0,
                                seconds,
                                rss,
                                note=f"stopped after {limit:.0f}s, unfinished",
                            )
                        )
                        print(f"  {label}: did not finish in {limit:.0f}s", flush=True)
                        return
                    rejected = (
                        n - loaded(table)
                        if table == "course_pgl_bad"
                        else n - (loaded(table) + len(bad))
                    )
                    results.append(
                        Result(
                            label,
                            n,
                            seconds,
                            rss,
                            rejected,
                            note=f"exit {code}, {rejected} rows rejected",
                        )
                    )
                    print(
                        f"  {label}: {seconds:.1f}s, {rejected} rejected, exit {code}", flush=True
                    )
                    drop_tables(tgt_admin, [table])

                make_target_table(tgt_admin, "course_pgl")
                pgloader_run("course_pgl", "pgloader, same CSV", 600)
                table_with_bad_rows("course_pgl_bad")
                pgloader_run(
                    "course_pgl_bad", "pgloader, same CSV, 100 bad rows", args.pgloader_limit
                )
                drop_tables(tgt_admin, ["course_pgl_bad"])

        if not args.skip_whole:
            total = 0
            with psycopg.connect(src_url) as conn:
                for (t,) in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE tablename LIKE 'courses%'"
                ):
                    total += conn.execute(
                        psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(t))
                    ).fetchone()[0]
            tables = [
                "program",
                "meetingtime",
                "meetinglocation",
                "course",
                "degree",
                "section",
                "specialization",
                "coursesectionlink",
                "coursesectionlink_sections",
            ]
            for loaders in (1, 2):
                seconds, rss, code, err = run_measured(
                    coursemig(
                        "migrate",
                        "--source",
                        src_url,
                        "--target",
                        tgt_url,
                        "--app",
                        "courses",
                        "--no-verify",
                        "--loaders",
                        str(loaders),
                        "-q",
                    ),
                    env,
                )
                if code:
                    raise RuntimeError(f"whole database failed: {err}")
                results.append(
                    Result(
                        f"Whole sample database, {loaders} loader{'s' if loaders > 1 else ''}",
                        total,
                        seconds,
                        rss,
                    )
                )
                print(
                    f"  whole database, {loaders} loaders: {seconds:.1f}s, {total:,} rows",
                    flush=True,
                )
                drop_tables(tgt_admin, tables)

        # A new table whose `credit` column is narrower in the target than the longest value
        # of 100 rows spread over the source: those 100 rows are rejected (value too long),
        # the rest load. Compared with the same profile on clean data (both stream CSV, since
        # a changed type rules out binary). Last, because it changes the source.
        with psycopg.connect(src_url) as conn:
            longest = (
                conn.execute("SELECT max(length(credit)) FROM courses_course").fetchone()[0] or 1
            )
        profile_file = work / "narrow.json"
        code = subprocess.run(
            coursemig(
                "plan",
                "--source",
                src_url,
                "--target",
                tgt_url,
                "--tables",
                "courses_course",
                "--rename-table",
                "courses_course=course_narrow",
                "--no-foreign-keys",
                "-o",
                str(profile_file),
            ),
            env=env,
            capture_output=True,
        ).returncode
        data = json.loads(profile_file.read_text())
        for column in data["tables"][0]["columns"]:
            if column["source"] == "credit":
                column["target_type"] = f"character varying({longest})"
        data["options"].update(verify=False, max_rejects=1000)
        profile_file.write_text(json.dumps(data))
        run_env = dict(env, PGPASSWORD=TARGET_PASSWORD)

        def narrow_run(label: str) -> Result:
            seconds, rss, code, err = run_measured(
                coursemig("run", str(profile_file), "-q", "--json-report", str(work / "n.json")),
                run_env,
            )
            if code not in (0, 3):
                raise RuntimeError(f"{label} failed ({code}): {err}")
            rejected = json.loads((work / "n.json").read_text())["tables"][0]["rows_rejected"]
            result = Result(label, n, seconds, rss, rejected, note=f"{rejected} rows rejected")
            results.append(result)
            print(f"  {label}: {seconds:.1f}s, {rejected} rejected", flush=True)
            drop_tables(tgt_admin, ["course_narrow"])
            return result

        narrow_run("CourseMig direct, new table, narrowed column")
        with psycopg.connect(src_url, autocommit=True) as conn:
            conn.execute(
                "UPDATE courses_course SET credit = repeat('9', %s) WHERE ctid IN (SELECT ctid FROM "
                "(SELECT ctid, row_number() OVER () AS r FROM courses_course) q WHERE r %% %s = 0 LIMIT 100)",
                [longest + 1, max(1, n // 100)],
            )
        narrow_run("CourseMig direct, new table, narrowed column, 100 bad rows")
    finally:
        source.destroy()
        target.destroy()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"{'run':<58} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'vs psql':>8} {'peak RSS':>9}")
    for r in results:
        rss = f"{r.peak_rss_mb:.0f} MB" if r.peak_rss_mb else "-"
        print(
            f"{r.name:<58} {r.rows:>10,} {r.seconds:>8.1f} {r.rows_per_second:>10,.0f} "
            f"{r.rows_per_second / baseline:>7.2f}× {rss:>9}  {r.note}"
        )
    with (out / "results.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["run", "rows", "seconds", "rows_per_second", "ratio_to_psql", "peak_rss_mb", "note"]
        )
        for r in results:
            w.writerow(
                [
                    r.name,
                    r.rows,
                    f"{r.seconds:.2f}",
                    f"{r.rows_per_second:.0f}",
                    f"{r.rows_per_second / baseline:.3f}",
                    f"{r.peak_rss_mb or 0:.0f}",
                    r.note,
                ]
            )
    chart(results, baseline, out / "results.png")
    print(f"\nWrote {out / 'results.csv'} and {out / 'results.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
