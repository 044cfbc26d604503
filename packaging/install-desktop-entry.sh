#!/usr/bin/env bash
# Install ResYOLO's desktop entry (application menu) and its icon for the current user.
#
#   packaging/install-desktop-entry.sh                 # launches `resyolo-gui` (pip install -e . put it on PATH)
#   packaging/install-desktop-entry.sh --bundle DIR    # launches the PyInstaller bundle DIR/resyolo (dist/resyolo)
#   packaging/install-desktop-entry.sh --uninstall     # removes both files again
#
# Files: $XDG_DATA_HOME (default ~/.local/share)/applications/resyolo.desktop and
#        .../icons/hicolor/scalable/apps/resyolo.svg (from assets/icons/app.svg).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
DESKTOP_FILE="$DATA/applications/resyolo.desktop"
ICON_FILE="$DATA/icons/hicolor/scalable/apps/resyolo.svg"

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

command_line="resyolo-gui %f"
case "${1:-}" in
    "") ;;
    --bundle)
        [[ $# -eq 2 ]] || { usage >&2; exit 2; }
        bundle="$(cd "$2" 2>/dev/null && pwd)" || { echo "error: no such folder: $2" >&2; exit 2; }
        [[ -x "$bundle/resyolo" ]] || { echo "error: $bundle/resyolo is not there or not executable (build it with packaging/build_bundle.sh)" >&2; exit 2; }
        command_line="\"$bundle/resyolo\" %f"
        ;;
    --uninstall)
        rm -f "$DESKTOP_FILE" "$ICON_FILE"
        echo "removed $DESKTOP_FILE and $ICON_FILE"
        exit 0
        ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
esac

if [[ "$command_line" == resyolo-gui* ]] && ! command -v resyolo-gui >/dev/null; then
    echo "warning: resyolo-gui is not on PATH; the menu entry will not start until it is (or use --bundle DIR)" >&2
fi

install -D -m 644 "$ROOT/assets/icons/app.svg" "$ICON_FILE"
entry="$(mktemp)"
trap 'rm -f "$entry"' EXIT
# Only the Exec line changes; '&', '|' and '\' are escaped for sed.
escaped="$(printf '%s' "$command_line" | sed 's/[&|\\]/\\&/g')"
sed "s|^Exec=.*|Exec=$escaped|" "$ROOT/packaging/resyolo.desktop" > "$entry"
install -D -m 644 "$entry" "$DESKTOP_FILE"

# Refresh the menus' caches where the tools exist; a desktop without them rescans on its own.
command -v desktop-file-validate >/dev/null && desktop-file-validate "$DESKTOP_FILE" || true
command -v update-desktop-database >/dev/null && update-desktop-database "$DATA/applications" 2>/dev/null || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -f -t "$DATA/icons/hicolor" 2>/dev/null || true
echo "installed $DESKTOP_FILE (Exec=$command_line) and $ICON_FILE"
