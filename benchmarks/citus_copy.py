"""Time ``COPY ... FROM STDIN`` into a local, a reference and a distributed table on a Citus
cluster (coordinator + 2 workers, all on this machine), as the non-superuser ``citus`` over TLS.

Starts the test suite's cluster (``tests/citus_cluster.py``; Citus must be installed), makes one
batch of course-like rows in memory, and copies it into each kind of table once, in one
transaction each, as the tool does. Figures to read, never a pass/fail test.

    .venv/bin/python benchmarks/citus_copy.py [--rows N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import citus_cluster  # noqa: E402

KINDS = [
    ("local", None, None),
    ("reference", "SELECT create_reference_table({})", None),
    ("distributed, 4 shards", "SELECT create_distributed_table({}, 'id', shard_count => 4)", 4),
    ("distributed, 32 shards", "SELECT create_distributed_table({}, 'id', shard_count => 32)", 32),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    rows = [
        (i, f"pid{i:09d}", f"Course title number {i} with some words", f"<p>{'x' * (i % 200)}</p>")
        for i in range(1, args.rows + 1)
    ]
    size = sum(len(r[1]) + len(r[2]) + len(r[3]) + 8 for r in rows)
    cluster = citus_cluster.start_citus_cluster("bench password")
    try:
        print(f"{args.rows:,} rows, about {size / 1e6:.0f} MB of text, into each table:")
        for n, (kind, distribute, _) in enumerate(KINDS):
            name = sql.Identifier(f"bench_{n}")
            with psycopg.connect(cluster.url(), autocommit=True) as conn:
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE {} (id bigint PRIMARY KEY, pid text NOT NULL, title text, "
                        "description text)"
                    ).format(name)
                )
                if distribute:
                    conn.execute(sql.SQL(distribute).format(sql.Literal(f"bench_{n}")))
                started = time.perf_counter()
                with (
                    conn.transaction(),
                    conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(name)) as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
                seconds = time.perf_counter() - started
                count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone()
            assert count[0] == args.rows
            print(f"  {kind:24} {seconds:6.2f} s  {args.rows / seconds:>10,.0f} rows/s")
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
