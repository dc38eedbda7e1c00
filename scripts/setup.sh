#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install everything flitzis_looper_rs needs to build, test and play on a
# Debian-like machine: the system libraries and tools (apt-get, as root or
# through sudo) and the Python build and test tools (pip).
set -euo pipefail

APT_PACKAGES=(
  build-essential pkg-config
  libasound2-dev libsndfile1-dev libsoxr-dev check
  jackd2 libjack-jackd2-dev libasound2-plugins
  valgrind clang sox flac vorbis-tools lame
)
PIP_PACKAGES=(meson meson-python ninja pytest numpy)

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

python3 -m pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
echo "setup: done"
