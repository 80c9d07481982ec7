"""Connecting the Django app to the new database: the user's choice (``choice``), what the app's
models need (``facts``, ``changes``, ``models_source``, ``project``) and the hand-over folder a
developer receives (``writer``). No Qt; the project is never imported. Import the modules
themselves: this package file imports nothing, so no import cycle runs through it."""
