"""The fair pairs: CourseMig against a ``psql \\copy`` pipe doing the SAME work, timed alternately
in one run (pipe, tool, tool, pipe, …), so a busy machine slows both sides alike.

- new table: the pipe creates a bare table, ``\\copy``s into it, then ``ALTER TABLE … ADD
  PRIMARY KEY, ADD UNIQUE`` and the source's four other indexes (Django's on program_id and
  the ``_like`` ones; what CourseMig does: keys and indexes after the load); CourseMig with its
  default verification and with ``--no-verify``; and the target alone, fed rows already read
  (the least any tool can take on this machine), with its hash of the rows (the least
  verification can cost); and the same work by psql in binary format, in one session and split
  over two: the least a tool that reads the source can take here, with no check and nothing
  done per row in Python;
- existing keyed table, append: the pipe into the same keyed table as CourseMig;
- 100 bad rows spread over the table, against the same run on clean data: an existing table
  (the keys of 100 source rows are already there) and a new table (one column narrowed so 100
  longer values do not fit; types differ, so both stream CSV).

Each ratio is the pipe's median time over the tool's median time (above 1 = faster than the
pipe); bad rows are the slowdown against the clean run.
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from bench_tools import (
    TARGET_PASSWORD,
    CpuMeter,
    coursemig,
    drop_tables,
    make_target_table,
    psql_pipe,
    run_measured,
)

from coursemig_gui.core.engine.server_checksum import server_checksum

VERIFIED = "CourseMig (verification on)"
UNVERIFIED = "CourseMig --no-verify"
TARGET_ALONE = "the target alone (rows already read, keys after)"
BINARY_PIPE = "psql pipe in binary format + keys after (no check)"
SPLIT_PIPE = "the same, split over 2 sessions by block range"
FLOORS = {
    TARGET_ALONE: "the most any tool can reach here",
    BINARY_PIPE: "the most a tool reading the source can reach here",
    SPLIT_PIPE: "does splitting pay on this machine?",
}

GOALS = {
    "new": "≥ 1.25× with verification",
    "existing": "≥ 1.25× with verification",
    "bad": "≤ 10 % slower",
}


@dataclass
class Pair:
    work: str
    goal: str
    base_label: str  # the pipe, or the clean run for bad rows
    base: list[float] = field(default_factory=list)
    runs: dict[str, list[float]] = field(default_factory=dict)
    rss: list[float] = field(default_factory=list)
    load: float = 0.0
    cpu: dict[str, list[float]] = field(default_factory=dict)  # CPU seconds of each step

    def cpu_median(self, label: str) -> str:
        spent = self.cpu.get(label)
        return f"{statistics.median(spent):.1f}" if spent else ""

    def median(self, label: str) -> float:
        return statistics.median(self.base if label == self.base_label else self.runs[label])


@dataclass
class Bench:
    src_url: str
    tgt_url: str
    tgt_admin: str
    columns: list[str]
    work: Path
    env: dict
    rounds: int
    rows: int = 0
    pairs: list[Pair] = field(default_factory=list)
    cpu: CpuMeter | None = None  # the servers' and the clients' CPU, when the servers are ours
    target_hash: list[float] = field(default_factory=list)  # the target's hash of the new table
    admins: list[str] = field(default_factory=list)  # both servers as superuser, to settle them

    def settle(self) -> None:
        """Each step starts from the same state: the last one's writes on disk, not flushed
        during the next (the pipe's 270 MB slowed whichever step came after it)."""
        for admin in self.admins:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("CHECKPOINT")
        os.sync()
        time.sleep(0.5)

    # -- the two sides -------------------------------------------------------------------------

    def pipe_new_table(self, name: str) -> float:
        """Bare table, ``\\copy``, then the keys: the same work as CourseMig on a new table."""
        drop_tables(self.tgt_admin, [name])
        start = time.perf_counter()
        with psycopg.connect(self.tgt_url, autocommit=True) as conn:
            conn.execute(_create_sql(name, keys=False))
        psql_pipe(self.src_url, self.tgt_url, "courses_course", name, self.columns)
        with psycopg.connect(self.tgt_url, autocommit=True) as conn:
            for statement in _keys_sql(name):
                conn.execute(statement)
        seconds = time.perf_counter() - start
        drop_tables(self.tgt_admin, [name])
        return seconds

    def target_alone(self, name: str) -> float:
        """The target's own share of a new table: the rows, already read (a file in the page
        cache), in one binary COPY into a bare table, then the same keys, committed. No source,
        no check, nothing per row on the client: no tool can take much less here. Afterwards,
        timed apart, the target's hash of the rows as verification computes it."""
        rows = self.work / "rows.bin"  # a file, so the children forked later do not share it
        table = psycopg.sql.Identifier(name)
        columns = psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, self.columns))
        if not rows.exists():
            with psycopg.connect(self.src_url) as conn, conn.cursor() as cur, rows.open("wb") as f:
                out = psycopg.sql.SQL("COPY courses_course ({}) TO STDOUT (FORMAT binary)")
                with cur.copy(out.format(columns)) as copy:
                    for chunk in copy:
                        f.write(chunk)
        drop_tables(self.tgt_admin, [name])
        start = time.perf_counter()
        with psycopg.connect(self.tgt_url) as conn:
            conn.execute(_create_sql(name, keys=False))
            into = psycopg.sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)")
            with (
                conn.cursor() as cur,
                cur.copy(into.format(table, columns)) as copy,
                rows.open("rb") as f,
            ):
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")  # as CourseMig sets it
            for statement in _keys_sql(name):
                conn.execute(statement)
            conn.commit()
            seconds = time.perf_counter() - start
            hashing = time.perf_counter()
            server_checksum(conn, table, self.columns)
            self.target_hash.append(time.perf_counter() - hashing)
        drop_tables(self.tgt_admin, [name])
        return seconds

    def binary_pipes(self, name: str, sessions: int) -> float:
        """The pipe's work in binary format (no conversion to text and back), the source's
        blocks split over ``sessions`` pipes running at once into a committed bare table, then
        the keys: the least a tool reading the source can take, and whether splitting pays."""
        drop_tables(self.tgt_admin, [name])
        with psycopg.connect(self.src_url) as conn:
            blocks = conn.execute(
                "SELECT pg_relation_size('courses_course') / current_setting('block_size')::int"
            ).fetchone()[0]
        start = time.perf_counter()
        with psycopg.connect(self.tgt_url, autocommit=True) as conn:
            conn.execute(_create_sql(name, keys=False))
        ranges = [(blocks * i // sessions, blocks * (i + 1) // sessions) for i in range(sessions)]
        with ThreadPoolExecutor(sessions) as pool:
            list(
                pool.map(
                    lambda part: psql_pipe(
                        self.src_url,
                        self.tgt_url,
                        "courses_course",
                        name,
                        self.columns,
                        binary=True,
                        blocks=part if sessions > 1 else None,
                    ),
                    ranges,
                )
            )
        with psycopg.connect(self.tgt_url, autocommit=True) as conn:
            for statement in _keys_sql(name):  # as the pipe in CSV makes them
                conn.execute(statement)
        seconds = time.perf_counter() - start
        with psycopg.connect(self.tgt_url) as conn:
            loaded = conn.execute(
                psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(name))
            ).fetchone()[0]
        drop_tables(self.tgt_admin, [name])
        if loaded != self.rows:
            raise RuntimeError(f"the binary pipe loaded {loaded} rows, not {self.rows}")
        return seconds

    def pipe_existing(self, name: str) -> float:
        make_target_table(self.tgt_admin, name)
        seconds = psql_pipe(self.src_url, self.tgt_url, "courses_course", name, self.columns)
        drop_tables(self.tgt_admin, [name])
        return seconds

    def tool(self, pair: Pair, *args: str) -> float:
        seconds, rss, code, err = run_measured(
            coursemig(
                "migrate",
                "--source",
                self.src_url,
                "--target",
                self.tgt_url,
                "--tables",
                "courses_course",
                "--no-foreign-keys",
                "-q",
                "--rejects-dir",
                str(self.work / "rejects"),
                "--max-rejects",
                "1000",
                *args,
            ),
            self.env,
        )
        if code not in (0, 3):
            raise RuntimeError(f"coursemig {' '.join(args)} failed ({code}): {err}")
        pair.rss.append(rss)
        return seconds

    # -- the pairs -----------------------------------------------------------------------------

    def alternate(self, pair: Pair, steps: dict[str, callable]) -> None:
        """Base, the others, base; the others' order reversed every other round."""
        pair.load = os.getloadavg()[0]
        others = [label for label in steps if label != pair.base_label]

        def measured(label: str) -> float:
            self.settle()
            if self.cpu is not None:
                self.cpu.start()
            seconds = steps[label]()
            if self.cpu is not None:
                pair.cpu.setdefault(label, []).append(self.cpu.stop())
            return seconds

        pair.base.append(measured(pair.base_label))
        for i in range(self.rounds):
            for label in others if i % 2 == 0 else list(reversed(others)):
                pair.runs.setdefault(label, []).append(measured(label))
                print(f"    {label}: {pair.runs[label][-1]:.1f}s", flush=True)
            pair.base.append(measured(pair.base_label))
            print(f"    {pair.base_label}: {pair.base[-1]:.1f}s", flush=True)
        self.pairs.append(pair)

    def new_table(self) -> None:
        print("  new table (keys after the load)…", flush=True)
        pair = Pair("new table, keys after the load", GOALS["new"], "pipe + keys after")
        rename = ("--rename-table", "courses_course=course_new")

        def run(*extra: str) -> callable:
            def step() -> float:
                seconds = self.tool(pair, *rename, *extra)
                drop_tables(self.tgt_admin, ["course_new"])
                return seconds

            return step

        self.alternate(
            pair,
            {
                "pipe + keys after": lambda: self.pipe_new_table("course_pipe"),
                VERIFIED: run(),
                UNVERIFIED: run("--no-verify"),
                TARGET_ALONE: lambda: self.target_alone("course_floor"),
                BINARY_PIPE: lambda: self.binary_pipes("course_binary", 1),
                SPLIT_PIPE: lambda: self.binary_pipes("course_binary", 2),
            },
        )

    def existing_table(self) -> None:
        print("  existing keyed table, append…", flush=True)
        pair = Pair("existing keyed table, append", GOALS["existing"], "pipe into keyed table")
        rename = ("--rename-table", "courses_course=course_keys", "--if-exists", "append")

        def run(*extra: str) -> callable:
            def step() -> float:
                make_target_table(self.tgt_admin, "course_keys")
                seconds = self.tool(pair, *rename, *extra)
                drop_tables(self.tgt_admin, ["course_keys"])
                return seconds

            return step

        self.alternate(
            pair,
            {
                "pipe into keyed table": lambda: self.pipe_existing("course_pipe"),
                VERIFIED: run(),
                UNVERIFIED: run("--no-verify"),
            },
        )

    def bad_rows_existing(self) -> None:
        """100 rows already in the table: their keys clash with 100 source rows spread over it
        (bad), or do not (clean). Both tables hold 100 rows before, so both verify the same way."""
        print("  100 bad rows, existing keyed table…", flush=True)
        pair = Pair("100 bad rows, existing keyed table", GOALS["bad"], "clean")
        clashing = self._spread_rows()
        harmless = [(f"zz-bench-{i}", f"zz-bench-{i}", *row[2:]) for i, row in enumerate(clashing)]
        rename = ("--rename-table", "courses_course=course_keys", "--if-exists", "append")

        def run(rows: list[tuple], expect_rejected: int) -> callable:
            def step() -> float:
                make_target_table(self.tgt_admin, "course_keys")
                with psycopg.connect(self.tgt_admin, autocommit=True) as conn:
                    conn.cursor().executemany(
                        "INSERT INTO course_keys (pid, slug, course_number, title, program_id) "
                        "VALUES (%s, %s, %s, %s, %s)",
                        rows,
                    )
                seconds = self.tool(pair, *rename)
                with psycopg.connect(self.tgt_admin) as conn:
                    count = conn.execute("SELECT count(*) FROM course_keys").fetchone()[0]
                drop_tables(self.tgt_admin, ["course_keys"])
                if count != self.rows + len(rows) - expect_rejected:
                    raise RuntimeError(f"expected {expect_rejected} rejected, table has {count}")
                return seconds

            return step

        self.alternate(pair, {"clean": run(harmless, 0), "100 bad rows": run(clashing, 100)})

    def bad_rows_new(self) -> None:
        """A new table whose ``credit`` column is one character narrower than the source's
        longest value is still wide enough for all, until 100 spread rows are lengthened."""
        print("  100 bad rows, new table (one column narrowed)…", flush=True)
        pair = Pair("100 bad rows, new table (a narrowed column)", GOALS["bad"], "clean")
        with psycopg.connect(self.src_url) as conn:
            longest = conn.execute("SELECT max(length(credit)) FROM courses_course").fetchone()[0]
        profile = self._narrow_profile(longest or 1)
        bad_pids = [row[0] for row in self._spread_rows()]
        run_env = dict(self.env, PGPASSWORD=TARGET_PASSWORD)

        def run(expect_rejected: int) -> callable:
            def step() -> float:
                with psycopg.connect(self.src_url, autocommit=True) as conn:
                    if expect_rejected:
                        conn.execute(
                            "UPDATE courses_course SET credit = repeat('9', %s) "
                            "WHERE pid = ANY(%s)",
                            [longest + 1, bad_pids],
                        )
                report = self.work / "narrow.json"
                try:
                    seconds, rss, code, err = run_measured(
                        coursemig("run", str(profile), "-q", "--json-report", str(report)),
                        run_env,
                    )
                finally:
                    if expect_rejected:
                        with psycopg.connect(self.src_url, autocommit=True) as conn:
                            conn.execute(
                                "UPDATE courses_course SET credit = saved FROM bench_credit "
                                "WHERE courses_course.pid = bench_credit.pid"
                            )
                drop_tables(self.tgt_admin, ["course_narrow"])
                if code not in (0, 3):
                    raise RuntimeError(f"narrowed run failed ({code}): {err}")
                rejected = json.loads(report.read_text())["tables"][0]["rows_rejected"]
                if rejected != expect_rejected:
                    raise RuntimeError(f"expected {expect_rejected} rejected, got {rejected}")
                pair.rss.append(rss)
                return seconds

            return step

        with psycopg.connect(self.src_url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_credit")
            conn.execute(
                "CREATE TABLE bench_credit AS SELECT pid, credit AS saved FROM courses_course "
                "WHERE pid = ANY(%s)",
                [bad_pids],
            )
        try:
            self.alternate(pair, {"clean": run(0), "100 bad rows": run(100)})
        finally:
            with psycopg.connect(self.src_url, autocommit=True) as conn:
                conn.execute("DROP TABLE bench_credit")

    def _spread_rows(self) -> list[tuple]:
        """100 source rows spread evenly over the table, as (pid, other slug, …) to insert."""
        with psycopg.connect(self.src_url) as conn:
            return conn.execute(
                "SELECT pid, slug || '-x', course_number, title, program_id FROM ("
                "SELECT *, row_number() OVER () AS r FROM courses_course) q "
                "WHERE r %% %s = 0 LIMIT 100",
                [max(1, self.rows // 100)],
            ).fetchall()

    def _narrow_profile(self, width: int) -> Path:
        path = self.work / "narrow-profile.json"
        subprocess.run(
            coursemig(
                "plan",
                "--source",
                self.src_url,
                "--target",
                self.tgt_url,
                "--tables",
                "courses_course",
                "--rename-table",
                "courses_course=course_narrow",
                "--no-foreign-keys",
                "-o",
                str(path),
            ),
            env=self.env,
            capture_output=True,
            check=True,
        )
        data = json.loads(path.read_text())
        for column in data["tables"][0]["columns"]:
            if column["source"] == "credit":
                column["target_type"] = f"character varying({width})"
        data["options"].update(verify=True, max_rejects=1000)
        path.write_text(json.dumps(data))
        return path

    # -- the table to read -----------------------------------------------------------------------

    def print_table(self, load_start: tuple, out: Path) -> None:
        load_end = os.getloadavg()
        peak = max((r for p in self.pairs for r in p.rss), default=0.0)
        print()
        print(
            f"Fair pairs: {self.rows:,} course rows, {self.rounds} round(s), "
            f"median times; load average {_load(load_start)} at start, {_load(load_end)} at end "
            f"(on {os.cpu_count()} cores); peak RSS of CourseMig {peak:.0f} MB"
        )
        print()
        # CPU seconds: both servers and the client processes, for the whole step (making and
        # dropping the table included); over the cores, the least time the step could take
        print("| same work | run | seconds | ratio | goal | CPU seconds | load at start |")
        print("|---|---|---|---|---|---|---|")
        rows = []
        for p in self.pairs:
            base = p.median(p.base_label)
            cpu = p.cpu_median(p.base_label)
            print(f"| {p.work} | {p.base_label} | {base:.1f} | 1.00 | | {cpu} | {p.load:.1f} |")
            rows.append([p.work, p.base_label, f"{base:.2f}", "", "", "", cpu])
            for label in p.runs:
                seconds = p.median(label)
                if p.base_label == "clean":
                    ratio = f"{(seconds / base - 1) * 100:+.0f} %"
                else:
                    ratio = f"{base / seconds:.2f}×"
                cpu = p.cpu_median(label)
                goal = FLOORS.get(label, p.goal)
                print(f"| {p.work} | {label} | {seconds:.1f} | {ratio} | {goal} | {cpu} | |")
                rows.append(
                    [p.work, label, f"{seconds:.2f}", p.base_label, f"{base:.2f}", ratio, cpu]
                )
            if VERIFIED in p.runs and UNVERIFIED in p.runs:
                # what verification adds to the same run without it
                on, off = p.median(VERIFIED), p.median(UNVERIFIED)
                cost = f"{(on / off - 1) * 100:+.0f} %"
                label = "verification's cost (on against --no-verify)"
                print(f"| {p.work} | {label} | {on - off:+.1f} | {cost} | ≤ 10 % | | |")
                rows.append([p.work, label, f"{on:.2f}", UNVERIFIED, f"{off:.2f}", cost, ""])
            if TARGET_ALONE in p.runs and self.target_hash:
                # verification cannot cost less than the target hashing every row once
                least = statistics.median(self.target_hash)
                off = p.median(UNVERIFIED)
                cost = f"{least / off * 100:+.0f} %"
                label = "verification's least cost (the target's hash of the rows alone)"
                print(f"| {p.work} | {label} | {least:+.1f} | {cost} | ≤ 10 % | | |")
                rows.append([p.work, label, f"{least:.2f}", UNVERIFIED, f"{off:.2f}", cost, ""])
        with (out / "fair.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(
                ["work", "run", "seconds", "against", "against_seconds", "ratio", "cpu_seconds"]
            )
            w.writerows(rows)
        print(f"\nWrote {out / 'fair.csv'}", flush=True)


def _load(values: tuple) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


def _create_sql(name: str, keys: bool) -> psycopg.sql.Composed:
    """The benchmark's course table, with or without its PRIMARY KEY and UNIQUE."""
    pk, unique = (" PRIMARY KEY", " UNIQUE") if keys else ("", "")
    return psycopg.sql.SQL(
        "CREATE TABLE {} (pid varchar(30) NOT NULL"
        + pk
        + ", slug varchar(200) NOT NULL"
        + unique
        + ", course_number varchar(100) NOT NULL, title varchar(200) NOT NULL, "
        "credit varchar(100), hours varchar(100), description varchar(15000), "
        "notes varchar(10000), link varchar(200), program_id varchar(10) NOT NULL)"
    ).format(psycopg.sql.Identifier(name))


def _keys_sql(name: str) -> list[psycopg.sql.Composed]:
    """The benchmark's course table's keys and the source's other indexes (Django's on the
    ForeignKey program_id and the ``_like`` ones of its varchar columns, which CourseMig gives a
    new table), made after its load; the target names the indexes."""
    table = psycopg.sql.Identifier(name)
    keys = psycopg.sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (pid), ADD UNIQUE (slug)")
    indexes = [
        "CREATE INDEX ON {} (pid varchar_pattern_ops)",
        "CREATE INDEX ON {} (program_id)",
        "CREATE INDEX ON {} (program_id varchar_pattern_ops)",
        "CREATE INDEX ON {} (slug varchar_pattern_ops)",
    ]
    return [keys.format(table), *(psycopg.sql.SQL(i).format(table) for i in indexes)]


def run_fair_pairs(bench: Bench, out: Path) -> None:
    load_start = os.getloadavg()
    print(f"Fair pairs, load average {_load(load_start)}…", flush=True)
    bench.pipe_existing("course_warm")  # warms the caches for everyone
    bench.new_table()
    bench.existing_table()
    bench.bad_rows_existing()
    bench.bad_rows_new()
    bench.print_table(load_start, out)
