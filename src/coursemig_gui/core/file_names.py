"""The one way CourseMig turns a name (a table, a migration) into a file name."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_UNSAFE_IN_FILE_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
# Windows refuses these as file names, with any extension
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)


def safe_file_stem(name: str) -> str:
    """A file name stem for ``name`` that stays inside its folder and works on Windows.

    A name may be ``../x``, ``/``, ``a:b`` or ``CON``. Unsafe characters become ``_`` and, when
    anything had to change, a short hash of the real name is appended, so two distinct names
    (``a/b`` and ``a_b``) never share a file. Windows and macOS fold case (macOS also Unicode
    forms), so a name that folding would change (``Course``) gets the hash too: it cannot take
    ``course``'s file there. Names that are already safe and folded are kept as they are, so
    importing ``courses_course.csv`` finds the same file again.
    """
    safe = _UNSAFE_IN_FILE_NAMES.sub("_", name).rstrip(". ")
    if safe.startswith("."):
        safe = "_" + safe[1:]  # no hidden files
    device = safe.split(".")[0]
    if not safe or device.lower() in _WINDOWS_DEVICES:
        # "nul.txt" is the device too: the part before the first dot must change
        safe = device + "_" + safe[len(device) :]
    if safe != name or safe != _folded(safe):
        safe += "-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return safe


def _folded(name: str) -> str:
    """The name as a case-insensitive file system compares it (case, Unicode form)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())
