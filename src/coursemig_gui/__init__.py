"""CourseMig: move a Django app's PostgreSQL tables to Azure Cosmos DB for PostgreSQL or any PostgreSQL."""

from importlib import metadata

try:
    __version__ = metadata.version("coursemig_gui")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0"
