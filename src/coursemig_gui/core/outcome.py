"""How a run or a command ended, once for every front: the CLI's exit code, the wizard's banner
and the JSON report's ``exit_code`` are all this value."""

from __future__ import annotations

from enum import IntEnum


class Outcome(IntEnum):
    DONE = 0  # every table loaded (and verified where it could be)
    FAILED = 1  # a table failed, was rolled back or was not started, or a check found a difference
    USAGE = 2  # the command could not start: a bad argument, file or connection
    DONE_WITH_REJECTS = 3  # finished, but some rows went to the reject files
