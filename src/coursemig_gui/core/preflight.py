"""The pre-flight check behind "Test connection": server, Citus, Django, permissions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import psycopg

from coursemig_gui.core.citus.detection import CitusInfo, detect_citus
from coursemig_gui.core.connection_settings import DEFAULT_PORT, ConnectionSettings
from coursemig_gui.core.django import DJANGO_APPS, detect_django
from coursemig_gui.core.tls import describe_connection

log = logging.getLogger(__name__)

# -- pre-flight check -------------------------------------------------------------------------


@dataclass(frozen=True)
class PreflightReport:
    """What "Test connection" found out about one connection."""

    role: str  # "source" or "target"
    server_version: str  # "PostgreSQL 15.18"
    platform: str  # "PostgreSQL", "Azure Cosmos DB for PostgreSQL", …
    user: str
    dbname: str
    schema: str
    is_superuser: bool
    citus: CitusInfo | None = None  # Citus on the target
    is_django: bool = False
    django_apps: tuple[str, ...] = ()
    unreadable_tables: tuple[str, ...] = ()
    missing_tables: tuple[str, ...] = ()
    can_create: bool = False
    problems: tuple[str, ...] = ()
    security: str = ""  # "Encrypted (TLSv1.3), but the server was not verified."

    @property
    def citus_version(self) -> str | None:
        return self.citus.version if self.citus else None

    @property
    def worker_count(self) -> int | None:
        return self.citus.worker_count if self.citus else None

    @property
    def can_read(self) -> bool:
        """The role can SELECT every table that was asked about (and they all exist)."""
        return not self.unreadable_tables and not self.missing_tables

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line for the result label, e.g. "Connected to PostgreSQL 15.18 · Django app…"."""
        if self.platform == "PostgreSQL":
            parts = [f"Connected to {self.server_version}"]
        else:
            parts = [f"Connected to {self.platform}"]
        if self.citus is not None:
            parts.append(self.citus.summary())
        if self.is_django:
            if self.django_apps:
                shown = ", ".join(self.django_apps[:2])
                more = ", …" if len(self.django_apps) > 2 else ""
                parts.append(f"Django app detected ({shown}{more})")
            else:
                parts.append("Django app detected")
        if self.security:
            parts.append(self.security.rstrip("."))
        return " · ".join(parts)


def preflight(
    conn: psycopg.Connection,
    *,
    role: Literal["source", "target"],
    tables: list[str] | None = None,
    schema: str = "public",
) -> PreflightReport:
    """Look at a fresh connection: version, Citus, Django, and whether the role can do its job.

    ``tables`` are names in ``schema`` to check for SELECT. Runs read-only queries in its own
    transaction and leaves the connection idle; a failing optional probe never aborts it.
    """
    info = conn.info
    version = _version_text(info.server_version)
    settings_like = ConnectionSettings(
        host=info.host if not info.host.startswith("/") else "", port=int(info.port or DEFAULT_PORT)
    )
    problems: list[str] = []
    user = info.user or ""
    dbname = info.dbname or ""
    who = f'User "{user}"'
    with conn.transaction():
        is_superuser = info.parameter_status("is_superuser") == "on"
        citus = detect_citus(conn)
        security = describe_connection(conn)

        row = conn.execute(
            "SELECT has_schema_privilege(n.oid, 'USAGE'), has_schema_privilege(n.oid, 'CREATE')"
            " FROM pg_namespace n WHERE n.nspname = %s",
            [schema],
        ).fetchone()
        has_schema = row is not None
        # without USAGE even to_regclass() on the schema's tables fails: look no further
        has_usage = bool(row and row[0])
        can_create = bool(row and row[0] and row[1])
        is_django, apps = _django_apps(conn, schema) if has_usage else (False, ())

        unreadable: list[str] = []
        missing: list[str] = []
        for name in tables or []:
            if not has_usage:
                (unreadable if has_schema else missing).append(name)
                continue
            row = conn.execute(
                "SELECT c.oid IS NOT NULL, has_table_privilege(c.oid, 'SELECT')"
                " FROM (SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) AS oid) c",
                [schema, name],
            ).fetchone()
            if not row or not row[0]:
                missing.append(name)
            elif not row[1]:
                unreadable.append(name)

        read_only = False
        if role == "target":
            row = conn.execute(
                "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'"
            ).fetchone()
            read_only = bool(row and row[0])

    if not has_schema:
        problems.append(
            f'The schema "{schema}" does not exist in database "{dbname}". Choose another '
            "schema, or ask the database owner to create it."
        )
    elif not has_usage:
        problems.append(
            f'{who} may not use schema "{schema}". Ask the database owner to grant it '
            "(GRANT USAGE ON SCHEMA)."
        )
    if missing:
        problems.append(
            f'{_count(missing, "table")} not found in schema "{schema}": {_names(missing)}.'
            " Refresh the table list."
        )
    if unreadable:
        problems.append(
            f"{who} may not read {_count(unreadable, 'table')}: {_names(unreadable)}. Ask the "
            "database owner to grant SELECT on them."
        )
    if role == "target":
        if has_usage and not can_create:
            problems.append(
                f'{who} may not create tables in schema "{schema}". Ask the database owner to '
                "grant it (GRANT CREATE ON SCHEMA), or connect as another user."
            )
        if read_only:
            problems.append(
                "This server is read-only (a replica or a read-only setting). Connect to the "
                "primary server to load data."
            )
        if settings_like.uses_pgbouncer:
            problems.append(
                "Connected through the connection pooler on port 6432: bulk loads are slower "
                "there. Port 5432 is the better choice for a migration."
            )

    return PreflightReport(
        role=role,
        server_version=version,
        platform=settings_like.platform_name,
        user=user,
        dbname=dbname,
        schema=schema,
        is_superuser=is_superuser,
        citus=citus,
        is_django=is_django,
        django_apps=apps,
        unreadable_tables=tuple(unreadable),
        missing_tables=tuple(missing),
        can_create=can_create,
        problems=tuple(problems),
        security=security,
    )


def _version_text(num: int) -> str:
    if num >= 100000:
        return f"PostgreSQL {num // 10000}.{num % 10000}"
    return f"PostgreSQL {num // 10000}.{num // 100 % 100}.{num % 100}"


def _django_apps(conn: psycopg.Connection, schema: str) -> tuple[bool, tuple[str, ...]]:
    is_django, labels = detect_django(conn, schema)
    # the project's own apps first: they hold the tables a person came to move
    own = [a for a in labels if a not in DJANGO_APPS]
    contrib = [a for a in labels if a in DJANGO_APPS]
    return is_django, tuple(own + contrib)


def _count(items: list[str], noun: str) -> str:
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''}"


def _names(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
