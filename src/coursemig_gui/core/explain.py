"""One function turns any connection or query error into a plain sentence with the next step,
for the GUI and the CLI alike."""

from __future__ import annotations

import logging
import re

import psycopg

from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.tls import AZURE_TLS_DOCS, NO_ENCRYPTION, VERIFY, VERIFY_FILE, is_local_host

log = logging.getLogger(__name__)

# -- errors explained -------------------------------------------------------------------------

_HBA = re.compile(
    r'no pg_hba\.conf entry for (?:replication connection from )?host "([^"]*)"'
    r'(?:, user "([^"]*)")?(?:, database "([^"]*)")?(?:, ([A-Za-z ]+))?'
)
_SERVER_AT = re.compile(
    r'connection to server (?:at|on socket) "([^"]*)"(?: \([^)]*\))?(?:, port (\d+))?'
)
_QUOTED = re.compile(r'"([^"]*)"')
# Citus's coordinator failing to reach one of its worker nodes (remote_commands.c and
# adaptive_executor.c): the target answered, so its own host, port and password are right
_REMOTE_NODE = re.compile(
    r"connection to the remote node (?:[^@\s]*@)?(\S+) failed(?: with the following error: "
    r"(?:FATAL: +)?([^\n]*))?"
)
_NODE_TIMEOUT = re.compile(r"could not establish any connections to the node (\S+) after (\d+) ms")


def explain_error(exc: BaseException, settings: ConnectionSettings | None = None) -> FriendlyError:
    """One plain sentence, with the next step, for any error from connecting or querying.

    Matches the SQLSTATE where the server sent one, else English fragments of libpq's and the
    server's messages (connection failures carry no SQLSTATE). The original text goes to
    ``detail``. Used by the GUI and the CLI alike.
    """
    if isinstance(exc, FriendlyError):
        return exc
    raw = str(exc).strip() or type(exc).__name__
    message = _explain(exc, raw, settings)
    return FriendlyError(message, _detail(exc, raw))


def _detail(exc: BaseException, raw: str) -> str:
    lines = [raw]
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate:
        lines.append(f"SQLSTATE: {sqlstate}")
    diag = getattr(exc, "diag", None)
    if diag is not None:
        for label, attr in (
            ("Detail", "message_detail"),
            ("Hint", "message_hint"),
            ("Context", "context"),
        ):
            value = getattr(diag, attr, None)
            if value:
                lines.append(f"{label}: {value}")
    lines.append(f"({type(exc).__module__}.{type(exc).__name__})")
    return "\n".join(lines)


def _where(settings: ConnectionSettings | None, raw: str) -> str:
    if settings is not None and settings.host:
        return f"{settings.host}:{settings.port}"
    m = _SERVER_AT.search(raw)
    if m:
        return f"{m.group(1)}:{m.group(2)}" if m.group(2) else m.group(1)
    return "the server"


def _user(settings: ConnectionSettings | None, raw: str = "") -> str:
    m = re.search(r'for user "([^"]*)"', raw) or re.search(r'role "([^"]*)" does not exist', raw)
    if m:
        return m.group(1)
    return settings.user if settings is not None and settings.user else ""


def _worker_unreachable(raw: str) -> str | None:
    """Citus's coordinator could not reach a worker node: said as that, not as the target
    refusing connections or the user's password (the target answered, with both right)."""
    remote, timeout = _REMOTE_NODE.search(raw), _NODE_TIMEOUT.search(raw)
    if remote:
        node, why = remote.group(1), (remote.group(2) or "").strip().rstrip(".")
    elif timeout:
        node, why = timeout.group(1), f"no answer within {timeout.group(2)} ms"
    else:
        return None
    return (
        f"The target's Citus coordinator could not reach its worker node {node}"
        f"{f' ({why})' if why else ''}. The target itself answered: the worker node may be "
        "stopped, restarting or out of reach. Check the cluster's nodes (on Azure, the "
        "cluster's page in the portal), then run the migration again."
    )


def _explain(exc: BaseException, raw: str, settings: ConnectionSettings | None) -> str:
    m = raw.lower()
    sqlstate = getattr(exc, "sqlstate", None) or ""
    azure = settings is not None and settings.is_azure
    where = _where(settings, raw)
    user = _user(settings, raw)
    who = f'user "{user}"' if user else "this user"
    sslmode = settings.sslmode if settings is not None else ""

    worker = _worker_unreachable(raw)
    if worker:
        return worker

    # -- authentication
    if sqlstate == "28P01" or "password authentication failed" in m:
        text = (
            f"The server did not accept the user name and password for {who}. "
            "Check both and try again."
        )
        if azure:
            text += " If the password is lost, reset it in the Azure portal."
        return text
    if "no password supplied" in m or "password is required" in m:
        return (
            f"The server needs a password for {who}, and none was given. "
            "Enter the password and try again."
        )
    if (sqlstate == "28000" or "fatal" in m) and re.search(r'role "[^"]*" does not exist', m):
        return f'There is no user named "{user}" on this server. Check the User field.'

    # -- finding and reaching the server
    resolve = re.search(
        r"(?:could not translate host name|failed to resolve host) [\"']([^\"']+)[\"']", raw
    )
    if resolve or any(
        s in m
        for s in (
            "name or service not known",
            "nodename nor servname",
            "no such host is known",
            "temporary failure in name resolution",
        )
    ):
        host = resolve.group(1) if resolve else (settings.host if settings else "")
        return (
            f'The server name "{host}" could not be found. Check the Host field for typing '
            "mistakes, and that this computer is connected to the network."
        )
    if "connection refused" in m:
        return (
            f"Nothing is accepting database connections at {where}. Check the host and the "
            "port, and that the database server is running; a firewall may also be in the way."
        )
    if sqlstate == "57014" or "statement timeout" in m:
        return (
            "The database stopped a query because it ran longer than its time limit "
            "(statement_timeout). Ask the administrator to raise the limit, or try again later."
        )
    if (
        isinstance(exc, psycopg.errors.ConnectionTimeout)
        or "timeout expired" in m
        or "timed out" in m
    ):
        seconds = settings.connect_timeout if settings is not None else None
        within = f" within {seconds} second{'s' if seconds != 1 else ''}" if seconds else ""
        text = (
            f"{where} did not answer{within}. The server may be stopped, or a firewall is "
            "blocking this computer."
        )
        if azure:
            text += (
                " On Azure, add a firewall rule for your IP address in the portal: "
                "Networking → Add current client IP."
            )
        return text

    # -- pg_hba: firewall rule or encryption required
    hba = _HBA.findall(raw)
    if hba:
        methods = {entry[3].strip().lower() for entry in hba}
        if methods <= {"no encryption", "ssl off"} and sslmode in ("disable", "allow", ""):
            return _TLS_REQUIRED
        ip = hba[0][0]
        if azure:
            return (
                f"Azure refused this computer. Add a firewall rule for your IP address {ip} in "
                "the portal: Networking → Add current client IP."
            )
        db = hba[0][2]
        return (
            f"The server does not accept connections from this computer ({ip}) for {who}"
            + (f' and database "{db}"' if db else "")
            + ". Ask the server's administrator to allow it (pg_hba.conf)."
        )
    if "ssl connection is required" in m or "ssl required" in m or "ssl off" in m:
        return _TLS_REQUIRED
    if "server does not support ssl" in m:
        text = (
            "The server does not offer encrypted connections, but Security asks for them, so "
            "CourseMig did not send the password. Ask the server's administrator to turn on TLS."
        )
        if settings is not None and is_local_host(settings.host):
            text += f" This database is on this computer: '{NO_ENCRYPTION.label}' is safe here."
        return text

    # -- certificates: never suggest checking less; say what the file is and where Azure's is
    rootcert = re.search(r'root certificate file "([^"]*)" does not exist', raw)
    if rootcert or "could not read root certificate file" in m:
        path = rootcert.group(1) if rootcert else (settings.sslrootcert if settings else "")
        return (
            "To verify the server, CourseMig needs the certificate file of the authority that "
            f'signed its certificate (a .pem or .crt file), and "{path}" is missing or '
            "unreadable. Choose the file again under Security, or choose "
            f"'{VERIFY.label}', which uses the public root certificates (Azure's among them)."
        )
    if "does not match host name" in m or "does not match the host name" in m:
        host = settings.host if settings is not None else ""
        return (
            f'The server\'s certificate is made out to a different name than "{host}", so '
            "CourseMig cannot be sure it is talking to the right server and did not connect. "
            "Use the host name exactly as the certificate names it (for Azure, as the portal "
            "shows it), not an IP address or an alias."
        )
    if any(
        s in m
        for s in (
            "certificate verify failed",
            "self signed certificate",
            "self-signed certificate",
            "unable to get local issuer certificate",
            "certificate has expired",
        )
    ):
        cafile = f' ("{settings.sslrootcert}")' if settings and settings.sslrootcert else ""
        if "expired" in m:
            return (
                "The server's certificate has expired, so CourseMig cannot be sure it is talking "
                "to the right server and did not connect. Ask the server's administrator to "
                "renew the certificate."
            )
        return (
            "The server's certificate is not signed by an authority CourseMig trusts"
            f"{cafile}, so it did not connect. If your organisation signs its own certificates, "
            "ask the database's administrator for the authority's certificate file (a .pem or "
            f".crt file) and choose '{VERIFY_FILE.label}' under Security. Azure's servers are "
            "signed by public authorities that CourseMig already knows (DigiCert Global Root G2, "
            f"Microsoft RSA Root CA 2017); Microsoft lists them at {AZURE_TLS_DOCS}."
        )

    # -- database, permissions, server state
    missing_db = re.search(r'database "([^"]*)" does not exist', raw)
    if sqlstate == "3D000" or missing_db:
        name = missing_db.group(1) if missing_db else (settings.dbname if settings else "")
        text = f'There is no database named "{name}" on this server. Check the Database field.'
        if settings is not None and settings.is_cosmos:
            text += ' On Azure Cosmos DB for PostgreSQL it is usually "citus".'
        return text
    if sqlstate == "42501" or "permission denied" in m:
        return _explain_permission(exc, raw, who)
    if sqlstate == "53300" or "too many clients" in m or "connection slots are reserved" in m:
        return (
            "The server has no free connection slots right now. Close other programs that use "
            "this database, wait a moment, and try again."
        )
    if sqlstate == "57P01" or "terminating connection due to administrator command" in m:
        return (
            "The server ended the connection (an administrator stopped it, or the server is "
            "restarting). Wait a minute and try again."
        )
    if sqlstate == "57P03" or "starting up" in m or "shutting down" in m:
        return "The database server is starting up or shutting down. Wait a minute and try again."
    if any(
        s in m
        for s in (
            "server closed the connection unexpectedly",
            # the server ended it while a COPY was being sent, before its reason was read
            "connection has been closed unexpectedly",
            "ssl syscall error",
            "connection is lost",
            "the connection is closed",
            "consuming input failed",
            "connection reset by peer",
            "broken pipe",
        )
    ):
        return "The connection to the server was lost. Check the network and try again."
    if isinstance(exc, psycopg.ProgrammingError) and (
        "invalid connection option" in m
        or "invalid sslmode" in m
        or 'missing "="' in m
        or "invalid uri" in m
        or "invalid integer value" in m
    ):
        return (
            "The connection settings are not valid. Check the fields, or paste the connection "
            "string again."
        )

    first = raw.splitlines()[0]
    first = re.sub(r"^connection failed: ", "", first).rstrip(" .")
    if len(first) > 200:
        first = first[:197] + "…"
    return (
        f"The database reported a problem: {first}. If this does not say what to do, copy the "
        "details and send them to whoever looks after the database."
    )


_TLS_REQUIRED = f"The server only accepts encrypted connections. Set Security to '{VERIFY.label}'."


def _explain_permission(exc: BaseException, raw: str, who: str) -> str:
    diag = getattr(exc, "diag", None)
    primary = (getattr(diag, "message_primary", None) or raw.splitlines()[0]).strip()
    m = re.match(
        r"permission denied for (table|relation|sequence|view|schema|database) (.+)$", primary
    )
    if m:
        kind, name = m.group(1), m.group(2).strip('"')
        kind = "table" if kind == "relation" else kind
        if kind == "schema":
            return (
                f"{who[0].upper()}{who[1:]} has no permission to use or create tables in schema "
                f'"{name}". Ask the database owner to grant it (GRANT USAGE, CREATE ON SCHEMA).'
            )
        if kind == "database":
            return (
                f'{who[0].upper()}{who[1:]} has no permission on database "{name}". Ask the '
                "database owner to grant it (GRANT CONNECT, CREATE ON DATABASE)."
            )
        return (
            f'{who[0].upper()}{who[1:]} has no permission to use {kind} "{name}". Ask the '
            f"database owner to grant access (for reading: GRANT SELECT ON {kind.upper()})."
        )
    owner = re.match(r"must be owner of (\w+) (.+)$", primary)
    if owner:
        return (
            f'Only the owner of {owner.group(1)} "{owner.group(2)}" may do this. Connect as the '
            "owner, or ask the owner to do it."
        )
    return (
        f"{who[0].upper()}{who[1:]} is not allowed to do this ({primary}). Ask the database "
        "owner for the permission."
    )
