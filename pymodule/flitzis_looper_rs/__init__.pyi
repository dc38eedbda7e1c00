# SPDX-License-Identifier: MIT
"""Type stubs of flitzis_looper_rs (the C extension flitzis_looper_rs._native)."""

import os
from types import TracebackType
from typing import ClassVar, Dict, List, Literal, Optional, Tuple, Type, Union, final

__all__ = [
    "AudioEngine",
    "AudioMessage",
    "Device",
    "DeviceError",
    "NotRunningError",
    "QueueFullError",
    "NUM_SAMPLES",
    "MAX_VOICES",
    "SPEED_MIN",
    "SPEED_MAX",
    "VOLUME_MIN",
    "VOLUME_MAX",
]

__version__: str

NUM_SAMPLES: int
MAX_VOICES: int
SPEED_MIN: float
SPEED_MAX: float
VOLUME_MIN: float
VOLUME_MAX: float

class QueueFullError(RuntimeError):
    """A command could not be queued: the command buffer is full because the
    audio thread is not keeping up (the device stalled). Nothing was applied."""

class NotRunningError(RuntimeError):
    """The call needs a running engine ("Audio engine not initialized"): call
    run() first, or again after shut_down()."""

class DeviceError(RuntimeError):
    """The audio device cannot be opened or configured (raised by run(), naming
    the device and the reason), or it was lost while running."""

_Path = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
_StatValue = Union[int, float, str, bool]

@final
class Device(Tuple[str, Optional[str]]):
    """An ALSA PCM that can play, as returned by AudioEngine.list_devices().

    A named tuple (a C struct sequence): index, unpack and compare it like
    a tuple. Built from one 2-sequence: Device((name, description)).
    """

    def __new__(cls, sequence: Tuple[str, Optional[str]]) -> "Device": ...
    @property
    def name(self) -> str:
        """The ALSA PCM name; pass it (or the record) as AudioEngine(device=...)."""
    @property
    def description(self) -> Optional[str]:
        """ALSA's description (may span several lines), or None when it has none."""

class AudioMessage:
    """A message from the audio thread, returned by AudioEngine.receive_msg()."""

    Ping: ClassVar[Type["_Ping"]]
    Pong: ClassVar[Type["_Pong"]]
    Stopped: ClassVar[Type["_Stopped"]]
    XRun: ClassVar[Type["_XRun"]]
    DeviceLost: ClassVar[Type["_DeviceLost"]]
    Applied: ClassVar[Type["_Applied"]]
    def __init__(self) -> None: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

class _Ping(AudioMessage):
    """A ping (the engine answers ping() with a Pong)."""

    def __init__(self) -> None: ...

class _Pong(AudioMessage):
    """The audio thread's answer to ping()."""

    @property
    def seq(self) -> int: ...
    @property
    def frame(self) -> int: ...
    def __init__(self, *, seq: int = ..., frame: int = ...) -> None: ...

class _Stopped(AudioMessage):
    """The voices silenced by one stop/stop_all/unload have gone silent."""

    @property
    def id(self) -> Optional[int]: ...
    @property
    def seq(self) -> int: ...
    @property
    def frame(self) -> int: ...
    def __init__(self, *, id: Optional[int] = ..., seq: int = ..., frame: int = ...) -> None: ...

class _XRun(AudioMessage):
    """An underrun happened and was recovered."""

    @property
    def frame(self) -> int: ...
    def __init__(self, *, frame: int = ...) -> None: ...

class _DeviceLost(AudioMessage):
    """The device failed; the audio thread has ended."""

    @property
    def error(self) -> int: ...
    @property
    def reason(self) -> Optional[str]: ...
    def __init__(self, *, error: int = ..., reason: Optional[str] = ...) -> None: ...

class _Applied(AudioMessage):
    """With _trace_commands=True: a command the audio thread applied."""

    @property
    def cmd(self) -> Optional[
        Literal["load", "play", "stop", "stop_all", "unload", "volume", "speed", "ping"]
    ]: ...
    @property
    def id(self) -> Optional[int]: ...
    @property
    def value(self) -> Optional[float]: ...
    @property
    def frame(self) -> int: ...
    @property
    def seq(self) -> int: ...
    def __init__(
        self,
        *,
        cmd: Optional[str] = ...,
        id: Optional[int] = ...,
        value: Optional[float] = ...,
        frame: int = ...,
        seq: int = ...,
    ) -> None: ...

@final
class AudioEngine:
    """A real-time sample player over an ALSA PCM device."""

    def __new__(
        cls,
        *,
        device: Union[str, Device, None] = None,
        sample_rate: int = 48000,
        channels: int = 2,
        period_frames: int = 128,
        periods: int = 2,
        rt_priority: int = 70,
        _trace_commands: bool = False,
    ) -> "AudioEngine": ...
    @property
    def device(self) -> str: ...
    @property
    def running(self) -> bool: ...
    @property
    def sample_rate(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def period_frames(self) -> int: ...
    @property
    def periods(self) -> int: ...
    @property
    def rt_priority(self) -> int: ...
    @staticmethod
    def list_devices() -> List[Device]: ...
    def run(self) -> None: ...
    def shut_down(self) -> None: ...
    def load_sample(self, id: int, path: _Path) -> None: ...
    def play_sample(self, id: int, volume: float) -> None: ...
    def stop_sample(self, id: int) -> None: ...
    def stop_all(self) -> None: ...
    def unload_sample(self, id: int) -> None: ...
    def set_volume(self, volume: float) -> None: ...
    def set_speed(self, speed: float) -> None: ...
    def ping(self) -> None: ...
    def receive_msg(self) -> Optional[AudioMessage]: ...
    def stats(self) -> Dict[str, _StatValue]:
        """A dict describing the engine (docs/python-api.md lists the keys):
        sample_rate, channels, format, period_frames, periods, latency_frames,
        latency_ms, xruns, rt_priority, rt_error, voices_playing, load, frames,
        messages_dropped, device_lost, running, device, memory_locked (bool: the
        audio thread's memory is locked in RAM), locked_bytes. Works when
        stopped too."""
        ...
    def __enter__(self) -> "AudioEngine": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]: ...
