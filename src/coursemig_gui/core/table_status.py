"""What each status a table can end a run in means for its rows, in one sentence.

The wizard's summary, the CLI and docs/when-things-go-wrong.md all show these words; a test
checks that the three agree. A status only says what happened to the rows: how they were
checked is the report's verification, said next to it.
"""

from __future__ import annotations

from coursemig_gui.core.events import Phase

# status -> (short label for a table cell, the sentence)
_TEXT: dict[Phase, tuple[str, str]] = {
    Phase.DONE: ("Copied", "Every row was copied and committed."),
    Phase.DONE_WITH_REJECTS: (
        "Copied, some rows skipped",
        "Copied and committed, except the rows listed in its skipped-rows file with their reasons.",
    ),
    Phase.COPIED_NOT_VERIFIED: (
        "Copied, not verified",
        "Copied and committed, but the check afterwards did not finish: the rows are in the "
        "target. Do not copy it again with 'Add rows'; compare its row count with the source's "
        "(or run it again with 'Replace all rows') to check it.",
    ),
    Phase.COMMIT_UNKNOWN: (
        "Unknown: check the table",
        "The connection broke while the copy was being committed, and the target could not say "
        "whether it went through: look at the table before running it again.",
    ),
    Phase.FAILED: ("Failed", "Not copied: the table is as it was before."),
    Phase.ROLLED_BACK: (
        "Stopped, rolled back",
        "Stopped while copying: the table was rolled back and is as it was before.",
    ),
    Phase.SKIPPED: (
        "Skipped (already there)",
        "It was already in the target and was skipped, as chosen.",
    ),
    Phase.NOT_STARTED: (
        "Not started",
        "Not started because the migration stopped first: the table is as it was before.",
    ),
}


def status_label(status: Phase) -> str:
    return _TEXT[status][0] if status in _TEXT else str(status)


def status_sentence(status: Phase) -> str:
    return _TEXT[status][1] if status in _TEXT else ""
