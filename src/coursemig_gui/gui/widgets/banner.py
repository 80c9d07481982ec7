"""The coloured message strip at the top of a page: a sentence, the next step, Details… and Copy."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)


class Level(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


# The only hard-coded colours in the app: a tinted background with a strong border, and the text
# colour set explicitly with it, so the banner reads the same in light and dark themes.
_PALETTE = {
    Level.INFO: ("#e7f1fb", "#2f6db5", "#0c2a4a"),
    Level.SUCCESS: ("#e8f5e9", "#2e7d32", "#12361a"),
    Level.WARNING: ("#fff6db", "#b58105", "#4a3500"),
    Level.ERROR: ("#fde8e8", "#c62828", "#5c0b0b"),
}
_ICONS = {
    Level.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
    Level.SUCCESS: QStyle.StandardPixmap.SP_DialogApplyButton,
    Level.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Level.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
}


class MessageBanner(QFrame):
    """An inline message; hidden until ``show_message`` is called. Never a modal dialog."""

    action_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBanner")
        self.level = Level.INFO
        self._icon = QLabel()
        self._icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text_label = QLabel()
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.action_button.hide()
        self.action_button.clicked.connect(self.action_clicked)
        self.details_button = QPushButton("Details…")
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self._toggle_details)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the message and its details, to send to someone")
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.close_button = QPushButton("✕")
        self.close_button.setFlat(True)
        self.close_button.setObjectName("bannerClose")
        self.close_button.setAccessibleName("Close message")
        self.close_button.setToolTip("Close this message")
        self.close_button.setFixedWidth(self.close_button.fontMetrics().horizontalAdvance("✕") + 16)
        self.close_button.clicked.connect(self.clear)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(140)
        self.details.hide()

        top = QHBoxLayout()
        top.addWidget(self._icon)
        top.addWidget(self.text_label, 1)
        for button in (self.action_button, self.details_button, self.copy_button):
            top.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.details)
        self.hide()

    @property
    def text(self) -> str:
        return self.text_label.text()

    @property
    def detail_text(self) -> str:
        return self.details.toPlainText()

    def show_message(
        self,
        level: Level | str,
        text: str,
        detail: str = "",
        action: str | None = None,
    ) -> None:
        """Show ``text``; ``detail`` (server message, SQL, trace) waits behind Details…"""
        self.level = Level(level)
        background, border, foreground = _PALETTE[self.level]
        self.setStyleSheet(
            f"QFrame#messageBanner {{ background: {background}; border: 1px solid {border};"
            f" border-radius: 4px; }} QFrame#messageBanner > QLabel {{ color: {foreground}; }}"
            # the flat close button has no background of its own: give it the banner's text
            # colour, or a dark theme's light button text vanishes on the light tint
            f" QPushButton#bannerClose {{ color: {foreground}; border: none; background: transparent; }}"
        )
        size = self.fontMetrics().height() + 4
        self._icon.setPixmap(self.style().standardIcon(_ICONS[self.level]).pixmap(size, size))
        self.text_label.setText(text)
        self.details.setPlainText(detail)
        self.details_button.setVisible(bool(detail))
        self.details_button.setChecked(False)
        self.copy_button.setVisible(self.level in (Level.WARNING, Level.ERROR) or bool(detail))
        self.action_button.setVisible(bool(action))
        if action:
            self.action_button.setText(action)
        self.show()

    def show_error(self, error: object, action: str | None = None) -> None:
        """A core ``FriendlyError`` (``.message`` and ``.detail``)."""
        message = getattr(error, "message", None) or str(error)
        self.show_message(Level.ERROR, message, getattr(error, "detail", "") or "", action)

    def clear(self) -> None:
        self.hide()
        self.text_label.clear()
        self.details.clear()

    def copy_to_clipboard(self) -> None:
        text = self.text
        if self.detail_text:
            text += "\n\n" + self.detail_text
        QGuiApplication.clipboard().setText(text)

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setText("Hide details" if shown else "Details…")
