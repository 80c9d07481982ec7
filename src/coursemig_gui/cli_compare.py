"""``coursemig compare PROFILE.json``: argument handling and printing only; the work is
``core.compare``.

Exit codes: 0 every table identical, 3 differences found, 1 something could not be compared
(no connection, a missing table), 2 bad usage (no such profile).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from coursemig_gui.core.errors import FriendlyError


def cmd_compare(args: argparse.Namespace) -> int:
    from coursemig_gui.cli_endpoints import say_password_hints, stored_password

    return run_compare(args, stored_password, say_password_hints)


def run_compare(
    args: argparse.Namespace,
    stored_password: Callable,
    say_password_hints: Callable[[str, str], None],
) -> int:
    from coursemig_gui.core.compare.run import CompareProgress, compare_profile
    from coursemig_gui.core.connection import Endpoint
    from coursemig_gui.core.events import LogMessage
    from coursemig_gui.core.paths import new_run_dir
    from coursemig_gui.core.profile import Profile

    if args.shown_rows < 0:
        raise FriendlyError("--shown-rows takes a number of rows, 0 or more.", str(args.shown_rows))
    profile = Profile.load(Path(args.profile))
    if profile.source is None or profile.target is None:
        raise FriendlyError(
            f"{Path(args.profile).name} does not name both databases, so there is nothing to "
            "compare. Compare a migration that copied from one database into another.",
            f"source: {profile.source}, target: {profile.target}",
        )
    source = Endpoint(profile.source, stored_password(profile.source, "source"))
    target = Endpoint(profile.target, stored_password(profile.target, "target"))

    def show(event) -> None:
        if args.quiet:
            return
        if isinstance(event, CompareProgress) and event.verdict:
            print(f"{event.target}: {event.verdict}", file=sys.stderr, flush=True)
        elif isinstance(event, LogMessage) and event.level != "error":
            print(f"{event.level}: {event.text}", file=sys.stderr)

    report = compare_profile(profile, source, target, args.shown_rows, show)
    written = []
    html = args.html
    if not (args.html or args.csv or args.json):
        html = str(new_run_dir("reports") / "comparison.html")
    for path in (html, args.csv, args.json):
        if path:
            written.append(report.save(Path(path)))
    if report.message:
        print(f"coursemig: {report.message}", file=sys.stderr)
        if report.detail and os.environ.get("COURSEMIG_DEBUG"):
            print(report.detail, file=sys.stderr)
        say_password_hints(report.message, report.detail)
    if not args.quiet:
        if not report.message:  # else that message, said above, is the whole headline
            print(report.headline() + ".", file=sys.stderr)
        for path in written:
            print(f"Report: {path}", file=sys.stderr)
    return report.exit_code
