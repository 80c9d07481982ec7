"""Passwords out of the text people copy: a pasted connection string that could not be read is
explained from a copy whose password is replaced by ``****`` (the banner's Copy button sends
that text to other people).

The text did not parse, so where a password ends is a guess, and we guess generously: an
unquoted value runs to the next ``key=`` (a space inside it is a common reason for the failure),
a quoted one to its closing quote or the end of the line, and a URL's secret to its last ``@``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from coursemig_gui.core.errors import FriendlyError

MASK = "****"

_KEY = r"(?:pg)?(?:password|passwd|pwd)"
# password=..., PGPASSWORD=..., "Password" = '...' (ADO.NET, key=value, JDBC, environment)
_KEYED = re.compile(
    rf"""(?imx) (?P<key>\b{_KEY} ["']? \s* [=:] \s*)
    (?P<value> "(?:[^"\n]|"")*(?:"|$)
      | '(?:[^'\\\n]|\\.|'')*(?:'|$)
      | (?:[^;&\s]+ (?:\s+ (?![\w.-]+\s*=) [^;&\s]+)*) )""",
)
# scheme://user:secret@host — a pasted URL's secret ends at the last "@" before the host
_URL_SECRET = re.compile(r"(?i)(?P<key>[a-z][a-z0-9+.-]*://[^:/?#\s@]*:)\S*@")
# psql -W style: a password flag followed by its value
_FLAG = re.compile(r"(?i)(?P<key>--password[= ])\S+")


def mask_secrets(text: str) -> str:
    """``text`` with everything that may be a password replaced by ``****``."""
    if not text:
        return text
    text = _URL_SECRET.sub(lambda m: m.group("key") + MASK + "@", text)
    text = _KEYED.sub(_mask_value, text)
    return _FLAG.sub(lambda m: m.group("key") + MASK, text)


def _mask_value(m: re.Match[str]) -> str:
    value = m.group("value")
    if value[:1] in "'\"":
        # keep the quotes, so a quote that never closes is still explained as one
        closed = len(value) > 1 and value.endswith(value[0])
        return m.group("key") + value[0] + MASK + (value[0] if closed else "")
    return m.group("key") + MASK


def masked_failure(text: str, parse: Callable[[str], object]) -> FriendlyError:
    """The error for a pasted ``text`` that did not parse, made by parsing a copy with the
    password masked. Masking may itself mend the text (a password with a space in it)."""
    masked = mask_secrets(text)
    try:
        parse(masked)
    except FriendlyError as exc:
        return FriendlyError(exc.message, exc.detail)
    return FriendlyError(
        "Could not read the password in the connection string. If it contains spaces, put it "
        "in single quotes, or type it in the Password field instead.",
        f"Could not read: {masked[:200]}",
    )
