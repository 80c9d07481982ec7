"""Connecting: the one ``connect()`` every part of CourseMig uses, so a failure reads the same
sentence (Azure-aware, from ``explain_error``) on "Test connection", in the CLI and during a run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.explain import explain_error


@dataclass(frozen=True)
class Endpoint:
    """A database to connect to: the settings and the password beside them (``None``: libpq
    still tries ``PGPASSWORD`` and ``.pgpass``). Never saved anywhere."""

    settings: ConnectionSettings
    password: str | None = None

    def connect(self, **kw: Any) -> psycopg.Connection:
        return connect(self.settings, self.password, **kw)


def connect(
    settings: ConnectionSettings,
    password: str | None,
    *,
    autocommit: bool = False,
    **kw: Any,
) -> psycopg.Connection:
    """Open a connection or raise FriendlyError; on PgBouncer (6432) prepared statements are off.

    With ``password=None`` libpq still tries ``PGPASSWORD`` and ``.pgpass``.
    """
    if settings.uses_pgbouncer:
        # transaction pooling hands each transaction to any server connection: a statement
        # prepared on one is unknown on the next
        kw.setdefault("prepare_threshold", None)
    try:
        return psycopg.connect(settings.conninfo(password), autocommit=autocommit, **kw)
    except (psycopg.Error, OSError) as exc:
        raise explain_error(exc, settings) from exc
