"""Passwords on the command line without putting them where others can read them.

A password typed into ``--source``/``--target`` shows in the process list and the shell's
history: it still works, with a warning naming the safer ways. ``--password-from-stdin`` reads
it from a pipe, and ``coursemig password set`` keeps it in the system's password store.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from coursemig_gui.core.errors import FriendlyError

ROLES = ("source", "target")

# role -> password read from standard input for this run
_from_stdin: dict[str, str] = {}


def add_password_from_stdin(p: argparse.ArgumentParser, roles: tuple[str, ...] = ROLES) -> None:
    names = "|".join(r.upper() for r in roles)
    p.add_argument(
        "--password-from-stdin",
        action="append",
        metavar=names,
        type=str.lower,
        choices=roles,
        help="read that connection's password from standard input, one line"
        + (" (give it twice for both, in that order)" if len(roles) > 1 else ""),
    )


def read_stdin_passwords(args: argparse.Namespace) -> None:
    """Read one line of standard input per ``--password-from-stdin``, in the order given."""
    _from_stdin.clear()
    for role in getattr(args, "password_from_stdin", None) or []:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise FriendlyError(
                f"--password-from-stdin {role.upper()} found no password on standard input. "
                "Pipe it in, for example from your password manager's command line tool.",
                "standard input was empty" if not line else "the line was empty",
            )
        _from_stdin[role] = password


def given(role: str) -> str | None:
    """The password read from standard input for this role, if any."""
    return _from_stdin.get(role)


def warn_if_in_url(password: str | None, role: str, needed: bool = True) -> None:
    """A password in ``--source``/``--target`` works, with a warning naming the safer ways
    (``needed=False``: the command does not use it at all)."""
    if password is None:
        return
    if not needed:
        print(
            f"coursemig: warning: the --{role} connection string holds a password, which other "
            "people on this computer can see in the process list. This command does not need "
            "it: leave it out (a saved migration never holds it).",
            file=sys.stderr,
        )
        return
    from coursemig_gui.core.credentials import CredentialStore

    store = CredentialStore()
    warn_password_in_url(role, store.store_name if store.is_secure else None)


def warn_password_in_url(role: str, store_name: str | None) -> None:
    """``role`` is "source" or "target", or "" for the ``password`` command's URL;
    ``store_name`` None when this computer has no secure password store to offer."""
    flag = f"the --{role} connection string" if role else "the connection string"
    pipe = f"--password-from-stdin {role.upper()}" if role else "standard input"
    store = f"save it once in {store_name} with 'coursemig password set', " if store_name else ""
    print(
        f"coursemig: warning: {flag} holds a password, which other "
        "people on this computer can see in the process list, and which stays in your shell's "
        f"history. Safer ways: {store}set PGPASSWORD, add a line to the "
        f"password file (~/.pgpass), or pipe it in with {pipe}.",
        file=sys.stderr,
        flush=True,
    )


def build_password_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "password", help="save or forget a connection's password in the system's password store"
    )
    p.add_argument("action", choices=["set", "forget"])
    p.add_argument("connection", metavar="URL", help="the connection string, without the password")


def cmd_password(args: argparse.Namespace) -> int:
    from coursemig_gui.core.connection_strings import parse_connection_string
    from coursemig_gui.core.credentials import CredentialStore

    parsed = parse_connection_string(args.connection)
    settings = parsed.settings
    store = CredentialStore()
    name = settings.display_name()
    if args.action == "forget":
        if not store.forget(settings):
            error = store.last_error
            raise FriendlyError(store.explanation(), error.detail if error else "")
        print(f"coursemig: Forgot the password for {name} in {store.store_name}.", file=sys.stderr)
        return 0
    if not store.is_secure:
        raise FriendlyError(store.explanation(), f"keyring backend: {store.backend!r}")
    password = parsed.password
    if password is not None:
        warn_password_in_url("", store.store_name)
    elif sys.stdin.isatty():
        password = getpass.getpass(f"Password for {name}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise FriendlyError("No password was given, so nothing was saved.", "")
    if not store.save(settings, password):
        error = store.last_error
        raise FriendlyError(store.explanation(), error.detail if error else "")
    print(
        f"coursemig: Saved the password for {name} in {store.store_name}. Leave it out of "
        "--source/--target from now on.",
        file=sys.stderr,
    )
    return 0
