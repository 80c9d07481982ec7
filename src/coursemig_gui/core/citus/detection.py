"""Whether a target runs Citus (or the test suite's stand-in), and its version and workers."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from coursemig_gui.core.probe import probe

# -- detection ------------------------------------------------------------------------------------

# Tests define create_distributed_table / create_reference_table on plain PostgreSQL to record the
# calls (Citus cannot be installed there). They are recognised only with this comment on them,
# so no user's function of the same name is ever taken for Citus.
STANDIN_COMMENT = "coursemig stand-in for Citus"


@dataclass(frozen=True)
class CitusInfo:
    """What the target's Citus is: its version and how many worker nodes it has."""

    version: str | None  # the extension's version, e.g. "12.1-1"; None for the stand-in
    worker_count: int | None = None  # None when it could not be read
    standin: bool = False  # the test stand-in functions, not a real Citus

    @property
    def short_version(self) -> str:
        """ "12.1-1" -> "12.1"."""
        return (self.version or "").split("-")[0]

    def summary(self) -> str:
        """One line for the connection card: "Citus 12.1, 2 worker nodes"."""
        if self.standin:
            return "Citus stand-in functions (a test database, not a Citus cluster)"
        text = f"Citus {self.short_version}"
        n = self.worker_count
        if n is None:
            return text
        if n == 0:
            return f"{text}, no worker nodes (a single node holds every shard)"
        return f"{text}, {n} worker node{'s' if n != 1 else ''}"


def detect_citus(conn: psycopg.Connection) -> CitusInfo | None:
    """Citus on this connection's database, or None for plain PostgreSQL."""
    rows = probe(conn, "SELECT extversion FROM pg_extension WHERE extname = 'citus'")
    if rows:
        workers = probe(
            conn,
            "SELECT count(*) FROM pg_dist_node"
            " WHERE groupid <> 0 AND noderole = 'primary' AND isactive",
        )
        if workers is None:
            workers = probe(conn, "SELECT count(*) FROM citus_get_active_worker_nodes()")
        return CitusInfo(rows[0][0], int(workers[0][0]) if workers else None)
    standin = probe(
        conn,
        "SELECT count(DISTINCT p.proname) FROM pg_proc p"
        " WHERE p.proname IN ('create_distributed_table', 'create_reference_table')"
        " AND pg_function_is_visible(p.oid)"
        " AND obj_description(p.oid, 'pg_proc') = %s",
        [STANDIN_COMMENT],
    )
    if standin and standin[0][0] == 2:
        return CitusInfo(None, None, standin=True)
    return None
