"""How a connection is protected, in plain words: the Security choices, the safe default for a
host, the root certificates that verify a server, and what a connection actually achieved.

New connections verify the server (``sslmode=verify-full``) against the public root certificates
shipped by ``certifi``: psycopg's wheel carries its own OpenSSL, whose default paths are not the
operating system's store (on Windows they never are), so ``sslrootcert=system`` is not relied on.
Azure's server certificates chain to DigiCert Global Root G2 / Microsoft RSA Root CA 2017, both
in certifi. A database on this computer may go unencrypted: nothing crosses the network.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

AZURE_TLS_DOCS = (
    "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-networking-ssl-tls"
)
VERIFYING = ("verify-ca", "verify-full")
# Connection-string keys (squashed: lower case, no spaces, dashes or underscores) for what the
# user or the administrator chose about TLS and authentication; kept exactly as given.
KEPT_KEY_ALIASES = {
    "channelbinding": "channel_binding",
    "requireauth": "require_auth",
    "sslcert": "sslcert",
    "sslcertificate": "sslcert",
    "sslkey": "sslkey",
    "sslcrl": "sslcrl",
}


@dataclass(frozen=True)
class SecurityChoice:
    label: str  # what the Security box says
    sslmode: str
    needs_file: bool = False


VERIFY = SecurityChoice("Verify the server (recommended)", "verify-full")
VERIFY_FILE = SecurityChoice("Verify with this certificate file…", "verify-full", needs_file=True)
ENCRYPT_ONLY = SecurityChoice("Encrypt only (does not check the server)", "require")
NO_ENCRYPTION = SecurityChoice("No encryption (local databases only)", "disable")
# what a new connection may choose; allow/prefer are not among them
CHOICES = (VERIFY, VERIFY_FILE, ENCRYPT_ONLY, NO_ENCRYPTION)
# older settings (a saved profile, a pasted string) still open, and are shown as what they are
OLDER = {
    "prefer": SecurityChoice(
        "Encryption if the server offers it (older setting: does not check the server)", "prefer"
    ),
    "allow": SecurityChoice(
        "Encryption only if the server insists (older setting: usually none)", "allow"
    ),
    "verify-ca": SecurityChoice(
        "Verify the certificate authority only (older setting: does not check the name)",
        "verify-ca",
    ),
}


def is_local_host(host: str) -> bool:
    """A database on this computer: localhost, 127.0.0.0/8, ::1, or a socket folder (or no host,
    which libpq reads as the local socket)."""
    name = (host or "").strip().lower().rstrip(".")
    if not name or name.startswith(("/", "@")):
        return True
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def default_sslmode(host: str, env: Mapping[str, str] | None = None) -> str:
    """The Security a new connection starts with: the administrator's ``PGSSLMODE`` if set, no
    encryption for a database on this computer, and verify-full everywhere else."""
    env = os.environ if env is None else env
    if env.get("PGSSLMODE", "").strip():
        return env["PGSSLMODE"].strip()
    return NO_ENCRYPTION.sslmode if is_local_host(host) else VERIFY.sslmode


def public_roots() -> str:
    """certifi's bundle of public root certificates (inside the frozen app too)."""
    import certifi

    return certifi.where()


def root_certificate(sslmode: str, sslrootcert: str, env: Mapping[str, str] | None = None) -> str:
    """The ``sslrootcert`` to hand libpq: the file chosen; else, when verifying, the public roots
    — unless ``PGSSLROOTCERT`` names one, which libpq then reads itself."""
    env = os.environ if env is None else env
    if sslrootcert or sslmode not in VERIFYING or env.get("PGSSLROOTCERT"):
        return sslrootcert
    return public_roots()


def ssl_flag_sslmode(flag: str, aliases: Mapping[str, str]) -> str:
    """The sslmode for a bare ``ssl=true`` flag: JDBC's verifies the server (pgjdbc's default
    factory), so it means verify-full here, never less."""
    mode = aliases.get(flag.strip().lower(), "require")
    return "verify-full" if mode == "require" else mode


def choice_for(sslmode: str, sslrootcert: str = "") -> SecurityChoice:
    """The Security box entry that shows these settings truthfully."""
    if sslmode == "verify-full":
        return VERIFY_FILE if sslrootcert and sslrootcert != "system" else VERIFY
    if sslmode in OLDER:
        return OLDER[sslmode]
    return ENCRYPT_ONLY if sslmode == "require" else NO_ENCRYPTION


def security_note(
    host: str, sslmode: str, sslrootcert: str = "", env: Mapping[str, str] | None = None
) -> str:
    """The line under the Security box: what the choice does, and why for a local default."""
    env = os.environ if env is None else env
    if sslmode == "disable":
        if is_local_host(host):
            return (
                "Not encrypted: this database is on this computer, so nothing crosses the network."
            )
        return (
            "Not encrypted: the password and the data cross the network readable by anyone on "
            "the way. Choose 'Verify the server (recommended)' for a database elsewhere."
        )
    if sslmode == "verify-full":
        if sslrootcert and sslrootcert != "system":
            return f"Encrypted; the server's certificate is checked against {sslrootcert}."
        if not sslrootcert and env.get("PGSSLROOTCERT"):  # libpq reads it (root_certificate)
            return (
                "Encrypted; the server's certificate is checked against "
                f"{env['PGSSLROOTCERT']} (named by PGSSLROOTCERT)."
            )
        return (
            "Encrypted; the server's certificate is checked against the public root certificates "
            "(Azure's are among them)."
        )
    if sslmode == "verify-ca":
        return "Encrypted; the certificate authority is checked, but not the server's name."
    return "Encrypted, but the server is not checked: someone on the way could pose as it."


def connection_security(info: Mapping[str, str], ssl_in_use: bool, protocol: str = "") -> str:
    """The summary line after connecting, from libpq's effective options (``info``) and whether
    TLS is in use: says plainly when the server was not verified."""
    sslmode = info.get("sslmode", "")
    host = info.get("host", "")
    version = f" ({protocol})" if protocol else ""
    if not ssl_in_use:
        if is_local_host(host):
            return "Not encrypted (a database on this computer)."
        return "Not encrypted: the password and the data crossed the network readable."
    if sslmode == "verify-full":
        return f"Encrypted{version}; the server was verified as {host}."
    if sslmode == "verify-ca":
        return f"Encrypted{version}; the certificate authority was verified, the server's name was not."
    return f"Encrypted{version}, but the server was not verified."


def describe_connection(conn: Any) -> str:
    """``connection_security`` for an open psycopg connection, from libpq's own view of it."""
    pgconn = conn.pgconn
    info = {o.keyword.decode(): (o.val or b"").decode("utf-8", "replace") for o in pgconn.info}
    protocol = None
    if pgconn.ssl_in_use:
        row = conn.execute(
            "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone()
        protocol = row[0] if row else None
    return connection_security(info, bool(pgconn.ssl_in_use), protocol or "")
