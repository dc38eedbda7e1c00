# SPDX-License-Identifier: MIT
"""flitzis_looper_rs: a low-latency sample looper engine for Python.

The engine is written in C: a real-time mixer played by a direct ALSA mmap
thread (SCHED_FIFO where the system permits it). Python talks to it through
:class:`AudioEngine`; the audio thread answers with :class:`AudioMessage`
objects.

Example::

    import flitzis_looper_rs as fl

    with fl.AudioEngine() as engine:
        engine.load_sample(0, "loop.wav")
        engine.play_sample(0, 0.8)
        ...
        engine.stop_sample(0)

Constants: ``NUM_SAMPLES`` (216 slots: 6 banks x 36 pads), ``MAX_VOICES``
(32), ``SPEED_MIN``/``SPEED_MAX`` (0.5..2.0), ``VOLUME_MIN``/``VOLUME_MAX``
(0.0..1.0).

Errors: ``QueueFullError`` (the command queue is full), ``NotRunningError``
(the engine is not running) and ``DeviceError`` (the device cannot be opened
or configured, or was lost) are subclasses of ``RuntimeError``.

``AudioEngine.sample_info(id)`` describes a slot's sample as a
:class:`SampleInfo` named tuple.

``AudioEngine.transport()`` reports the transport (tempo, bar, beat) as a
:class:`Transport` named tuple; ``play_sample(id, at_frame=N)`` and
``play_sample(id, quantize="1/4")`` start a voice exactly on a frame or on
the next grid frame.

``AudioEngine.list_devices()`` lists the ALSA PCMs that can play, as
:class:`Device` ``(name, description)`` named tuples.

Diagnostics (a refused SCHED_FIFO, xruns, a lost device) go to the
``logging`` logger ``"flitzis_looper_rs"``.
"""

import atexit as _atexit

from ._native import (
    MAX_VOICES,
    NUM_SAMPLES,
    SPEED_MAX,
    SPEED_MIN,
    VOLUME_MAX,
    VOLUME_MIN,
    AudioEngine,
    AudioMessage,
    Device,
    DeviceError,
    NotRunningError,
    QueueFullError,
    Meters,
    PadMeter,
    SampleInfo,
    Transport,
)
from ._native import _shutdown_all
from ._version import __version__  # written by meson from VERSION

__all__ = [
    "AudioEngine",
    "AudioMessage",
    "Device",
    "DeviceError",
    "NotRunningError",
    "QueueFullError",
    "Meters",
    "PadMeter",
    "SampleInfo",
    "Transport",
    "NUM_SAMPLES",
    "MAX_VOICES",
    "SPEED_MIN",
    "SPEED_MAX",
    "VOLUME_MIN",
    "VOLUME_MAX",
]

# An engine left running at interpreter exit is shut down before the
# interpreter tears down (the audio thread must not outlive it).
_atexit.register(_shutdown_all)
