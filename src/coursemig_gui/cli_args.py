"""The ``coursemig`` command's arguments: the parser, and reading ``OLD=NEW`` pairs."""

from __future__ import annotations

import argparse

from coursemig_gui import __version__
from coursemig_gui.cli_handover import add_django_question, add_handover_parser
from coursemig_gui.cli_passwords import add_password_from_stdin, build_password_parser
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.options import max_reject_percent_problem, max_rejects_problem

# -- argument parsing -------------------------------------------------------------------------


def _max_rejects(text: str) -> int:
    """``--max-rejects``: refused while parsing, so a run never starts with an impossible limit."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes a number of rows; {text!r} is not one.") from None
    if problem := max_rejects_problem(value):
        raise argparse.ArgumentTypeError(problem)
    return value


def _max_reject_percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes a percentage; {text!r} is not one.") from None
    if problem := max_reject_percent_problem(value):
        raise argparse.ArgumentTypeError(problem)
    return value


def pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    result = {}
    for value in values or []:
        if "=" not in value:
            raise FriendlyError(
                f"{flag} takes NAME=VALUE, for example {flag} courses_course=course.", value
            )
        key, _, new = value.partition("=")
        result[key.strip()] = new.strip()
    return result


def table_names(text: str | None) -> list[str] | None:
    """``--tables a,b``: the names, blanks dropped; None when the flag was not given."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise FriendlyError(
            "--tables takes table names separated by commas, for example "
            "courses_course,courses_program.",
            text,
        )
    return names


def _add_database(p: argparse.ArgumentParser, side: str, help_text: str) -> None:
    """``--source``/``--target`` and its schema: one shape for both databases."""
    p.add_argument(f"--{side}", required=True, metavar="URL", help=help_text)
    p.add_argument(f"--{side}-schema", default="public", metavar="SCHEMA")


def _add_source(p: argparse.ArgumentParser) -> None:
    _add_database(p, "source", "the Django database: a postgresql:// URL or any connection string")


def _add_target(p: argparse.ArgumentParser) -> None:
    _add_database(p, "target", "the target database (Azure: the portal's connection string)")


def _add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tables", metavar="T,...", help="source tables, comma-separated")
    p.add_argument("--app", action="append", metavar="LABEL", help="every table of a Django app")
    p.add_argument(
        "--include-system-tables",
        action="store_true",
        help="also Django's own tables (auth_*, django_*)",
    )
    p.add_argument(
        "--keep-names",
        action="store_true",
        help="keep table names as they are (default: strip the app prefix)",
    )
    p.add_argument("--rename-table", action="append", metavar="SRC=DST")
    p.add_argument("--rename-column", action="append", metavar="SRC_TABLE.COL=NEW")
    p.add_argument(
        "--rename-reserved",
        action="store_true",
        help="rename columns named with reserved words (end -> end_time)",
    )
    add_django_question(p)


def _add_run_options(p: argparse.ArgumentParser, suggest_placements: bool = True) -> None:
    """``suggest_placements``: whether the command has a source to suggest placements from."""
    p.add_argument("--if-exists", choices=["fail", "append", "replace", "skip"], default="fail")
    p.add_argument("--on-error", choices=["stop", "skip"], default="skip")
    p.add_argument(
        "--max-rejects",
        type=_max_rejects,
        default=100,
        metavar="N",
        help="per table; past it the table fails (default 100)",
    )
    p.add_argument(
        "--max-reject-percent",
        type=_max_reject_percent,
        metavar="P",
        help="per table, 0 to 100; past it the table fails",
    )
    p.add_argument("--rejects-dir", metavar="DIR")
    p.add_argument("--no-verify", action="store_true")
    p.add_argument("--no-foreign-keys", action="store_true")
    p.add_argument(
        "--loaders",
        type=int,
        default=0,
        metavar="N",
        help="tables loaded at once (default: 3, or 1 on Citus)",
    )
    p.add_argument("--batch-rows", type=int, default=5000, metavar="N")
    p.add_argument("--no-binary", action="store_true", help="always stream CSV, never binary")
    p.add_argument(
        "--keys-during-load",
        action="store_true",
        help="build a new table's keys while loading rather than after (slower)",
    )
    p.add_argument(
        "--distribute",
        action="append",
        metavar="TABLE=COLUMN",
        help="Citus: distribute TABLE by COLUMN",
    )
    p.add_argument("--reference", action="append", metavar="TABLE", help="Citus: a reference table")
    if suggest_placements:
        _add_placements(p)
    p.add_argument("--json-report", metavar="FILE")
    p.add_argument("--quiet", "-q", action="store_true")


def _add_placements(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--placements",
        choices=["given", "suggested"],
        default="given",
        help="Citus: 'suggested' places every table as the wizard suggests (from exact row "
        "counts where the estimate is missing); --distribute and --reference still win "
        "(default: given, every other table local)",
    )


def _add_test_run(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--test-run",
        action="store_true",
        help="do everything, then roll it all back: the target is left as it was; "
        "the report says what would happen",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coursemig",
        description="Move a Django app's PostgreSQL tables to Azure Cosmos DB for PostgreSQL "
        "(Citus) or any PostgreSQL, with CSV files along the way.",
        epilog="Exit codes: 0 all rows loaded, 3 finished with rejected rows, 1 a table "
        "failed or the run was stopped (Ctrl-C, SIGTERM), 2 the run did not start (bad usage "
        "or no connection). Passwords: the OS keyring ('coursemig password "
        "set'), PGPASSWORD, ~/.pgpass or --password-from-stdin; never in a profile.",
    )
    parser.add_argument("--version", action="version", version=f"coursemig {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("tables", help="list the source's tables, grouped by Django app")
    _add_source(p)
    add_password_from_stdin(p, ("source",))
    p.add_argument("--include-system-tables", action="store_true")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("plan", help="write a profile (and show the SQL) without running it")
    _add_source(p)
    _add_target(p)
    _add_selection(p)
    _add_run_options(p)
    add_password_from_stdin(p, ("source",))  # the plan reads the source only
    p.add_argument("--via-csv", metavar="DIR")
    p.add_argument("--name", default="Migration")
    p.add_argument("--output", "-o", required=True, metavar="PROFILE.json")
    p.add_argument("--show-sql", action="store_true")

    p = sub.add_parser("run", help="run a saved profile")
    p.add_argument("profile", metavar="PROFILE.json")
    add_password_from_stdin(p)
    _add_test_run(p)
    p.add_argument("--json-report", metavar="FILE")
    p.add_argument("--quiet", "-q", action="store_true")

    p = sub.add_parser("migrate", help="copy tables from the source straight into the target")
    _add_source(p)
    _add_target(p)
    _add_selection(p)
    _add_run_options(p)
    _add_test_run(p)
    p.add_argument("--via-csv", metavar="DIR", help="also keep CSV files of every table in DIR")
    add_password_from_stdin(p)

    p = sub.add_parser(
        "export", help="write the source's tables as CSV files (no SUPERUSER needed)"
    )
    _add_source(p)
    _add_selection(p)
    p.add_argument("--to", required=True, metavar="DIR", dest="csv_dir")
    add_password_from_stdin(p, ("source",))
    p.add_argument(
        "--zip",
        action="store_true",
        dest="csv_zip",
        help="also pack the finished export into DIR.zip for hand-over",
    )
    p.add_argument("--json-report", metavar="FILE")
    p.add_argument("--quiet", "-q", action="store_true")

    p = sub.add_parser(
        "import", help="load CSV files into the target; columns matched by header name"
    )
    p.add_argument("csv_dir", metavar="DIR", help="an export folder, its .zip, or any CSV files")
    _add_target(p)
    p.add_argument(
        "--tables", metavar="T,...", help="file names without .csv (default: every file)"
    )
    p.add_argument("--rename-table", action="append", metavar="FILE=TABLE")
    p.add_argument("--rename-column", action="append", metavar="FILE.COL=NEW")
    p.add_argument(
        "--rename-reserved",
        action="store_true",
        help="rename columns named with reserved words (end -> end_time)",
    )
    p.add_argument(
        "--keep-names",
        action="store_true",
        help="with a manifest: keep table names (default: strip the app prefix)",
    )
    p.add_argument(
        "--infer-types",
        action="store_true",
        default=True,
        help="without a manifest: new tables get types proposed from the files (default)",
    )
    p.add_argument(
        "--all-text",
        action="store_true",
        help="without a manifest: every column of a new table is text",
    )
    p.add_argument("--encoding", default="utf-8")
    p.add_argument("--delimiter", default=None, help="default: guessed from the header")
    add_password_from_stdin(p, ("target",))
    _add_run_options(p, suggest_placements=False)  # files: no source to suggest from
    _add_test_run(p)

    add_handover_parser(sub)
    build_password_parser(sub)

    p = sub.add_parser("compare", help="compare a finished migration's tables row by row")
    p.add_argument("profile", metavar="PROFILE.json")
    p.add_argument("--html", metavar="FILE", help="the report for people (default: a new file "
                   "in CourseMig's reports folder)")  # fmt: skip
    p.add_argument("--csv", metavar="FILE")
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--shown-rows", type=int, default=1000, metavar="N",
                   help="differing rows listed with their values, per table (default 1000)")  # fmt: skip
    p.add_argument("--quiet", "-q", action="store_true")

    p = sub.add_parser("demo", help="start two throwaway sample databases and print their URLs")
    p.add_argument("--courses", type=int, default=3547)
    return parser
