"""What the app's developer must know beyond the names: rows a run skipped, who may use the
tables, and column types changed on the Columns page. Each is a plain sentence (or a few SQL
lines) the README, next_steps.md and the Summary's "What's next" share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from coursemig_gui.core.mapping import TableMapping

# A placeholder the developer replaces with the app's own role; quoted like any identifier.
APP_ROLE = "the_apps_role"


def quote_ident(name: str) -> str:
    """An SQL identifier as PostgreSQL reads it: always double-quoted, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


# -- rows a run skipped ------------------------------------------------------------------------


def skipped_rows(report) -> str:  # core.report.MigrationReport
    """ "12 rows of course (10) and section (2) were not copied ..." or "" when none were."""
    if report is None:
        return ""
    tables = [t for t in report.tables if t.rows_rejected]
    if not tables:
        return ""
    total = sum(t.rows_rejected for t in tables)
    each = [f"{t.target} ({t.rows_rejected:,})" for t in tables]
    named = each[0] if len(each) == 1 else ", ".join(each[:-1]) + " and " + each[-1]
    folders = list(dict.fromkeys(str(Path(t.reject_file).parent) for t in tables if t.reject_file))
    where = f" (each one and why is in the skipped-rows folder {folders[0]})" if folders else ""
    rows = "row" if total == 1 else "rows"
    return (
        f"{total:,} {rows} of {named} {'was' if total == 1 else 'were'} not copied{where}: "
        "the app will not find them on the new database. Fix them and add them, or accept "
        "that they are missing, before the app moves."
    )


# -- who may use the tables --------------------------------------------------------------------


def owner_sentence(owner: str, copied: bool = True) -> str:
    """Who may use the tables; ``copied`` False: written before the run (the command line)."""
    belong = (
        f"The copied tables belong to the database user {owner}, who ran the migration; "
        if copied
        else f"The tables this migration copies will belong to the database user {owner}, "
        "who runs it; "
    )
    return (
        belong + f"CourseMig gives no other user access to them. The app must connect as USER "
        f"{owner} (as the hand-over folder's settings do), or {owner} must first give the "
        "app's own user access with the GRANT lines in next_steps.md: otherwise the app gets "
        '"permission denied".'
    )


def grant_statements(schema: str, tables: list[str], role: str = APP_ROLE) -> list[str]:
    """The GRANTs another role needs on the copied tables and their sequences (ids)."""
    s, r = quote_ident(schema), quote_ident(role)
    names = ", ".join(f"{s}.{quote_ident(t)}" for t in tables)
    return [
        f"GRANT USAGE ON SCHEMA {s} TO {r};",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {names} TO {r};",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {s} TO {r};",
    ]


def grants_section(owner: str, schema: str, mappings: list[TableMapping]) -> list[str]:
    """next_steps.md's part on access: the owner, and the GRANTs for another role."""
    tables = [m.target for m in mappings if m.include]
    if not tables:
        return []
    return [
        "## If the app connects as another database user",
        "",
        f"The tables belong to {owner}. To let another user (the app's own) use them, "
        f"connect as {owner} and run these, with {APP_ROLE} replaced by that user's name:",
        "",
        "```sql",
        *grant_statements(schema, tables),
        "```",
        "",
        "The last line covers every sequence in the schema (the ids of new rows). Django's "
        "migrate commands that change a table (the --fake ones above do not) must still run "
        f"as {owner}, the only user who may change them.",
        "",
    ]


# -- column types changed on the Columns page --------------------------------------------------


@dataclass
class TypeChange:
    table: str  # the target table
    column: str  # the target column
    field: str  # the model field behind it
    model: str  # app.model
    old_type: str
    new_type: str

    def sentence(self) -> str:
        length = re.fullmatch(r"(?:character varying|varchar)\s*\(\s*(\d+)\s*\)", self.new_type)
        match = (
            f"set max_length={length.group(1)} on the field {self.field}"
            if length
            else f"make the field {self.field} a field of that type"
        )
        return (
            f"{self.table}.{self.column} was copied as {self.new_type} (it was {self.old_type}), "
            f"but the model {self.model} still expects {self.old_type}: {match}, or the app "
            "fails on values the new type does not take."
        )


def _norm(type_text: str) -> str:
    return re.sub(r"\s+", " ", type_text.strip().lower())


def type_changes(mappings: list[TableMapping], models) -> list[TypeChange]:
    """Columns whose type was changed on the Columns page, for tables of the app's models."""
    facts = {f.table: f for f in models}
    found = []
    for tm in mappings:
        fact = facts.get(tm.source)
        if not tm.include or fact is None:
            continue
        for c in tm.columns:
            if c.include and c.source_type and _norm(c.source_type) != _norm(c.target_type):
                found.append(
                    TypeChange(
                        tm.target,
                        c.target,
                        fact.field_for(c.source),
                        f"{fact.app}.{fact.model}",
                        c.source_type,
                        c.target_type,
                    )
                )
    return found
