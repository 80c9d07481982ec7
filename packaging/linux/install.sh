#!/usr/bin/env sh
# Installs CourseMig for the current user (no root needed): the program under
# ~/.local/lib/coursemig, the commands "coursemig-gui" (the wizard) and "coursemig" (the command
# line, for scripts and nightly runs) in ~/.local/bin, and a menu entry with its icon.
#   ./install.sh                 install or upgrade
#   ./install.sh --uninstall     remove it again (saved migrations and settings stay)
# PREFIX=/opt/coursemig ./install.sh installs elsewhere (run as root for a system-wide place).
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
PREFIX="${PREFIX:-$HOME/.local}"
APP_DIR="$PREFIX/lib/coursemig"
BIN="$PREFIX/bin/coursemig-gui"
CLI="$PREFIX/bin/coursemig"
DESKTOP="$PREFIX/share/applications/coursemig.desktop"
ICONS="$PREFIX/share/icons/hicolor"

refresh_menus() {
  command -v update-desktop-database >/dev/null 2>&1 &&
    update-desktop-database "$PREFIX/share/applications" >/dev/null 2>&1 || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 &&
    gtk-update-icon-cache -q -t "$ICONS" >/dev/null 2>&1 || true
}

if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$APP_DIR"
  rm -f "$BIN" "$CLI" "$DESKTOP" "$ICONS/256x256/apps/coursemig.png" "$ICONS/scalable/apps/coursemig.svg"
  refresh_menus
  echo "CourseMig removed."
  exit 0
fi

rm -rf "$APP_DIR"
mkdir -p "$APP_DIR" "$PREFIX/bin" "$(dirname "$DESKTOP")" "$ICONS/256x256/apps" "$ICONS/scalable/apps"
cp -R "$HERE/coursemig/." "$APP_DIR/"
ln -sf "$APP_DIR/coursemig" "$BIN"
ln -sf "$APP_DIR/coursemig-cli" "$CLI"
cp "$HERE/coursemig.png" "$ICONS/256x256/apps/coursemig.png"
cp "$HERE/coursemig.svg" "$ICONS/scalable/apps/coursemig.svg"
sed -e "s|^Exec=coursemig |Exec=\"$APP_DIR/coursemig\" |" -e "s|^TryExec=.*|TryExec=$APP_DIR/coursemig|" \
  "$HERE/coursemig.desktop" > "$DESKTOP"
refresh_menus
echo "CourseMig $(cat "$HERE/VERSION") installed: find it in the applications menu, or run $BIN"
echo "The command line: $CLI --help"
case ":$PATH:" in
  *":$PREFIX/bin:"*) ;;
  *) echo "Add $PREFIX/bin to your PATH to type coursemig and coursemig-gui without their folder." ;;
esac
echo "Check it with: $BIN --self-test"
