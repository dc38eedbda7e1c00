#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Set everything up and run every test, in this order:
#  1. the Check suites (voice, mixer, loader, transport, eq, stretch when
#     Rubber Band is found, engine, rt, fuzz seeds) and the suites that run
#     inside the headless JACK rig against the installed wheel (engine-rig,
#     e2e capture vs offline render, stress and faults);
#  2. embedding from C (pkg-config install, Meson subproject); the engine
#     built without ALSA running its offline suites; the type stubs checked
#     against the installed module (stubtest);
#  3. ASan+UBSan, ThreadSanitizer, valgrind, pytest under ASan, 60 s of
#     fuzzing (skipped with FLZ_QUICK=1);
#  4. pytest against the installed module, inside the rig (last, so its
#     summary closes the run).
# Every Python tool and the installed wheel are those of the project's
# virtual environment (.venv, made by scripts/setup.sh from the system's
# python3), put first on PATH before meson is configured: meson then runs
# under the venv's python3, and so do the rig suites (tests/rig/meson.build).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$FLZ_ROOT"
ROOT=$PWD
BUILD=${BUILD:-$ROOT/build-test}

bash scripts/setup.sh
flz_use_venv
echo "== Python: $(command -v python3) ($(python3 -c 'import sys; print(sys.version.split()[0])')), meson $(meson --version)"

echo "== build and Check suites"
rm -rf "$BUILD"
meson setup "$BUILD" --buildtype=debugoptimized -Dtests=enabled -Dalsa=enabled -Drig=enabled \
  -Dexamples=true >"$ROOT/meson-setup.log" || { cat "$ROOT/meson-setup.log"; exit 1; }
meson compile -C "$BUILD"

echo "== Python module: build the wheel and install it (the e2e suite tests the installed module)"
flz_install_wheel

meson test -C "$BUILD" --print-errorlogs --num-processes 2

echo "== embedding from C: installed pkg-config files, and this tree as a Meson subproject"
sh tests/embed/run.sh

echo "== the engine without ALSA: offline and wav backends only"
NOALSA=$ROOT/build-noalsa
rm -rf "$NOALSA"
meson setup "$NOALSA" --buildtype=debugoptimized -Dalsa=disabled -Drig=disabled -Dpython=disabled \
  -Dexamples=false -Dtests=enabled >"$ROOT/meson-setup-noalsa.log" \
  || { cat "$ROOT/meson-setup-noalsa.log"; exit 1; }
meson compile -C "$NOALSA"
# Nothing of alsa-lib may reach that build: no library, no symbol.
if ldd "$NOALSA/tests/engine/test-engine" | grep -q libasound \
  || nm "$NOALSA/tests/engine/test-engine" | grep -q ' snd_'; then
  echo "the build without ALSA links alsa-lib" >&2
  exit 1
fi
meson test -C "$NOALSA" --print-errorlogs --suite voice --suite mixer --suite loader --suite transport --suite eq --suite engine

echo "== the type stubs (.pyi) against the installed module (mypy's stubtest)"
(cd /tmp && python3 -m mypy.stubtest flitzis_looper_rs --allowlist "$ROOT/pymodule/stubtest-allowlist.txt")

if [ "${FLZ_QUICK:-0}" != 1 ]; then
  echo "== sanitizers and memory checkers (docs/reliability.md)"
  bash scripts/sanitize.sh asan
  bash scripts/sanitize.sh ubsan
  bash scripts/sanitize.sh tsan
  bash scripts/sanitize.sh valgrind
  bash scripts/sanitize.sh pytest-asan
  echo "== fuzzing libloader's memory path for 60 s"
  bash scripts/fuzz.sh 60
fi

echo "== pytest against the installed module, inside the real-time rig"
# Run from a directory without the sources so that the installed package is imported.
cd /tmp
FLZ_BUILD_DIR="$BUILD" python3 "$ROOT/tests/rig/rig.py" -- \
  python3 -m pytest -q -p no:cacheprovider "$ROOT/tests/python"
