# SPDX-License-Identifier: MIT
# Sourced by the scripts that build or run Python: where the project's
# virtual environment is and how to use it. Every Python tool (meson,
# meson-python, ninja, pytest, numpy) and the installed wheel live in that
# venv, made from the system's python3, so that no script installs into an
# interpreter it does not own (PEP 668 forbids it on Debian and Ubuntu) and
# no other Python on PATH is picked up by accident.
#
# Environment: FLZ_PYTHON (the interpreter the venv is made from; default
# /usr/bin/python3), FLZ_VENV (default .venv at the repository root).

FLZ_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FLZ_VENV=${FLZ_VENV:-$FLZ_ROOT/.venv}
FLZ_VENV_PY=$FLZ_VENV/bin/python

flz_base_python() {
  if [ -n "${FLZ_PYTHON:-}" ]; then
    echo "$FLZ_PYTHON"
  elif [ -x /usr/bin/python3 ]; then
    echo /usr/bin/python3
  else
    command -v python3 || { echo "setup: no python3 found (install python3)" >&2; return 1; }
  fi
}

# A new virtual environment at $1 from the system's python3, with a current
# pip: Debian 12's (23.0) has no -C/--config-settings, which the wheel builds
# pass to meson-python.
flz_new_venv() {
  local base
  base=$(flz_base_python)
  "$base" -m venv "$1" || {
    echo "$(basename "$0"): '$base -m venv' failed; on Debian/Ubuntu install python3-venv" >&2
    exit 1
  }
  "$1/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
}

# Put the venv first on PATH: meson (the venv's) and the rig suites then run
# the venv's interpreter, which has the installed wheel.
flz_use_venv() {
  if [ ! -x "$FLZ_VENV_PY" ]; then
    echo "$(basename "$0"): no virtual environment at $FLZ_VENV (run: bash scripts/setup.sh)" >&2
    exit 1
  fi
  export VIRTUAL_ENV=$FLZ_VENV
  export PATH=$FLZ_VENV/bin:$PATH
  hash -r
}

# Build the wheel from this tree and install it into the venv. The build
# directory lives inside the venv, so a second run rebuilds only what changed
# and a new venv (another interpreter) starts from a clean build. Without
# build isolation meson-python runs the `meson` it finds on PATH: the venv's.
flz_install_wheel() {
  PATH=$FLZ_VENV/bin:$PATH "$FLZ_VENV_PY" -m pip install -q --disable-pip-version-check --no-build-isolation \
    --no-deps --force-reinstall -Cbuild-dir="$FLZ_VENV/wheel-build" "$FLZ_ROOT"
}
