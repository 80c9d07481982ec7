"""Connection settings, pasted connection strings, connecting, explained errors and pre-flight.

The password is never part of ``ConnectionSettings``: it travels beside the settings (from the
keyring, a prompt, ``PGPASSWORD`` or ``.pgpass``) so a saved profile cannot leak it.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal
from urllib.parse import unquote

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from coursemig_gui.core.errors import FriendlyError

log = logging.getLogger(__name__)

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
PGBOUNCER_PORT = 6432
DEFAULT_PORT = 5432

# What the wizard calls each sslmode, so error sentences name the control a person sees.
SECURITY_LABELS = {
    "disable": "No encryption",
    "allow": "No encryption",
    "prefer": "Encryption if available",
    "require": "Require encryption",
    "verify-ca": "Verify server certificate",
    "verify-full": "Verify server certificate",
}

_COSMOS_SUFFIXES = (".postgres.cosmos.azure.com", ".postgres.cosmos.azure.cn")
_AZURE_PG_SUFFIXES = (
    ".postgres.database.azure.com",
    ".postgres.database.chinacloudapi.cn",
    ".postgres.database.usgovcloudapi.net",
)


# -- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and how to connect. Deliberately has no password field."""

    host: str = ""
    port: int = DEFAULT_PORT
    dbname: str = ""
    user: str = ""
    sslmode: str = "prefer"
    sslrootcert: str = ""
    connect_timeout: int = 10
    application_name: str = "CourseMig"

    def __post_init__(self) -> None:
        # Profiles and form fields hand us strings; coerce once here so nothing else has to.
        object.__setattr__(self, "host", str(self.host or "").strip())
        object.__setattr__(self, "port", _as_port(self.port))
        object.__setattr__(self, "sslmode", _normalise_sslmode(self.sslmode or "prefer"))
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
            "sslrootcert": self.sslrootcert,
            "connect_timeout": self.connect_timeout or None,
            "application_name": self.application_name,
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


_SSLMODE_ALIASES = {
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
    mode = _SSLMODE_ALIASES.get(mode.replace("-", "").replace("_", ""), mode)
    mode = mode.replace("_", "-")
    if mode not in SSLMODES:
        raise FriendlyError(
            f'"{value}" is not a security setting PostgreSQL knows. '
            "Choose Require encryption, Verify server certificate or No encryption.",
            f"sslmode={value!r}; valid: {', '.join(SSLMODES)}",
        )
    return mode


# -- Azure presets ----------------------------------------------------------------------------


def apply_presets(
    settings: ConnectionSettings, given: Collection[str] | None = None
) -> tuple[ConnectionSettings, list[str]]:
    """Fill Azure defaults for fields that were not given, and warn about the pooler port.

    ``given`` names the fields the person supplied; ``None`` means "treat empty fields (and the
    default ``prefer`` encryption) as not given", which suits a form being typed into.
    """
    notes: list[str] = []

    def missing(name: str) -> bool:
        if given is not None:
            return name not in given
        if name == "sslmode":
            return settings.sslmode == "prefer"
        if name == "port":
            return False  # a form always shows a port
        return not getattr(settings, name)

    if settings.is_azure:
        wanted: dict[str, Any] = {"port": DEFAULT_PORT, "sslmode": "require"}
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
                said.append("encryption required")
            notes.append(
                f"Filled in the {settings.platform_name} defaults: {', '.join(said)}. "
                "Change them if your server uses others."
            )
    if settings.uses_pgbouncer:
        notes.append(
            "Port 6432 is a connection pooler (PgBouncer in transaction mode): bulk loads are "
            "slower there and session settings do not last. CourseMig will still work, but port "
            "5432 is the better choice for a migration."
        )
    return settings, notes


# -- pasted connection strings ----------------------------------------------------------------


@dataclass(frozen=True)
class ParsedConnection:
    """What a pasted connection string said: settings, the password apart, and notes to show."""

    settings: ConnectionSettings
    password: str | None
    notes: list[str] = field(default_factory=list)
    kind: str = ""  # "libpq URI", "key=value", "psql command", "ADO.NET", "JDBC", "host name"


_URI_SCHEMES = {"postgresql", "postgres", "pgsql", "postgis"}

# every spelling we accept, squashed (lower case, no spaces/underscores/dashes) -> libpq name
_KEY_ALIASES = {
    "host": "host",
    "server": "host",
    "datasource": "host",
    "address": "host",
    "hostaddr": "hostaddr",
    "port": "port",
    "dbname": "dbname",
    "database": "dbname",
    "initialcatalog": "dbname",
    "user": "user",
    "userid": "user",
    "username": "user",
    "uid": "user",
    "password": "password",
    "pwd": "password",
    "sslmode": "sslmode",
    "ssl": "ssl",
    "sslrootcert": "sslrootcert",
    "rootcertificate": "sslrootcert",
    "connecttimeout": "connect_timeout",
    "timeout": "connect_timeout",
    "applicationname": "application_name",
}

_PLACEHOLDER = re.compile(
    r"""^(?:
        [{<\[(]\s*[^{}<>\[\]()]*(?:pass|pwd|secret)[^{}<>\[\]()]*\s*[}>\])]   # {your_password}
        | \$\{?[A-Z_]*(?:PASS|PWD|SECRET)[A-Z_]*\}?                         # ${DB_PASSWORD}
        | %[A-Z_]*(?:PASS|PWD)[A-Z_]*%                                       # %PGPASS%
        | your[_ -]?password | \*{4,}
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


def is_placeholder_password(value: str) -> bool:
    """True for text that stands where a password goes: ``{your_password}``, ``<password>``…"""
    return bool(_PLACEHOLDER.match(value.strip()))


def parse_connection_string(text: str) -> ParsedConnection:
    """Read any connection string a person is likely to paste; raise FriendlyError if none fits.

    Forms: libpq URIs (postgresql://, postgres://, Django's pgsql:// and postgis://), libpq
    key=value, the Azure portal's psql command, ADO.NET (Npgsql), JDBC, or a bare host name.
    """
    kind, pairs = _read_pairs(text)
    return _build(pairs, kind)


def _read_pairs(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Which form the text is, and its (key, value) pairs in the order given (later ones win)."""
    raw = _strip_wrappers(text)
    if not raw:
        raise FriendlyError("Paste a connection string first: the text box is empty.")
    lower = raw.lower()
    scheme = re.match(r"^([a-z][a-z0-9+.-]*)://", lower)
    if re.match(r"^(?:\S*[\\/])?psql(?:\.exe)?(?:\s|$)", lower):
        return "psql command", _parse_psql(raw)
    if lower.startswith("jdbc:"):
        if not lower.startswith("jdbc:postgresql:"):
            raise _not_postgres(raw[5:].split(":", 1)[0])
        return "JDBC", _parse_uri(raw[len("jdbc:postgresql:") :])
    if scheme:
        base = scheme.group(1).split("+", 1)[0]  # SQLAlchemy's postgresql+psycopg://
        if base not in _URI_SCHEMES:
            raise _not_postgres(base)
        kind = "Django DATABASE_URL" if base in ("pgsql", "postgis") else "libpq URI"
        return kind, _parse_uri(raw[len(scheme.group(1)) + 1 :])
    if _looks_like_ado(raw):
        return "ADO.NET", _split_ado(raw)
    if "=" in raw:
        return "key=value", _split_keyvalue(raw)
    if re.fullmatch(r"[A-Za-z0-9_.-]+(?::\d+)?", raw):
        host, _, port = raw.partition(":")
        return "host name", [("host", host)] + ([("port", port)] if port else [])
    raise FriendlyError(
        "This does not look like a PostgreSQL connection string. Paste the text from the "
        "Azure portal (Connection strings) or your Django DATABASE_URL, or fill in the fields.",
        f"Could not recognise: {raw[:200]!r}",
    )


def _not_postgres(scheme: str) -> FriendlyError:
    return FriendlyError(
        f'This is a connection string for "{scheme}", not PostgreSQL. '
        "CourseMig works with PostgreSQL databases only.",
        f"scheme: {scheme}",
    )


def _strip_wrappers(text: str) -> str:
    text = text.strip()
    # DATABASE_URL=..., export DATABASE_URL="...", $env:DATABASE_URL = '...'
    text = re.sub(
        r"^(?:export\s+|set\s+|\$env:)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*"
        r"(?=[\"']?[A-Za-z][A-Za-z0-9+.-]*://)",
        "",
        text,
    )
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def _parse_uri(rest: str) -> list[tuple[str, str]]:
    """The part after ``scheme:`` of a URI, percent-decoded, query parameters last (they win)."""
    if not rest.startswith("//"):
        raise FriendlyError(
            "This connection URL is missing the // after postgresql: — copy it again in full.",
            rest[:200],
        )
    rest = rest[2:]
    head, _, query = rest.partition("?")
    # A raw "@" inside a password is common in pasted URLs: the last "@" ends the user part.
    userinfo, at, hostpart = head.rpartition("@")
    if not at:
        userinfo, hostpart = "", head
    hostport, _, path = hostpart.partition("/")
    pairs: list[tuple[str, str]] = []
    if at:
        user, colon, password = userinfo.partition(":")
        if user:
            pairs.append(("user", unquote(user)))
        if colon:
            pairs.append(("password", unquote(password)))
    if hostport:
        first, _, others = hostport.partition(",")
        if first.startswith("["):  # IPv6 literal
            host, _, port = first[1:].partition("]")
            port = port.lstrip(":")
        else:
            host, _, port = first.partition(":")
        if host:
            pairs.append(("host", unquote(host)))
        if port:
            pairs.append(("port", port))
        if others:
            pairs.append(("#more-hosts", others))
    if path:
        pairs.append(("dbname", unquote(path)))
    for item in query.split("&"):
        if item:
            key, _, value = item.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def _split_keyvalue(text: str) -> list[tuple[str, str]]:
    """libpq's key=value rules: single quotes, backslash escapes, spaces around '=' allowed."""
    pairs: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return pairs
        start = i
        while i < n and text[i] != "=" and not text[i].isspace():
            i += 1
        key = text[start:i]
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            raise FriendlyError(
                f'Could not read the connection string near "{key}". If a value such as the '
                "password contains spaces, put it in single quotes, or type it in the field.",
                f'missing "=" after "{key}" in key=value connection string',
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        value: list[str] = []
        if i < n and text[i] == "'":
            i += 1
            while True:
                if i >= n:
                    raise FriendlyError(
                        f'The value of "{key}" opens a quote that never closes. '
                        "Copy the connection string again in full.",
                        "unterminated quoted string in key=value connection string",
                    )
                if text[i] == "\\" and i + 1 < n:
                    value.append(text[i + 1])
                    i += 2
                elif text[i] == "'":
                    i += 1
                    break
                else:
                    value.append(text[i])
                    i += 1
        else:
            while i < n and not text[i].isspace():
                if text[i] == "\\" and i + 1 < n:
                    value.append(text[i + 1])
                    i += 2
                else:
                    value.append(text[i])
                    i += 1
        pairs.append((key, "".join(value)))


_ADO_ONLY_KEYS = {"server", "datasource", "userid", "uid", "pwd", "initialcatalog", "username"}


def _looks_like_ado(text: str) -> bool:
    """ADO.NET separates pairs with ';' where libpq uses spaces; its key names differ too."""
    m = re.match(r"\s*([^=;]+?)\s*=\s*", text)
    if not m:
        return False
    if _squash(m.group(1)) in _ADO_ONLY_KEYS or " " in m.group(1).strip():
        return True
    rest = text[m.end() :]
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        end = rest.find(quote, 1)
        while end != -1 and rest[end + 1 : end + 2] == quote:  # doubled quote = literal
            end = rest.find(quote, end + 2)
        after = rest[end + 1 :].lstrip() if end != -1 else ""
        return after.startswith(";")
    value = re.match(r"[^\s;]*", rest).group(0)  # type: ignore[union-attr]
    return rest[len(value) : len(value) + 1] == ";"


def _split_ado(text: str) -> list[tuple[str, str]]:
    """DbConnectionStringBuilder rules: ';' between pairs, values quoted with " or ' (doubled
    inside), '==' for a literal '=' in a key, unquoted values trimmed."""
    pairs: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and (text[i].isspace() or text[i] == ";"):
            i += 1
        if i >= n:
            return pairs
        key_chars: list[str] = []
        while i < n:
            if text[i] == "=":
                if text[i + 1 : i + 2] == "=":
                    key_chars.append("=")
                    i += 2
                    continue
                break
            if text[i] == ";":
                break
            key_chars.append(text[i])
            i += 1
        key = "".join(key_chars).strip()
        if i >= n or text[i] != "=":
            raise FriendlyError(
                f'Could not read the connection string near "{key}". Copy it again in full, '
                "or fill in the fields.",
                f'missing "=" after "{key}" in ADO.NET connection string',
            )
        i += 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] in "\"'":
            quote = text[i]
            i += 1
            value: list[str] = []
            while True:
                if i >= n:
                    raise FriendlyError(
                        f'The value of "{key}" opens a quote that never closes. '
                        "Copy the connection string again in full.",
                        "unterminated quoted value in ADO.NET connection string",
                    )
                if text[i] == quote:
                    if text[i + 1 : i + 2] == quote:
                        value.append(quote)
                        i += 2
                        continue
                    i += 1
                    break
                value.append(text[i])
                i += 1
            pairs.append((key, "".join(value)))
            while i < n and text[i] != ";":
                i += 1
        else:
            end = text.find(";", i)
            end = n if end == -1 else end
            pairs.append((key, text[i:end].strip()))
            i = end


_PSQL_OPTIONS = {
    "-h": "host",
    "--host": "host",
    "-p": "port",
    "--port": "port",
    "-U": "user",
    "--username": "user",
    "-d": "dbname",
    "--dbname": "dbname",
}
# psql options that take a value we do not use, so the value is not mistaken for a database
_PSQL_SKIP_VALUE = {"-c", "--command", "-f", "--file", "-v", "--set", "--variable", "-o",
                    "--output", "-L", "--log-file", "-F", "--field-separator", "-R",
                    "--record-separator", "-T", "--table-attr", "-P", "--pset"}  # fmt: skip


def _parse_psql(text: str) -> list[tuple[str, str]]:
    try:
        args = shlex.split(text, posix=True)
    except ValueError as exc:
        raise FriendlyError(
            "The psql command has a quote that never closes. Copy it again in full.", str(exc)
        ) from None
    pairs: list[tuple[str, str]] = []
    positional: list[str] = []
    i = 1
    while i < len(args):
        arg = args[i]
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _PSQL_OPTIONS:
            if eq:
                value = inline
            elif i + 1 < len(args):
                i += 1
                value = args[i]
            else:
                value = ""
            pairs.append((_PSQL_OPTIONS[name], value))
        elif len(arg) > 2 and arg[:2] in ("-h", "-p", "-U", "-d"):
            pairs.append((_PSQL_OPTIONS[arg[:2]], arg[2:]))  # -hhost, -p5432
        elif name in _PSQL_SKIP_VALUE:
            i += 0 if eq else 1
        elif not arg.startswith("-"):
            positional.append(arg)
        i += 1
    for index, arg in enumerate(positional[:2]):
        if index == 0 and ("=" in arg or "://" in arg):
            # psql lists dbname after -h/-p/-U, so what the expanded string says wins
            pairs.extend(_read_pairs(arg)[1])
        else:
            pairs.append(("dbname" if index == 0 else "user", arg))
    return pairs


def _squash(key: str) -> str:
    return re.sub(r"[\s_-]", "", key).lower()


def _build(pairs: Iterable[tuple[str, str]], kind: str) -> ParsedConnection:
    values: dict[str, str] = {}
    ignored: list[str] = []
    notes: list[str] = []
    ssl_flag: str | None = None
    hostaddr = ""
    for key, value in pairs:
        if key == "#more-hosts":
            notes.append(
                f"The string lists more than one server; CourseMig uses the first one only "
                f"(also listed: {value})."
            )
            continue
        name = _KEY_ALIASES.get(_squash(key))
        if name is None:
            ignored.append(key)
        elif name == "ssl":
            ssl_flag = value
        elif name == "hostaddr":
            hostaddr = value
        else:
            values[name] = value
    if hostaddr and not values.get("host"):
        values["host"] = hostaddr
    if ssl_flag is not None and "sslmode" not in values:
        values["sslmode"] = _SSLMODE_ALIASES.get(ssl_flag.strip().lower(), "require")
    if "," in values.get("host", ""):
        first, _, others = values["host"].partition(",")
        values["host"] = first
        notes.append(
            f"The string lists more than one server; CourseMig uses the first one only "
            f"(also listed: {others})."
        )
    if "," in values.get("port", ""):
        values["port"] = values["port"].partition(",")[0]
    password = values.pop("password", None)
    if password is not None and is_placeholder_password(password):
        notes.append(
            f"The pasted text has a placeholder ({password}) where the password goes: "
            "type the real password in the Password field."
        )
        password = None
    elif password == "":
        password = None
    given = {k for k, v in values.items() if v != ""}
    settings = ConnectionSettings(**{k: v for k, v in values.items() if v != ""})
    settings, preset_notes = apply_presets(settings, given)
    notes.extend(preset_notes)
    if password is not None:
        notes.append(
            "Took the password from the pasted text. It is kept in the system's password store "
            "if you choose to remember it, never in a saved migration file."
        )
    if ignored:
        notes.append(f"Ignored settings CourseMig does not use: {', '.join(ignored)}.")
    return ParsedConnection(settings=settings, password=password, notes=notes, kind=kind)


def conninfo_from_url(url: str) -> str:
    """A libpq conninfo string from anything ``parse_connection_string`` reads (for the CLI)."""
    parsed = parse_connection_string(url)
    return parsed.settings.conninfo(parsed.password)


# -- connecting -------------------------------------------------------------------------------


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


# -- errors explained -------------------------------------------------------------------------

_HBA = re.compile(
    r'no pg_hba\.conf entry for (?:replication connection from )?host "([^"]*)"'
    r'(?:, user "([^"]*)")?(?:, database "([^"]*)")?(?:, ([A-Za-z ]+))?'
)
_SERVER_AT = re.compile(
    r'connection to server (?:at|on socket) "([^"]*)"(?: \([^)]*\))?(?:, port (\d+))?'
)
_QUOTED = re.compile(r'"([^"]*)"')


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
        for label, attr in (("Detail", "message_detail"), ("Hint", "message_hint"),
                            ("Context", "context")):  # fmt: skip
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


def _explain(exc: BaseException, raw: str, settings: ConnectionSettings | None) -> str:
    m = raw.lower()
    sqlstate = getattr(exc, "sqlstate", None) or ""
    azure = settings is not None and settings.is_azure
    where = _where(settings, raw)
    user = _user(settings, raw)
    who = f'user "{user}"' if user else "this user"
    sslmode = settings.sslmode if settings is not None else ""

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
        )  # fmt: skip
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
        return (
            "The server does not offer encrypted connections, but Security asks for encryption. "
            "Ask the administrator to turn on TLS, or, on a trusted local network only, set "
            "Security to 'No encryption'."
        )

    # -- certificates
    rootcert = re.search(r'root certificate file "([^"]*)" does not exist', raw)
    if rootcert or "could not read root certificate file" in m:
        path = rootcert.group(1) if rootcert else (settings.sslrootcert if settings else "")
        return (
            "To verify the server's certificate, CourseMig needs the certificate authority (CA) "
            f'file, and "{path}" is missing or unreadable. Choose the CA file under Security '
            "(for Azure: DigiCert Global Root G2), or set Security to 'Require encryption'."
        )
    if "does not match host name" in m:
        host = settings.host if settings is not None else ""
        return (
            f'The server\'s certificate is made out to a different name than "{host}". Use the '
            "host name exactly as the certificate names it (for Azure, as the portal shows it), "
            "not an IP address or an alias."
        )
    if any(
        s in m
        for s in (
            "certificate verify failed",
            "self signed certificate",
            "self-signed certificate",
            "unable to get local issuer certificate",
            "certificate has expired",
        )  # fmt: skip
    ):
        cafile = f' ("{settings.sslrootcert}")' if settings and settings.sslrootcert else ""
        return (
            "The server's certificate could not be verified with the certificate authority (CA) "
            f"file given{cafile}. Choose the right CA file (for Azure: DigiCert Global Root G2), "
            "or set Security to 'Require encryption' to encrypt without checking."
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
            "ssl syscall error",
            "connection is lost",
            "the connection is closed",
            "consuming input failed",
            "connection reset by peer",
            "broken pipe",
        )  # fmt: skip
    ):
        return "The connection to the server was lost. Check the network and try again."
    if isinstance(exc, psycopg.ProgrammingError) and (
        "invalid connection option" in m or "invalid sslmode" in m or "missing \"=\"" in m
        or "invalid uri" in m or "invalid integer value" in m
    ):  # fmt: skip
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


_TLS_REQUIRED = (
    "The server only accepts encrypted connections. Set Security to 'Require encryption'."
)


def _explain_permission(exc: BaseException, raw: str, who: str) -> str:
    diag = getattr(exc, "diag", None)
    primary = (getattr(diag, "message_primary", None) or raw.splitlines()[0]).strip()
    m = re.match(r"permission denied for (table|relation|sequence|view|schema|database) (.+)$",
                 primary)  # fmt: skip
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


# -- pre-flight check -------------------------------------------------------------------------

_DJANGO_CONTRIB_APPS = ("admin", "auth", "contenttypes", "sessions", "messages", "sites",
                        "staticfiles", "flatpages", "redirects")  # fmt: skip


@dataclass(frozen=True)
class PreflightReport:
    """What "Test connection" found out about one connection."""

    role: str  # "source" or "target"
    server_version: str  # "PostgreSQL 15.18"
    platform: str  # "PostgreSQL", "Azure Cosmos DB for PostgreSQL", …
    user: str
    dbname: str
    schema: str
    is_superuser: bool
    citus_version: str | None = None
    worker_count: int | None = None
    is_django: bool = False
    django_apps: tuple[str, ...] = ()
    unreadable_tables: tuple[str, ...] = ()
    missing_tables: tuple[str, ...] = ()
    can_create: bool = False
    problems: tuple[str, ...] = ()

    @property
    def can_read(self) -> bool:
        """The role can SELECT every table that was asked about (and they all exist)."""
        return not self.unreadable_tables and not self.missing_tables

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line for the result label, e.g. "Connected to PostgreSQL 15.18 · Django app…"."""
        if self.platform == "PostgreSQL":
            parts = [f"Connected to {self.server_version}"]
        else:
            parts = [f"Connected to {self.platform}"]
        if self.citus_version:
            parts.append(f"Citus {self.citus_version}")
            if self.worker_count is not None:
                n = self.worker_count
                parts.append(
                    "no worker nodes" if n == 0 else f"{n} worker node{'s' if n != 1 else ''}"
                )
        if self.is_django:
            if self.django_apps:
                shown = ", ".join(self.django_apps[:2])
                more = ", …" if len(self.django_apps) > 2 else ""
                parts.append(f"Django app detected ({shown}{more})")
            else:
                parts.append("Django app detected")
        return " · ".join(parts)


def preflight(
    conn: psycopg.Connection,
    *,
    role: Literal["source", "target"],
    tables: list[str] | None = None,
    schema: str = "public",
) -> PreflightReport:
    """Look at a fresh connection: version, Citus, Django, and whether the role can do its job.

    ``tables`` are names in ``schema`` to check for SELECT. Runs read-only queries in its own
    transaction and leaves the connection idle; a failing optional probe never aborts it.
    """
    info = conn.info
    version = _version_text(info.server_version)
    settings_like = ConnectionSettings(host=info.host if not info.host.startswith("/") else "",
                                       port=int(info.port or DEFAULT_PORT))  # fmt: skip
    problems: list[str] = []
    user = info.user or ""
    dbname = info.dbname or ""
    who = f'User "{user}"'
    with conn.transaction():
        is_superuser = info.parameter_status("is_superuser") == "on"
        citus = _optional(conn, "SELECT extversion FROM pg_extension WHERE extname = 'citus'")
        citus_version = citus[0][0] if citus else None
        workers = None
        if citus_version:
            rows = _optional(
                conn,
                "SELECT count(*) FROM pg_dist_node"
                " WHERE groupid <> 0 AND noderole = 'primary' AND isactive",
            )
            workers = int(rows[0][0]) if rows else None

        row = conn.execute(
            "SELECT has_schema_privilege(n.oid, 'USAGE'), has_schema_privilege(n.oid, 'CREATE')"
            " FROM pg_namespace n WHERE n.nspname = %s",
            [schema],
        ).fetchone()
        has_schema = row is not None
        # without USAGE even to_regclass() on the schema's tables fails: look no further
        has_usage = bool(row and row[0])
        can_create = bool(row and row[0] and row[1])
        is_django, apps = _django_apps(conn, schema) if has_usage else (False, ())

        unreadable: list[str] = []
        missing: list[str] = []
        for name in tables or []:
            if not has_usage:
                (unreadable if has_schema else missing).append(name)
                continue
            row = conn.execute(
                "SELECT c.oid IS NOT NULL, has_table_privilege(c.oid, 'SELECT')"
                " FROM (SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) AS oid) c",
                [schema, name],
            ).fetchone()
            if not row or not row[0]:
                missing.append(name)
            elif not row[1]:
                unreadable.append(name)

        read_only = False
        if role == "target":
            row = conn.execute(
                "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'"
            ).fetchone()
            read_only = bool(row and row[0])

    if not has_schema:
        problems.append(
            f'The schema "{schema}" does not exist in database "{dbname}". Choose another '
            "schema, or ask the database owner to create it."
        )
    elif not has_usage:
        problems.append(
            f'{who} may not use schema "{schema}". Ask the database owner to grant it '
            "(GRANT USAGE ON SCHEMA)."
        )
    if missing:
        problems.append(
            f'{_count(missing, "table")} not found in schema "{schema}": {_names(missing)}.'
            " Refresh the table list."
        )
    if unreadable:
        problems.append(
            f"{who} may not read {_count(unreadable, 'table')}: {_names(unreadable)}. Ask the "
            "database owner to grant SELECT on them."
        )
    if role == "target":
        if has_usage and not can_create:
            problems.append(
                f'{who} may not create tables in schema "{schema}". Ask the database owner to '
                "grant it (GRANT CREATE ON SCHEMA), or connect as another user."
            )
        if read_only:
            problems.append(
                "This server is read-only (a replica or a read-only setting). Connect to the "
                "primary server to load data."
            )
        if settings_like.uses_pgbouncer:
            problems.append(
                "Connected through the connection pooler on port 6432: bulk loads are slower "
                "there. Port 5432 is the better choice for a migration."
            )

    return PreflightReport(
        role=role,
        server_version=version,
        platform=settings_like.platform_name,
        user=user,
        dbname=dbname,
        schema=schema,
        is_superuser=is_superuser,
        citus_version=citus_version,
        worker_count=workers,
        is_django=is_django,
        django_apps=apps,
        unreadable_tables=tuple(unreadable),
        missing_tables=tuple(missing),
        can_create=can_create,
        problems=tuple(problems),
    )


def _version_text(num: int) -> str:
    if num >= 100000:
        return f"PostgreSQL {num // 10000}.{num % 10000}"
    return f"PostgreSQL {num // 10000}.{num // 100 % 100}.{num % 100}"


def _optional(conn: psycopg.Connection, query: str | sql.Composable) -> list[tuple] | None:
    """Run a probe that may fail (missing catalog, no permission) without spoiling the rest."""
    try:
        with conn.transaction():  # a savepoint: a failure rolls back only this probe
            return conn.execute(query).fetchall()
    except psycopg.Error as exc:
        log.debug("pre-flight probe failed: %s", exc)
        return None


def _django_apps(conn: psycopg.Connection, schema: str) -> tuple[bool, tuple[str, ...]]:
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
    found = _optional(conn, query) or []
    labels = sorted(str(r[0]) for r in found)
    # the project's own apps first: they hold the tables a person came to move
    own = [a for a in labels if a not in _DJANGO_CONTRIB_APPS]
    contrib = [a for a in labels if a in _DJANGO_CONTRIB_APPS]
    return True, tuple(own + contrib)


def _count(items: list[str], noun: str) -> str:
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''}"


def _names(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
