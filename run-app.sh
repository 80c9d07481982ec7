#!/usr/bin/env bash
# Starts CourseMig on a fresh machine, installing what it needs first.
#   ./run-app.sh           the wizard
#   ./run-app.sh --demo    the wizard with two throwaway sample databases filled in
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
bootstrap_system_packages
bootstrap_venv
exec .venv/bin/coursemig-gui "$@"
