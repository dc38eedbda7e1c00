# SPDX-License-Identifier: MIT
"""Type stubs of flitzis_looper_rs (the C extension flitzis_looper_rs._native)."""

import os
from types import TracebackType

import numpy
import numpy.typing

from typing_extensions import disjoint_base
from typing import Any, ClassVar, Dict, List, Literal, Mapping, NamedTuple, Optional, Tuple, Type, TypedDict, Union, final

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

class EngineStats(TypedDict):
    """(For type checkers only: not importable at run time.) What AudioEngine.stats() returns: the engine's configuration as granted
    by the device and its counters. Works when stopped too (then the counters
    of the last run)."""

    sample_rate: int
    """The granted sample rate in Hz."""
    channels: int
    """The granted channel count."""
    format: str
    """The device's sample format, e.g. "S16_LE", "S32_LE", "FLOAT_LE"."""
    period_frames: int
    """The granted frames per ALSA period."""
    periods: int
    """The granted periods in the ALSA buffer."""
    latency_frames: int
    """Output latency in frames: the device's buffer plus the mixer's delay (0).
    The buffer is period_frames * periods on ALSA, one period on "wav:PATH"
    (the block rendered ahead of its deadline), none on "offline" (0 there)."""
    latency_ms: float
    """latency_frames in milliseconds."""
    xruns: int
    xruns_stalled: int
    """Underruns since run()."""
    rt_priority: int
    """The SCHED_FIFO priority the audio thread got; 0 at normal priority."""
    rt_error: int
    """The errno of a refused SCHED_FIFO (e.g. EPERM), else 0."""
    voices_playing: int
    """Voices playing now."""
    load: float
    """Share of the period spent rendering, 0..1, over the last second."""
    frames: int
    """Output frames rendered since run()."""
    messages_dropped: int
    """Messages the audio thread could not queue because nobody read them."""
    device_lost: bool
    """True once the device failed; call shut_down() and run() again."""
    running: bool
    """True between a successful run() and shut_down()."""
    device: str
    """The ALSA PCM name the engine opens."""
    memory_locked: bool
    """Whether every buffer the audio thread works in (and its stack) is locked
    in RAM (mlock), so that the audio thread never waits for a page to be read
    back; False when the system refused (RLIMIT_MEMLOCK, logged once)."""
    locked_bytes: int
    """Bytes the engine locked (0 when not running or refused)."""
    file_dropped_frames: int
    """Device "wav:PATH": frames played but not written to the file because the
    writer thread fell behind (its ring of about 2 s was full); 0 on other
    devices."""
    file_write_errors: int
    """Device "wav:PATH": failed or short writes to the file (a full disk; the
    first is logged); 0 on other devices."""
    recording: bool
    """Whether start_recording() is recording now (reported when stopped too)."""
    record_dropped: int
    """Frames played but not recorded because the recording's writer fell
    behind (its ring of at least 2 s was full; whole blocks), for the current
    recording or, when none, the last one; logged once."""
    record_write_errors: int
    """Failed or short writes to the recording's file (a full disk), for the
    current recording or the last one; the first is logged."""
    key_lock_refused: int
    """Key-locked plays that found no free key-lock processor (more at once
    than AudioEngine(key_lock_voices=...)) and played unlocked, since run()."""
    key_lock_deferred: int
    """Key-locked plays that sounded later than their frame, by whole blocks,
    because their stretcher's priming did not fit in the per-block budget
    (their Started.frame is the frame they sounded from), since run()."""
    key_lock_deferred_frames: int
    """The frames those plays were late by, summed, since run()."""

class SampleInfo(NamedTuple):
    """What AudioEngine.sample_info() reports of a slot's sample (a named tuple)."""

    n_frames: int
    """Frames of the sample as it plays (at sample_rate)."""
    channels: int
    """Channels: the engine's (samples are mapped when loaded)."""
    sample_rate: int
    """The sample's rate in Hz: the engine's (converted when loaded)."""
    duration_s: float
    """n_frames / sample_rate, in seconds."""
    source_sample_rate: int
    """The rate of the file before conversion, in Hz."""
    source: str
    """The path the sample was loaded from, or '<memory>'."""

class Transport(NamedTuple):
    """What AudioEngine.transport() reports (a named tuple), as the audio thread
    published it after its last block."""

    frame: int
    """The output frame this describes: the end of the last block rendered."""
    bpm: float
    """The master tempo in beats per minute."""
    beats_per_bar: int
    """Beats per bar, 1..16."""
    bar: int
    """The bar at frame, counted from 0 at the downbeat (negative before it)."""
    beat: float
    """The beat within the bar at frame, a float in 0 <= beat < beats_per_bar."""
    downbeat_frame: int
    """The downbeat (bar 0, beat 0), rounded to a whole frame."""

class PadMeter(NamedTuple):
    """One pad's entry in Meters.pads (a named tuple)."""

    peak: float
    """Max |x| of the pad's contribution (after its gain and EQ) over the interval."""
    position_s: float
    """Its newest sounding voice's position in the sample, in seconds."""

class Meters(NamedTuple):
    """What AudioEngine.meters() reports (a named tuple): one interval's exact
    peaks, as the audio thread published them."""

    frame: int
    """The first output frame after the interval described (0: none yet)."""
    master_peak: Tuple[float, ...]
    """Per output channel, max |x| over the interval after the master gain."""
    master_clip: bool
    """True when some channel's peak reached 1.0."""
    pads: Mapping[int, PadMeter]
    """A read-only mapping {slot: PadMeter} of each pad whose contribution was non-zero in the interval."""

#: The quantisation modes of set_trigger_quantization() and play_sample(quantize=).
_QuantizeMode = Literal["off", "1/64", "1/32", "1/16", "1/8", "1/4", "1/2", "bar"]

@final
class Device(Tuple[str, Optional[str]]):
    """An ALSA PCM that can play, as returned by AudioEngine.list_devices().

    A named tuple (a C struct sequence): index, unpack and compare it like
    a tuple. Built from one 2-sequence: Device((name, description)).
    """

    n_fields: ClassVar[int]
    n_sequence_fields: ClassVar[int]
    n_unnamed_fields: ClassVar[int]
    __match_args__: ClassVar[Tuple[Literal["name"], Literal["description"]]]
    def __new__(cls, sequence: Tuple[str, Optional[str]]) -> "Device": ...
    @property
    def name(self) -> str:
        """The ALSA PCM name; pass it (or the record) as AudioEngine(device=...)."""
    @property
    def description(self) -> Optional[str]:
        """ALSA's description (may span several lines), or None when it has none."""

@disjoint_base
class AudioMessage:
    """A message from the audio thread, returned by AudioEngine.receive_msg()."""

    Ping: ClassVar[Type["_Ping"]]
    Pong: ClassVar[Type["_Pong"]]
    Stopped: ClassVar[Type["_Stopped"]]
    XRun: ClassVar[Type["_XRun"]]
    DeviceLost: ClassVar[Type["_DeviceLost"]]
    Applied: ClassVar[Type["_Applied"]]
    Started: ClassVar[Type["_Started"]]
    LoadProgress: ClassVar[Type["_LoadProgress"]]
    LoadDone: ClassVar[Type["_LoadDone"]]
    LoadFailed: ClassVar[Type["_LoadFailed"]]
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
        Literal[
            "load",
            "play",
            "stop",
            "stop_all",
            "unload",
            "volume",
            "speed",
            "ping",
            "play_exclusive",
            "pause",
            "resume",
            "seek",
            "pad_gain",
            "pad_speed",
            "loop_region",
            "master_bpm",
            "beats_per_bar",
            "anchor",
            "pad_bpm",
            "pad_downbeat",
            "bpm_lock",
            "pad_eq",
            "key_lock",
            "pad_key_lock",
        ]
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

class _Started(AudioMessage):
    """A voice of pad id sounded its first frame at output frame frame."""

    @property
    def id(self) -> Optional[int]: ...
    @property
    def frame(self) -> int: ...
    @property
    def seq(self) -> int: ...
    def __init__(self, *, id: Optional[int] = ..., frame: int = ..., seq: int = ...) -> None: ...

class _LoadProgress(AudioMessage):
    """A load_sample_async() request moved on; fraction rises within a request."""

    @property
    def request(self) -> int: ...
    @property
    def id(self) -> Optional[int]: ...
    @property
    def fraction(self) -> Optional[float]: ...
    @property
    def stage(self) -> Optional[str]: ...
    def __init__(
        self,
        *,
        request: int = ...,
        id: Optional[int] = ...,
        fraction: Optional[float] = ...,
        stage: Optional[str] = ...,
    ) -> None: ...

class _LoadDone(AudioMessage):
    """A load_sample_async() request was published to its pad (its last message)."""

    @property
    def request(self) -> int: ...
    @property
    def id(self) -> Optional[int]: ...
    @property
    def duration_s(self) -> Optional[float]: ...
    def __init__(
        self, *, request: int = ..., id: Optional[int] = ..., duration_s: Optional[float] = ...
    ) -> None: ...

class _LoadFailed(AudioMessage):
    """A load_sample_async() request ended unpublished (its last message)."""

    @property
    def request(self) -> int: ...
    @property
    def id(self) -> Optional[int]: ...
    @property
    def error(self) -> Optional[BaseException]: ...
    def __init__(
        self,
        *,
        request: int = ...,
        id: Optional[int] = ...,
        error: Optional[BaseException] = ...,
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
        load_workers: int = 2,
        meter_hz: float = 30.0,
        key_lock_voices: int = 8,
    ) -> "AudioEngine": ...
    @property
    def device(self) -> str: ...
    @property
    def running(self) -> bool: ...
    @property
    def frame(self) -> int:
        """Output frames rendered since run() (NotRunningError when not running)."""
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
    def load_sample_data(self, id: int, data: Union[bytes, bytearray, memoryview]) -> None:
        """As load_sample(), from an encoded file (WAV, FLAC, Ogg, MP3...) held in memory."""
    def load_sample_array(
        self, id: int, array: numpy.typing.NDArray[Any], sample_rate: int
    ) -> None:
        """As load_sample(), from float32 or int16 PCM of shape (frames,) or (frames, channels)
        at sample_rate Hz, converted as a WAV file of the same frames would be. A NaN or
        infinity in a float32 array raises ValueError naming where it is."""
    def load_sample_async(
        self,
        id: int,
        source: Union[
            str,
            "os.PathLike[str]",
            "os.PathLike[bytes]",
            bytes,
            bytearray,
            memoryview,
            numpy.typing.NDArray[Any],
        ],
        *,
        sample_rate: Optional[int] = None,
    ) -> int:
        """Queue a load on the loader threads and return its request id at once;
        receive_msg() yields LoadProgress..., then LoadDone or LoadFailed. QueueFullError
        while 256 requests' last messages have not been received."""
    def cancel_load(self, request: int) -> bool:
        """Cancel a request (it ends LoadFailed, unpublished); False once it ended."""
    def play_sample(
        self,
        id: int,
        volume: float = 1.0,
        *,
        at_frame: Optional[int] = None,
        quantize: Optional[_QuantizeMode] = None,
    ) -> None:
        """Start a looping voice: at once, at output frame at_frame, or on the
        next grid frame of quantize (default: set_trigger_quantization())."""
    def play_sample_exclusive(self, id: int, volume: float = 1.0) -> None:
        """In one block: every voice fades out (as stop_all()) and this one starts."""
    def pause_sample(self, id: int) -> None:
        """Hold every voice of the pad at its position (5 ms fade out); a locked one runs on silently."""
    def resume_sample(self, id: int) -> None:
        """Continue the pad's paused voices where they held (a locked one in phase; 5 ms fade in)."""
    def seek_sample(self, id: int, position_s: float) -> None:
        """Move every voice of the pad to position_s in its sample (5 ms crossfade)."""
    def set_pad_gain(self, id: int, gain_db: float) -> None:
        """The pad's gain, -60..+12 dB (-60 mutes); 10 ms glide."""
    def set_pad_eq(self, id: int, low_db: float, mid_db: float, high_db: float) -> None:
        """The pad's 3-band isolator (250 Hz, 4 kHz), each band -60..+6 dB (-60 kills);
        0, 0, 0 is an exact bypass; 10 ms glide."""
    def set_pad_speed(self, id: int, speed: float) -> None:
        """The pad's speed, 0.5..2.0, times the global speed (varispeed)."""
    def set_pad_loop_region(
        self, id: int, start_s: float, end_s: Optional[float] = None
    ) -> None:
        """Loop the pad's voices over [start_s, end_s) (None: to the sample's end)."""
    def sample_info(self, id: int) -> Optional[SampleInfo]:
        """The slot's sample as last loaded, or None for an empty slot."""
    def waveform(
        self, id: int, width: int, start_s: float = 0.0, end_s: Optional[float] = None
    ) -> numpy.typing.NDArray[numpy.float32]:
        """(width, 2) min and max of the slot's mono mix per column over [start_s, end_s)."""
    def stop_sample(self, id: int) -> None: ...
    def stop_all(self) -> None: ...
    def unload_sample(self, id: int) -> None: ...
    def set_volume(self, volume: float) -> None: ...
    def set_speed(self, speed: float) -> None: ...
    def ping(self) -> None: ...
    def receive_msg(self) -> Optional[AudioMessage]: ...
    def render(self, n_frames: int) -> numpy.typing.NDArray[numpy.float32]:
        """Offline engines only: the next n_frames as a (n_frames, channels) array."""
    def set_master_bpm(self, bpm: float) -> None:
        """The transport's tempo, 20..300 BPM, keeping the position within the bar."""
    def set_pad_bpm(self, id: int, bpm: Optional[float]) -> None:
        """The pad's tempo for the tempo lock, 20..300 BPM, or None for none."""
    def set_pad_downbeat(self, id: int, offset_s: float) -> None:
        """Where the pad's first downbeat lies in its sample, in seconds."""
    def set_bpm_lock(self, enabled: bool) -> None:
        """Tempo lock on or off for every pad with a tempo (off at run())."""
    def set_key_lock(self, enabled: bool) -> None:
        """Key lock (pitch kept while the speed changes) for the pads that follow
        it, for plays started after it (off at run())."""
    def set_pad_key_lock(self, id: int, enabled: Optional[bool]) -> None:
        """The pad's own key lock; None follows set_key_lock()."""
    def set_beats_per_bar(self, n: int) -> None:
        """Beats per bar, 1..16 (the downbeat stays)."""
    def anchor_transport(self, frame: Optional[int] = None) -> None:
        """Make output frame frame (None: now) a downbeat."""
    def transport(self) -> Transport:
        """The transport as the audio thread published it after its last block."""
    def set_trigger_quantization(self, mode: _QuantizeMode) -> None:
        """How play_sample() without at_frame or quantize starts (default 'off')."""
    def start_recording(self, path: Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]) -> None:
        """Write every frame played from now on to path, a 32-bit float WAV (the
        mix clipped to -1..1, before the device's format conversion; render()
        feeds it offline). Raises EngineNotRunning when stopped,
        RuntimeError("already recording"), an OSError subclass
        (FileNotFoundError, PermissionError...) when the file cannot be
        created, ValueError for an empty path. Releases the GIL."""
    def stop_recording(self) -> int:
        """End the recording, finalise the file, return the frames written
        (0 when not recording). Releases the GIL."""
    def meters(self) -> Meters:
        """The latest meter snapshot (never waits for the audio thread): the
        output is cut into intervals of round(sample_rate / meter_hz) frames
        from frame 0, and a snapshot describes the interval that ends just
        before its frame, with exact peaks. Before the first interval ends:
        Meters(0, (0.0,) * channels, False, {}). Immutable (pads is a
        read-only mapping): while no newer snapshot is published, a call
        returns the same object, without taking the engine's lock. Raises
        NotRunningError when stopped."""
    def stats(self) -> EngineStats:
        """A dict describing the engine (see EngineStats). Works when stopped too."""
    def __enter__(self) -> "AudioEngine": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]: ...
