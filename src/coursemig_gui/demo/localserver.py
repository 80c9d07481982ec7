"""Throwaway local PostgreSQL servers, for the demo, the tests and the benchmark.

PostgreSQL refuses to run as root, so when we are root the server runs as an unprivileged
user (``postgres`` when the Debian package made it, else a ``coursemig`` system user).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")


class ServerSetupError(RuntimeError):
    """A local server could not be set up; the message is a sentence for a person."""


def find_server_bindir(library: str | None = None) -> Path | None:
    """The folder holding initdb/pg_ctl/postgres, newest major version first, or None.

    With ``library`` (e.g. ``"citus"``) only a version whose ``lib`` folder has that extension
    library counts: an extension is built for one major version, which need not be the newest.
    """
    candidates: list[Path] = []
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major, reverse=True):
        candidates.append(Path(found))
    for name in ("pg_ctl", "initdb"):
        on_path = shutil.which(name)
        if on_path:
            candidates.append(Path(os.path.realpath(on_path)).parent)
    for candidate in candidates:
        if not all((candidate / prog).exists() for prog in SERVER_PROGRAMS):
            continue
        if library and not (candidate.parent / "lib" / f"{library}.so").exists():
            continue
        return candidate
    return None


def _major(path: str) -> int:
    try:
        return int(Path(path).parent.name)
    except ValueError:
        return 0


def install_hint() -> str:
    return (
        "PostgreSQL's server programs are not installed on this computer. "
        "On Debian or Ubuntu run: sudo apt-get install postgresql "
        "(on macOS: brew install postgresql; on Windows: the installer from postgresql.org)."
    )


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    """The user to run the server as, or None when we are not root (then it runs as us)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "coursemig"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "coursemig"],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam("coursemig")


@dataclass
class LocalServer:
    """One running PostgreSQL cluster in a temporary folder."""

    base_dir: Path
    bindir: Path
    port: int
    tls: bool
    superuser: str = "postgres"
    run_as: pwd.struct_passwd | None = None
    ca_cert: Path | None = None
    log_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_file = self.base_dir / "server.log"

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "sock"

    def admin_conninfo(self, dbname: str = "postgres") -> str:
        """Superuser connection over the Unix socket (trusted locally, never over TCP)."""
        return f"host={self.socket_dir} port={self.port} user={self.superuser} dbname={dbname}"

    def url(
        self, user: str, dbname: str, password: str | None = None, sslmode: str | None = None
    ) -> str:
        """A TCP connection URL, as a person would paste it."""
        auth = quote(user, safe="")
        if password is not None:
            auth += ":" + quote(password, safe="")
        url = f"postgresql://{auth}@127.0.0.1:{self.port}/{quote(dbname, safe='')}"
        params = []
        if sslmode:
            params.append(f"sslmode={sslmode}")
        if sslmode in ("verify-ca", "verify-full") and self.ca_cert:
            params.append(f"sslrootcert={self.ca_cert}")
        return url + ("?" + "&".join(params) if params else "")

    # -- lifecycle ---------------------------------------------------------------------------

    def _run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        if self.run_as is not None:
            args = ["runuser", "-u", self.run_as.pw_name, "--", *args]
        return subprocess.run(args, capture_output=True, text=True, **kw)

    def start(self) -> None:
        result = self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        if result.returncode != 0:
            log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            raise ServerSetupError(
                f"The local PostgreSQL server did not start: {result.stderr.strip()}\n{log[-2000:]}"
            )

    def stop(self, mode: str = "fast") -> None:
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"])

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base_dir, ignore_errors=True)


def _chown_tree(path: Path, user: pwd.struct_passwd | None) -> None:
    if user is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, user.pw_uid, user.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid)


def _make_certificates(cert_dir: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for localhost/127.0.0.1 signed by it."""
    if shutil.which("openssl") is None:
        raise ServerSetupError(
            "openssl is needed to make test certificates: apt-get install openssl"
        )
    ca_key, ca_crt = cert_dir / "ca.key", cert_dir / "ca.crt"
    key, csr, crt = cert_dir / "server.key", cert_dir / "server.csr", cert_dir / "server.crt"
    ext = cert_dir / "san.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=CourseMig test CA",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca_crt),
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        str(key),
        "-out",
        str(csr),
    )
    run(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca_crt),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        str(ext),
        "-out",
        str(crt),
    )
    os.chmod(key, 0o600)
    return ca_crt, crt, key


def start_local_server(
    name: str,
    *,
    tls: bool = False,
    require_password: bool = False,
    base_dir: Path | None = None,
    extra_settings: dict[str, str] | None = None,
    bindir: Path | None = None,
) -> LocalServer:
    """initdb + start a server on a free port.

    With ``require_password`` every TCP login needs a SCRAM password; with ``tls`` TCP logins
    must use TLS (``hostssl`` only), like Azure. The superuser logs in over the Unix socket only.
    ``bindir`` picks the PostgreSQL version (default: the newest installed).
    """
    bindir = bindir or find_server_bindir()
    if bindir is None:
        raise ServerSetupError(install_hint())
    run_as = _server_user()
    base = base_dir or Path(tempfile.mkdtemp(prefix=f"coursemig-{name}-"))
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    (base / "sock").mkdir(exist_ok=True)
    server = LocalServer(base_dir=base, bindir=bindir, port=free_port(), tls=tls, run_as=run_as)
    _chown_tree(base, run_as)
    # C.UTF-8 where the system has it (sorting like most servers), else plain C
    for locale in ("C.UTF-8", "C"):
        init = server._run(
            [
                str(bindir / "initdb"),
                "-D",
                str(server.data_dir),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale",
                locale,
                "--no-sync",
            ]
        )
        if init.returncode == 0:
            break
    if init.returncode != 0:
        raise ServerSetupError(f"initdb failed: {init.stderr.strip()}")

    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(server.port),
        "unix_socket_directories": f"'{server.socket_dir}'",
        "password_encryption": "'scram-sha-256'",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "100",
        "shared_buffers": "128MB",
        "max_wal_size": "2GB",
        "log_min_messages": "warning",
        "lc_messages": "'C'",
    }
    auth = "scram-sha-256" if require_password else "trust"
    hba = ["local all postgres trust", f"local all all {auth}"]
    if tls:
        certs = base / "certs"
        certs.mkdir()
        ca_crt, crt, key = _make_certificates(certs)
        server.ca_cert = ca_crt
        settings.update(
            {
                "ssl": "on",
                "ssl_cert_file": f"'{crt}'",
                "ssl_key_file": f"'{key}'",
                "ssl_ca_file": f"'{ca_crt}'",
            }
        )
        hba += [f"hostssl all all 127.0.0.1/32 {auth}", f"hostssl all all ::1/128 {auth}"]
    else:
        hba += [f"host all all 127.0.0.1/32 {auth}", f"host all all ::1/128 {auth}"]
    settings.update(extra_settings or {})
    conf = server.data_dir / "postgresql.conf"
    with conf.open("a") as f:
        f.write("\n# CourseMig throwaway server\n")
        for key_, value in settings.items():
            f.write(f"{key_} = {value}\n")
    (server.data_dir / "pg_hba.conf").write_text("\n".join(hba) + "\n")
    _chown_tree(base, run_as)
    if tls and run_as is not None:
        # the CA must stay readable by us (the client), the key only by the server
        os.chmod(base / "certs", 0o755)
        os.chmod(server.ca_cert, 0o644)
    server.start()
    return server


def wait_until_ready(conninfo: str, timeout: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(conninfo, connect_timeout=3).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
