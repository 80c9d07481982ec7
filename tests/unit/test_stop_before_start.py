"""A Stop that comes while the run is still connecting (a server that does not answer) is said
as a stop, exit 1, not as the connection's failure with exit 2."""

from __future__ import annotations

import socket

from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.connection_strings import parse_connection_string
from coursemig_gui.core.engine.run import run_migration
from coursemig_gui.core.events import CancelToken
from coursemig_gui.core.mapping import TableMapping
from coursemig_gui.core.options import MigrationOptions
from coursemig_gui.core.outcome import Outcome


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once closed


def test_a_stop_while_connecting_is_said_as_a_stop():
    port = _closed_port()
    end = Endpoint(parse_connection_string(f"postgresql://u@127.0.0.1:{port}/db").settings)
    cancel = CancelToken()
    cancel.cancel()  # as the signal handler does while the connection is being opened
    report = run_migration(end, end, [TableMapping("t", "t")], MigrationOptions(), cancel=cancel)
    assert report.cancelled
    assert report.message.startswith("Stopped before any table was started; nothing was written.")
    assert report.exit_code == Outcome.FAILED
