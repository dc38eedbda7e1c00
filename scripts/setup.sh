#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install everything flitzis_looper_rs needs to build, test and play on a
# Debian-like machine (Debian 12, Ubuntu 24.04): the system packages
# (apt-get, as root or through sudo), then the project's virtual environment
# .venv, made from the system's python3, with the Python build and test tools
# of scripts/requirements.txt in it. Nothing is installed into the system's
# Python. A second run that finds everything in place returns at once.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"

APT_PACKAGES=(
  build-essential pkg-config
  python3 python3-venv python3-dev
  libasound2-dev libsndfile1-dev libsoxr-dev check
  librubberband-dev
  jackd2 libjack-jackd2-dev libasound2-plugins
  valgrind clang libclang-rt-dev sox flac vorbis-tools lame
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  # jackd2 asks whether to enable real-time scheduling; answer for it.
  echo "jackd2 jackd/tweak_rt_limits boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

base=$(flz_base_python)
# What the venv was made from and with: the interpreter (resolved, with its
# version) and the requirements. A venv whose stamp differs is made again, so
# a venv left by another interpreter (or a system upgrade) is not reused.
want=$("$base" -c 'import os, sys; print(os.path.realpath(sys.executable), sys.version.split()[0])')
want="$want $(sha256sum "$FLZ_ROOT/scripts/requirements.txt" | cut -d' ' -f1)"
stamp=$FLZ_VENV/.flz-setup
if [ -x "$FLZ_VENV_PY" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: done (venv $FLZ_VENV up to date)"
  exit 0
fi

have=""
[ -x "$FLZ_VENV_PY" ] && have=$("$FLZ_VENV_PY" -c 'import os, sys; print(os.path.realpath(sys._base_executable), sys.version.split()[0])' 2>/dev/null || true)
if [ "$have" != "${want% *}" ]; then
  echo "setup: creating the virtual environment $FLZ_VENV from $base (${want% *})"
  rm -rf "$FLZ_VENV"
  flz_new_venv "$FLZ_VENV"
fi
echo "setup: installing the Python build and test tools into $FLZ_VENV"
"$FLZ_VENV_PY" -m pip install -q --disable-pip-version-check -r "$FLZ_ROOT/scripts/requirements.txt"
echo "$want" >"$stamp"
echo "setup: done"
