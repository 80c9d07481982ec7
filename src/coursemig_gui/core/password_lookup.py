"""Finding a password without asking (the CLI): the keyring, else libpq's own ``PGPASSWORD`` and
``.pgpass``; and, when none is found, the sentence that says where to put one."""

from __future__ import annotations

import os
from dataclasses import dataclass

from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.credentials import (
    NO_SECURE_STORE,
    CredentialStore,
    pgpass_has_entry,
    resolve_password,
)


@dataclass(frozen=True)
class PasswordLookup:
    password: str | None  # None: libpq looks itself, or there is none
    hint: str = ""  # why none was found and where to put one; empty when one is there
    marks: tuple[str, ...] = ()  # texts that name this connection in a server's error


def look_up_password(settings: ConnectionSettings) -> PasswordLookup:
    """The saved password, or None with a hint when neither the keyring nor libpq has one."""
    store = None
    try:
        store = CredentialStore()
        password = resolve_password(settings, store, ask=None)
    except Exception:  # noqa: BLE001 - no keyring: libpq may still find PGPASSWORD or .pgpass
        password = None
    if password or os.environ.get("PGPASSWORD") or pgpass_has_entry(settings):
        return PasswordLookup(password, marks=_marks(settings))
    if store is not None and store.last_error is not None:
        why = store.last_error.message
    elif store is None or not store.is_secure:
        why = NO_SECURE_STORE.split(":")[0] + "."
    else:
        why = f"No password is saved in {store.store_name} for {settings.display_name()}."
    return PasswordLookup(
        None,
        f"{why} To run from the command line, set the PGPASSWORD environment variable, add a "
        f"line for {settings.user}@{settings.host} to the password file (~/.pgpass), or save the "
        "password with 'Remember password' in the CourseMig wizard.",
        _marks(settings),
    )


def given_password(settings: ConnectionSettings, password: str) -> PasswordLookup:
    """A password given for this connection (standard input, the connection string): nothing to
    hint at when it fails, but it marks the connection, so no other one's hint is said for it."""
    return PasswordLookup(password, marks=_marks(settings))


def _marks(settings: ConnectionSettings) -> tuple[str, ...]:
    return (f'user "{settings.user}"', f'"{settings.host}", port {settings.port} ')


def password_hints(message: str, detail: str, lookups: list[PasswordLookup]) -> list[str]:
    """After a failure that mentions a password: the hints of the connection it names (libpq
    names the server, the explanation names the user; the one named most wins), else, when
    it names none of them, every hint there is. A connection named whose password was given or
    found has no hint: another connection's would send the reader to the wrong place."""
    text = f"{message} {detail}"
    if "password" not in text.lower():
        return []
    named = {id(lk): sum(m in text for m in lk.marks) for lk in lookups}
    most = max(named.values(), default=0)
    if most:
        return list(dict.fromkeys(lk.hint for lk in lookups if lk.hint and named[id(lk)] == most))
    return list(dict.fromkeys(lk.hint for lk in lookups if lk.hint))
