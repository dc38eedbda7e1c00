#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The embedding checks, for CI:
#  1. examples/build-with-pkg-config.sh: install with -Dinstall_c_libs=true,
#     build examples/offline-mix.c with cc + pkg-config (flz-mixer alone),
#     check the mix it renders frame by frame, link a program against flz-engine;
#  2. tests/embed/subproject-consumer: a separate Meson project that takes
#     this tree as the subproject 'flitzis_looper_rs' (a symlink in its
#     subprojects/ directory) and uses dependency('flz-mixer') only; its
#     test renders with libmixer and checks the output frame by frame.
#
# usage: tests/embed/run.sh [WORKDIR]   (default: a temporary directory,
# removed on success). Needs meson, ninja, a C compiler, pkg-config, python3,
# and the -dev packages the project builds with. Takes well under a minute.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
MESON=${MESON:-meson}

if [ $# -ge 1 ]; then
	work=$1
	keep=1
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/flz-embed.XXXXXX")
	keep=0
fi
work=$(cd "$work" && pwd)

echo "### 1/2: installed files + pkg-config"
sh "$src/examples/build-with-pkg-config.sh" "$work/pkg-config"

echo
echo "### 2/2: Meson subproject"
# The consumer is copied so that the source tree is never written to.
consumer=$work/consumer
rm -rf "$consumer"
mkdir -p "$consumer/subprojects"
cp "$here/subproject-consumer/meson.build" "$here/subproject-consumer/render-check.c" "$consumer/"
ln -s "$src" "$consumer/subprojects/flitzis_looper_rs"
"$MESON" setup "$consumer/build" "$consumer" >"$work/consumer-setup.log" 2>&1 ||
	{ cat "$work/consumer-setup.log"; exit 1; }
"$MESON" compile -C "$consumer/build" render-check >"$work/consumer-compile.log" 2>&1 ||
	{ cat "$work/consumer-compile.log"; exit 1; }
"$MESON" test -C "$consumer/build" --no-rebuild --print-errorlogs render-check
grep -q "as expected" "$consumer/build/meson-logs/testlog.txt"

echo
echo "embedding checks passed"
if [ "$keep" = 0 ]; then
	rm -rf "$work"
fi
