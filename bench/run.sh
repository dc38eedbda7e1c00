#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every performance figure in one command:
#
#   bash bench/run.sh [--quick] [--install] [--xrun-seconds N]
#
# Builds the release binaries it needs (in $BUILD, default build-bench),
# runs bench/keylock-bench (in a build with Rubber Band: under a minute,
# 15 s with --quick; its table is printed and kept in
# $BUILD/keylock-bench.md, and goes into docs/performance.md by hand), then
# bench/report.py, which prints one table and writes it to
# docs/performance.md with the machine it ran on. The full run takes about
# 25 minutes (10 of them the xrun endurance run); --quick takes 2-4.
# The Python figures use flitzis_looper_rs as installed in the project's
# virtual environment (.venv, made by scripts/setup.sh); --install first
# builds and installs it there from this tree (pip, no build isolation).
# Needs: jackd2, libasound2-plugins, sox, flac, lame (see docs/performance.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/venv.sh"
cd "$FLZ_ROOT"
ROOT=$PWD
flz_use_venv
BUILD=${BUILD:-$ROOT/build-bench}
args=()
install=0
quick=()
for a in "$@"; do
  case "$a" in
    --install) install=1 ;;
    --quick) quick=(--quick); args+=("$a") ;;
    *) args+=("$a") ;;
  esac
done

if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --buildtype=release -Drig=enabled >/dev/null
fi
ninja -C "$BUILD" -j2 bench/mixer-bench bench/load-bench bench/load-reference \
  tests/rig/flz-jack-rec >/dev/null

# Key lock and EQ on the audio thread per 128-frame block (issue 14), both
# Rubber Band engines: only a build with libstretch (GPL) has the bench.
# report.py does not take these figures: docs/performance.md "Issue 14:
# key lock and EQ per block" holds them by hand.
if ninja -C "$BUILD" -t targets all | grep -q '^bench/keylock-bench:'; then
  ninja -C "$BUILD" -j2 bench/keylock-bench >/dev/null
  "$BUILD/bench/keylock-bench" ${quick[@]+"${quick[@]}"} | tee "$BUILD/keylock-bench.md"
fi

if [ "$install" = 1 ]; then
  flz_install_wheel
fi
# Import the installed module, not the source tree.
cd /tmp
"$FLZ_VENV_PY" -c 'import flitzis_looper_rs' 2>/dev/null || {
  echo "bench/run.sh: flitzis_looper_rs is not installed (use --install)" >&2
  exit 1
}
exec "$FLZ_VENV_PY" "$ROOT/bench/report.py" --build "$BUILD" \
  --command "bash bench/run.sh${*:+ $*}" ${args[@]+"${args[@]}"}
