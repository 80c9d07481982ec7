"""The new database as Django settings: a DATABASES entry and a DATABASE_URL line.

The password is never written: both read it from an environment variable at start-up.
"""

from __future__ import annotations

from urllib.parse import quote

from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.django_handover.models_source import py_string as q

PASSWORD_VARIABLE = "DJANGO_DB_PASSWORD"


def _database_options(target: ConnectionSettings, schema: str) -> dict[str, str]:
    options: dict[str, str] = {}
    if target.sslmode:
        options["sslmode"] = target.sslmode
    if target.sslrootcert:
        options["sslrootcert"] = target.sslrootcert
    if schema and schema != "public":
        options["options"] = f"-c search_path={schema}"
    return options


def settings_snippet(target: ConnectionSettings, schema: str = "public") -> str:
    """A settings module defining DATABASES; paste it into settings.py or import it there."""
    options = _database_options(target, schema)
    lines = [
        '"""The new database for the Django app, written by CourseMig.',
        "",
        "Paste this into the project's settings.py in place of its DATABASES, or import it there:",
        "    from .database_settings import DATABASES",
        f"The password is read from the environment variable {PASSWORD_VARIABLE} when Django",
        "starts; it is not in this file. Set it where the app runs (never commit it).",
        '"""',
        "",
        "import os",
        "",
        "DATABASES = {",
        '    "default": {',
        '        "ENGINE": "django.db.backends.postgresql",',
        f'        "HOST": {q(target.host)},',
        f'        "PORT": "{target.port}",',
        f'        "NAME": {q(target.dbname)},',
        f'        "USER": {q(target.user)},',
        f'        "PASSWORD": os.environ[{q(PASSWORD_VARIABLE)}],',
    ]
    if target.sslrootcert:
        lines.append(
            "        # sslrootcert: the server's certificate file as used on the computer that ran"
        )
        lines.append(
            "        # CourseMig; copy it to where the app runs and change the path if it differs"
        )
    if options:
        lines.append('        "OPTIONS": {')
        lines += [f"            {q(key)}: {q(value)}," for key, value in options.items()]
        lines.append("        },")
    if target.uses_pgbouncer:
        # PgBouncer in transaction mode cannot keep a server-side cursor between statements
        lines.append('        "DISABLE_SERVER_SIDE_CURSORS": True,')
    lines += ["    }", "}", ""]
    return "\n".join(lines)


def database_url(target: ConnectionSettings, schema: str = "public") -> str:
    """``DATABASE_URL`` for dj-database-url / django-environ, the password left to the shell."""
    auth = quote(target.user, safe="") + ":${" + PASSWORD_VARIABLE + "}"
    url = f"postgresql://{auth}@{target.host}:{target.port}/{quote(target.dbname, safe='')}"
    params = [
        f"{key}={quote(value, safe='/')}"
        for key, value in _database_options(target, schema).items()
    ]
    return url + ("?" + "&".join(params) if params else "")


def database_url_file(target: ConnectionSettings, schema: str = "public") -> str:
    return (
        "# The new database as one line, for projects that read DATABASE_URL\n"
        "# (dj-database-url, django-environ). The shell fills in the password from\n"
        f"# {PASSWORD_VARIABLE}; a password with @ : / ? # or % must be percent-encoded first.\n"
        f'export DATABASE_URL="{database_url(target, schema)}"\n'
    )
