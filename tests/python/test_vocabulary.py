# SPDX-License-Identifier: MIT
"""The one vocabulary (common/include/flz/vocabulary.h) and the Python types agree.

The module exposes the vocabulary it was compiled from as
_native._vocabulary(); these tests check that every kind there has its
AudioMessage type with exactly the documented fields, that the header in the
source tree is the one the installed module was built from, and that the
stubs name every command.
"""

import os
import re

import pytest

import flitzis_looper_rs as fl
from flitzis_looper_rs import AudioMessage, _native

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = os.path.join(REPO, "common", "include", "flz", "vocabulary.h")

VOCAB = _native._vocabulary()
#: What a field of each KIND reads as when the constructor did not set it.
DEFAULTS = {"SLOT": None, "SEQ": 0, "FRAME": 0, "ERRNO": 0, "ERRTEXT": None, "CMD": None,
            "CMDVALUE": None, "REQUEST": 0, "FRACTION": None, "STAGE": None, "DURATION": None,
            "EXC": None}
#: An exception compares by identity: the one instance stands for itself.
_EXC = FileNotFoundError(2, "No such file or directory", "x.wav")
#: A value of each KIND the constructor accepts, and what it reads back as.
SAMPLES = {"SLOT": (7, 7), "SEQ": (2**40, 2**40), "FRAME": (-5, -5), "ERRNO": (-32, -32),
           "ERRTEXT": ("Broken pipe", "Broken pipe"), "CMD": ("stop_all", "stop_all"),
           "CMDVALUE": (1, 1.0), "REQUEST": (2**40, 2**40), "FRACTION": (0.5, 0.5),
           "STAGE": ("decode", "decode"), "DURATION": (2, 2.0), "EXC": (_EXC, _EXC)}


def test_vocabulary_shape():
    cmds = VOCAB["commands"]
    assert [c[0] for c in cmds] == list(range(1, len(cmds) + 1)), "numbers are 1..n, in order"
    assert len({c[1] for c in cmds}) == len(cmds)
    assert {c[1] for c in cmds if c[2]} == {"play", "volume", "speed", "play_exclusive", "seek",
                                             "pad_gain", "pad_speed", "loop_region",
                                             "master_bpm", "beats_per_bar", "anchor",
                                             "pad_bpm", "pad_downbeat", "bpm_lock",
                                             "key_lock", "pad_key_lock"}
    msgs = VOCAB["messages"]
    assert [m[0] for m in msgs] == list(range(1, len(msgs) + 1))
    assert [m[1] for m in msgs] == ["Pong", "Stopped", "XRun", "DeviceLost", "Applied",
                                    "Started", "LoadProgress", "LoadDone", "LoadFailed"]
    for _, _, fields, _ in msgs:
        for _, kind, doc in fields:
            assert kind in DEFAULTS
            assert doc


@pytest.mark.parametrize("number,name,fields,doc", VOCAB["messages"],
                         ids=[m[1] for m in VOCAB["messages"]])
def test_message_type_matches_vocabulary(number, name, fields, doc):
    cls = getattr(AudioMessage, name)
    assert issubclass(cls, AudioMessage) and cls is not AudioMessage
    assert cls.__qualname__ == "AudioMessage." + name
    assert cls.__doc__ == doc
    names = [f[0] for f in fields]
    plain = cls()
    # repr lists exactly the fields, in vocabulary order, with their defaults.
    assert repr(plain) == "AudioMessage.%s(%s)" % (
        name, ", ".join("%s=%r" % (f, DEFAULTS[k]) for f, k, _ in fields))
    kwargs = {}
    for field, kind, fdoc in fields:
        assert getattr(plain, field) == DEFAULTS[kind]
        assert getattr(cls, field).__doc__ == fdoc
        with pytest.raises(AttributeError):
            setattr(plain, field, SAMPLES[kind][0])
        kwargs[field] = SAMPLES[kind][0]
    full = cls(**kwargs)
    for field, kind, _ in fields:
        assert getattr(full, field) == SAMPLES[kind][1]
    assert full == cls(**kwargs) and hash(full) == hash(cls(**kwargs))
    if fields:
        assert full != plain
    with pytest.raises(TypeError, match="unexpected keyword argument 'nonesuch'"):
        cls(nonesuch=1)
    # No attribute beyond the vocabulary's.
    extra = {a for a in vars(cls) if not a.startswith("_")}
    assert extra == set(names)


def test_ping_is_python_only():
    assert "Ping" not in {m[1] for m in VOCAB["messages"]}
    assert repr(AudioMessage.Ping()) == "AudioMessage.Ping()"
    kinds = {n for n in vars(AudioMessage) if isinstance(getattr(AudioMessage, n), type)}
    assert kinds == {"Ping"} | {m[1] for m in VOCAB["messages"]}


def test_applied_cmd_doc_names_every_command():
    doc = AudioMessage.Applied.cmd.__doc__
    for _, name, _, _ in VOCAB["commands"]:
        assert "'%s'" % name in doc


def test_stubs_name_every_command():
    stub = os.path.join(os.path.dirname(fl.__file__), "__init__.pyi")
    with open(stub, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"def cmd\(self\) -> Optional\[\s*Literal\[([^\]]*)\]", text)
    assert m, "the stubs type Applied.cmd as a Literal"
    literal = re.findall(r'"(\w+)"', m.group(1))
    assert literal == [c[1] for c in VOCAB["commands"]]


def test_source_header_is_the_compiled_one():
    if not os.path.exists(HEADER):
        pytest.skip("no source tree beside the tests")
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    cmds = re.findall(r'X\((\w+), (\d+), "(\w+)", ([01]),', text)
    assert [(int(n), name, v == "1") for _, n, name, v in cmds] == \
        [(c[0], c[1], c[2]) for c in VOCAB["commands"]]
    msgs = re.findall(r'X\((\w+), (\d+), "(\w+)", FLZ_MSG_FIELDS_(\w+),', text)
    assert [(int(n), name) for _, n, name, _ in msgs] == [(m[0], m[1]) for m in VOCAB["messages"]]
    for (suffix, _, _, fields_suffix), (_, _, fields, _) in zip(msgs, VOCAB["messages"]):
        assert suffix == fields_suffix
        body = re.search(r"#define FLZ_MSG_FIELDS_%s\(F\)(.*?)\n\n" % suffix, text, re.S)
        assert body, suffix
        decl = re.findall(r"F\((\w+), (\w+), (\w+),", body.group(1))
        assert [(f, k) for f, _, k in decl] == [(f[0], f[1]) for f in fields]


# -- the module in today's CPython style: state per module object --------------

SUBINTERP_SCRIPT = r"""
import os, sys
import flitzis_looper_rs as fl
try:
    import _interpreters as si  # 3.13+
except ImportError:
    import _xxsubinterpreters as si
rfd, wfd = os.pipe()
interp = si.create()
code = '''
import os
import flitzis_looper_rs._native as n
e = n.AudioEngine(device="nonesuch")
m = n.AudioMessage.Applied(cmd="stop_all", seq=3)
os.write(%d, ("%%d|%%r|%%r" %% (id(n.AudioEngine), m, e)).encode())
'''
si.run_string(interp, code % wfd)
si.destroy(interp)
os.close(wfd)
their_id, msg, engine = os.read(rfd, 4096).decode().split("|")
print(int(their_id) != id(fl.AudioEngine), msg, engine, sep="|")
"""


def test_subinterpreter_has_its_own_module():
    """Multi-phase init: a subinterpreter imports its own module object, types and
    state, and tears them down with it (a single-phase module with process
    globals would share one AudioEngine type between interpreters)."""
    import subprocess
    import sys
    try:
        import _interpreters  # noqa: F401
    except ImportError:
        pytest.importorskip("_xxsubinterpreters")
    out = subprocess.run([sys.executable, "-c", SUBINTERP_SCRIPT], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    distinct, msg, engine = out.stdout.strip().split("|")
    assert distinct == "True"
    assert msg == "AudioMessage.Applied(cmd='stop_all', id=None, value=None, frame=0, seq=3)"
    assert engine.startswith("<AudioEngine device='nonesuch' ") and engine.endswith(": stopped>")


def test_reload_keeps_the_module_usable():
    import importlib
    before = _native.AudioEngine
    assert importlib.reload(_native) is _native
    assert _native.AudioEngine is before and fl.AudioEngine is before
    assert AudioMessage.Pong(seq=1) == _native.AudioMessage.Pong(seq=1)


def test_types_keep_their_static_behaviour():
    import sys
    if sys.version_info >= (3, 10):  # Py_TPFLAGS_IMMUTABLETYPE
        with pytest.raises(TypeError):
            fl.AudioEngine.nonesuch = 1  # immutable, as the static type was
    with pytest.raises(TypeError):
        type("Sub", (fl.AudioEngine,), {})
    assert type(vars(fl.AudioEngine)["list_devices"]) is staticmethod


def test_stubs_type_every_stats_key():
    stub = os.path.join(os.path.dirname(fl.__file__), "__init__.pyi")
    with open(stub, encoding="utf-8") as f:
        text = f.read()
    body = re.search(r"class EngineStats\(TypedDict\):(.*?)\n\n(?:class|@|def)", text, re.S)
    assert body, "the stubs define EngineStats"
    keys = re.findall(r"^    (\w+): (\w+)$", body.group(1), re.M)
    types = {"int": int, "float": float, "str": str, "bool": bool}
    stats = fl.AudioEngine(device="nonesuch").stats()
    assert set(stats) == {k for k, _ in keys}
    for key, typ in keys:
        assert type(stats[key]) is types[typ], key
