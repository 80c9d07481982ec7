"""The choices a user makes about a whole run (kept in profiles, set by CLI flags)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path

from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.errors import FriendlyError

# How the wizard names the choices for a table already in the target; the command line passes
# its own flags instead (a sentence must name what the reader can choose where they are).
WIZARD_IF_EXISTS_CHOICES = "'Add rows', 'Replace all rows' or 'Skip'"
CLI_IF_EXISTS_CHOICES = "--if-exists append, replace or skip"


class OnError(StrEnum):
    STOP = "stop"  # the first bad row fails its table (rolled back)
    SKIP = "skip"  # bad rows go to the reject file, up to a limit


@dataclass
class MigrationOptions:
    route: Route = Route.DIRECT
    csv_dir: str | None = None
    on_error: OnError = OnError.SKIP
    max_rejects: int | None = 100  # per table; past it the table fails
    max_reject_percent: float | None = None
    rejects_dir: str | None = None  # default: a dated folder under the user's data dir
    verify: bool = True
    create_foreign_keys: bool = True
    source_schema: str = "public"
    target_schema: str = "public"
    loaders: int = 0  # tables loaded at once, each over its own connections; 0: automatic
    batch_rows: int = 5000  # rows are read in batches; they load as one COPY per segment
    batch_bytes: int = 2 << 20
    binary: bool = True  # binary COPY where source and target types are identical
    csv_encoding: str = "utf-8"
    # an import's files: empty guesses each file's from its header, as the wizard's proposals
    # did (a fixed "," loaded a ';' file as one column of "1;Ann;3")
    csv_delimiter: str = ""
    csv_zip: bool = False  # export: also pack the finished folder into <folder>.zip
    # New tables copied from a database get their keys after the load (a new table cannot
    # receive a duplicate the source's own keys let through); off: keys during the load.
    keys_after_load: bool = True
    retries: int = 2  # transient faults (dropped connection, failover): restart the table
    # the front's words for the if-exists choices, for sentences; not a choice, so never saved
    if_exists_choices: str = field(default=WIZARD_IF_EXISTS_CHOICES, compare=False)

    def check(self) -> None:
        """Raise a FriendlyError for options no run can use, before anything is written."""
        for problem in (
            max_rejects_problem(self.max_rejects),
            max_reject_percent_problem(self.max_reject_percent),
            self._csv_dir_problem(),
        ):
            if problem:
                raise FriendlyError(problem, repr(self))

    def _csv_dir_problem(self) -> str | None:
        if not (self.csv_dir and self.route.writes_csv):
            return None
        folder = Path(self.csv_dir)
        # the first name on the way that is not a folder: the CSV files could not be put there
        for path in (folder, *folder.parents):
            if path.exists():
                if path.is_dir():
                    return None
                return (
                    f"The CSV folder {folder} cannot be made: {path} is a file, not a folder. "
                    "Choose another folder for the CSV files."
                )
        return None

    def with_absolute_folders(self) -> MigrationOptions:
        """A copy whose folders are full paths, for saving: a saved migration runs later from
        another folder (cron starts in the home folder), where a relative folder names another
        place than the one chosen."""
        return replace(
            self,
            csv_dir=str(Path(self.csv_dir).absolute()) if self.csv_dir else self.csv_dir,
            rejects_dir=str(Path(self.rejects_dir).absolute()) if self.rejects_dir else None,
        )

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["if_exists_choices"]
        data["route"] = self.route.value
        data["on_error"] = self.on_error.value
        return data

    @classmethod
    def from_dict(cls, data: dict) -> MigrationOptions:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "route" in values:
            values["route"] = Route(values["route"])
        if "on_error" in values:
            values["on_error"] = OnError(values["on_error"])
        return cls(**values)


def max_rejects_problem(value: int | None) -> str | None:
    """Why a limit of skipped rows per table cannot be used, or None."""
    if value is not None and value < 0:
        return (
            f"The limit of skipped rows per table is a number of rows, 0 or more; {value} is not."
        )
    return None


def max_reject_percent_problem(value: float | None) -> str | None:
    """Why a limit of skipped rows as a share of a table cannot be used, or None."""
    if value is not None and not 0 <= value <= 100:  # NaN fails this too
        return (
            "The limit of skipped rows as a share of a table is a percentage from 0 to 100; "
            f"{value:g} is not."
        )
    return None
