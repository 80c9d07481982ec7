# Shared by run-tests.sh and run-app.sh: install what a fresh machine lacks. Sourced, not run.

# Debian packages: PostgreSQL's server programs (tests and the demo start throwaway servers),
# openssl (test certificates), gnome-keyring and dbus (the tests' real password store), the
# system libraries Qt's xcb/offscreen platforms load, and Xvfb (a real X display for the tests
# that start the program on the xcb platform). Callers name more (the tests: pgbouncer).
DEBIAN_PACKAGES=(postgresql openssl gnome-keyring dbus libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1
  libdbus-1-3 libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 fonts-dejavu-core
  python3-venv xvfb patch)

bootstrap_system_packages() {
  command -v dpkg-query >/dev/null 2>&1 || return 0
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Debian's packages start a cluster and a pooler (on 6432, which a test needs) of their own;
  # we never use them.
  $sudo pg_ctlcluster --help >/dev/null 2>&1 && $sudo service postgresql stop >/dev/null 2>&1 || true
  $sudo service pgbouncer stop >/dev/null 2>&1 || true
}

bootstrap_venv() {
  local extras="${1:-}"
  local python="${PYTHON:-python3}"
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  local stamp=".venv/.installed-${extras:-base}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    if [ -n "$extras" ]; then
      .venv/bin/python -m pip install -q -e ".[${extras}]"
    else
      .venv/bin/python -m pip install -q -e .
    fi
    touch "$stamp"
  fi
}
