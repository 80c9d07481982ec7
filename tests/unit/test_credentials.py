"""The password store: round trips, no secure store, locked keyrings, and where passwords come from."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringError, KeyringLocked

from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.credentials import (
    NO_SECURE_STORE,
    CredentialStore,
    credential_key,
    pgpass_has_entry,
    resolve_password,
)

SETTINGS = ConnectionSettings(
    host="c-demo.abc.postgres.cosmos.azure.com", dbname="citus", user="citus", sslmode="require"
)
OTHER = ConnectionSettings(host="localhost", port=5433, dbname="courses", user="django")
AWKWARD = "p@ss;w=rd%20 \"q\" 'x'"


@pytest.fixture
def installed_backend():
    """Install a keyring backend for one test and put the old one back after."""
    old = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(old)


# The test backends below get a negative priority so keyring never picks or chains one of them
# by itself: every KeyringBackend subclass is a candidate once defined.


class LockedKeyring(KeyringBackend):
    """Like a Secret Service collection the user has not unlocked."""

    priority = -1  # type: ignore[assignment]

    def get_password(self, service, username):
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service, username, password):
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service, username):
        raise KeyringLocked("Failed to unlock the collection!")


class BrokenKeyring(KeyringBackend):
    """A backend failing the way D-Bus does when the session bus is gone."""

    priority = -1  # type: ignore[assignment]

    def get_password(self, service, username):
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    def set_password(self, service, username, password):
        raise KeyringError("Can't store password on keychain")

    def delete_password(self, service, username):
        raise OSError("bus closed")


def test_password_round_trips_and_can_be_forgotten(secret_keyring):
    from keyring.backends import SecretService

    assert isinstance(keyring.get_keyring(), SecretService.Keyring)  # the real store, not a fake
    store = CredentialStore()
    assert store.is_secure
    assert store.store_name == "Secret Service"
    assert store.load(SETTINGS) is None
    assert store.save(SETTINGS, AWKWARD) is True
    assert store.load(SETTINGS) == AWKWARD
    assert store.load(OTHER) is None  # one entry per connection
    assert secret_keyring.secrets() == {credential_key(SETTINGS): AWKWARD}
    assert store.forget(SETTINGS) is True
    assert store.load(SETTINGS) is None
    assert secret_keyring.secrets() == {}
    assert store.forget(SETTINGS) is True  # forgetting twice is fine
    assert store.last_error is None
    assert store.explanation().startswith("Saved in ")


def test_key_names_the_connection():
    assert credential_key(OTHER) == "django@localhost:5433/courses"


def test_fail_backend_means_no_secure_store(installed_backend, caplog):
    installed_backend(fail.Keyring())
    store = CredentialStore()
    assert store.is_secure is False
    assert store.explanation() == NO_SECURE_STORE
    assert "asked" in store.explanation()
    assert store.load(SETTINGS) is None
    assert store.save(SETTINGS, "pw") is False
    assert store.last_error is not None and store.last_error.message == NO_SECURE_STORE
    assert store.forget(SETTINGS) is True


@pytest.mark.parametrize(
    "backend", [null.Keyring(), chainer.ChainerBackend()], ids=["null", "empty-chainer"]
)
def test_other_non_stores_are_not_secure(backend, monkeypatch):
    # a chainer with nothing to chain, whatever other backends this process has seen
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    store = CredentialStore(backend)
    assert not store.is_secure
    assert store.save(SETTINGS, "pw") is False
    assert store.load(SETTINGS) is None


def test_standin_plaintext_style_backend_is_never_written(monkeypatch):
    written = []

    class PlaintextKeyring(KeyringBackend):
        priority = -1  # type: ignore[assignment]

        def get_password(self, service, username):
            return None

        def set_password(self, service, username, password):
            written.append(password)

        def delete_password(self, service, username):
            pass

    # keyrings.alt's file backends: the module name is what marks them
    monkeypatch.setattr(PlaintextKeyring, "__module__", "keyrings.alt.file")
    store = CredentialStore(PlaintextKeyring())
    assert not store.is_secure
    assert store.save(SETTINGS, "pw") is False
    assert written == []


def test_standin_locked_keyring_is_explained_not_raised(installed_backend, caplog):
    installed_backend(LockedKeyring())
    store = CredentialStore()
    with caplog.at_level(logging.WARNING):
        assert store.save(SETTINGS, "pw") is False
    assert store.last_error is not None
    assert "locked" in store.last_error.message
    assert "Unlock it" in store.last_error.message
    assert "Failed to unlock" in store.last_error.detail
    assert "locked" in store.explanation()
    assert store.load(SETTINGS) is None
    assert store.forget(SETTINGS) is False
    assert any("Could not save" in r.message for r in caplog.records)


def test_standin_broken_backend_error_becomes_a_fallback():
    store = CredentialStore(BrokenKeyring())
    assert store.load(SETTINGS) is None
    assert "did not work" in store.last_error.message  # type: ignore[union-attr]
    assert store.save(SETTINGS, "pw") is False
    assert "Can't store password" in store.last_error.detail  # type: ignore[union-attr]
    assert store.forget(SETTINGS) is False
    assert "Traceback" not in store.explanation()


def test_store_names_people_know():
    from keyring.backends import SecretService, kwallet

    assert CredentialStore(SecretService.Keyring()).store_name == "Secret Service"
    assert CredentialStore(kwallet.DBusKeyring()).store_name == "KWallet"
    assert CredentialStore(fail.Keyring()).store_name == "no secure password store"


# -- where the password comes from ------------------------------------------------------------


def test_resolve_prefers_the_keyring(secret_keyring, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "from-env")
    store = CredentialStore()
    store.save(SETTINGS, "from-keyring")
    assert resolve_password(SETTINGS, store, ask=lambda prompt: "asked") == "from-keyring"


def test_resolve_leaves_pgpassword_to_libpq(secret_keyring, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "from-env")
    asked = []
    assert resolve_password(SETTINGS, CredentialStore(), ask=asked.append) is None
    assert asked == []


def test_resolve_leaves_pgpass_to_libpq(installed_backend, monkeypatch, tmp_path):
    installed_backend(fail.Keyring())
    monkeypatch.delenv("PGPASSWORD", raising=False)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text("# comment\nother:5432:*:*:x\nlocalhost:5433:courses:django:pw\\:colon\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert pgpass_has_entry(OTHER)
    assert resolve_password(OTHER, CredentialStore(), ask=lambda p: "asked") is None
    assert not pgpass_has_entry(SETTINGS)
    if os.name == "posix":
        pgpass.chmod(0o644)  # libpq ignores a world-readable file, so must we
        assert not pgpass_has_entry(OTHER)


def test_resolve_asks_last(installed_backend, monkeypatch, tmp_path):
    installed_backend(fail.Keyring())
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return "typed"

    assert resolve_password(SETTINGS, CredentialStore(), ask) == "typed"
    assert prompts == [f'Enter the password for user "citus" on {SETTINGS.display_name()}.']
    assert resolve_password(SETTINGS, CredentialStore(), None) is None


def test_nothing_is_written_to_disk_without_a_store(installed_backend, tmp_path, monkeypatch):
    installed_backend(fail.Keyring())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    CredentialStore().save(SETTINGS, "TopSecret123")
    for path in Path(tmp_path).rglob("*"):
        if path.is_file():
            assert b"TopSecret123" not in path.read_bytes()


def test_password_in_url_warning_offers_only_the_ways_this_computer_has(
    installed_backend, secret_keyring, capsys
):
    """With no secure store, the warning does not tell people to 'save it once in no secure
    password store'; with one (the real Secret Service), it names it."""
    from coursemig_gui.cli_passwords import warn_if_in_url

    installed_backend(fail.Keyring())
    warn_if_in_url("pw", "target")
    without = capsys.readouterr().err
    assert "no secure password store" not in without and "coursemig password set" not in without
    assert "PGPASSWORD" in without and "--password-from-stdin TARGET" in without
    installed_backend(secret_keyring.backend)
    warn_if_in_url("pw", "target")
    with_store = capsys.readouterr().err
    assert "save it once in" in with_store and "coursemig password set" in with_store
