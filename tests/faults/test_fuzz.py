"""Issue 9, item 7: random tables (names, column names, types, values) round-trip exactly.

Hypothesis makes a table in the source; it is copied directly (binary COPY), directly keeping
CSV files (CSV COPY and a file named after the table), and by export to a file then import of
that file; every value is compared with the source, as the server writes it as text.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from fault_helpers import mappings_for, table_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.types.json import Jsonb

from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.connection_strings import parse_connection_string
from coursemig_gui.core.engine import run as engine_run
from coursemig_gui.core.engine.routes import Route
from coursemig_gui.core.options import MigrationOptions

pytestmark = pytest.mark.bad_input


def _endpoint(url: str | None) -> Endpoint | None:
    if url is None:
        return None
    parsed = parse_connection_string(url)
    return Endpoint(parsed.settings, parsed.password)


def run_migration(source: str | None, target: str | None, *args, **kw):
    """The engine, given the databases by URL. The test below keeps its text as it was:
    Hypothesis (derandomize=True) seeds its examples from the test's source, so editing it
    would test other tables than before."""
    return engine_run.run_migration(_endpoint(source), _endpoint(target), *args, **kw)


SYSTEM_COLUMNS = {"tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"}
# no NUL (PostgreSQL cannot store it in text), no lone surrogates (not encodable)
CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
TEXT = st.text(CHARS, max_size=40)
# names also lean on what file systems and SQL dislike: a table's CSV file is named after it
AWKWARD = st.sampled_from(['/', "\\", ".", "..", ":", "*", "?", '"', "<", ">", "|", " ", "'",
                           "-", "select", "CON", "É", "🦆"])  # fmt: skip
NAME = (
    st.lists(CHARS | AWKWARD, min_size=1, max_size=6)
    .map("".join)
    .filter(lambda n: len(n.encode()) <= 63)
)  # over 63 bytes PostgreSQL would shorten the name

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)

TYPES = {
    "text": TEXT,
    "varchar(40)": TEXT,
    "integer": st.integers(-(2**31), 2**31 - 1),
    "bigint": st.integers(-(2**63), 2**63 - 1),
    "numeric": st.decimals(
        min_value=Decimal("-1e20"), max_value=Decimal("1e20"), allow_nan=False, places=6
    ),  # fmt: skip
    "double precision": st.floats(allow_nan=True, allow_infinity=True),
    "boolean": st.booleans(),
    "bytea": st.binary(max_size=24),
    "timestamp with time zone": st.datetimes(
        min_value=dt.datetime(1, 1, 1),
        max_value=dt.datetime(9999, 12, 31),
        timezones=st.just(dt.UTC),
    ),  # fmt: skip
    "date": st.dates(),
    "interval": st.timedeltas(
        min_value=dt.timedelta(days=-(10**6)), max_value=dt.timedelta(days=10**6)
    ),
    "jsonb": JSON.map(Jsonb),
    "text[]": st.lists(st.none() | TEXT, max_size=4),
    "uuid": st.uuids(),
}


@st.composite
def tables(draw):
    name = draw(NAME)
    names = draw(st.lists(NAME.filter(lambda n: n not in SYSTEM_COLUMNS), min_size=1, max_size=4,
                          unique=True))  # fmt: skip
    types = [draw(st.sampled_from(sorted(TYPES))) for _ in names]
    row = st.tuples(*[st.none() | TYPES[t] for t in types])
    rows = draw(st.lists(row, max_size=8))
    return name, list(zip(names, types, strict=True)), rows


def _make(db, name: str, columns, rows) -> None:
    # filled under a plain name: a "%" in a name would read as a placeholder in the INSERT
    with db.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE TABLE fuzz_tmp ({})").format(
            sql.SQL(", ").join(sql.SQL("fuzz_c{} " + t).format(sql.SQL(str(i)))
                               for i, (_, t) in enumerate(columns))))  # fmt: skip
        if rows:
            with conn.cursor() as cur:
                cur.executemany(sql.SQL("INSERT INTO fuzz_tmp VALUES ({})").format(
                    sql.SQL(", ").join(sql.SQL("%s::" + t) for _, t in columns)), rows)  # fmt: skip
        for i, (column, _) in enumerate(columns):
            conn.execute(sql.SQL("ALTER TABLE fuzz_tmp RENAME COLUMN {} TO {}").format(
                sql.Identifier(f"fuzz_c{i}"), sql.Identifier(column)))  # fmt: skip
        conn.execute(sql.SQL("ALTER TABLE fuzz_tmp RENAME TO {}").format(sql.Identifier(name)))


def _drop(db, name: str) -> None:
    with db.admin_connect() as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.mark.slow
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(table=tables())
def test_random_tables_round_trip(empty_source_db, target_db, tmp_path_factory, table):
    name, columns, rows = table
    source, target = empty_source_db, target_db
    try:
        _make(source, name, columns, rows)
        expected = table_text(source, name)
        for route in (Route.DIRECT, Route.DIRECT_KEEP_CSV, Route.IMPORT):
            folder = tmp_path_factory.mktemp("csv")
            mappings = mappings_for(source, [name])
            target_name = mappings[0].target
            try:
                if route == Route.IMPORT:  # export to a file, then import that file
                    exported = run_migration(source.url, None, mappings,
                                             MigrationOptions(route=Route.EXPORT, csv_dir=str(folder)))  # fmt: skip
                    assert exported.exit_code == 0, exported.tables[0].message
                reads = source.url if route != Route.IMPORT else None
                options = MigrationOptions(route=route, csv_dir=str(folder), batch_rows=3)
                report = run_migration(reads, target.url, mappings, options)
                t = report.tables[0] if report.tables else None
                failure = (route, report.message, t and t.message, t and t.detail)
                assert report.exit_code == 0, failure
                # the import checks against the export's manifest (issue 20)
                assert t.verification == "match", (route, t.verification_detail)
                assert table_text(target, target_name) == expected, route
                if route != Route.DIRECT:
                    # one CSV file, wherever the name points
                    assert len(list(folder.glob("*.csv"))) == 1
            finally:
                _drop(target, target_name)
    finally:
        _drop(source, name)
        _drop(source, "fuzz_tmp")
