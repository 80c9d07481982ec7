"""Connection settings: the dataclass, Azure presets, sslmode aliases and their labels.

The password is never part of ``ConnectionSettings``: it travels beside the settings (from the
keyring, a prompt, ``PGPASSWORD`` or ``.pgpass``) so a saved profile cannot leak it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from psycopg.conninfo import make_conninfo

from coursemig_gui.core import tls
from coursemig_gui.core.errors import FriendlyError

log = logging.getLogger(__name__)

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
PGBOUNCER_PORT = 6432
DEFAULT_PORT = 5432

# What the wizard calls each sslmode, so error sentences name the control a person sees
# (the Security box itself: core.tls.CHOICES).
SECURITY_LABELS = {mode: tls.choice_for(mode).label for mode in SSLMODES}

_COSMOS_SUFFIXES = (".postgres.cosmos.azure.com", ".postgres.cosmos.azure.cn")
_AZURE_PG_SUFFIXES = (
    ".postgres.database.azure.com",
    ".postgres.database.chinacloudapi.cn",
    ".postgres.database.usgovcloudapi.net",
)


# -- settings ---------------------------------------------------------------------------------


# Said where a connection on Azure's pooler port is entered (the wizard) or used (the CLI)
POOLER_NOTE = (
    "Port 6432 is a connection pooler (PgBouncer in transaction mode): bulk loads are slower "
    "there and session settings do not last. CourseMig will still work, but port 5432 is the "
    "better choice for a migration."
)


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and how to connect. Deliberately has no password field."""

    host: str = ""
    port: int = DEFAULT_PORT
    dbname: str = ""
    user: str = ""
    sslmode: str = ""  # empty: the safe default for the host (see core.tls.default_sslmode)
    sslrootcert: str = ""  # empty: the public roots (certifi) when verifying
    connect_timeout: int = 10
    application_name: str = "CourseMig"
    # kept exactly as pasted or set by an administrator, never weakened
    channel_binding: str = ""
    require_auth: str = ""
    sslcert: str = ""
    sslkey: str = ""
    sslcrl: str = ""

    def __post_init__(self) -> None:
        # Profiles and form fields hand us strings; coerce once here so nothing else has to.
        object.__setattr__(self, "host", str(self.host or "").strip())
        object.__setattr__(self, "port", _as_port(self.port))
        # Npgsql writes Channel Binding=Require; libpq knows the lower-case words only
        object.__setattr__(self, "channel_binding", str(self.channel_binding).strip().lower())
        mode = self.sslmode or tls.default_sslmode(self.host)
        object.__setattr__(self, "sslmode", _normalise_sslmode(mode))
        try:
            timeout = int(self.connect_timeout)
        except (TypeError, ValueError):
            raise FriendlyError(
                "The connection timeout must be a whole number of seconds.",
                f"connect_timeout={self.connect_timeout!r}",
            ) from None
        object.__setattr__(self, "connect_timeout", max(timeout, 0))

    # profiles

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a profile file (never contains a password)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConnectionSettings:
        """Build from profile data; unknown keys (and any stray ``password``) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    # libpq

    def conninfo(self, password: str | None = None) -> str:
        """A libpq conninfo string; without a password libpq may use PGPASSWORD or .pgpass."""
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "password": password,
            "sslmode": self.sslmode,
            "sslrootcert": tls.root_certificate(self.sslmode, self.sslrootcert),
            "connect_timeout": self.connect_timeout or None,
            "application_name": self.application_name,
            "channel_binding": self.channel_binding,
            "require_auth": self.require_auth,
            "sslcert": self.sslcert,
            "sslkey": self.sslkey,
            "sslcrl": self.sslcrl,
        }
        return make_conninfo("", **{k: v for k, v in params.items() if v not in (None, "")})

    def display_name(self) -> str:
        """``user@host:port/dbname`` for lists and prompts; the port only when it is unusual."""
        text = f"{self.user}@" if self.user else ""
        text += self.host or "localhost"
        if self.port != DEFAULT_PORT:
            text += f":{self.port}"
        if self.dbname:
            text += f"/{self.dbname}"
        return text

    # Azure

    @property
    def is_cosmos(self) -> bool:
        """Azure Cosmos DB for PostgreSQL (a Citus cluster), by its host name."""
        host = self.host.lower().rstrip(".")
        if host.endswith(_COSMOS_SUFFIXES):
            return True
        # the older naming: c.<cluster>.postgres.database.azure.com
        return host.startswith(("c.", "private-c.")) and host.endswith(_AZURE_PG_SUFFIXES)

    @property
    def is_azure(self) -> bool:
        """Any Azure-hosted PostgreSQL: Cosmos DB for PostgreSQL, flexible server, elastic cluster."""
        host = self.host.lower().rstrip(".")
        return self.is_cosmos or host.endswith(_AZURE_PG_SUFFIXES)

    @property
    def uses_pgbouncer(self) -> bool:
        """Port 6432 is Azure's PgBouncer in transaction mode: no session state, no prepares."""
        return self.port == PGBOUNCER_PORT

    @property
    def platform_name(self) -> str:
        if self.is_cosmos:
            return "Azure Cosmos DB for PostgreSQL"
        if self.is_azure:
            return "Azure Database for PostgreSQL"
        return "PostgreSQL"


def _as_port(value: Any) -> int:
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        raise FriendlyError(
            "The port must be a number between 1 and 65535 (PostgreSQL usually uses 5432).",
            f"port={value!r}",
        )
    return port


SSLMODE_ALIASES = {
    # Npgsql (ADO.NET) and JDBC spellings, and booleans some snippets use
    "verifyca": "verify-ca",
    "verifyfull": "verify-full",
    "true": "require",
    "yes": "require",
    "on": "require",
    "1": "require",
    "false": "disable",
    "no": "disable",
    "off": "disable",
    "0": "disable",
}


def _normalise_sslmode(value: str) -> str:
    mode = str(value).strip().lower()
    mode = SSLMODE_ALIASES.get(mode.replace("-", "").replace("_", ""), mode)
    mode = mode.replace("_", "-")
    if mode not in SSLMODES:
        raise FriendlyError(
            f'"{value}" is not a security setting PostgreSQL knows. '
            f"Choose '{tls.VERIFY.label}' under Security.",
            f"sslmode={value!r}; valid: {', '.join(SSLMODES)}",
        )
    return mode


# -- Azure presets ----------------------------------------------------------------------------


def apply_presets(
    settings: ConnectionSettings, given: Collection[str] | None = None
) -> tuple[ConnectionSettings, list[str]]:
    """Fill Azure defaults for fields that were not given, and warn about the pooler port.

    ``given`` names the fields the person supplied; ``None`` means "treat empty fields (and an
    unverified Security) as not given", which suits a form being typed into. An administrator's
    ``PGSSLMODE`` is never overridden.
    """
    notes: list[str] = []

    def missing(name: str) -> bool:
        if name == "sslmode" and os.environ.get("PGSSLMODE", "").strip():
            return False
        if given is not None:
            # the portal's own strings say sslmode=require; Azure can be verified, so verify
            return name not in given or (name == "sslmode" and settings.sslmode == "require")
        if name == "sslmode":
            return settings.sslmode in ("prefer", "allow", "disable", "require")
        if name == "port":
            return False  # a form always shows a port
        return not getattr(settings, name)

    if settings.is_azure:
        # Azure's certificates chain to public roots (in certifi): verify, never less
        wanted: dict[str, Any] = {"port": DEFAULT_PORT, "sslmode": "verify-full"}
        if settings.is_cosmos:
            wanted.update(dbname="citus", user="citus")
        else:
            # flexible servers and elastic clusters start with a "postgres" database
            wanted.update(dbname="postgres")
        filled = {k: v for k, v in wanted.items() if missing(k)}
        if filled:
            settings = replace(settings, **filled)
            said = []
            if "dbname" in filled:
                said.append(f"database {filled['dbname']}")
            if "user" in filled:
                said.append(f"user {filled['user']}")
            if "port" in filled:
                said.append(f"port {filled['port']}")
            if "sslmode" in filled:
                said.append("the server verified")
            notes.append(
                f"Filled in the {settings.platform_name} defaults: {', '.join(said)}. "
                "Change them if your server uses others."
            )
    if settings.uses_pgbouncer:
        notes.append(POOLER_NOTE)
    return settings, notes
