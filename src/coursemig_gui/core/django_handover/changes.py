"""What each migrated model needs so the unchanged app finds its renamed table and columns."""

from __future__ import annotations

from dataclasses import dataclass, field

from coursemig_gui.core.django_handover.cautions import TypeChange, type_changes
from coursemig_gui.core.django_handover.facts import ModelFacts
from coursemig_gui.core.mapping import TableMapping


@dataclass
class FieldChange:
    field: str  # the model field: program
    old_column: str  # program_id
    new_column: str  # program_code


@dataclass
class ModelChange:
    app: str
    model: str  # Django's lower-case model name
    source_table: str
    new_table: str | None = None  # None: the table kept its name
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def needed(self) -> bool:
        return self.new_table is not None or bool(self.fields)


@dataclass
class ManyToManyChange:
    app: str
    owner_model: str  # the model holding the ManyToManyField (coursesectionlink)
    field: str  # sections
    source_table: str
    new_table: str
    owner_table: str = ""  # the owning model's source table (found by Meta.db_table too)


@dataclass
class Changes:
    models: list[ModelChange] = field(default_factory=list)
    many_to_many: list[ManyToManyChange] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # plain sentences: what will not work
    # column types changed on the Columns page: the models must match them (not a rename)
    types: list[TypeChange] = field(default_factory=list)

    @property
    def apps(self) -> list[str]:
        labels = [m.app for m in self.models if m.needed] + [m.app for m in self.many_to_many]
        return list(dict.fromkeys(labels))

    @property
    def any(self) -> bool:
        return any(m.needed for m in self.models) or bool(self.many_to_many)


def compute_changes(mappings: list[TableMapping], models: list[ModelFacts]) -> Changes:
    """Compare each copied table's names with Django's and say what the models need."""
    by_table = {m.source: m for m in mappings if m.include}
    facts = {f.table: f for f in models}
    changes = Changes()
    for fact in models:
        tm = by_table.get(fact.table)
        if tm is None:
            if not fact.system:
                changes.problems.append(
                    f"The table {fact.table} (model {fact.app}.{fact.model}) was not copied: "
                    f"the app fails when it uses {fact.model} on the new database. Copy it too, "
                    "or stop using that model."
                )
            continue
        renamed_columns = [c for c in tm.columns if c.include and c.target != c.source]
        left_out = [c.source for c in tm.columns if not c.include]
        if left_out:
            changes.problems.append(
                f"{tm.target}: the column{'s' if len(left_out) > 1 else ''} "
                f"{', '.join(left_out)} {'were' if len(left_out) > 1 else 'was'} not copied, but "
                f"the model {fact.app}.{fact.model} reads {'them' if len(left_out) > 1 else 'it'}. "
                "Copy every column, or remove those fields from the model."
            )
        if fact.system:
            if tm.target != tm.source or renamed_columns:
                changes.problems.append(
                    f"{tm.source} is one of Django's own tables and must keep its name and its "
                    f"columns' names; it was copied as {tm.target}. Copy it again with its names."
                )
            continue
        if fact.m2m_owner:
            owner = facts.get(fact.m2m_owner)
            if renamed_columns:
                changes.problems.append(
                    f"{tm.target}: the columns of a many-to-many table Django makes itself cannot "
                    "be renamed without a 'through' model. Copy it again keeping the column names."
                )
            if tm.target != tm.source and owner is not None and fact.m2m_field:
                changes.many_to_many.append(
                    ManyToManyChange(
                        fact.app, owner.model, fact.m2m_field, fact.table, tm.target, owner.table
                    )
                )
            continue
        change = ModelChange(fact.app, fact.model, fact.table)
        if tm.target != tm.source:
            change.new_table = tm.target
        change.fields = [
            FieldChange(fact.field_for(c.source), c.source, c.target) for c in renamed_columns
        ]
        changes.models.append(change)
    changes.types = type_changes(mappings, models)
    changes.problems += [t.sentence() for t in changes.types]
    return changes
