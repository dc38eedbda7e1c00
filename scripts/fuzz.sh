#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fuzz libloader's decode-from-memory path with libFuzzer.
#
#   scripts/fuzz.sh [SECONDS] [-- extra libFuzzer flags]
#
# Configures a separate clang build (AddressSanitizer + UBSan, coverage
# instrumentation on the project's code), writes the seed corpus (one small
# real file per format) and runs tests/fuzz/fuzz-loader for SECONDS
# (default 60) on 2 workers. The corpus grows in $BUILD/corpus and is kept
# between runs; a crash is written to $BUILD/artifacts/ and the script fails.
# Copy such a file to tests/fuzz/regressions/ once the bug is fixed.
#
# Environment: BUILD (default ./build-fuzz), JOBS (parallel fuzz jobs,
# default 2), CC (default clang).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$FLZ_ROOT"
ROOT=$PWD
# meson and ninja come from the project's venv (scripts/setup.sh).
flz_use_venv
SECONDS_TOTAL=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
[ "${1:-}" = "--" ] && shift
BUILD=${BUILD:-$ROOT/build-fuzz}
JOBS=${JOBS:-2}
export CC=${CC:-clang}

if [ ! -f "$BUILD/build.ninja" ]; then
  # -fsanitize=fuzzer-no-link puts coverage counters into every project
  # object, so libFuzzer is guided by libloader's branches; only the fuzz
  # target links the libFuzzer runtime. b_lundef=false: clang's sanitizer
  # runtimes are not resolved at link time of shared objects.
  meson setup "$BUILD" "$ROOT" --buildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer" \
    -Dtests=enabled -Dpython=disabled -Dexamples=false -Drig=disabled >"$ROOT/meson-setup-fuzz.log" \
    || { cat "$ROOT/meson-setup-fuzz.log"; rm -rf "$BUILD"; exit 1; }
fi
ninja -C "$BUILD" -j2 tests/fuzz/fuzz-loader tests/fuzz/flz-make-seeds >"$BUILD/ninja.log" \
  || { cat "$BUILD/ninja.log"; exit 1; }

"$BUILD/tests/fuzz/flz-make-seeds" "$BUILD/seeds"
mkdir -p "$BUILD/corpus" "$BUILD/artifacts"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
# Leaks inside system libraries that the project cannot fix (each one is
# documented in the file and has a regression input).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/fuzz/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# New inputs go to the first directory (corpus); the seeds are only read.
# -rss_limit_mb: the loader's memory is bounded by max_bytes (8 MiB in the
# target) plus the decoders' state and ASan's quarantine, far below this.
# -close_fd_mask=3: libsndfile (SDS reader: printf) and libmpg123 print to
# stdout and stderr on corrupt input, gigabytes of it in a long run;
# libFuzzer and the sanitizers keep reporting on a duplicate of stderr.
set +e
"$BUILD/tests/fuzz/fuzz-loader" "$BUILD/corpus" "$BUILD/seeds" \
  -max_total_time="$SECONDS_TOTAL" -jobs="$JOBS" -workers="$JOBS" \
  -rss_limit_mb=2048 -max_len=65536 -timeout=20 -print_final_stats=1 -close_fd_mask=3 \
  -artifact_prefix="$BUILD/artifacts/" "$@" 2>&1 | tee "$BUILD/fuzz.log" |
  grep -E '^#[0-9]+.*(DONE|pulse)|stat::|ERROR|SUMMARY|Test unit written' || true
status=${PIPESTATUS[0]}
set -e
# With -jobs, each worker logs to fuzz-N.log in the working directory.
for f in fuzz-*.log; do
  [ -f "$f" ] && mv "$f" "$BUILD/" 2>/dev/null
done
n_crash=$(find "$BUILD/artifacts" -type f | wc -l)
echo "fuzz: corpus $(find "$BUILD/corpus" -type f | wc -l) inputs, $n_crash crash/leak/timeout artifacts"
if [ "$status" -ne 0 ] || [ "$n_crash" -ne 0 ]; then
  echo "fuzz: FAILED (see $BUILD/fuzz*.log and $BUILD/artifacts/)" >&2
  exit 1
fi
