"""The CLI's side of Citus placement suggestions: ``coursemig plan`` prints them, and
``--placements suggested`` takes them. Suggesting (and counting the tables whose estimate is
missing) is core's job (``core.citus.suggestions``); this only decides when, and prints."""

from __future__ import annotations

import argparse
import sys

from coursemig_gui.core.catalog import Catalog
from coursemig_gui.core.connection import Endpoint
from coursemig_gui.core.mapping import TableMapping


def suggested_placements(
    args: argparse.Namespace,
    source: Endpoint | None,
    catalog: Catalog,
    mappings: list[TableMapping],
    *,
    show: bool = False,
) -> None:
    """Print each suggestion with its reason when ``show`` (``plan``) or when asked to take
    them (``--placements suggested``, which also sets them on ``mappings``)."""
    take = getattr(args, "placements", "given") == "suggested"
    if source is None or not (show or take):
        return
    from coursemig_gui.core.citus.suggestions import suggest_for

    lines = suggest_for(source, catalog, mappings, apply=take)
    if not getattr(args, "quiet", False):
        print("\n".join(lines), file=sys.stderr, flush=True)
