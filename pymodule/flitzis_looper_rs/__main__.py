# SPDX-License-Identifier: MIT
"""``python -m flitzis_looper_rs``: the command-line player (see player.py)."""

import sys

from .player import main

if __name__ == "__main__":
    sys.exit(main())
