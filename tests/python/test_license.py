# SPDX-License-Identifier: MIT
"""The installed package's licence files (README "License").

A build with key lock links Rubber Band (GPL-2.0-or-later), so the wheel is
GPL-2.0-or-later as a whole: its metadata says so, and it carries the GPL
version 2 text beside the module (flitzis_looper_rs/GPL-2, installed by
pymodule/meson.build from -Dgpl_text, Debian's
/usr/share/common-licenses/GPL-2 by default), listed in the wheel's RECORD
(so it came with the wheel, not from elsewhere); the project's MIT LICENSE is
in the dist-info as before. A build without key lock carries no GPL text.
"""

import importlib.metadata
import os

import pytest

import flitzis_looper_rs as fl

DEBIAN_GPL2 = "/usr/share/common-licenses/GPL-2"
PKG_DIR = os.path.dirname(os.path.abspath(fl.__file__))


def _has_key_lock():
    with fl.AudioEngine(device="offline", key_lock_voices=0) as e:
        try:
            e.set_key_lock(True)
        except RuntimeError as err:
            if "stretch feature" in str(err):
                return False
            raise
    return True


def _record():
    """The wheel's RECORD: every file path it installed, with / separators."""
    return {str(f).replace(os.sep, "/") for f in importlib.metadata.files("flitzis_looper_rs")}


def test_license_files_match_the_build():
    meta = importlib.metadata.metadata("flitzis_looper_rs")
    record = _record()
    gpl_path = os.path.join(PKG_DIR, "GPL-2")
    assert any(f.endswith(".dist-info/licenses/LICENSE") for f in record), sorted(record)
    if not _has_key_lock():
        assert "flitzis_looper_rs/GPL-2" not in record
        assert not os.path.exists(gpl_path)
        return
    assert meta["License-Expression"] == "GPL-2.0-or-later", meta["License-Expression"]
    assert "flitzis_looper_rs/GPL-2" in record, sorted(record)
    with open(gpl_path, "rb") as f:
        text = f.read()
    # The GNU GPL version 2 itself, whole: its title, version line and the
    # last line of its terms.
    head = text[:400].decode("ascii")
    assert "GNU GENERAL PUBLIC LICENSE" in head and "Version 2, June 1991" in head, head
    assert b"END OF TERMS AND CONDITIONS" in text
    if os.path.isfile(DEBIAN_GPL2):
        with open(DEBIAN_GPL2, "rb") as f:
            assert text == f.read(), "flitzis_looper_rs/GPL-2 differs from " + DEBIAN_GPL2
