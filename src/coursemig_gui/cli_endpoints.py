"""Where the CLI's connections come from: the endpoint in a pasted string, its password (given,
the keyring, or libpq's own PGPASSWORD / ~/.pgpass), the first source session, and the hints
after a failure that needed a password."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from coursemig_gui import cli_passwords as passwords
from coursemig_gui.core.errors import FriendlyError

if TYPE_CHECKING:
    import psycopg

    from coursemig_gui.core.catalog import Catalog
    from coursemig_gui.core.connection import Endpoint
    from coursemig_gui.core.connection_settings import ConnectionSettings
    from coursemig_gui.core.password_lookup import PasswordLookup

# Per role: where the CLI looked for a password, for the hint after a failure that needs one.
_lookups: dict[str, PasswordLookup] = {}
# Per role: the settings whose keyring look-up waits until the server asks for a password.
_deferred: dict[str, ConnectionSettings] = {}


def forget_lookups() -> None:
    _lookups.clear()
    _deferred.clear()


def endpoint(text: str, role: str, defer: bool = False) -> Endpoint:
    """Settings and password from a pasted string; a password missing from it comes from the
    keyring, then libpq's own PGPASSWORD / ~/.pgpass.

    ``defer``: when nothing but the keyring could give one, read it only if the server asks
    for a password (``open_session``): loading the keyring takes a third of a second or more,
    which a server that asks for none should not cost."""
    from coursemig_gui.core.connection import Endpoint
    from coursemig_gui.core.connection_strings import parse_connection_string
    from coursemig_gui.core.credentials import pgpass_has_entry

    parsed = parse_connection_string(text)
    passwords.warn_if_in_url(parsed.password, role)
    password = passwords.given(role) or parsed.password
    if not password and defer and not os.environ.get("PGPASSWORD"):
        if not pgpass_has_entry(parsed.settings):  # else the keyring's must still come first
            _deferred[role] = parsed.settings
            return Endpoint(parsed.settings, None)
    return settings_endpoint(parsed.settings, role, password)


def settings_endpoint(settings: ConnectionSettings, role: str, password: str | None = None):
    """The endpoint for saved settings: the password given (standard input, the string), else
    the keyring's or libpq's; either way remembered for the hints after a failure."""
    from coursemig_gui.core.connection import Endpoint
    from coursemig_gui.core.password_lookup import given_password

    password = password or passwords.given(role)
    if password:
        _lookups[role] = given_password(settings, password)
        return Endpoint(settings, password)
    return Endpoint(settings, stored_password(settings, role))


def open_session(where: Endpoint, role: str) -> tuple[Endpoint, psycopg.Connection]:
    """(endpoint, engine session); a deferred keyring look-up happens here, when the server
    says it needs a password, and the endpoint returned carries the password found."""
    from coursemig_gui.core.connection import Endpoint
    from coursemig_gui.core.engine.session import open_session as engine_session

    try:
        return where, engine_session(where)
    except FriendlyError as exc:
        if role not in _deferred or "no password supplied" not in str(exc.__cause__):
            raise
        password = stored_password(_deferred.pop(role), role)
        if not password:
            raise
    where = Endpoint(where.settings, password)
    return where, engine_session(where)


def source_catalog(source: Endpoint, schema: str) -> tuple[Endpoint, psycopg.Connection, Catalog]:
    """(source endpoint, its session, the catalog read on it): the run takes the session over
    rather than connecting and reading the catalog again."""
    from coursemig_gui.core.catalog import read_catalog

    source, session = open_session(source, "source")
    try:
        return source, session, read_catalog(session, schema)
    except BaseException:
        session.close()
        raise


def say_password_hints(message: str, detail: str = "") -> None:
    from coursemig_gui.core.password_lookup import password_hints

    for role, settings in list(_deferred.items()):  # the put-off look-ups, for their hints
        stored_password(settings, role)
    _deferred.clear()
    for hint in password_hints(message, detail, list(_lookups.values())):
        print(f"coursemig: {hint}", file=sys.stderr)


def stored_password(settings: ConnectionSettings, role: str = "") -> str | None:
    from coursemig_gui.core.password_lookup import look_up_password

    _lookups[role] = look_up_password(settings)
    return _lookups[role].password
