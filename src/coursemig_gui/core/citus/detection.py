"""Whether a target runs Citus, and its version and workers."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from coursemig_gui.core.probe import probe

# -- detection ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CitusInfo:
    """What the target's Citus is: its version and how many worker nodes it has."""

    version: str  # the extension's version, e.g. "12.1-1"
    worker_count: int | None = None  # None when it could not be read

    @property
    def short_version(self) -> str:
        """ "12.1-1" -> "12.1"."""
        return self.version.split("-")[0]

    def summary(self) -> str:
        """One line for the connection card: "Citus 12.1, 2 worker nodes"."""
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
    return None
