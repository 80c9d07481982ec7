"""What each status a table can end a run in means for its rows, in one sentence.

The wizard's summary, the CLI and docs/when-things-go-wrong.md all show these words; a test
checks that the three agree. A test run has words of its own: nothing it did was kept. A status only says what happened to the rows: how they were
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
        "target. Do not copy it again with 'Add rows' (--if-exists append); compare its row "
        "count with the source's (or run it again with 'Replace all rows', --if-exists replace) "
        "to check it.",
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


# A test run: its transaction is always rolled back, so no status means rows were kept; each
# says what a real run would do.
_TEST_RUN_TEXT: dict[Phase, tuple[str, str]] = {
    Phase.DONE: (
        "Would copy",
        "Every row went in during the test run; a real run would copy it. Nothing was kept.",
    ),
    Phase.DONE_WITH_REJECTS: (
        "Would copy, some rows skipped",
        "Every row went in during the test run except those listed in its skipped-rows file "
        "with their reasons; a real run would skip them too. Nothing was kept.",
    ),
    Phase.COPIED_NOT_VERIFIED: (
        "Would copy, not verified",
        "The rows went in during the test run, but the check afterwards did not finish. "
        "Nothing was kept.",
    ),
    Phase.COMMIT_UNKNOWN: (
        "Broke off",
        "The connection broke during the test run; the target rolls back a broken "
        "connection's work, so nothing was kept.",
    ),
    Phase.FAILED: (
        # a broken connection fails a test run's table too, but a real run starts it again
        "Failed in the test run",
        "It could not be copied in the test run, for the reason given: a real run would fail "
        "the same way until it is dealt with, unless the reason is a broken connection (a real "
        "run starts such a table again). Nothing was kept.",
    ),
    Phase.ROLLED_BACK: ("Stopped", "Stopped during the test run. Nothing was kept."),
    Phase.SKIPPED: (
        "Would be skipped (already there)",
        "It is already in the target, so a real run would skip it, as chosen.",
    ),
    Phase.NOT_STARTED: (
        "Not started",
        "Not started because the test run stopped first.",
    ),
}


def _texts(test_run: bool) -> dict[Phase, tuple[str, str]]:
    return _TEST_RUN_TEXT if test_run else _TEXT


def status_label(status: Phase, test_run: bool = False) -> str:
    texts = _texts(test_run)
    return texts[status][0] if status in texts else str(status)


def status_sentence(status: Phase, test_run: bool = False) -> str:
    texts = _texts(test_run)
    return texts[status][1] if status in texts else ""
