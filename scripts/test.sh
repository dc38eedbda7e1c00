#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Set everything up and run every test: the Check suites (voice, mixer,
# loader, engine, rt; the engine's real-time playback through the headless
# JACK rig), then the Python module from its installed wheel (pytest, inside
# the rig), then the end-to-end comparison of captured audio with an offline
# render.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-$ROOT/build-test}

bash scripts/setup.sh

echo "== build and Check suites"
rm -rf "$BUILD"
meson setup "$BUILD" --buildtype=debugoptimized -Dtests=enabled -Dalsa=enabled -Drig=enabled \
  -Dexamples=true >"$ROOT/meson-setup.log" || { cat "$ROOT/meson-setup.log"; exit 1; }
meson compile -C "$BUILD"

echo "== Python module: build the wheel and install it (the e2e suite tests the installed module)"
python3 -m pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps .

meson test -C "$BUILD" --print-errorlogs --num-processes 2

echo "== pytest against the installed module, inside the real-time rig"
# Run from a directory without the sources so that the installed package is imported.
cd /tmp
FLZ_BUILD_DIR="$BUILD" python3 "$ROOT/pymodule/flitzis_looper_rs/_rig.py" -- \
  python3 -m pytest -q -p no:cacheprovider "$ROOT/tests/python"
