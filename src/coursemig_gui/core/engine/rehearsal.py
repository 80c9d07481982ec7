"""A test run: everything a migration does to the target — tables created, every row sent
through COPY against the real columns, keys and foreign keys, bad rows found and logged — inside
one transaction on one connection, rolled back at the end, so the target is as it was before.

Tables load one after another in that transaction (each in a savepoint), so a child table's
foreign keys are checked against the rows its parents would have. Sequences are the one thing a
rollback does not undo: their positions are read before and put back after, but never behind a
value a committed row holds (the app may have taken ids from them meanwhile).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace

import psycopg
from psycopg import sql

from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.engine.session import open_session
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.options import MigrationOptions

# Said before the plan of a test run, so no one reads it as what will be written.
TEST_RUN_PLAN = "Test run: all of this happens, then it is undone; nothing is written."

CITUS_LIMITS = (
    "The target runs Citus. Citus commits the creation of distributed and reference tables by "
    "itself, so a rollback could not undo it: this test run created every new table as an "
    "ordinary table inside the rehearsal instead. It therefore cannot show whether Citus "
    "accepts each table's placement (distribution column, colocation, reference tables), nor "
    "errors that only the worker nodes would raise. Every row was still checked against the "
    "tables' columns, keys and foreign keys."
)

RECONNECT_SECONDS = 30.0

_SEQUENCES = """
SELECT s.seqrelid::regclass::text FROM pg_sequence s
WHERE has_sequence_privilege(s.seqrelid, 'SELECT')
"""


def rehearsal_options(options: MigrationOptions) -> tuple[MigrationOptions, list[str]]:
    """The options a test run uses: one table at a time on the one connection, no retries (a
    lost connection loses the whole rehearsal), no CSV copies kept."""
    notes = []
    route = options.route
    if route == Route.DIRECT_KEEP_CSV:
        route = Route.DIRECT
        notes.append("A test run keeps no CSV files; the real run will write them.")
    return replace(options, route=route, loaders=1, retries=0), notes


class Rehearsal:
    """The test run's one target connection, in a transaction that always rolls back."""

    def __init__(self, target: Endpoint) -> None:
        self.target = target
        self.connection: psycopg.Connection | None = None
        self._positions: dict[str, tuple[int, bool]] = {}
        self._stack = contextlib.ExitStack()

    def begin(self) -> psycopg.Connection:
        conn = open_session(self.target)
        self.connection = conn
        self._positions = _positions(conn)
        self._stack.enter_context(conn.transaction(force_rollback=True))
        return conn

    def end(self) -> list[str]:
        """Roll everything back, and put back any sequence the run moved. Returns a sentence
        for each sequence that could not be put back (the user may not change it)."""
        conn = self.connection
        if conn is None:
            return []
        self.connection = None
        missed = []
        try:
            with contextlib.suppress(psycopg.Error):
                self._stack.close()  # the rollback
            if conn.closed or conn.broken:
                conn = _reconnect(self.target)  # the server rolled back when the link broke
            for name, now in _positions(conn).items():
                before = self._positions.get(name)
                if before is None or before == now:
                    continue
                back, note = _safe_position(conn, name, before)
                if note:
                    missed.append(note)
                if back is None or back == now:
                    continue
                try:
                    conn.execute("SELECT setval(%s::regclass, %s, %s)", [name, *back])
                except psycopg.Error:
                    missed.append(f"The sequence {name} moved during the test run and could "
                                  "not be put back: this user may not change it.")  # fmt: skip
        except (psycopg.Error, FriendlyError) as exc:
            # the positions are known: say how to put them back by hand
            put_back = " ".join(
                sql.SQL("SELECT setval({}, {}, {});")
                .format(sql.Literal(name), sql.Literal(value), sql.Literal(called))
                .as_string(None)
                for name, (value, called) in sorted(self._positions.items())
            )
            missed.append(
                f"The sequences could not be checked after the test run ({exc}), so any it "
                "moved may still be moved. "
                + (
                    "Their positions before the test run, to put back only a sequence nothing "
                    "else has taken ids from since (else its next id would be one a row already "
                    f"has): {put_back}"
                    if put_back
                    else ""
                )
            )
        finally:
            conn.close()
        return missed


def _reconnect(target: Endpoint) -> psycopg.Connection:
    """A new session, tried for up to ``RECONNECT_SECONDS``: a restarting server refuses
    connections for a few seconds, and the sequences must still be put back."""
    deadline = time.monotonic() + RECONNECT_SECONDS
    while True:
        try:
            return open_session(target)
        except FriendlyError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


# The integer columns that take their values from a sequence: through a DEFAULT nextval() (a
# serial) or as an identity / OWNED BY column.
_COLUMNS_OF = """
SELECT n.nspname, c.relname, a.attname FROM pg_depend d
JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = %(seq)s::regclass
  AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
UNION
SELECT n.nspname, c.relname, a.attname FROM pg_depend d
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE d.classid = 'pg_class'::regclass AND d.objid = %(seq)s::regclass
  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
  AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
"""


def _safe_position(
    conn: psycopg.Connection, name: str, before: tuple[int, bool]
) -> tuple[tuple[int, bool] | None, str]:
    """Where a sequence the test run saw move can be put back: where it stood before, unless a
    committed row now holds a value it would hand out again (others took ids from it during the
    test run: rewinding would give those ids twice); then just past that row's value. None when
    the rows could not be read: the sequence is left where it is, which is always safe."""
    increment = conn.execute(
        "SELECT seqincrement FROM pg_sequence WHERE seqrelid = %s::regclass", [name]
    ).fetchone()[0]
    up = increment > 0
    value, called = before
    next_value = value + increment if called else value
    held: list[tuple[int, str]] = []
    try:
        for schema, table, column in conn.execute(_COLUMNS_OF, {"seq": name}).fetchall():
            extreme = sql.SQL("max" if up else "min")
            row = conn.execute(
                sql.SQL("SELECT {}({}) FROM {}").format(
                    extreme, sql.Identifier(column), sql.Identifier(schema, table)
                )
            ).fetchone()
            if row[0] is not None:
                held.append((row[0], f"{table}.{column}"))
    except psycopg.Error:
        return None, (f"The sequence {name} moved during the test run and was left where it is: "
                      "this user may not read every column that takes its values, so putting "
                      "it back could give an id a row already has.")  # fmt: skip
    beyond = [(v, where) for v, where in held if (v >= next_value if up else v <= next_value)]
    if not beyond:
        return before, ""
    v, where = max(beyond) if up else min(beyond)
    return (v, True), (f"The sequence {name} was not put back to where it stood before the test "
                       f"run: {where} holds {v} (written since by someone else, or there "
                       f"before), so its next value is {v + increment}.")  # fmt: skip


def _positions(conn: psycopg.Connection) -> dict[str, tuple[int, bool]]:
    positions = {}
    for (name,) in conn.execute(_SEQUENCES).fetchall():
        # the name is the server's own regclass text, already quoted where needed
        row = conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(name)))
        positions[name] = tuple(row.fetchone())
    return positions
