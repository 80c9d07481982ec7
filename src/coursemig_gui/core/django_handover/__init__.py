"""Connecting the Django app to the new database: the user's choice, what the app's models need
to change, and the hand-over folder a developer receives. No Qt; the project is never imported."""

from coursemig_gui.core.django_handover.choice import (
    DjangoAppWill,
    DjangoPlan,
    shape_mappings,
    tables_for_choice,
)
from coursemig_gui.core.django_handover.facts import ModelFacts, model_facts
from coursemig_gui.core.django_handover.writer import HANDOVER_PASSWORD_VARIABLE, write_handover

__all__ = [
    "HANDOVER_PASSWORD_VARIABLE",
    "DjangoAppWill",
    "DjangoPlan",
    "ModelFacts",
    "model_facts",
    "shape_mappings",
    "tables_for_choice",
    "write_handover",
]
