#!/bin/sh
# Installs the Lifeline console for the current user from this unpacked archive:
# the program under ~/.local/opt, a command in ~/.local/bin, a menu entry and its icon.
#   ./install.sh            install (or update)
#   ./install.sh --remove   remove what install.sh put there
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
OPT="$HOME/.local/opt/lifeline-console"
BIN="$HOME/.local/bin"
APPS="$DATA/applications"
ICONS="$DATA/icons/hicolor/256x256/apps"

if [ "${1:-}" = "--remove" ]; then
  rm -rf "$OPT"
  rm -f "$BIN/lifeline-console" "$APPS/lifeline-console.desktop" "$ICONS/lifeline-console.png"
  echo "Lifeline console removed."
  exit 0
fi

mkdir -p "$OPT" "$BIN" "$APPS" "$ICONS"
# A fresh copy each time: files of an older version must not linger.
rm -rf "$OPT.new"
cp -R "$HERE" "$OPT.new"
rm -rf "$OPT"
mv "$OPT.new" "$OPT"
ln -sf "$OPT/lifeline-console" "$BIN/lifeline-console"
cp "$HERE/lifeline-console.png" "$ICONS/lifeline-console.png"
sed "s|^Exec=.*|Exec=\"$OPT/lifeline-console\"|" "$HERE/lifeline-console.desktop" \
  >"$APPS/lifeline-console.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$APPS" || true
echo "Lifeline console installed: $BIN/lifeline-console and in the applications menu."
