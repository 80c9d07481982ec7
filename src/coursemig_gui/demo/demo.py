"""Two throwaway servers to try CourseMig on: a Django source and an Azure-like target.

``coursemig demo`` starts them, prints both URLs and waits; nothing here touches a real server.

- source: database ``course_api`` owned by the role ``django`` (not a superuser), trust login,
  holding the Django schema and the sample course catalogue;
- target: like Azure Cosmos DB for PostgreSQL: TLS only with a test CA, SCRAM password, database
  ``citus`` owned by the role ``citus`` (not a superuser), with a fresh random password.
"""

from __future__ import annotations

import contextlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from coursemig_gui.demo import localserver
from coursemig_gui.demo.localserver import LocalServer, ServerSetupError
from coursemig_gui.demo.sample_data import SampleSummary, fill_sample_data
from coursemig_gui.demo.sample_rows import DEFAULT_COURSES

SOURCE_ROLE = "django"
SOURCE_DB = "course_api"
TARGET_ROLE = "citus"
TARGET_DB = "citus"


@dataclass
class DemoServers:
    """The two running demo servers; call stop() to shut them down and delete their files."""

    source_url: str
    target_url: str  # includes the password and sslmode=verify-full with the test CA
    target_password: str
    source: LocalServer = field(repr=False)
    target: LocalServer = field(repr=False)
    summary: SampleSummary | None = None

    def stop(self) -> None:
        for server in (self.source, self.target):
            server.destroy()

    def __enter__(self) -> DemoServers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _make_owner_db(
    server: LocalServer, role: str, dbname: str, password: str | None = None
) -> None:
    with psycopg.connect(server.admin_conninfo(), autocommit=True) as conn:
        create = sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB").format(
            sql.Identifier(role)
        )
        if password is not None:
            create = sql.SQL("{} PASSWORD {}").format(create, sql.Literal(password))
        conn.execute(create)
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(dbname), sql.Identifier(role)
            )
        )


def start_demo(courses: int = DEFAULT_COURSES) -> DemoServers:
    """Start both servers and fill the source; raises ServerSetupError with a sentence for a
    person when PostgreSQL's server programs are missing or a server will not start."""
    if localserver.find_server_bindir() is None:
        raise ServerSetupError(localserver.install_hint())
    # The server user is made once, before two threads could race to `useradd` it.
    localserver._server_user()
    started: list[LocalServer] = []
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-target")
    # The target's start is the slow one (two RSA keys for its certificates): it runs while the
    # source starts and fills, which about halves the wait.
    target_future = pool.submit(
        localserver.start_local_server, "demo-target", tls=True, require_password=True
    )
    try:
        source = localserver.start_local_server("demo-source")
        started.append(source)
        _make_owner_db(source, SOURCE_ROLE, SOURCE_DB)
        source_url = source.url(SOURCE_ROLE, SOURCE_DB)
        # fill_sample_data makes the Django schema first, from the committed dump: no Django
        summary = fill_sample_data(source_url, courses=courses)

        target = target_future.result()
        started.append(target)
        # URL-safe, so a person can also type it; the URL quotes it anyway
        password = secrets.token_urlsafe(18)
        _make_owner_db(target, TARGET_ROLE, TARGET_DB, password)
        target_url = target.url(TARGET_ROLE, TARGET_DB, password, sslmode="verify-full")
    except BaseException:
        # a half-started demo (or Ctrl-C) must not leave servers running behind the user's back
        with contextlib.suppress(Exception):
            if (late := target_future.result()) not in started:
                started.append(late)
        for server in started:
            server.destroy()
        raise
    finally:
        pool.shutdown()
    return DemoServers(
        source_url=source_url,
        target_url=target_url,
        target_password=password,
        source=source,
        target=target,
        summary=summary,
    )
