# SPDX-License-Identifier: MIT
"""Registers the suite's fixtures; they live in stresskit.py with the helpers."""

from stresskit import fault_rig, rig_env  # noqa: F401
