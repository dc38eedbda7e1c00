#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the Check suites (voice, mixer, loader, transport, eq, engine, and the fuzz seeds and
# regressions) under a sanitizer or valgrind, each in its own build
# directory:
#
#   scripts/sanitize.sh asan         AddressSanitizer + UndefinedBehaviorSanitizer
#                                    (LeakSanitizer included; any report fails)
#   scripts/sanitize.sh ubsan        UndefinedBehaviorSanitizer alone, on the C
#                                    library's allocator (see below: ASan's hides
#                                    under-aligned heap blocks)
#   scripts/sanitize.sh tsan         ThreadSanitizer (the rings, the engine's
#                                    threads, the rig cases through JACK)
#   scripts/sanitize.sh valgrind     memcheck, definite leaks fail; plus every
#                                    fuzz seed and regression input under memcheck
#   scripts/sanitize.sh pytest-asan  the Python module built with ASan+UBSan,
#                                    pytest with libasan preloaded into python3
#
# Environment: CC (compiler; default cc, clang works too), BUILD (build
# directory; default ./build-MODE), SUITES (space-separated suites to run,
# default "voice mixer loader transport eq engine fuzz").
# Reports are in BUILD/meson-logs/testlog.txt.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$FLZ_ROOT"
ROOT=$PWD
MODE=${1:-}
case "$MODE" in
  asan|ubsan|tsan|valgrind|pytest-asan) ;;
  *) echo "usage: $0 asan|ubsan|tsan|valgrind|pytest-asan" >&2; exit 2 ;;
esac
# Instrumented code is several times slower than the normal build (and
# valgrind ~20x): these runs check correctness, not real-time deadlines.
# Tests that would assert "no xrun" or a latency read this (the C suites
# through flz_test_instrumented(), Python through tests/rig/rig.py's instrumented()) and
# check content instead; the normal build's suites keep the deadlines.
export FLZ_INSTRUMENTED=$MODE
BUILD=${BUILD:-$ROOT/build-$MODE}
SUITES=${SUITES:-voice mixer loader transport eq engine fuzz}
suite_args=()
for s in $SUITES; do suite_args+=(--suite "$s"); done
# meson, ninja and the rig cases' python3 come from the project's venv.
flz_use_venv

# Leaks inside system libraries that the project cannot fix; each entry is
# documented in its file and has a regression input.
LSAN_SUPP=$ROOT/tests/fuzz/lsan.supp
VALGRIND_SUPP=$ROOT/tests/fuzz/valgrind.supp
# Check runs every case in a forked child by default; without the fork the
# sanitizer (or valgrind) sees the whole process, including leaks at exit.
export CK_FORK=no

configure() {
  if [ ! -f "$BUILD/build.ninja" ]; then
    # b_lundef=false: with clang the sanitizer runtimes are not linked into
    # shared objects, so undefined symbols must be allowed there.
    meson setup "$BUILD" "$ROOT" --buildtype=debugoptimized \
      -Dtests=enabled -Dexamples=false "$@" >/dev/null
  fi
  ninja -C "$BUILD" -j2
}

case "$MODE" in
asan)
  configure -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args="-fno-sanitize-recover=all -fno-omit-frame-pointer" -Dpython=disabled
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$LSAN_SUPP:print_suppressions=0}
  meson test -C "$BUILD" --no-rebuild --print-errorlogs --num-processes 2 \
    --timeout-multiplier 3 "${suite_args[@]}"
  ;;
ubsan)
  # UBSan checks alignment only on the address it is given, and under ASan
  # every block of a few hundred bytes or more starts after a redzone that
  # leaves it 64-byte aligned: a struct with 64-byte-aligned members (the
  # engine's rings) allocated with calloc, which promises 16, passed the asan
  # mode. Here the blocks come from glibc's malloc, so the same bug is a
  # "misaligned address" report.
  configure -Db_sanitize=undefined -Db_lundef=false \
    -Dc_args="-fno-sanitize-recover=all -fno-omit-frame-pointer" -Dpython=disabled
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  meson test -C "$BUILD" --no-rebuild --print-errorlogs --num-processes 2 \
    --timeout-multiplier 3 "${suite_args[@]}"
  ;;
tsan)
  configure -Db_sanitize=thread -Db_lundef=false -Dc_args=-fno-omit-frame-pointer \
    -Dpython=disabled
  # halt_on_error: the first race fails the test. second_deadlock_stack:
  # lock-order reports name both acquisitions. die_after_fork=0: TSan's own
  # background thread makes every process "multi-threaded", and
  # engine:priority forks a child (single-threaded as far as the test is
  # concerned) that starts an engine of its own.
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:die_after_fork=0:suppressions=$ROOT/tests/fuzz/tsan.supp}
  meson test -C "$BUILD" --no-rebuild --print-errorlogs --num-processes 1 \
    --timeout-multiplier 5 "${suite_args[@]}"
  ;;
valgrind)
  configure -Dpython=disabled
  # The project's `valgrind` test setup (top-level meson.build: memcheck,
  # CK_FORK=no, definite leaks fail, tests/fuzz/valgrind.supp). The fuzz
  # suite's seed case runs a shell; the seeds and regressions are replayed
  # under memcheck below instead. Not the rig cases either: there the test
  # program runs under a Python launcher, and memcheck slows the audio
  # thread ~20x, so real-time assertions would measure valgrind.
  suite_args=()
  for s in $SUITES; do [ "$s" = fuzz ] || suite_args+=(--suite "$s"); done
  status=0
  meson test -C "$BUILD" --no-rebuild --print-errorlogs --num-processes 2 \
    --setup valgrind --no-suite rig "${suite_args[@]}" || status=1
  # Every seed (one file per format) and regression input through the
  # loader under memcheck.
  "$BUILD/tests/fuzz/flz-make-seeds" "$BUILD/fuzz-seeds"
  valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
    --suppressions="$VALGRIND_SUPP" -q \
    "$BUILD/tests/fuzz/fuzz-loader-replay" "$BUILD/fuzz-seeds" "$ROOT/tests/fuzz/regressions" ||
    status=1
  [ "$status" -eq 0 ] || { echo "sanitize: valgrind FAILED" >&2; exit 1; }
  ;;
pytest-asan)
  # The wheel, built with ASan+UBSan, installed into a private virtual
  # environment made like the project's (from the same system python3, the
  # same scripts/requirements.txt), so that the project's venv keeps its
  # normal build; python3 itself is not instrumented, so the ASan runtime is
  # preloaded (it must be first in the process) and leak checking is off
  # (the interpreter's own allocations at exit are not the module's).
  CC_NAME=${CC:-cc}
  libasan=$("$CC_NAME" -print-file-name=libasan.so)
  if [ ! -e "$libasan" ]; then
    echo "sanitize: $CC_NAME has no libasan.so (use gcc: CC=gcc)" >&2
    exit 1
  fi
  venv=$BUILD/venv
  mkdir -p "$BUILD"
  if [ ! -x "$venv/bin/python3" ]; then
    flz_new_venv "$venv"
    "$venv/bin/python3" -m pip install -q --disable-pip-version-check -r "$ROOT/scripts/requirements.txt"
  fi
  "$venv/bin/python3" -m pip install -q --disable-pip-version-check --no-build-isolation \
    --no-deps --force-reinstall \
    -Cbuild-dir="$BUILD/wheel-build" \
    -Csetup-args=-Db_sanitize=address,undefined \
    -Csetup-args=-Db_lundef=false \
    -Csetup-args=-Dc_args=-fno-sanitize-recover=all "$ROOT"
  cd /tmp
  # Only pytest's interpreter gets the runtime, not the rig's jackd.
  "$venv/bin/python3" "$ROOT/tests/rig/rig.py" -- \
    env LD_PRELOAD="$libasan" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    "$venv/bin/python3" -m pytest -q -p no:cacheprovider "$ROOT/tests/python"
  ;;
esac
echo "sanitize: $MODE passed"
