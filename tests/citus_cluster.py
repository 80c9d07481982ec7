"""A real Citus cluster for the tests: a coordinator and two workers, started by the suite.

Azure-like: every node takes TCP logins over TLS only with a SCRAM password; the login role
``citus`` is not a superuser (it has CREATEDB and CREATE on ``public``, like Azure's admin). The
superuser ``postgres`` adds the nodes. When a query of ``citus`` reaches the workers, the
coordinator connects to them as ``citus`` too: the passwords are in ``pg_dist_authinfo``, as Azure
arranges for you.

Citus is a test-only dependency (AGPL, never shipped): where it is not installed the tests that
need it skip with ``INSTALL_HINT``; ``conftest.py`` turns such a skip into a failure in CI.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from coursemig_gui.demo.localserver import (
    LocalServer,
    find_server_bindir,
    start_local_server,
    wait_until_ready,
)

CITUS_DB = "citus"  # Azure's database name
CITUS_USER = "citus"
SUPERUSER_PASSWORD = "postgres superuser pw"
# The suite's shard count: small, so creating a distributed table is quick on a loaded machine.
# Azure's default is 32; nothing the tests check depends on the number.
SHARD_COUNT = 4

INSTALL_HINT = (
    "Citus is not installed for any PostgreSQL here: install Citus 13.2 for PostgreSQL 15 "
    "(Citus Data's packages, or a build from github.com/citusdata/citus) to run this test."
)


def citus_bindir() -> Path | None:
    """The PostgreSQL version that has Citus installed (it need not be the newest)."""
    return find_server_bindir(library="citus")


@dataclass
class CitusCluster:
    coordinator: LocalServer
    workers: list[LocalServer]
    password: str
    version: str = ""
    nodes: list[LocalServer] = field(init=False)

    def __post_init__(self) -> None:
        self.nodes = [self.coordinator, *self.workers]

    def admin(self, node: LocalServer | None = None, dbname: str = CITUS_DB) -> psycopg.Connection:
        return psycopg.connect((node or self.coordinator).admin_conninfo(dbname), autocommit=True)

    def url(self, sslmode: str = "verify-full") -> str:
        return self.coordinator.url(CITUS_USER, CITUS_DB, self.password, sslmode=sslmode)

    def destroy(self) -> None:
        for node in self.nodes:
            with contextlib.suppress(Exception):
                node.destroy()


def _settings(shard_count: int) -> dict[str, str]:
    return {
        "shared_preload_libraries": "'citus'",
        "max_connections": "200",
        "citus.shard_count": str(shard_count),
        # the tests start and stop many short runs; the default would keep idle worker
        # connections per session that a restarted worker then has to refuse
        "citus.max_cached_conns_per_worker": "1",
        "wal_level": "logical",
        # who@database on each line, so a test can read the order of its own statements
        "log_line_prefix": "'%m [%p] %u@%d '",
    }


def start_citus_cluster(password: str, shard_count: int = SHARD_COUNT) -> CitusCluster:
    """Start the three nodes, create ``citus`` everywhere and add the workers."""
    bindir = citus_bindir()
    if bindir is None:
        raise RuntimeError(INSTALL_HINT)
    nodes: list[LocalServer] = []
    try:
        for name in ("citus-coordinator", "citus-worker1", "citus-worker2"):
            nodes.append(
                start_local_server(
                    name,
                    tls=True,
                    require_password=True,
                    extra_settings=_settings(shard_count),
                    bindir=bindir,
                )
            )
        cluster = CitusCluster(nodes[0], nodes[1:], password)
        for node in nodes:
            wait_until_ready(node.admin_conninfo())
            with psycopg.connect(node.admin_conninfo(), autocommit=True) as conn:
                conn.execute(
                    sql.SQL("ALTER ROLE postgres PASSWORD {}").format(
                        sql.Literal(SUPERUSER_PASSWORD)
                    )
                )
                conn.execute(
                    sql.SQL(
                        "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEROLE CREATEDB PASSWORD {}"
                    ).format(sql.Identifier(CITUS_USER), sql.Literal(password))
                )
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(CITUS_DB)))
            with cluster.admin(node) as conn:
                conn.execute("CREATE EXTENSION citus")
                conn.execute(
                    sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(
                        sql.Identifier(CITUS_USER)
                    )
                )
        with cluster.admin() as conn:
            # node id 0: every node. Set before the nodes are added: adding them connects.
            for role, pw in (("postgres", SUPERUSER_PASSWORD), (CITUS_USER, password)):
                conn.execute(
                    "INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, %s, %s)",
                    [role, f"password={_quote(pw)}"],
                )
            conn.execute(
                "SELECT citus_set_coordinator_host('127.0.0.1', %s)", [cluster.coordinator.port]
            )
            # every statement the tool sends as citus goes to the coordinator's log (see Log)
            conn.execute(
                sql.SQL("ALTER ROLE {} SET log_statement = 'all'").format(
                    sql.Identifier(CITUS_USER)
                )
            )
            for worker in cluster.workers:
                conn.execute("SELECT citus_add_node('127.0.0.1', %s)", [worker.port])
            cluster.version = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'citus'"
            ).fetchone()[0]
        return cluster
    except BaseException:
        for node in nodes:
            with contextlib.suppress(Exception):
                node.destroy()
        raise


def _quote(value: str) -> str:
    """A libpq conninfo value in single quotes (the password has spaces)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def drop_test_objects(cluster: CitusCluster) -> None:
    """Between tests: drop every table, sequence and enum type in ``public`` (Citus drops the
    shards on the workers too), so each test starts on an empty ``citus`` database."""
    with cluster.admin() as conn:
        tables = conn.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
            " AND c.relkind IN ('r', 'p') AND NOT EXISTS (SELECT 1 FROM pg_depend d"
            " WHERE d.objid = c.oid AND d.deptype = 'e')"
        ).fetchall()
        if tables:
            conn.execute(
                sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(
                    sql.SQL(", ").join(sql.Identifier("public", t) for (t,) in tables)
                )
            )
        for (seq,) in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " AND relkind = 'S'"
        ).fetchall():
            conn.execute(
                sql.SQL("DROP SEQUENCE IF EXISTS {}").format(sql.Identifier("public", seq))
            )
        for (enum,) in conn.execute(
            "SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace"
            " AND typtype = 'e'"
        ).fetchall():
            conn.execute(sql.SQL("DROP TYPE IF EXISTS {}").format(sql.Identifier("public", enum)))


def require_citus_env() -> bool:
    """Citus tests must run, not skip: in CI, or when ``.ci/run`` installed the kit."""
    return os.environ.get("CI", "").lower() == "true" or bool(
        os.environ.get("COURSEMIG_REQUIRE_CITUS")
    )


@dataclass(frozen=True)
class Event:
    """One statement the tool sent as ``citus``, as the coordinator logged it."""

    kind: str  # CREATE TABLE, create_reference_table, create_distributed_table, COPY, FOREIGN KEY,
    # setval, TRUNCATE, DROP TABLE
    table: str
    detail: str = ""


_LINE = re.compile(r"^\S+ \S+ \S+ \[\d+\] (\S*)@(\S*) LOG:  (?:statement|execute [^:]*): (.*)$")
_NAME = r'"public"\."([^"]+)"'
_PATTERNS = [
    (
        "create_reference_table",
        re.compile(r"create_reference_table\(.*?'([^']+)'::text\)::regclass"),
    ),
    (
        "create_distributed_table",
        re.compile(
            r"create_distributed_table\(.*?'([^']+)'::text\)::regclass, '([^']+)', "
            r"colocate_with => (.+)\)$"
        ),
    ),
    ("CREATE TABLE", re.compile(r"^CREATE TABLE (?:IF NOT EXISTS )?" + _NAME)),
    ("COPY", re.compile(r"^COPY " + _NAME + r" .* FROM STDIN")),
    ("FOREIGN KEY", re.compile(r"^ALTER TABLE " + _NAME + r" ADD CONSTRAINT .* FOREIGN KEY")),
    ("setval", re.compile(r"SELECT setval\(.* FROM " + _NAME)),
    ("TRUNCATE", re.compile(r"^TRUNCATE (?:TABLE )?(?:ONLY )?" + _NAME)),
    ("DROP TABLE", re.compile(r"^DROP TABLE (?:IF EXISTS )?" + _NAME)),
]


class StatementLog:
    """The statements ``citus`` sent to the coordinator since ``StatementLog(cluster)``: a test
    reads from it the order the engine runs things in on a real cluster."""

    def __init__(self, cluster: CitusCluster) -> None:
        self.path = cluster.coordinator.log_file
        self.start = self.path.stat().st_size

    def statements(self) -> list[str]:
        with self.path.open("rb") as f:
            f.seek(self.start)
            text = f.read().decode(errors="replace")
        out: list[str] = []
        current: str | None = None
        for line in text.splitlines():
            m = _LINE.match(line)
            if m:
                if current is not None:
                    out.append(current)
                current = m.group(3) if (m.group(1), m.group(2)) == (CITUS_USER, CITUS_DB) else None
            elif line.startswith("\t") and current is not None:
                current += " " + line.strip()  # a statement's next lines
            elif current is not None:
                out.append(current)
                current = None
        if current is not None:
            out.append(current)
        return [" ".join(s.split()) for s in out]

    def events(self) -> list[Event]:
        found: list[Event] = []
        for statement in self.statements():
            for kind, pattern in _PATTERNS:
                m = pattern.search(statement)
                if m:
                    found.append(Event(kind, m.group(1), " ".join(m.groups()[1:])))
                    break
        return found


def placements_in_cluster(citus_db) -> dict[str, tuple[str, str | None, int]]:
    """table -> (method, distribution column, co-location id), from Citus's own catalog:
    "h" is hash-distributed, "n" a reference table, "local" a local table Citus manages itself
    (it turns a local table into one when a foreign key joins it to a reference table)."""
    rows = citus_db.rows(
        "SELECT p.logicalrelid::regclass::text, CASE t.citus_table_type WHEN 'distributed' "
        "THEN 'h' WHEN 'reference' THEN 'n' ELSE t.citus_table_type END,"
        " column_to_column_name(p.logicalrelid, p.partkey), p.colocationid"
        " FROM pg_dist_partition p JOIN citus_tables t ON t.table_name = p.logicalrelid"
    )
    return {t: (method, column, colocation) for t, method, column, colocation in rows}
