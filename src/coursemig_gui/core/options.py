"""The choices a user makes about a whole run (kept in profiles, set by CLI flags)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum

from coursemig_gui.core.engine.routes import Route


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
    csv_delimiter: str = ","
    csv_zip: bool = False  # export: also pack the finished folder into <folder>.zip
    # New tables copied from a database get their keys after the load (a new table cannot
    # receive a duplicate the source's own keys let through); off: keys during the load.
    keys_after_load: bool = True
    retries: int = 2  # transient faults (dropped connection, failover): restart the table

    def to_dict(self) -> dict:
        data = asdict(self)
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
