"""The Security box: plain choices, a safe default per host that says why, older settings shown
as they are, and nothing the user chose lost on the way through the form."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from coursemig_gui.core import tls
from coursemig_gui.core.connection_settings import ConnectionSettings
from coursemig_gui.core.connection_strings import parse_connection_string
from coursemig_gui.gui.signals import emit
from coursemig_gui.gui.widgets.connection_card import ConnectionCard


@pytest.fixture
def card(qtbot, monkeypatch):
    for name in ("PGSSLMODE", "PGSSLROOTCERT", "PGCHANNELBINDING"):
        monkeypatch.delenv(name, raising=False)
    widget = ConnectionCard("Target", "target")
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _labels(card) -> list[str]:
    return [card.security.itemText(i) for i in range(card.security.count())]


def _type_host(card, host: str) -> None:
    card.host.setText(host)
    emit(card.host.textEdited, host)


def test_new_connections_are_offered_four_plain_choices_verify_first(card):
    assert _labels(card) == [c.label for c in tls.CHOICES]
    assert card.security.currentText() == "Verify the server (recommended)"
    assert card.settings().sslmode == "verify-full"


def test_a_local_host_defaults_to_no_encryption_and_the_card_says_why(card):
    _type_host(card, "localhost")
    assert card.security.currentText() == "No encryption (local databases only)"
    assert card.security_note.text().startswith("Not encrypted: this database is on this computer")
    _type_host(card, "db.example.com")
    assert card.security.currentText() == "Verify the server (recommended)"
    assert "public root certificates" in card.security_note.text()
    # once the person chooses, typing a host no longer moves it
    card.security.setCurrentIndex(card.security.findData("encrypt"))
    emit(card.security.activated, card.security.currentIndex())
    _type_host(card, "localhost")
    assert card.security.currentText() == "Encrypt only (does not check the server)"
    assert "not checked" in card.security_note.text()


def test_the_certificate_file_shows_only_for_verify_with_a_file(card, tmp_path):
    assert not card.certificate_box.isVisible()
    card.security.setCurrentIndex(card.security.findData("verify-file"))
    assert card.certificate_box.isVisible()
    card.certificate.setText(str(tmp_path / "ca.pem"))
    settings = card.settings()
    assert (settings.sslmode, settings.sslrootcert) == ("verify-full", str(tmp_path / "ca.pem"))


@pytest.mark.parametrize("mode", ["allow", "prefer", "verify-ca"])
def test_an_older_profile_opens_and_shows_what_it_is(card, mode):
    card.set_settings(ConnectionSettings.from_dict({"host": "db.example.com", "sslmode": mode}))
    assert card.security.currentText() == tls.OLDER[mode].label
    assert "older setting" in card.security.currentText()
    assert card.settings().sslmode == mode  # shown, not silently changed
    assert len(_labels(card)) == len(tls.CHOICES) + 1


def test_channel_binding_and_the_rest_survive_the_form(card):
    text = (
        "host=db.example.com dbname=d user=u sslmode=verify-full channel_binding=require "
        "require_auth=scram-sha-256 sslcert=/c.crt sslkey=/c.key sslcrl=/r.crl"
    )
    assert card.apply_connection_string(text)
    card.dbname.setText("other")  # an edit elsewhere keeps them too
    emit(card.dbname.textEdited, "other")
    settings = card.settings()
    assert settings.channel_binding == "require"
    assert (settings.require_auth, settings.sslcert, settings.sslkey, settings.sslcrl) == (
        "scram-sha-256",
        "/c.crt",
        "/c.key",
        "/r.crl",
    )
    card.set_settings(settings)
    assert card.settings() == settings


def test_pgsslmode_survives_the_form(card, monkeypatch):
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    _type_host(card, "localhost")  # would be "No encryption" without the administrator's choice
    assert card.settings().sslmode == "verify-full"
    parsed = parse_connection_string("host=localhost dbname=d user=u")
    card.set_settings(parsed.settings)
    assert card.security.currentText() == "Verify the server (recommended)"
    assert card.settings() == parsed.settings


def test_a_failing_paste_is_shown_with_the_password_masked(card, qtbot):
    assert not card.apply_connection_string("host=db.example.com password=Sup3rS3cret! x")
    assert card.notes.isVisible()
    card.notes.copy_button.click()
    from PySide6.QtGui import QGuiApplication

    copied = QGuiApplication.clipboard().text()
    assert "Sup3rS3cret" not in copied and "Sup3rS3cret" not in card.notes.text
    assert "****" in copied
    qtbot.mouseClick(card.notes.close_button, Qt.MouseButton.LeftButton)
