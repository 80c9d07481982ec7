"""Row-by-row comparison against copying: time and peak memory, in one run.

Starts two throwaway servers (the target like Azure: TLS + SCRAM), fills the source with N
courses (default 1,000,000), then measures, each as a ``coursemig`` subprocess (peak RSS exact,
from wait4):

1. ``coursemig run`` of a saved migration copying ``courses_course`` into ``course``,
2. ``coursemig compare`` of the same migration (every row identical),
3. ``coursemig compare`` again after 1,000 rows were changed in the target (their values read).

Never a pass/fail test: figures to read. Prints them and writes them as JSON.

    .venv/bin/python benchmarks/bench_compare.py [--courses N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from coursemig_gui.demo.localserver import start_local_server
from coursemig_gui.demo.sample_data import fill_sample_data

TARGET_PASSWORD = "bench-Pa55word"


def run_measured(cmd: list[str], env: dict) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, stderr tail) of a subprocess."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = proc.stderr.read()  # to the end before reaping, so wait4 gets this child's rusage
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024.0, code, err.decode(errors="replace")[-2000:]


def coursemig(*args: str) -> list[str]:
    return [sys.executable, "-m", "coursemig_gui.cli", *args]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--courses", type=int, default=1_000_000)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="coursemig-bench-compare-"))
    env = dict(os.environ, COURSEMIG_HOME=str(work / "home"), PGPASSWORD=TARGET_PASSWORD)

    print(f"Starting servers and filling {args.courses:,} courses…", flush=True)
    source = start_local_server("bench-cmp-source")
    target = start_local_server("bench-cmp-target", tls=True, require_password=True)
    figures: dict = {"courses": args.courses, "load_average_at_start": os.getloadavg()}
    try:
        with psycopg.connect(source.admin_conninfo(), autocommit=True) as conn:
            conn.execute("CREATE ROLE django LOGIN")
            conn.execute("CREATE DATABASE course_api OWNER django")
        with psycopg.connect(target.admin_conninfo(), autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("CREATE ROLE citus LOGIN PASSWORD {}").format(
                psycopg.sql.Literal(TARGET_PASSWORD)))  # fmt: skip
            conn.execute("CREATE DATABASE citus OWNER citus")
        src_url = source.url("django", "course_api")
        tgt_url = target.url("citus", "citus", TARGET_PASSWORD, sslmode="require")
        t0 = time.perf_counter()
        fill_sample_data(src_url, courses=args.courses, seed=7)
        with psycopg.connect(src_url) as conn:
            rows = conn.execute("SELECT count(*) FROM courses_course").fetchone()[0]
        figures["rows"] = rows
        print(f"  filled in {time.perf_counter() - t0:.1f}s: {rows:,} rows", flush=True)

        profile = work / "course.json"
        subprocess.run(coursemig("plan", "--source", src_url, "--target", tgt_url, "--tables",
                                 "courses_course", "--no-foreign-keys", "--output", str(profile),
                                 "-q"), env=env, check=True)  # fmt: skip

        def measure(name: str, cmd: list[str], ok: tuple[int, ...]) -> None:
            seconds, rss, code, err = run_measured(cmd, env)
            if code not in ok:
                raise RuntimeError(f"{name} failed ({code}): {err}")
            figures[name] = {"seconds": round(seconds, 2), "peak_rss_mb": round(rss, 1),
                             "exit_code": code}  # fmt: skip
            print(f"  {name}: {seconds:.1f}s, peak RSS {rss:.0f} MB (exit {code})", flush=True)

        measure("copy", coursemig("run", str(profile), "-q"), (0,))
        report = work / "identical.json"
        measure("compare identical", coursemig("compare", str(profile), "--json", str(report),
                                               "-q"), (0,))  # fmt: skip
        with psycopg.connect(target.admin_conninfo("citus"), autocommit=True) as conn:
            changed = conn.execute(
                "UPDATE course SET title = title || ' (changed)' "
                "WHERE pid IN (SELECT pid FROM course ORDER BY random() LIMIT 1000)"
            ).rowcount
        figures["rows changed"] = changed
        report = work / "changed.json"
        measure("compare 1,000 changed", coursemig("compare", str(profile), "--json",
                                                   str(report), "-q"), (3,))  # fmt: skip
        found = json.loads(report.read_text())["tables"][0]
        assert found["different"] == changed and len(found["rows"]) == changed, found["verdict"]
    finally:
        source.destroy()
        target.destroy()
    figures["load_average_at_end"] = os.getloadavg()
    (out / "compare.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
