"""Real PostgreSQL servers for every test, started by the suite itself.

- *source*: the Django database. Its template databases are made by running the fixture Django
  project's real migrations; the login role ``django`` is not a superuser. Trust auth.
- *target*: like Azure Cosmos DB for PostgreSQL: TLS only (``hostssl``), SCRAM password, certificates
  from a test CA made at start-up, and the login role ``citus`` is not a superuser but owns its
  database.

Each test gets fresh databases cloned from templates. Set ``COURSEMIG_TEST_SOURCE_ADMIN`` and
``COURSEMIG_TEST_TARGET_ADMIN`` (superuser conninfo strings; ``COURSEMIG_TEST_TARGET_CA`` for the
target's CA file) to use existing servers instead; the few tests that restart a server then skip.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import citus_cluster as _citus  # tests/, on sys.path beside this conftest
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from real_display import xvfb_display  # noqa: F401 - the fixture, for tests/gui and tests/packaging

from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.connection_strings import parse_connection_string
from coursemig_gui.demo.localserver import LocalServer, start_local_server

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TESTS = Path(__file__).resolve().parent
DJANGO_PROJECT = TESTS / "fixtures" / "djangoproject"
TARGET_USER = "citus"
TARGET_PASSWORD = "s3cret p@ss;w=rd%"
SOURCE_USER = "django"
SAMPLE_COURSES = 3547


@dataclass
class TestDatabase:
    """One fresh database for one test."""

    dbname: str
    url: str  # what a user would paste: TCP, the non-superuser role, password and TLS included
    admin: str  # superuser conninfo to the same database, for arranging and checking
    server: LocalServer
    user: str
    password: str | None = None

    def admin_connect(self, **kw) -> psycopg.Connection:
        return psycopg.connect(self.admin, autocommit=True, **kw)

    def connect(self, **kw) -> psycopg.Connection:
        return psycopg.connect(self.url, **kw)

    @property
    def endpoint(self) -> Endpoint:
        """The URL as the engine takes it: read once, the way a pasted string is read."""
        parsed = parse_connection_string(self.url)
        return Endpoint(parsed.settings, parsed.password)

    def rows(self, query: str | sql.Composable, params=None) -> list[tuple]:
        with self.admin_connect() as conn:
            return conn.execute(query, params).fetchall()


@dataclass
class ExternalServer:
    """An existing server the suite uses instead of starting one, named by a superuser conninfo
    in ``COURSEMIG_TEST_SOURCE_ADMIN`` / ``COURSEMIG_TEST_TARGET_ADMIN`` (CI elsewhere)."""

    admin: str
    ca_cert: Path | None = None

    @property
    def _params(self) -> dict:
        return conninfo_to_dict(self.admin)

    @property
    def port(self) -> int:
        return int(self._params.get("port") or 5432)

    @property
    def host(self) -> str:
        """Where users connect over TCP: the admin's host, or loopback when the admin string
        names a Unix socket folder."""
        host = str(self._params.get("host") or "127.0.0.1")
        return "127.0.0.1" if host.startswith("/") else host

    def admin_conninfo(self, dbname: str = "postgres") -> str:
        return make_conninfo(self.admin, dbname=dbname)

    def url(
        self, user: str, dbname: str, password: str | None = None, sslmode: str | None = None
    ) -> str:
        auth = quote(user, safe="") + (
            ":" + quote(password, safe="") if password is not None else ""
        )
        url = f"postgresql://{auth}@{self.host}:{self.port}/{quote(dbname, safe='')}"
        params = [f"sslmode={sslmode}"] if sslmode else []
        if sslmode in ("verify-ca", "verify-full") and self.ca_cert:
            params.append(f"sslrootcert={self.ca_cert}")
        return url + ("?" + "&".join(params) if params else "")

    def restart(self) -> None:
        pytest.skip("the suite does not restart a server it did not start")

    start = stop = restart

    def destroy(self) -> None:
        for dbname in ("django_empty", "django_sample", "target_template"):
            with (
                contextlib.suppress(psycopg.Error),
                psycopg.connect(self.admin, autocommit=True) as conn,
            ):
                conn.execute(
                    sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(sql.Identifier(dbname))
                )
                conn.execute(
                    sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(dbname))
                )


@dataclass
class Servers:
    source: LocalServer | ExternalServer
    target: LocalServer | ExternalServer


def _start_servers() -> Servers:
    source_admin = os.environ.get("COURSEMIG_TEST_SOURCE_ADMIN")
    target_admin = os.environ.get("COURSEMIG_TEST_TARGET_ADMIN")
    if source_admin and target_admin:
        ca = os.environ.get("COURSEMIG_TEST_TARGET_CA")
        servers = Servers(
            ExternalServer(source_admin), ExternalServer(target_admin, Path(ca) if ca else None)
        )
        servers.source.destroy()  # templates left by an earlier run
        servers.target.destroy()
        return servers
    return Servers(
        start_local_server("test-source"),
        start_local_server("test-target", tls=True, require_password=True),
    )


def _admin(server: LocalServer, dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(server.admin_conninfo(dbname), autocommit=True)


def _run_django_migrate(server: LocalServer, dbname: str) -> None:
    env = dict(os.environ)
    env.update(
        {
            "COURSEMIG_DB_HOST": "127.0.0.1",
            "COURSEMIG_DB_PORT": str(server.port),
            "COURSEMIG_DB_NAME": dbname,
            "COURSEMIG_DB_USER": SOURCE_USER,
        }
    )
    result = subprocess.run(
        [sys.executable, str(DJANGO_PROJECT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        cwd=DJANGO_PROJECT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"Django migrate failed:\n{result.stdout}\n{result.stderr}")


def _make_source_templates(server: LocalServer) -> None:
    from coursemig_gui.demo.sample_data import fill_sample_data

    with _admin(server) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [SOURCE_USER]).fetchone():
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER CREATEDB").format(
                    sql.Identifier(SOURCE_USER)
                )
            )
        conn.execute(
            sql.SQL("CREATE DATABASE django_empty OWNER {}").format(sql.Identifier(SOURCE_USER))
        )
    _run_django_migrate(server, "django_empty")
    with _admin(server) as conn:
        conn.execute("CREATE DATABASE django_sample TEMPLATE django_empty OWNER django")
    fill_sample_data(server.url(SOURCE_USER, "django_sample"), courses=SAMPLE_COURSES, seed=1)
    with _admin(server) as conn:
        conn.execute("ALTER DATABASE django_empty IS_TEMPLATE true")
        conn.execute("ALTER DATABASE django_sample IS_TEMPLATE true")


def _make_target_roles(server: LocalServer) -> None:
    with _admin(server) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [TARGET_USER]).fetchone()
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOCREATEROLE PASSWORD {}").format(
                sql.SQL("ALTER" if exists else "CREATE"),
                sql.Identifier(TARGET_USER),
                sql.Literal(TARGET_PASSWORD),
            )
        )
        conn.execute("CREATE DATABASE target_template OWNER citus")
        conn.execute("ALTER DATABASE target_template IS_TEMPLATE true")


@pytest.fixture(scope="session")
def servers(tmp_path_factory) -> Iterator[Servers]:
    started = _start_servers()
    try:
        _make_source_templates(started.source)
        _make_target_roles(started.target)
        yield started
    finally:
        started.source.destroy()
        started.target.destroy()


_counter = itertools.count()


def _fresh_database(server: LocalServer, template: str, owner: str) -> str:
    dbname = f"t{os.getpid()}_{next(_counter)}"
    with _admin(server) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                sql.Identifier(dbname), sql.Identifier(template), sql.Identifier(owner)
            )
        )
    return dbname


def _drop_database(server: LocalServer, dbname: str) -> None:
    with _admin(server) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )


def _source_database(servers: Servers, template: str) -> Iterator[TestDatabase]:
    server = servers.source
    dbname = _fresh_database(server, template, SOURCE_USER)
    yield TestDatabase(
        dbname=dbname,
        url=server.url(SOURCE_USER, dbname),
        admin=server.admin_conninfo(dbname),
        server=server,
        user=SOURCE_USER,
    )
    _drop_database(server, dbname)


@pytest.fixture
def source_db(servers: Servers) -> Iterator[TestDatabase]:
    """A Django-made database (real migrations) holding the sample course catalogue."""
    yield from _source_database(servers, "django_sample")


@pytest.fixture
def empty_source_db(servers: Servers) -> Iterator[TestDatabase]:
    """A Django-made database with the tables its migrations create and no course rows."""
    yield from _source_database(servers, "django_empty")


@pytest.fixture
def target_db(servers: Servers) -> Iterator[TestDatabase]:
    """An empty database on the Azure-like target (TLS + SCRAM), owned by the role ``citus``."""
    server = servers.target
    dbname = _fresh_database(server, "target_template", TARGET_USER)
    yield TestDatabase(
        dbname=dbname,
        url=server.url(TARGET_USER, dbname, TARGET_PASSWORD, sslmode="verify-full"),
        admin=server.admin_conninfo(dbname),
        server=server,
        user=TARGET_USER,
        password=TARGET_PASSWORD,
    )
    _drop_database(server, dbname)


@pytest.fixture(scope="session")
def citus_cluster() -> Iterator[_citus.CitusCluster]:
    """A real Citus cluster (coordinator + 2 workers), started once, only when a test asks.
    Skips with a line saying how to get Citus where it is not installed."""
    if _citus.citus_bindir() is None:
        pytest.skip(_citus.INSTALL_HINT)
    cluster = _citus.start_citus_cluster(TARGET_PASSWORD)
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def citus_db(citus_cluster: _citus.CitusCluster) -> Iterator[TestDatabase]:
    """The cluster's ``citus`` database, emptied before and after the test; ``url`` logs in as
    the non-superuser ``citus`` over verified TLS, ``admin`` as the superuser (coordinator)."""
    _citus.drop_test_objects(citus_cluster)
    coordinator = citus_cluster.coordinator
    yield TestDatabase(
        dbname=_citus.CITUS_DB,
        url=citus_cluster.url(),
        admin=coordinator.admin_conninfo(_citus.CITUS_DB),
        server=coordinator,
        user=_citus.CITUS_USER,
        password=TARGET_PASSWORD,
    )
    _citus.drop_test_objects(citus_cluster)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"citus_db", "citus_cluster"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.citus)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """In CI a Citus test must run: its skip (Citus missing) is turned into a failure."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("citus") and _citus.require_citus_env():
        report.outcome = "failed"
        report.longrepr = f"Citus tests must run in CI, but this one was skipped: {report.longrepr}"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path, monkeypatch) -> None:
    """Settings, profiles and reports go to a per-test folder, never the real user's."""
    monkeypatch.setenv("COURSEMIG_HOME", str(tmp_path / "coursemig-home"))


@dataclass
class RealKeyring:
    """keyring's Secret Service backend on a real gnome-keyring, and what CourseMig put there."""

    backend: object

    def secrets(self) -> dict[str, str]:
        """CourseMig's entries in the store: {connection key: password}."""
        from coursemig_gui.core.credentials import SERVICE

        collection = self.backend.get_preferred_collection()  # type: ignore[attr-defined]
        return {
            item.get_attributes()["username"]: item.get_secret().decode("utf-8")
            for item in collection.search_items({"service": SERVICE})
        }

    def clear(self) -> None:
        from coursemig_gui.core.credentials import SERVICE

        collection = self.backend.get_preferred_collection()  # type: ignore[attr-defined]
        for item in collection.search_items({"service": SERVICE}):
            item.delete()


@pytest.fixture
def secret_keyring() -> Iterator[RealKeyring]:
    """The real password store: keyring's Secret Service backend talking to the gnome-keyring
    that ``./run-tests.sh`` starts on a private session bus. Never skipped: without it the
    credential tests fail with a sentence. What the test saved for CourseMig is removed after."""
    import keyring
    from keyring.backends import SecretService

    backend = keyring.get_keyring()
    if not isinstance(backend, SecretService.Keyring):
        pytest.fail(
            f"keyring chose {backend!r}, not the Secret Service: run the tests through "
            "./run-tests.sh, which starts gnome-keyring on a private D-Bus session."
        )
    real = RealKeyring(backend)
    real.clear()
    try:
        yield real
    finally:
        real.clear()
