"""The JSON report a run writes for scripts (``--json-report``).

It is claimed before the run starts: a path it cannot be written to is said before anything is
written, and whatever was there (an older run's "All tables copied") is replaced at once by a
report saying this run has not finished, so a run that is killed never leaves an older success
behind. The run's own report replaces that one when the run ends, however it ends."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from pathlib import Path

from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.private_files import write_private_text
from coursemig_gui.core.report import MigrationReport


class ReportFile:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.ended = False  # the run's own report was written (or tried): the claim is over

    def claim(self, test_run: bool = False) -> None:
        """Put a report there that says the run started and has not finished.

        Raises a FriendlyError when the file cannot be written, or holds something else the
        user may need (a saved migration, a package's manifest: the command may be about to
        read it): nothing else has run yet. A missing folder is made, as for the other files a
        run writes."""
        if self.path.is_file() and not _replaceable(self.path):
            raise FriendlyError(
                f"{self.path} already holds something other than a CourseMig report (a saved "
                "migration or a package's manifest, for example), so it is not replaced. Name "
                "another file for --json-report. Nothing was run.",
                str(self.path),
            )
        with contextlib.suppress(OSError):  # a folder that cannot be made is said below
            self.path.parent.mkdir(parents=True, exist_ok=True)
        started = datetime.now().isoformat(timespec="seconds")
        said = (
            f"The run started at {started} and has not finished: it is still running, or it "
            "was stopped before it could write its report."
        )
        data = MigrationReport(started=started, message=said, test_run=test_run).to_dict()
        # no outcome yet, and no route known before the command reads its options
        data.update(exit_code=None, headline=said, route=None)
        self._write(json.dumps(data, indent=2, ensure_ascii=False), claiming=True)

    def write(self, report: MigrationReport) -> None:
        """The run's own report, in place of the claim."""
        self.ended = True
        self._write(report.to_json(), claiming=False)

    def end_without_report(self, message: str, detail: str = "", stopped: bool = False) -> None:
        """The command ended before the run could give its report (a connection, a bad
        argument, Ctrl-C twice): the file says that, with the same exit code, rather than
        'has not finished'. A file that cannot be written is left as it is: the terminal
        has said what happened."""
        if self.ended:
            return
        with contextlib.suppress(FriendlyError):
            self.write(MigrationReport(message=message, detail=detail, cancelled=stopped))

    def _write(self, text: str, claiming: bool) -> None:
        try:
            write_private_text(self.path, text)
        except OSError as exc:
            if isinstance(exc, IsADirectoryError) or self.path.is_dir():
                why = "that is a folder; name a file in it"
            elif not self.path.parent.exists():
                why = f"the folder {self.path.parent} does not exist"
            elif not self.path.parent.is_dir():
                why = f"{self.path.parent} is a file, not a folder"
            else:
                why = (exc.strerror or str(exc)).lower()
            after = "Nothing was run." if claiming else "The run itself is over."
            raise FriendlyError(
                f"The JSON report cannot be written to {self.path}: {why}. {after}", str(exc)
            ) from exc


def _replaceable(path: Path) -> bool:
    """An empty file, or a report an earlier run wrote (its own keys)."""
    try:
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            return True
        data = json.loads(text)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and {"headline", "exit_code"} <= data.keys()
