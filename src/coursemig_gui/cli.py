"""``coursemig``: the same migrations as the wizard, for scripts and scheduled jobs.

Exit codes (stable, scripts rely on them): 0 every row loaded (and verified), 3 finished with
rejected rows, 1 a table failed or the run was stopped, 2 the run did not start (bad usage or
no connection; nothing was written). The JSON report's ``exit_code`` is the same.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import time
from pathlib import Path

from coursemig_gui import cli_passwords as passwords
from coursemig_gui.cli_args import build_parser, pairs, table_names
from coursemig_gui.cli_compare import cmd_compare
from coursemig_gui.cli_endpoints import endpoint as _endpoint
from coursemig_gui.cli_endpoints import forget_lookups, settings_endpoint, source_catalog
from coursemig_gui.cli_endpoints import say_password_hints as _say_password_hints
from coursemig_gui.cli_handover import cmd_django_handover, django_names, django_plan, django_tables
from coursemig_gui.cli_import import cmd_import
from coursemig_gui.cli_placements import suggested_placements
from coursemig_gui.cli_report import claim_report, no_report
from coursemig_gui.core.errors import FriendlyError
from coursemig_gui.core.outcome import Outcome

# -- helpers ----------------------------------------------------------------------------------


def _say(args: argparse.Namespace, text: str) -> None:
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr, flush=True)


def _mappings(
    args: argparse.Namespace,
    catalog,
    source=None,
    show: bool = False,
    names: tuple[dict, dict] = ({}, {}),
) -> list:
    """The mappings the flags ask for; ``names``: tables and columns renamed before the flags
    (an export package's chosen names), so an explicit --rename-* still wins."""
    from coursemig_gui.core.mapping import (
        IfExists,
        Placement,
        apply_renames,
        default_mappings,
        rename_reserved_words,
        select_tables,
    )

    tables = table_names(args.tables)
    try:
        chosen = select_tables(catalog, tables, args.app, args.include_system_tables)
    except ValueError as exc:
        raise FriendlyError(str(exc), "") from exc
    chosen = django_tables(args, catalog, chosen)
    mappings = default_mappings(catalog, chosen, keep_names=args.keep_names)
    django_names(args, catalog, mappings)  # explicit --rename-* flags below still win
    apply_renames(mappings, *names)
    columns = {}
    for key, new in pairs(args.rename_column, "--rename-column").items():
        table, _, column = key.rpartition(".")
        if not table:
            raise FriendlyError(
                "--rename-column takes SRC_TABLE.COL=NEW, for example "
                "courses_meetingtime.end=end_time.",
                key,
            )
        columns[(table, column)] = new
    apply_renames(mappings, pairs(args.rename_table, "--rename-table"), columns)
    if getattr(args, "rename_reserved", False):
        rename_reserved_words(mappings, catalog.reserved_words)
    suggested_placements(args, source, catalog, mappings, show=show)  # flags below still win
    distribute = pairs(getattr(args, "distribute", None), "--distribute")
    reference = set(getattr(args, "reference", None) or [])
    for tm in mappings:
        tm.if_exists = IfExists(args.if_exists)
        for name in (tm.source, tm.target):
            if name in distribute:
                tm.placement, tm.distribution_column = Placement.DISTRIBUTED, distribute[name]
            if name in reference:
                tm.placement = Placement.REFERENCE
    return mappings


def _options(args: argparse.Namespace, route):
    from coursemig_gui.core.options import CLI_IF_EXISTS_CHOICES, MigrationOptions, OnError

    return MigrationOptions(
        route=route,
        csv_dir=getattr(args, "via_csv", None) or getattr(args, "csv_dir", None),
        on_error=OnError(getattr(args, "on_error", "skip")),
        max_rejects=getattr(args, "max_rejects", 100),
        max_reject_percent=getattr(args, "max_reject_percent", None),
        rejects_dir=getattr(args, "rejects_dir", None),
        verify=not getattr(args, "no_verify", False),
        create_foreign_keys=not getattr(args, "no_foreign_keys", False),
        source_schema=getattr(args, "source_schema", "public"),
        target_schema=getattr(args, "target_schema", "public"),
        loaders=max(0, getattr(args, "loaders", 0)),
        batch_rows=max(1, getattr(args, "batch_rows", 5000)),
        binary=not getattr(args, "no_binary", False),
        keys_after_load=not getattr(args, "keys_during_load", False),
        csv_encoding=getattr(args, "encoding", "utf-8"),
        csv_delimiter=_delimiter(getattr(args, "delimiter", None)),
        csv_zip=getattr(args, "csv_zip", False),
        if_exists_choices=CLI_IF_EXISTS_CHOICES,
    )


_DELIMITER_NAMES = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def _delimiter(value: str | None) -> str:
    """``--delimiter``: one character; ``\\t`` or ``tab`` for a tab. Empty: guess from the header."""
    if not value:
        return ""
    value = _DELIMITER_NAMES.get(value.lower(), value)
    if len(value) != 1 or len(value.encode("utf-8")) != 1 or value in '"\r\n':
        raise FriendlyError(
            f"--delimiter takes one character, for example ';' or tab (\\t); {value!r} is not one.",
            value,
        )
    return value


def _read_catalog(endpoint, schema: str):
    from coursemig_gui.core.catalog import read_catalog
    from coursemig_gui.core.engine.session import open_session

    with open_session(endpoint) as conn:
        return read_catalog(conn, schema)


class _Printer:
    """Progress on stderr: a live line on a terminal, and a line as each table finishes."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self._last = 0.0
        self.tables_seen = False  # the run has come to its tables (a Stop must roll back)

    def __call__(self, event) -> None:
        from coursemig_gui.core.events import FINAL_PHASES, LogMessage, RejectedRow, TableProgress
        from coursemig_gui.core.events import TableRestarted as Restarted

        if isinstance(event, TableProgress):
            self.tables_seen = True
        if self.quiet:
            return
        if isinstance(event, TableProgress):
            if event.phase in FINAL_PHASES:
                self._clear()
                rows = (
                    f" · {event.rows_done:,} rows in {event.seconds:.1f}s"
                    if event.rows_done
                    else ""
                )
                extra = f" · {event.message}" if event.message else ""
                print(f"{event.target}: {event.phase}{rows}{extra}", file=sys.stderr, flush=True)
            elif self.tty and time.monotonic() - self._last > 0.3:
                self._last = time.monotonic()
                total = f" / ~{event.rows_total:,}" if event.rows_total > event.rows_done else ""
                rate = f" · {event.rows_per_second:,.0f} rows/s" if event.rows_per_second else ""
                sys.stderr.write(
                    f"\r\033[K{event.target}: {event.phase} {event.rows_done:,}{total} rows{rate}"
                )
                sys.stderr.flush()
        elif isinstance(event, RejectedRow):
            self._clear()
            where = f", column {event.column}" if event.column else ""
            line = f" (line {event.line})" if event.line else ""  # CSV files: the line to look at
            print(
                f"  row {event.row_number}{line} of {event.table}{where}: {event.reason}",
                file=sys.stderr,
            )
        elif isinstance(event, Restarted):
            self._clear()
            print(f"  ({event.target} starts again; rows above were rolled back)", file=sys.stderr)
        elif isinstance(event, LogMessage) and event.level != "error":
            self._clear()
            print(f"{event.level}: {event.text}", file=sys.stderr)

    def _clear(self) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K")


def _finish(args: argparse.Namespace, report) -> int:
    from coursemig_gui.core.report import MigrationReport

    assert isinstance(report, MigrationReport)
    unwritten = ""
    report_file = getattr(args, "report_file", None)
    if report_file is not None:
        try:
            report_file.write(report)
        except FriendlyError as exc:  # the run is over: its outcome is still said below
            unwritten = exc.message
    if not getattr(args, "quiet", False):
        for line in report.table_lines():
            print(line, file=sys.stderr)
        for line in report.status_sentences():  # what each status met means
            print(f"  {line}", file=sys.stderr)
        for note in report.notes:  # what a test run could not show, or could not put back
            print(f"note: {note}", file=sys.stderr)
    if report.message:
        print(f"coursemig: {report.message}", file=sys.stderr)
        if report.detail and os.environ.get("COURSEMIG_DEBUG"):
            print(report.detail, file=sys.stderr)
        _say_password_hints(report.message, report.detail)
    if report.tables or not report.message:  # else that message is the whole headline
        _say(args, report.headline() + ".")
    if unwritten:
        print(f"coursemig: {unwritten}", file=sys.stderr)
    return report.exit_code


def _run(args, source, target, mappings, options, session=None, catalog=None) -> int:
    from coursemig_gui.core.connection_settings import POOLER_NOTE
    from coursemig_gui.core.engine.run import run_migration
    from coursemig_gui.core.events import CancelToken

    if any(end is not None and end.settings.uses_pgbouncer for end in (source, target)):
        print(f"coursemig: warning: {POOLER_NOTE}", file=sys.stderr)

    cancel = CancelToken()
    printer = _Printer(args.quiet)

    def stop(signum, frame) -> None:  # roll back the tables in progress, then stop
        # before any table, nothing is written yet: stop at once, even inside a connection
        # attempt to a server that does not answer (it would wait out its timeout)
        if cancel.cancelled or not printer.tables_seen:
            raise KeyboardInterrupt
        print("\nStopping: what is not yet committed is rolled back…", file=sys.stderr)
        cancel.cancel()

    # Ctrl-C, and SIGTERM (kill, systemd, a container stopping): the same graceful stop, so
    # committed tables stay, the one in progress is rolled back, and the report is written
    stops = (signal.SIGINT, signal.SIGTERM)
    old = {signum: signal.signal(signum, stop) for signum in stops}
    try:
        report = run_migration(source, target, mappings, options, printer, cancel,
                               test_run=getattr(args, "test_run", False),
                               source_session=session, catalog=catalog)  # fmt: skip
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)
    return _finish(args, report)


# -- commands ---------------------------------------------------------------------------------


def cmd_tables(args: argparse.Namespace) -> int:
    catalog = _read_catalog(_endpoint(args.source, "source"), args.source_schema)
    tables = catalog.visible(args.include_system_tables)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "table": t.name,
                        "app": t.app,
                        "rows": t.row_estimate,
                        "system": t.is_system,
                        "many_to_many": t.is_m2m,
                        "columns": [c.name for c in t.columns],
                    }
                    for t in tables
                ],
                indent=2,
            )
        )
        return Outcome.DONE
    by_app: dict[str, list] = {}
    for t in tables:
        by_app.setdefault(t.app or "(no app)", []).append(t)
    for app, items in by_app.items():
        print(app)
        for t in items:
            print(
                f"  {t.name:<40} ~{t.row_estimate:>10,} rows{'  (many-to-many)' if t.is_m2m else ''}"
            )
    hidden = len(catalog.tables) - len(tables)
    if hidden:
        print(f"({hidden} Django system tables hidden; --include-system-tables shows them)")
    return Outcome.DONE


def cmd_plan(args: argparse.Namespace) -> int:
    from coursemig_gui.core.connection_strings import parse_connection_string
    from coursemig_gui.core.ddl import ddl_script
    from coursemig_gui.core.engine.routes import Route
    from coursemig_gui.core.mapping import validate
    from coursemig_gui.core.profile import Profile

    source = parse_connection_string(args.source)
    target = parse_connection_string(args.target)
    passwords.warn_if_in_url(target.password, "target", needed=False)
    catalog = _read_catalog(src := _endpoint(args.source, "source"), args.source_schema)
    mappings = _mappings(args, catalog, src, show=True)
    options = _options(args, Route.DIRECT_KEEP_CSV if args.via_csv else Route.DIRECT)
    options = options.with_absolute_folders()  # the run may start in another folder
    for p in validate(mappings, catalog):
        print(f"{p.severity}: {p.message}", file=sys.stderr)
    profile = Profile(
        name=args.name,
        source=source.settings,
        target=target.settings,
        tables=mappings,
        options=options,
    )
    profile.django = django_plan(args, catalog, mappings)
    path = profile.save(Path(args.output))
    if args.show_sql:
        print(ddl_script(catalog, mappings, options))
    _say(args, f"Saved the migration to {path}. Run it with: coursemig run {path}")
    return Outcome.DONE


def cmd_run(args: argparse.Namespace) -> int:
    from coursemig_gui.core.options import CLI_IF_EXISTS_CHOICES
    from coursemig_gui.core.profile import Profile

    profile = Profile.load(Path(args.profile))
    opts = profile.options
    opts.if_exists_choices = CLI_IF_EXISTS_CHOICES

    def endpoint(settings, role: str):
        return None if settings is None else settings_endpoint(settings, role)

    source = endpoint(profile.source, "source") if opts.route.reads_database else None
    target = endpoint(profile.target, "target") if opts.route.writes_database else None
    return _run(args, source, target, profile.tables, opts)


def cmd_migrate(args: argparse.Namespace) -> int:
    from coursemig_gui.core.engine.routes import Route

    source = _endpoint(args.source, "source", defer=True)
    target = _endpoint(args.target, "target")
    source, session, catalog = source_catalog(source, args.source_schema)
    with session:  # the run closes it; this closes it when the run does not start
        mappings = _mappings(args, catalog, source)
        route = Route.DIRECT_KEEP_CSV if args.via_csv else Route.DIRECT
        return _run(args, source, target, mappings, _options(args, route), session, catalog)


def cmd_export(args: argparse.Namespace) -> int:
    from coursemig_gui.core.engine.routes import Route

    source = _endpoint(args.source, "source", defer=True)
    source, session, catalog = source_catalog(source, args.source_schema)
    with session:  # the run closes it; this closes it when the run does not start
        args.if_exists = "fail"
        mappings = _mappings(args, catalog)
        return _run(args, source, None, mappings, _options(args, Route.EXPORT), session, catalog)


def cmd_demo(args: argparse.Namespace) -> int:
    from coursemig_gui.demo.demo import start_demo

    print(f"Starting two sample databases ({args.courses:,} courses)…", file=sys.stderr)
    demo = start_demo(courses=args.courses)
    try:
        print(f"source: {demo.source_url}")
        print(f"target: {demo.target_url}")
        print("Both run until you press Ctrl-C.", file=sys.stderr, flush=True)
        sys.stdout.flush()
        signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("Stopping the sample databases…", file=sys.stderr)
    finally:
        demo.stop()
    return Outcome.DONE


COMMANDS = {
    "tables": cmd_tables,
    "plan": cmd_plan,
    "run": cmd_run,
    "migrate": cmd_migrate,
    "export": cmd_export,
    "import": cmd_import,
    "compare": cmd_compare,
    "demo": cmd_demo,
    "django-handover": cmd_django_handover,
    "password": passwords.cmd_password,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    forget_lookups()
    try:
        passwords.read_stdin_passwords(args)
        claim_report(args)
        return COMMANDS[args.command](args)
    except FriendlyError as exc:
        no_report(args, exc.message, exc.detail)
        print(f"coursemig: {exc.message}", file=sys.stderr)
        _say_password_hints(exc.message, exc.detail)
        if exc.detail and os.environ.get("COURSEMIG_DEBUG"):
            print(exc.detail, file=sys.stderr)
        return Outcome.USAGE
    except OSError as exc:  # a file or folder given on the command line cannot be used
        where = f" {exc.filename}" if exc.filename else ""
        said = (
            f"The file or folder{where} could not be used: "
            f"{exc.strerror or exc}. Check the name and its folder."
        )
        no_report(args, said, str(exc))
        print(f"coursemig: {said}", file=sys.stderr)
        return Outcome.USAGE
    except KeyboardInterrupt:
        no_report(args, "CourseMig was stopped before the run could give its report. Tables "
                   "committed before then stay in the target.", stopped=True)  # fmt: skip
        print("coursemig: stopped.", file=sys.stderr)
        return Outcome.FAILED
    finally:
        if argv is None:  # run as the program, which ends next (callers in-process pass argv)
            # Every file and connection is closed by now; the collector's pass over every
            # object at interpreter exit (~0.1 s) would free nothing the OS does not.
            gc.freeze()


if __name__ == "__main__":
    raise SystemExit(main())
