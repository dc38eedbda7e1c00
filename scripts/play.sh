#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Set everything up and run the main job: build and install the
# flitzis_looper_rs wheel, then loop the given files (or a demo loop set it
# makes itself) until Ctrl-C. Arguments go to `python -m flitzis_looper_rs play`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps .
cd /tmp
exec python3 -m flitzis_looper_rs play "$@"
