#!/usr/bin/env bash
# Build the one-folder bundle (dist/resyolo/) with PyInstaller, then prove it works:
#   1. ``resyolo --self-test``: a spawned DataLoader worker and an ONNX export run inside the frozen app;
#   2. ``resyolo --screenshot``: the window opens on the bundled sample project (offscreen) and saves a capture.
# Usage, from anywhere, with the project's virtual environment active (pip install -e '.[packaging]'):
#   packaging/build_bundle.sh [--skip-build]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUNDLE="$ROOT/dist/resyolo"

if [[ "${1:-}" != "--skip-build" ]]; then
    started=$(date +%s)
    python -m PyInstaller --noconfirm --log-level WARN \
        --workpath "$ROOT/build/pyinstaller" --distpath "$ROOT/dist" packaging/resyolo.spec
    echo "build: $(( $(date +%s) - started )) s, size $(du -sh "$BUNDLE" | cut -f1) ($BUNDLE)"
fi

echo "== self-test (spawned DataLoader worker, ONNX export)"
"$BUNDLE/resyolo" --self-test

echo "== screenshot (offscreen)"
shot="$ROOT/build/bundle-screenshot.png"
rm -f "$shot"
QT_QPA_PLATFORM=offscreen RESYOLO_CONFIG_DIR="$(mktemp -d)" RESYOLO_DATA_DIR="$(mktemp -d)" "$BUNDLE/resyolo" --screenshot "$shot"
test -s "$shot" || { echo "no screenshot written" >&2; exit 1; }
echo "bundle OK: $BUNDLE/resyolo (screenshot $shot)"
