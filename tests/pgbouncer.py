"""A real PgBouncer in front of the suite's target, as Azure Cosmos DB for PostgreSQL offers one:
port 6432, transaction pooling, TLS and a SCRAM password from the client, TLS to the server.

In transaction pooling each transaction may run on another server connection, so nothing a
session sets or prepares outlives its transaction. CourseMig knows the pooler by its port
(6432), so this one listens there. ``./run-tests.sh`` installs PgBouncer with the other Debian
packages; where it is missing the tests that need it skip locally and fail in CI.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from coursemig_gui.demo.localserver import LocalServer, _chown_tree

PGBOUNCER_PORT = 6432  # Azure's; CourseMig turns prepared statements off on it


@dataclass
class PgBouncer:
    folder: Path
    server: LocalServer

    def url(self, user: str, password: str, dbname: str) -> str:
        """What a user would paste for Azure's pooler: the same as the server's, port 6432."""
        auth = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return (
            f"postgresql://{auth}@127.0.0.1:{PGBOUNCER_PORT}/{quote(dbname, safe='')}"
            f"?sslmode=verify-full&sslrootcert={self.server.ca_cert}"
        )

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        pid_file = self.folder / "pgbouncer.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text().strip()), 15)
        deadline = time.monotonic() + 10
        while _listening() and time.monotonic() < deadline:
            time.sleep(0.1)


def _listening() -> bool:
    with contextlib.closing(socket.socket()) as s:
        return s.connect_ex(("127.0.0.1", PGBOUNCER_PORT)) == 0


def _auth_line(user: str, password: str) -> str:
    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    return f"{quoted(user)} {quoted(password)}\n"


def start_pgbouncer(server: LocalServer, users: dict[str, str]) -> PgBouncer:
    """PgBouncer on 127.0.0.1:6432 in transaction pooling for every database of ``server``
    (which must have TLS), logging in as ``users`` (name: password, SCRAM both ways). Its
    files are in a folder of the server's own, which the server's user can reach."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        hint = "PgBouncer is not installed: ./run-tests.sh installs it (apt-get install pgbouncer)"
        if os.environ.get("CI"):
            pytest.fail(hint)
        pytest.skip(hint)
    if _listening():
        pytest.fail(
            f"Port {PGBOUNCER_PORT} is taken (a PgBouncer of the system's own?): the test needs "
            "it, as CourseMig knows Azure's pooler by that port. Stop it: service pgbouncer stop"
        )
    certs = server.base_dir / "certs"
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-", dir=server.base_dir))
    (folder / "users.txt").write_text("".join(_auth_line(u, p) for u, p in users.items()))
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
* = host=127.0.0.1 port={server.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {PGBOUNCER_PORT}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {folder / "users.txt"}
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
client_tls_sslmode = require
client_tls_cert_file = {certs / "server.crt"}
client_tls_key_file = {certs / "server.key"}
server_tls_sslmode = verify-full
server_tls_ca_file = {certs / "ca.crt"}
logfile = {folder / "pgbouncer.log"}
pidfile = {folder / "pgbouncer.pid"}
"""
    )
    os.chmod(folder, 0o700)
    _chown_tree(folder, server.run_as)
    command = [binary, "-d", str(folder / "pgbouncer.ini")]
    if server.run_as is not None:
        command = ["runuser", "-u", server.run_as.pw_name, "--", *command]
    result = subprocess.run(command, capture_output=True, text=True)
    bouncer = PgBouncer(folder, server)
    deadline = time.monotonic() + 15
    while not _listening():
        if result.returncode != 0 or time.monotonic() > deadline:
            raise RuntimeError(f"PgBouncer did not start: {result.stderr}\n{bouncer.log()}")
        time.sleep(0.1)
    return bouncer
