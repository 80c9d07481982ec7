"""``emit()``: emit a Qt signal from Python without losing a reference to ``True``.

PySide6 6.12.0's ``SignalInstance.emit()`` returns ``True`` without owning a reference to it, so
every emit from Python lowers ``True``'s reference count by one. A long session (or a test
suite) eventually aborts with "Fatal Python error: bool_dealloc: deallocating True or False",
often at exit. Every emit in the GUI goes through this function, which gives the reference back
when (and only when) the running PySide6 has the bug; a fixed PySide6 is left alone.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    ping = Signal()


def _emit_loses_true() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(lost, 0)):  # give back what the probe itself took
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost == 8


EMIT_LOSES_TRUE = _emit_loses_true()


def emit(signal, *args) -> None:
    """``signal.emit(*args)``, minus the reference leak described above."""
    signal.emit(*args)
    if EMIT_LOSES_TRUE:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
