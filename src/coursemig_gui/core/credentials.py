"""Passwords in the operating system's password store, through ``keyring``, and nowhere else.

When there is no secure store (a headless Linux box, a locked keyring) the store says so in a
sentence and the caller asks for the password each time: nothing is ever written to a
plain-text file, and no keyring failure ever reaches the person as a traceback.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.errors import FriendlyError

if TYPE_CHECKING:  # keyring is imported where it is used: the CLI often needs no password at all
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SERVICE = "CourseMig"

# module of a keyring backend -> the name a person knows it by
_STORE_NAMES = {
    "keyring.backends.Windows": "Windows Credential Manager",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.SecretService": "Secret Service",
    "keyring.backends.libsecret": "Secret Service",
    "keyring.backends.kwallet": "KWallet",
}
# Backends that are no secure store: they fail, forget, or write files we must not rely on.
_INSECURE_MODULES = (
    "keyring.backends.fail",
    "keyring.backends.null",
    "keyrings.alt",
    "keyrings.cryptfile",
)

NO_SECURE_STORE = (
    "No secure password store on this computer: you will be asked for the password each time."
)


def credential_key(settings: ConnectionSettings) -> str:
    """The keyring user name for one connection: ``user@host:port/dbname``."""
    return f"{settings.user}@{settings.host}:{settings.port}/{settings.dbname}"


class CredentialStore:
    """Save, load and forget passwords per connection in the OS keyring, failing softly.

    Every keyring error becomes a logged fallback: ``load`` returns None, ``save`` and
    ``forget`` return False, and ``last_error`` holds the explanation for the UI.
    """

    def __init__(self, backend: KeyringBackend | None = None, service: str = SERVICE) -> None:
        # None follows keyring's current choice, so a backend set later (tests, config) counts
        self._backend = backend
        self.service = service
        self.last_error: FriendlyError | None = None

    @property
    def backend(self) -> KeyringBackend:
        if self._backend is not None:
            return self._backend
        return _keyring().get_keyring()

    @property
    def store_name(self) -> str:
        """What a person calls the store in use ("Windows Credential Manager", …)."""
        return _store_name(self.backend)

    @property
    def is_secure(self) -> bool:
        """True when passwords go to a real OS store, not a failing, null or file backend."""
        return _is_secure(self.backend)

    def explanation(self) -> str:
        """A sentence for the line under "Remember password"."""
        if self.last_error is not None:
            return self.last_error.message
        if not self.is_secure:
            return NO_SECURE_STORE
        return f"Saved in {self.store_name}"

    def save(self, settings: ConnectionSettings, password: str) -> bool:
        """Remember a password; False (with ``last_error`` set) when it could not be stored."""
        if not self.is_secure:
            self.last_error = FriendlyError(NO_SECURE_STORE, f"keyring backend: {self.backend!r}")
            return False
        try:
            self.backend.set_password(self.service, credential_key(settings), password)
        except Exception as exc:  # any backend can fail in its own way (D-Bus, locked, denied)
            self.last_error = self._explain(exc, "saved")
            log.warning("Could not save the password in %s: %s", self.store_name, exc)
            return False
        self.last_error = None
        return True

    def load(self, settings: ConnectionSettings) -> str | None:
        """The saved password, or None when there is none or the store cannot be read."""
        if not self.is_secure:
            return None
        try:
            password = self.backend.get_password(self.service, credential_key(settings))
        except Exception as exc:
            self.last_error = self._explain(exc, "read")
            log.warning("Could not read the password from %s: %s", self.store_name, exc)
            return None
        return password

    def forget(self, settings: ConnectionSettings) -> bool:
        """Remove a saved password; True also when there was none to remove."""
        if not self.is_secure:
            return True  # nothing can have been saved there
        from keyring.errors import PasswordDeleteError

        try:
            self.backend.delete_password(self.service, credential_key(settings))
        except PasswordDeleteError:
            return True
        except Exception as exc:
            self.last_error = self._explain(exc, "removed")
            log.warning("Could not remove the password from %s: %s", self.store_name, exc)
            return False
        return True

    def _explain(self, exc: Exception, done: str) -> FriendlyError:
        from keyring.errors import KeyringLocked

        name = self.store_name
        detail = f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
        removing = done == "removed"
        if isinstance(exc, KeyringLocked) or "locked" in str(exc).lower():
            if removing:
                return FriendlyError(
                    f"The password store ({name}) is locked, so a password saved there for "
                    "this connection was not removed. Unlock it (for example by logging in to "
                    "the desktop again) and leave the Connect page again with Remember "
                    "password unticked to remove it.",
                    detail,
                )
            return FriendlyError(
                f"The password store ({name}) is locked, so the password was not {done}. "
                "Unlock it (for example by logging in to the desktop again), or type the "
                "password each time.",
                detail,
            )
        if removing:
            return FriendlyError(
                f"The password store ({name}) did not work, so a password saved there for "
                "this connection was not removed.",
                detail,
            )
        return FriendlyError(
            f"The password store ({name}) did not work, so the password was not {done}. "
            "You will be asked for the password each time.",
            detail,
        )

    def keep_or_forget(self, settings: ConnectionSettings, password: str, remember: bool) -> str:
        """Save the password (``remember``) or remove a saved one; returns the line for under
        "Remember password" saying what is now true, or raises FriendlyError saying which of
        the two failed."""
        if remember and password:
            if not self.save(settings, password):
                error = self.last_error or FriendlyError(NO_SECURE_STORE, "")
                raise FriendlyError(
                    f"The password could not be remembered: {error.message}", error.detail
                )
            return f"Saved in {self.store_name}"
        if not self.forget(settings):
            error = self.last_error or FriendlyError(NO_SECURE_STORE, "")
            raise FriendlyError(
                f"The saved password could not be forgotten: {error.message}", error.detail
            )
        if not self.is_secure:
            return NO_SECURE_STORE
        return f"Not kept: {self.store_name} holds no password for this connection"


def _keyring():
    """``keyring``, imported only when a password store is needed. Off macOS, its macOS backend
    (which refuses any other system anyway) is kept from loading its Apple API: looking for
    Apple's libraries runs ldconfig, gcc and ld three times on Linux, a tenth of a second."""
    if sys.platform != "darwin":
        sys.modules.setdefault("keyring.backends.macOS.api", None)  # its import then fails fast
    import keyring

    return keyring


def _backends(backend: KeyringBackend) -> list[KeyringBackend]:
    """The real backends behind keyring's chainer (which tries several in turn)."""
    inner = getattr(backend, "backends", None)
    if type(backend).__module__ == "keyring.backends.chainer" and inner is not None:
        return list(inner)
    return [backend]


def _is_secure(backend: KeyringBackend) -> bool:
    found = _backends(backend)
    return any(not type(b).__module__.startswith(_INSECURE_MODULES) for b in found)


def _store_name(backend: KeyringBackend) -> str:
    for inner in _backends(backend):
        module = type(inner).__module__
        for prefix, name in _STORE_NAMES.items():
            if module.startswith(prefix):
                return name
    if not _is_secure(backend):
        return "no secure password store"
    secure = [b for b in _backends(backend) if _is_secure(b)]
    return str(getattr(secure[0] if secure else backend, "name", type(backend).__name__))


# -- finding a password -----------------------------------------------------------------------


def resolve_password(
    settings: ConnectionSettings,
    store: CredentialStore | None,
    ask: Callable[[str], str | None] | None,
) -> str | None:
    """The password to connect with: keyring, else PGPASSWORD/.pgpass, else ask.

    Returns None when libpq should find it itself (``PGPASSWORD`` or a matching ``.pgpass``
    line; reading those ourselves would only copy libpq's rules) or when nobody answered.
    """
    if store is not None:
        saved = store.load(settings)
        if saved:
            return saved
    if os.environ.get("PGPASSWORD") or pgpass_has_entry(settings):
        return None
    if ask is None:
        return None
    return ask(f'Enter the password for user "{settings.user}" on {settings.display_name()}.')


def pgpass_file() -> Path:
    """Where libpq looks for the password file (PGPASSFILE, else the per-OS default)."""
    if os.environ.get("PGPASSFILE"):
        return Path(os.environ["PGPASSFILE"])
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", "")) / "postgresql" / "pgpass.conf"
    return Path.home() / ".pgpass"


def pgpass_has_entry(settings: ConnectionSettings) -> bool:
    """True when the password file has a line libpq would use for these settings."""
    path = pgpass_file()
    try:
        if sys.platform != "win32" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            return False  # libpq ignores a password file others can read
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False
    host = settings.host or "localhost"
    wanted = [host, str(settings.port), settings.dbname or settings.user, settings.user]
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = _pgpass_fields(line)
        if len(fields) < 5:
            continue
        if all(f == "*" or f == w for f, w in zip(fields[:4], wanted, strict=True)):
            return True
    return False


def _pgpass_fields(line: str) -> list[str]:
    fields, current, i = [], [], 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            current.append(line[i + 1])
            i += 2
            continue
        if ch == ":" and len(fields) < 4:
            fields.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    fields.append("".join(current))
    return fields
