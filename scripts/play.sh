#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Set everything up and run the main job: build the flitzis_looper_rs wheel
# and install it into the project's virtual environment (.venv), then loop
# the given files (or a demo loop set it makes itself) until q or Ctrl-C
# (on a terminal its keys play them: see README "The player").
# Arguments go to `python -m flitzis_looper_rs play`; relative paths are
# taken from the directory the script is run from, and so is --out.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
bash "$FLZ_ROOT/scripts/setup.sh"
echo "play: building and installing the flitzis_looper_rs wheel into $FLZ_VENV"
flz_install_wheel
flz_use_venv
# -I (isolated): the working directory is not put on sys.path, so the
# installed package is imported even when run from inside the source tree,
# and no PYTHON* variable of the caller's environment changes the interpreter.
exec "$FLZ_VENV_PY" -I -m flitzis_looper_rs play "$@"
