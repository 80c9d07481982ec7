"""Whether a database was made by Django, and its apps: one detection for the catalog and the
pre-flight check."""

from __future__ import annotations

import psycopg
from psycopg import sql

from coursemig_gui.core.probe import probe

# Django's own apps and the contrib apps most projects install: hidden unless asked for, and
# listed after the project's own apps.
DJANGO_APPS = frozenset(
    {
        "auth",
        "admin",
        "contenttypes",
        "sessions",
        "sites",
        "messages",
        "staticfiles",
        "django",
        "flatpages",
        "redirects",
    }
)


def detect_django(conn: psycopg.Connection, schema: str) -> tuple[bool, tuple[str, ...]]:
    """(whether ``django_migrations`` is in the schema, the app labels, sorted).

    The labels come from ``django_content_type``, else from ``django_migrations``; a table the
    role cannot read gives no labels rather than an error.
    """
    row = conn.execute(
        "SELECT to_regclass(format('%%I.%%I', %s::text, 'django_migrations')) IS NOT NULL,"
        " to_regclass(format('%%I.%%I', %s::text, 'django_content_type')) IS NOT NULL",
        [schema, schema],
    ).fetchone()
    if not row or not row[0]:
        return False, ()
    if row[1]:
        query = sql.SQL("SELECT DISTINCT app_label FROM {}.django_content_type").format(
            sql.Identifier(schema)
        )
    else:
        query = sql.SQL("SELECT DISTINCT app FROM {}.django_migrations").format(
            sql.Identifier(schema)
        )
    return True, tuple(sorted(str(r[0]) for r in probe(conn, query) or []))
