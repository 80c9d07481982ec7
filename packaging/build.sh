#!/usr/bin/env bash
# Linux: builds the one-folder bundle (packaging/dist/coursemig/) with PyInstaller, then
# packaging/dist/coursemig-<version>-linux-<arch>.tar.gz holding the bundle, a .desktop file, the
# icon and install.sh. The version is the package's (coursemig_gui.__version__, from pyproject).
#   packaging/build.sh             bundle + tar.gz
#   packaging/build.sh --clean     the same, after throwing away PyInstaller's cache and old output
# PYTHON=/path/to/python picks another environment (default: .venv/bin/python, which needs the
# "dev" extra for PyInstaller: pip install -e ".[dev]").
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
DIST=packaging/dist
WORK=packaging/build

if [ "${1:-}" = "--clean" ]; then
  rm -rf "$DIST" "$WORK"
  clean=(--clean)
else
  clean=()
fi

VERSION="$("$PYTHON" -c 'import coursemig_gui; print(coursemig_gui.__version__)')"
ARCH="$(uname -m)"
NAME="coursemig-${VERSION}-linux-${ARCH}"

echo "Building CourseMig ${VERSION} for Linux ${ARCH}"
"$PYTHON" -m PyInstaller --noconfirm --log-level WARN "${clean[@]}" \
  --distpath "$DIST" --workpath "$WORK" packaging/coursemig.spec

# The tarball: hard links instead of copies, so staging costs no space or time.
STAGE="$DIST/$NAME"
rm -rf "$STAGE" "$DIST/$NAME.tar.gz"
mkdir -p "$STAGE"
cp -al "$DIST/coursemig" "$STAGE/coursemig"
cp resources/coursemig.desktop resources/coursemig.png resources/coursemig.svg "$STAGE/"
cp packaging/linux/install.sh "$STAGE/install.sh"
chmod +x "$STAGE/install.sh"
printf '%s\n' "$VERSION" > "$STAGE/VERSION"
tar -C "$DIST" -czf "$DIST/$NAME.tar.gz" "$NAME"
rm -rf "$STAGE"

echo "Bundle:    $DIST/coursemig/coursemig ($(du -sh "$DIST/coursemig" | cut -f1) unpacked)"
echo "Installer: $DIST/$NAME.tar.gz ($(du -h "$DIST/$NAME.tar.gz" | cut -f1))"
