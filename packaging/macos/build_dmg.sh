#!/usr/bin/env bash
# macOS: builds CourseMig.app with PyInstaller (the BUNDLE step of packaging/coursemig.spec), then
# packaging/dist/coursemig-<version>-macos-<arch>.dmg with the app and an Applications link.
# Runs on a macOS machine or CI runner (hdiutil is macOS-only); see packaging/README.md.
# The app is ad-hoc signed only (PyInstaller does that): without a Developer ID signature and
# notarization, people open it the first time with right-click > Open.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-.venv/bin/python}"
DIST=packaging/dist

VERSION="$("$PYTHON" -c 'import coursemig_gui; print(coursemig_gui.__version__)')"
NAME="coursemig-${VERSION}-macos-$(uname -m)"

"$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$DIST" --workpath packaging/build packaging/coursemig.spec

# the frozen app checks itself before it is packed (no display needed: Qt runs offscreen)
QT_QPA_PLATFORM=offscreen "$DIST/CourseMig.app/Contents/MacOS/coursemig" --self-test

STAGE="$DIST/dmg"
rm -rf "$STAGE" "$DIST/$NAME.dmg"
mkdir -p "$STAGE"
cp -R "$DIST/CourseMig.app" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "CourseMig ${VERSION}" -srcfolder "$STAGE" -ov -format UDZO "$DIST/$NAME.dmg"
rm -rf "$STAGE"
echo "Installer: $DIST/$NAME.dmg"
