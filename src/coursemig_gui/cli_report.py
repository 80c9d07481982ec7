"""``--json-report FILE`` of the commands that run a migration: claimed before anything else
happens (``core.report_file``), and said to have ended when the command ends before its run's
own report (kept apart from cli.py: one concern, one module)."""

from __future__ import annotations

import argparse

# Commands that run a migration; ``plan`` takes the flag too but runs nothing.
RUNS = ("run", "migrate", "export", "import")


def claim_report(args: argparse.Namespace) -> None:
    """Check the report's path and put a 'has not finished' report there (a FriendlyError when
    it cannot be written); ``args.report_file`` then takes the run's own report."""
    from coursemig_gui.core.report_file import ReportFile

    if args.command in RUNS and getattr(args, "json_report", None):
        report_file = ReportFile(args.json_report)
        report_file.claim(test_run=getattr(args, "test_run", False))
        args.report_file = report_file


def no_report(args: argparse.Namespace, message: str, detail: str = "", stopped=False) -> None:
    """The command ended before its run's report: the claimed file says so instead."""
    report_file = getattr(args, "report_file", None)
    if report_file is not None:
        report_file.end_without_report(message, detail, stopped)
