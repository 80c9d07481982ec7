"""Reading whatever connection string a person pastes: libpq URIs and key=value, the Azure
portal's psql, ADO.NET and JDBC strings, and Django's DATABASE_URL."""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from coursemig_gui.core import tls
from coursemig_gui.core.connection_settings import (
    SSLMODE_ALIASES,
    ConnectionSettings,
    apply_presets,
)
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.masking import masked_failure

log = logging.getLogger(__name__)

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
    **tls.KEPT_KEY_ALIASES,  # what the user chose about TLS and authentication: kept as given
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
    try:
        return _build(*reversed(_read_pairs(text)))
    except FriendlyError:  # shown and copied to others: explained from a masked copy
        raise masked_failure(text, lambda masked: _build(*reversed(_read_pairs(masked)))) from None


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
    expanded: list[tuple[str, str]] = []
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
    # psql reads -d's value, and its first plain argument, as a whole connection string when it
    # looks like one (-d postgresql://u:pw@h/db: once kept whole as a name, password and all)
    for key, value in [*pairs, *zip(("dbname", "user"), positional[:2], strict=False)]:
        whole = key == "dbname" and ("=" in value or "://" in value)
        expanded.extend(_read_pairs(value)[1] if whole else [(key, value)])
    return expanded


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
        values["sslmode"] = tls.ssl_flag_sslmode(ssl_flag, SSLMODE_ALIASES)
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
