"""The one error type a person sees: a plain sentence, with the technical detail kept beside it."""

from __future__ import annotations


class FriendlyError(Exception):
    """An error whose message a non-technical person can act on.

    ``message`` is a plain sentence that names the next step; ``detail`` holds what a technician
    needs (the server's own message, SQLSTATE, the statement) and is shown behind "Details…".
    ``str()`` gives the message only, so a CLI or a log line never prints a traceback by accident.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"FriendlyError({self.message!r}, detail={self.detail!r})"

    def full_text(self) -> str:
        """Message and detail together, for "Copy" buttons and log files."""
        if not self.detail:
            return self.message
        return f"{self.message}\n\nDetails:\n{self.detail}"
