#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Embedding from C through the INSTALLED files: configure this project with
# -Dinstall_c_libs=true, install it into a private prefix, build
# examples/offline-mix.c with nothing but `cc` and pkg-config, run it and
# check the mix it wrote frame by frame. Also links a program against
# flz-engine the same way (the whole engine, ALSA included).
#
# usage: examples/build-with-pkg-config.sh [WORKDIR]
#   WORKDIR defaults to a new temporary directory, removed on success.
# Environment: CC (default cc), PYTHON (default python3), MESON (default meson).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
CC=${CC:-cc}
PYTHON=${PYTHON:-python3}
MESON=${MESON:-meson}

if [ $# -ge 1 ]; then
	work=$1
	keep=1
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/flz-pkgconfig.XXXXXX")
	keep=0
fi
work=$(cd "$work" && pwd)
prefix=$work/prefix

step() { printf '\n== %s\n' "$*"; }

step "configure and install into $prefix"
# Only the C libraries: no Python module, tests, examples or benchmarks needed.
wipe=
[ -d "$work/build/meson-private" ] && wipe=--wipe
"$MESON" setup "$work/build" "$src" $wipe -Dinstall_c_libs=true -Dpython=disabled \
	-Dtests=disabled -Dexamples=false -Drig=disabled --prefix="$prefix" \
	--libdir=lib >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; exit 1; }
"$MESON" compile -C "$work/build" >"$work/compile.log" 2>&1 || { cat "$work/compile.log"; exit 1; }
"$MESON" install -C "$work/build" --quiet >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }

PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export PKG_CONFIG_PATH

step "pkg-config files"
for pc in flz-common flz-voice flz-mixer flz-loader flz-transport flz-eq flz-engine; do
	pkg-config --exists --print-errors "$pc"
	printf '%-11s --cflags --libs: %s\n' "$pc" "$(pkg-config --cflags --libs "$pc")"
done
# The libraries are static, so what linking one needs is public (Requires,
# Libs), not private: a plain `pkg-config --libs` must be enough.
need() {
	pc=$1
	shift
	libs=" $(pkg-config --libs "$pc") "
	for flag in "$@"; do
		case "$libs" in
		*" $flag "*) ;;
		*) echo "pkg-config --libs $pc lacks $flag: $libs" >&2; exit 1 ;;
		esac
	done
}
need flz-voice -lflz-voice -lm
need flz-mixer -lflz-mixer -lflz-voice -lm
need flz-loader -lflz-loader -lsndfile -lsoxr -lm
need flz-transport -lflz-transport
need flz-eq -lflz-eq -lm
need flz-engine -lflz-engine -lflz-mixer -lflz-voice -lflz-loader -lasound -lsndfile -lsoxr \
	-lm -pthread

step "build examples/offline-mix.c against flz-mixer alone"
# shellcheck disable=SC2046  # word splitting of pkg-config's output is intended
"$CC" -std=c11 -Wall -Wextra -Werror -o "$work/offline-mix" "$here/offline-mix.c" \
	$(pkg-config --cflags --libs --static flz-mixer)

step "run it and check the mix"
out=$("$work/offline-mix" "$work/mix.wav")
echo "$out"
lat=$(echo "$out" | sed -n 's/.*mixer latency \([0-9][0-9]*\) frames.*/\1/p')
[ -n "$lat" ] || { echo "offline-mix did not report the mixer latency" >&2; exit 1; }
"$PYTHON" "$here/check-offline-mix.py" "$work/mix.wav" "$lat"

step "link a program against flz-engine (the whole engine)"
cat >"$work/engine-probe.c" <<'EOF'
#include <stdio.h>
#include <flz/engine.h>

/* Create an engine (opens no device), read its stats, and list the devices. */
int main(void)
{
	struct flz_engine_config cfg = flz_engine_config_init();
	struct flz_engine *engine = NULL;
	int err = flz_engine_new(&cfg, &engine);
	if (err < 0) {
		fprintf(stderr, "flz_engine_new: %s\n", flz_strerror(err));
		return 1;
	}
	struct flz_engine_stats st;
	flz_engine_get_stats(engine, &st);
	struct flz_device *devices = NULL;
	int64_t n = flz_engine_list_devices(&devices);
	printf("engine created: running=%d; %lld playback devices listed\n", (int)st.running,
	       (long long)n);
	flz_engine_free_devices(devices, n > 0 ? (size_t)n : 0);
	flz_engine_destroy(engine);
	return st.running || n < 0;
}
EOF
# Without --static: libsndfile's own private dependencies (FLAC, Vorbis, Opus,
# LAME, mpg123) are only needed when libsndfile itself is linked statically.
# shellcheck disable=SC2046
"$CC" -std=c11 -Wall -Wextra -Werror -o "$work/engine-probe" "$work/engine-probe.c" \
	$(pkg-config --cflags --libs flz-engine)
"$work/engine-probe"

step "ok"
if [ "$keep" = 0 ]; then
	rm -rf "$work"
fi
