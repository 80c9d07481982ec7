#!/usr/bin/env bash
# Runs every test on a fresh Debian/Ubuntu machine: installs what is missing (PostgreSQL's
# server, Qt's system libraries, a virtualenv with the package and its test extras), then pytest.
# Extra arguments go to pytest, e.g. ./run-tests.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
bootstrap_system_packages
# Azure's connection pooler, for its own tests: without it, only they fail, saying so
bootstrap_system_packages pgbouncer || echo "Could not install pgbouncer: its tests skip (in CI they fail)." >&2
bootstrap_venv test,dev
export QT_QPA_PLATFORM=offscreen
# Passwords go to a real Secret Service: gnome-keyring on a private session bus, unlocked with a
# throwaway password, its files in a throwaway folder, so the credential tests use keyring's real
# backend and never touch the user's own keyring. pytest's exit code is passed on unchanged.
keyring_home="$(mktemp -d)"
trap 'rm -rf "$keyring_home"' EXIT
export COURSEMIG_TEST_KEYRING_HOME="$keyring_home"
rc=0
dbus-run-session -- sh -c 'printf pw | XDG_DATA_HOME="$COURSEMIG_TEST_KEYRING_HOME" \
  XDG_RUNTIME_DIR="$COURSEMIG_TEST_KEYRING_HOME" gnome-keyring-daemon --unlock --components=secrets >/dev/null
exec .venv/bin/python -m pytest "$@"' sh "$@" || rc=$?
exit $rc
