#!/usr/bin/env bash
# Runs every test on a fresh Debian/Ubuntu machine: installs what is missing (PostgreSQL's
# server, Qt's system libraries, a virtualenv with the package and its test extras), then pytest.
# Extra arguments go to pytest, e.g. ./run-tests.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
bootstrap_system_packages
bootstrap_venv test,dev
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
