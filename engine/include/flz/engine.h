/* SPDX-License-Identifier: MIT */
/**
 * @file flz/engine.h
 * The engine: a mixer (libmixer) played by a direct ALSA mmap playback
 * thread, a loader (libloader) on the control side, and the lock-free rings
 * between them. This is the C embedding API; the Python module is a thin
 * layer over it.
 *
 * Threads:
 *  - control: any application thread. Every function here is thread-safe;
 *    concurrent callers are serialised by a mutex on the control side, never
 *    on the audio side. That mutex is never held across blocking work:
 *    start and stop (device open, thread join) are serialised by a mutex of
 *    their own, so no other call waits for a device.
 *  - flz-audio: the playback thread, SCHED_FIFO where the system permits. It
 *    waits for the device, applies the queued commands, renders, commits.
 *    It never allocates, frees, locks, logs or does file I/O.
 *  - flz-house: a housekeeping thread that drops retired samples' references
 *    (freeing a sample when it held the last one) and calls
 *    the log callback (xruns, device lost). The log callback is never called
 *    on the audio thread.
 *
 * Commands (load, play, stop, stop all, unload, ping, the per-pad
 * controls: exclusive play, pause, resume, seek, pad gain, pad speed, loop
 * region, and the transport's: master tempo, beats per bar, anchor) travel
 * in order through a
 * ring of FLZ_QUEUE_CAPACITY fixed-size messages. When it is full the call
 * returns -EAGAIN and changes nothing. Master volume and speed are
 * latest-value parameters outside the ring: they are never refused and never
 * lost, and they take effect in call order with the commands around them.
 *
 * Device loss: when the device fails in a way recovery cannot fix (-ENODEV,
 * a dead sound server, or no progress for about one second), the audio
 * thread ends by itself, posts FLZ_MSG_DEVICE_LOST and sets
 * stats.device_lost; commands then return -ENODEV until flz_engine_stop().
 * The engine stays "running" (flz_engine_is_running()) until that stop.
 * A suspended device (-ESTRPIPE: system suspend) is not lost, however long
 * it stays suspended: the audio thread tries snd_pcm_resume() every 10 ms
 * (waiting in between, not spinning; flz_engine_stop() ends the wait at
 * once), and the stall clock does not run while resume says the device is
 * still suspended. A device that cannot resume is prepared and restarted.
 *
 * Samples in flight: at most FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT (2048) loads
 * may be in the engine's hands at once (queued, in a slot, playing, or
 * retired and not yet collected by the housekeeping thread); a load beyond
 * that returns -EAGAIN. A load leaves that count once the engine no longer
 * uses its sample, whether or not the caller (or another slot) still holds
 * a reference to it. This bound is what keeps the return ring of retired
 * samples from ever overflowing.
 *
 * Lifetime: flz_engine_new() allocates nothing that plays;
 * flz_engine_start() opens the device and starts the threads;
 * flz_engine_stop() stops them, closes the device, frees every sample; the
 * engine may be started again. flz_engine_destroy() stops it if needed.
 */
#ifndef FLZ_ENGINE_H
#define FLZ_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flz/constants.h>
#include <flz/error.h>
#include <flz/loader.h>
#include <flz/rt.h>
#include <flz/sample.h>
#include <flz/transport.h>
#include <flz/vocabulary.h>

#ifdef __cplusplus
extern "C" {
#endif

struct flz_engine;

/** Loaded samples the engine holds at most at once (see above). */
#define FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT 2048

enum flz_log_level {
	FLZ_LOG_ERROR = 0,
	FLZ_LOG_WARNING = 1,
	FLZ_LOG_INFO = 2,
	FLZ_LOG_DEBUG = 3,
};

/** Sample formats the engine can write to a device. */
enum flz_device_format {
	FLZ_FORMAT_UNKNOWN = 0,
	FLZ_FORMAT_FLOAT_LE,
	FLZ_FORMAT_S32_LE,
	FLZ_FORMAT_S24_3LE,
	FLZ_FORMAT_S16_LE,
};

struct flz_engine_config {
	/** The device: an ALSA PCM name; "offline" (no device and no audio
	 *  thread: the caller renders with flz_engine_render()); "wav:PATH"
	 *  (plays in real time, paced by CLOCK_MONOTONIC one period at a time,
	 *  writing every frame it plays to PATH as a 32-bit float WAV, whose
	 *  header is finalised at stop; "wav:" without a path is -EINVAL from
	 *  flz_engine_new()). NULL means "default". Copied by flz_engine_new(). */
	const char *device;
	/** Requested rate; the device may grant another, then samples load at
	 *  the granted rate. Default 48000. */
	uint32_t rate_hz;
	/** Requested channels. Default 2. */
	uint32_t n_channels;
	/** Frames per ALSA period (the render block). Default 128. */
	uint32_t period_frames;
	/** Periods in the ALSA buffer. Default 2. */
	uint32_t n_periods;
	/** Device sample format to insist on. FLZ_FORMAT_UNKNOWN (the default)
	 *  takes the first the device offers of FLOAT_LE, S32_LE, S24_3LE, S16_LE. */
	enum flz_device_format format;
	/** SCHED_FIFO priority to ask for, 1..99; 0 runs at normal priority
	 *  without asking. Default 70. */
	int rt_priority;
	/** When true, the audio thread reports each command it applies with a
	 *  FLZ_MSG_APPLIED message (for tests that re-render offline). Default false. */
	bool trace_commands;
	/** Diagnostics; called on a control-side thread (flz-house, or the
	 *  caller of flz_engine_start(), flz_engine_stop(), flz_engine_load_file()
	 *  or flz_engine_load_memory()), never on flz-audio. May be NULL.
	 *  alsa-lib's own error messages for the engine's ALSA calls come here
	 *  instead of stderr: those of start and stop at FLZ_LOG_INFO, on the
	 *  caller's thread, as 'alsa-lib: pcm.c:2666 (snd_pcm_open_noupdate):
	 *  Unknown PCM x'; those of the audio thread only counted there, and
	 *  logged by flz-house at FLZ_LOG_WARNING, without their arguments:
	 *  'alsa-lib on the audio thread: 2 messages so far, last: pcm.c:8574
	 *  (snd_pcm_recover): underrun occurred'. alsa-lib's
	 *  process-wide handler is never changed: the host's own ALSA calls
	 *  print as before, and a handler the host set gets the engine's
	 *  messages too. Without a log they are dropped. */
	void (*log)(void *userdata, enum flz_log_level level, const char *message);
	void *log_userdata;
	/** Meter snapshots per second (flz_engine_get_meters()), 1..200;
	 *  0 also means the default, 30, so that a config filled in by hand
	 *  before this field existed (zeroed, then set field by field) still
	 *  works. */
	double meter_hz;
	/** Key lock's processors (time stretchers), 0..FLZ_MAX_VOICES: made
	 *  and warmed by flz_engine_start() before the audio thread starts, one
	 *  per voice that may be key-locked at once. Only in a build with the
	 *  stretch feature (flz_engine_has_key_lock()); ignored otherwise.
	 *  Default FLZ_ENGINE_KEY_LOCK_VOICES_DEFAULT (a config zeroed by hand
	 *  gets 0: key-locked plays are then all refused). */
	uint32_t key_lock_voices;
};

/** Default of flz_engine_config.key_lock_voices. */
#define FLZ_ENGINE_KEY_LOCK_VOICES_DEFAULT 8

/* enum flz_msg_kind (FLZ_MSG_PONG ...) and enum flz_cmd_kind (FLZ_CMD_LOAD
 * ...) come from the one vocabulary, flz/vocabulary.h. */

struct flz_engine_msg {
	enum flz_msg_kind kind;
	/** STOPPED/APPLIED/STARTED: the slot, or -1 when none (stop all). */
	int32_t slot;
	/** APPLIED: which command; 0 otherwise. */
	enum flz_cmd_kind cmd;
	/** Sequence number of the command this answers (PONG, STOPPED, APPLIED,
	 *  STARTED: the play that started the voice). */
	uint32_t seq;
	/** APPLIED: the command's number when it has one (see FLZ_CMD_KINDS). */
	double value;
	/** Output frame at which it happened (counted from start). STARTED: the
	 *  output frame at which the voice's first frame sounded. */
	int64_t frame;
	/** DEVICE_LOST: the ALSA error code. */
	int error;
};

struct flz_engine_stats {
	bool running;
	bool device_lost;
	uint32_t rate_hz;
	uint32_t n_channels;
	enum flz_device_format format;
	uint32_t period_frames;
	uint32_t n_periods;
	/** Output latency: the device's buffer plus the mixer's delay
	 *  (flz_mixer_latency_frames(), 0: commands act on the next block).
	 *  The buffer is period_frames * n_periods on ALSA, one period on
	 *  wav:PATH (the block rendered ahead of its deadline) and none on
	 *  offline, where latency_frames is the mixer's delay alone (0). */
	uint32_t latency_frames;
	double latency_ms;
	uint64_t xruns;
	/** Of xruns, those the system caused (device wav:PATH, where the engine
	 *  itself sees a deadline missed): the block would have been in time
	 *  but for the time the audio thread was ready and not running (woken
	 *  late, preempted, the machine stalled), which the thread reads from
	 *  its own CPU-time clock; the rest are the engine's, a render that took
	 *  too long. 0 on other devices (an ALSA underrun does not say why).
	 *  On a virtual machine whose kernel does not account steal time, a
	 *  host's stall in the middle of a render counts as the thread's CPU
	 *  time, so such an xrun is filed as the engine's. */
	uint64_t xruns_stalled;
	/** The SCHED_FIFO priority the audio thread got, or 0 when it runs at
	 *  normal priority. */
	int rt_priority;
	/** Why SCHED_FIFO was not granted (0 when it was or was not asked): a
	 *  positive errno from pthread_setschedparam, e.g. EPERM. */
	int rt_error;
	uint32_t voices_playing;
	/** Share of the period spent rendering, 0..1, over the last second. */
	double load;
	/** Output frames rendered since start. */
	int64_t frames;
	/** Messages the audio thread could not queue because nobody read them. */
	uint64_t messages_dropped;
	/** Whether all the memory the audio thread works in is locked in RAM
	 *  (mlock): the engine's rings, the mixer's buffers and tables, the
	 *  audio thread's stack. False when a lock was refused (EPERM or
	 *  ENOMEM: RLIMIT_MEMLOCK too low, no CAP_IPC_LOCK); the engine runs
	 *  all the same, and the log callback got a warning. Sample data is not
	 *  locked (its size is the host's, and would outgrow a default 8 MiB
	 *  RLIMIT_MEMLOCK), nor are alsa-lib's own buffers, nor the code. */
	bool memory_locked;
	/** Bytes locked of that memory (whole pages), 0 when none could be. */
	uint64_t locked_bytes;
	/** Device "wav:PATH": frames played but not written to the file because
	 *  the writer thread fell behind (its ring, about 2 s, was full). 0 on
	 *  other devices. */
	uint64_t file_dropped_frames;
	/** Device "wav:PATH": failed or short writes to the file (a full disk);
	 *  the first is logged. 0 on other devices. */
	uint64_t file_write_errors;
	/** Whether flz_engine_start_recording() is recording now. Like the
	 *  two counters below, reported whether or not the engine runs. */
	bool recording;
	/** Frames played but not recorded because the recording's writer fell
	 *  behind (its ring, at least 2 s, was full; whole blocks at a time),
	 *  for the current recording or, when none, the last one. */
	uint64_t record_dropped;
	/** Failed or short writes to the recording's file (a full disk), for
	 *  the current recording or the last one; the first is logged. */
	uint64_t record_write_errors;
	/** Key-locked plays that found no free processor (more key-locked
	 *  voices at once than flz_engine_config.key_lock_voices) and played
	 *  unlocked (pitch following rate), since start. */
	uint64_t key_lock_refused;
	/** Key-locked plays that sounded later than their frame because
	 *  their stretcher's priming did not fit in the per-block budget
	 *  (docs/design.md "Priming within a budget"): deferred by whole
	 *  blocks, their STARTED message carrying the frame they sounded
	 *  from; and resumes of paused key-locked, tempo-locked voices
	 *  deferred the same way (no STARTED message); since start. */
	uint64_t key_lock_deferred;
	/** The frames those plays were late by, summed; since start. */
	uint64_t key_lock_deferred_frames;
};

/**
 * Defaults as documented on each field.
 * Errors: none.
 * Thread: any.
 * Ownership: returned by value; nothing to free.
 */
struct flz_engine_config flz_engine_config_init(void);

/* The audio thread is named "flz-audio", the housekeeping thread
 * "flz-house". Both block every signal but the faults they raise themselves
 * (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS), so the host's signal
 * handlers run on its own threads only. When SCHED_FIFO is refused (EPERM
 * for an unprivileged user without RLIMIT_RTPRIO), the audio thread runs at
 * normal priority, the log callback gets a warning and stats.rt_priority =
 * 0, stats.rt_error = EPERM. */

/**
 * Create an engine. Opens nothing, starts no thread.
 * @param config copied; its device string too
 * @param out receives the engine
 * @return 0 or an error
 * Errors: -EINVAL a field out of range (or NULL arguments); -ENOMEM.
 * Thread: any.
 * Ownership: the caller frees the engine with flz_engine_destroy().
 */
FLZ_WARN_UNUSED int flz_engine_new(const struct flz_engine_config *config,
				   struct flz_engine **out);

/**
 * Stop if running (as flz_engine_stop()), then free.
 * Errors: none (NULL is accepted and ignored).
 * Thread: any but flz-audio; blocks like flz_engine_stop().
 * Ownership: the engine and every sample it held are gone.
 */
void flz_engine_destroy(struct flz_engine *engine);

/**
 * Open and configure the device, start the threads.
 *
 * @param why on failure, a message naming the device and ALSA's reason; may be NULL
 * @param why_size bytes at @p why
 * @return 0 or an error
 * Errors: -EBUSY with @p why left empty: already running; an ALSA or errno
 *         code (-EBUSY too, for a device another program holds) with @p why
 *         naming the device, when the device cannot be opened or configured
 *         (nothing is left running); -ENOMEM.
 * Ownership: @p why is the caller's.
 * Thread: control; blocks (as long as the device takes to open). Concurrent
 * starts run one after the other: the second finds the engine running
 * (-EBUSY) if the first succeeded, else it tries the device itself and
 * reports its own error. Meanwhile other calls do not wait: they see an
 * engine that is not running (-ENOTCONN).
 */
FLZ_WARN_UNUSED int flz_engine_start(struct flz_engine *engine, char *why, size_t why_size);

/**
 * Stop the audio thread, close the device, free every sample. Idempotent.
 * Errors: none.
 * Ownership: every sample reference the engine held is dropped.
 * Thread: control; blocks while the audio thread finishes the block it is
 * rendering (its wait for the device is woken at once), the device closes
 * (a jack PCM: some tens of ms) and flz-house ends. It joins flz-house, which may be
 * inside the log callback: the caller must not hold anything that callback
 * waits for (a Python caller releases the GIL around this call).
 */
void flz_engine_stop(struct flz_engine *engine);

/**
 * Whether the engine is started (true also after the device was lost, until stop).
 * Errors: none (false for NULL).
 * Thread: any (one atomic load).
 * Ownership: nothing changes hands.
 */
bool flz_engine_is_running(struct flz_engine *engine);

/**
 * Decode a file at the engine's rate and channels and publish it to a slot.
 * Non-finite values in the file are replaced (NaN by 0, +-Inf by +-1; see
 * flz/loader.h); when there were any, a published load logs one
 * FLZ_LOG_WARNING on the caller's thread naming the slot, the counts and the
 * file (last, so that a long path is what gets cut): 'slot 3: 5 non-finite
 * sample values replaced (NaN -> 0: 3, +Inf -> +1: 1, -Inf -> -1: 1,
 * rate-conversion overflow: 0) in "x.wav"' (flz_engine_load_memory():
 * in "memory buffer").
 *
 * @param why on failure, the loader's exact reason; may be NULL
 * @return 0; -ENOTCONN not running (also when the engine stopped while the
 *         file was decoding); -ENODEV device lost; -EINVAL bad slot or NULL
 *         path; -EAGAIN command buffer full, or too many samples in flight;
 *         the loader's codes (see flz/loader.h). On failure the slot is unchanged.
 * Errors: as @return.
 * Thread: control; blocks while decoding (other callers are not held up
 * while it decodes).
 * Ownership: @p path is only read during the call; the decoded sample is
 * the engine's.
 */
FLZ_WARN_UNUSED int flz_engine_load_file(struct flz_engine *engine, int32_t slot,
					 const char *path, char *why, size_t why_size);

/**
 * As flz_engine_load_file(), from a file held in memory.
 * @param data n_bytes of an encoded file (WAV, FLAC, Ogg, MP3...)
 * @return 0 or an error
 * Errors: as flz_engine_load_file() (-EINVAL also for NULL @p data).
 * Thread: control; blocks while decoding.
 * Ownership: @p data is only read during the call.
 */
FLZ_WARN_UNUSED int flz_engine_load_memory(struct flz_engine *engine, int32_t slot,
					   const void *data, size_t n_bytes, char *why,
					   size_t why_size);

/**
 * As flz_engine_load_file(), from interleaved PCM in memory: converted as a
 * file of the same frames would be (flz_loader_load_pcm(): rate conversion,
 * channel map, non-finite values replaced and logged, in "PCM buffer").
 * The slot's source is "<memory>", its source rate @p rate_hz.
 * @param data n_frames * n_channels values of @p format, interleaved
 * @return 0 or an error
 * Errors: as flz_engine_load_file(); -EINVAL also for NULL @p data, no
 *         frames, channels outside 1..FLZ_MAX_CHANNELS, rate 0 or an unknown
 *         format (@p why names the problem).
 * Thread: control; blocks while converting.
 * Ownership: @p data is only read during the call.
 */
FLZ_WARN_UNUSED int flz_engine_load_pcm(struct flz_engine *engine, int32_t slot,
					const void *data, enum flz_pcm_format format,
					int64_t n_frames, uint32_t n_channels, uint32_t rate_hz,
					char *why, size_t why_size);

/**
 * Publish an already decoded sample to a slot. Its rate and channels must
 * equal the engine's (see flz_engine_get_stats()).
 * @return 0 or an error
 * Errors: -ENOTCONN not running; -ENODEV device lost; -EINVAL bad slot, NULL
 *         sample, or rate or channels differ from the engine's; -EAGAIN
 *         command buffer full, or too many samples in flight.
 * Thread: control.
 * Ownership: on success the engine takes over one reference; on failure the caller keeps it.
 * The caller may keep references of its own (and load the same sample again): the engine
 * drops the one it took, and the load stops counting in flight, once no slot or voice of
 * this load uses the sample any more. The slot's record (flz_engine_sample_info(),
 * flz_engine_waveform()) holds one more reference of its own, dropped when the
 * slot is unloaded or loaded again or the engine stops.
 * Every load (file, memory, PCM, this one) builds the sample's waveform summary
 * (flz/summary.h) before it is queued; -ENOMEM when that fails.
 */
FLZ_WARN_UNUSED int flz_engine_load_sample(struct flz_engine *engine, int32_t slot,
					   struct flz_sample *sample);

/*
 * Commands for the audio thread. Each is queued in call order (the ring of
 * FLZ_QUEUE_CAPACITY) and applied at the start of the next block. With
 * trace_commands each command, once applied, yields FLZ_MSG_APPLIED (a
 * ping's trace comes just before its PONG).
 */

/**
 * Start a new voice on the slot's sample at the start of its loop region
 * (its first frame unless flz_engine_set_loop_region() moved it); it loops
 * until stopped. An empty slot is a no-op. Beyond FLZ_MAX_VOICES the voice
 * started earliest is stolen (faded out, no FLZ_MSG_STOPPED). The same as
 * flz_engine_play_ex() with this gain, not exclusive: FLZ_MSG_STARTED
 * follows when the voice sounds.
 * @param gain 0..1
 * @return 0 or an error
 * Errors: -ENOTCONN not running; -ENODEV the device was lost (stop and start
 *         again); -EINVAL bad slot or gain (NaN included); -EAGAIN command
 *         buffer full (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_play(struct flz_engine *engine, int32_t slot, float gain);

/** When a play starts (struct flz_engine_play.start). */
enum flz_engine_start {
	/** Quantised to the engine's trigger quantisation
	 *  (flz_engine_set_trigger_quantization(); off: at once). */
	FLZ_ENGINE_START_DEFAULT = 0,
	/** At once (the next block). */
	FLZ_ENGINE_START_NOW = 1,
	/** On the first grid frame of play.quantize at or after the output
	 *  frame at which the command reaches the audio thread. */
	FLZ_ENGINE_START_QUANTIZED = 2,
	/** At output frame play.at_frame; a frame already past starts at once. */
	FLZ_ENGINE_START_AT_FRAME = 3,
};

/** A play for flz_engine_play_ex(); start from flz_engine_play_init(). */
struct flz_engine_play {
	/** 0..FLZ_NUM_SAMPLES-1 */
	int32_t slot;
	/** The voice's gain, 0..1 (the pad gain multiplies it). Default 1. */
	float gain;
	/** In the same block, first fade out every voice (as
	 *  flz_engine_stop_all(), with its FLZ_MSG_STOPPED carrying this play's
	 *  seq), then start this one. On an empty slot nothing at all happens.
	 *  Default false. */
	bool exclusive;
	/** When the voice starts (not exclusive plays: they start at once).
	 *  Default FLZ_ENGINE_START_DEFAULT. */
	enum flz_engine_start start;
	/** FLZ_ENGINE_START_QUANTIZED: the grid (FLZ_QUANTIZE_OFF starts at once). */
	enum flz_quantize quantize;
	/** FLZ_ENGINE_START_AT_FRAME: the output frame, 0..FLZ_TRANSPORT_FRAME_MAX. */
	int64_t at_frame;
};

/**
 * Defaults for a play of @p slot: gain 1, not exclusive, started as the
 * engine's trigger quantisation says (FLZ_ENGINE_START_DEFAULT).
 * Errors: none (the slot is checked by flz_engine_play_ex()).
 * Thread: any.
 * Ownership: returned by value; nothing to free.
 */
struct flz_engine_play flz_engine_play_init(int32_t slot);

/**
 * Start a new voice on the slot's sample at the start of its loop region
 * (frame 0 unless flz_engine_set_loop_region() moved it), exclusively or
 * not; it loops until stopped. An empty slot is a no-op. Beyond
 * FLZ_MAX_VOICES the voice started earliest is stolen as for
 * flz_engine_play(). When the voice sounds its first frame, FLZ_MSG_STARTED
 * (slot, that output frame, this command's seq) follows; flz_engine_play()
 * sends one too.
 *
 * A quantised or at-frame start is a pending start until it sounds: the
 * audio thread splits its block at the start's frame, so the voice's first
 * frame is exactly that output frame. flz_engine_stop_slot() and
 * flz_engine_unload() of the slot, flz_engine_stop_all() and an exclusive
 * play cancel pending starts queued before them (no voice, no STARTED).
 * At most FLZ_SCHEDULE_CAPACITY starts are pending at once (queued and not
 * yet started or cancelled); one more is refused with -EAGAIN.
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL NULL arguments, bad slot or gain (NaN
 *         included), a start or quantize that is no mode, an at_frame out of
 *         range, or an exclusive play with a start other than DEFAULT or
 *         NOW; -EAGAIN command buffer full, or FLZ_SCHEDULE_CAPACITY starts
 *         pending (not applied).
 * Thread: control.
 * Ownership: @p play is only read during the call.
 */
FLZ_WARN_UNUSED int flz_engine_play_ex(struct flz_engine *engine,
				       const struct flz_engine_play *play);

/**
 * Pause the pad: every voice of the slot fades out (5 ms) and holds its
 * position (a tempo-locked voice runs on silently at its lock, so that it
 * resumes in phase). Pausing a paused pad does nothing. A paused voice counts
 * against FLZ_MAX_VOICES; a play on a paused pad starts a new voice.
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bad slot; -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_pause(struct flz_engine *engine, int32_t slot);

/**
 * Resume the pad: its paused voices fade back in (5 ms) from where they
 * held (a tempo-locked one from where its lock has it now). Resuming a playing pad does nothing.
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bad slot; -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_resume(struct flz_engine *engine, int32_t slot);

/**
 * Move every voice of the pad to sample frame @p frame, crossfaded over
 * 5 ms. A frame outside the loop region plays on until it reaches the region.
 * The frame is checked here against the sample the engine last published to
 * the slot (in command order: what the audio thread will have when it
 * applies this command).
 * @param frame 0 <= frame < that sample's n_frames
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bad slot or frame out of the sample;
 *         -ENOENT the slot is empty; -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_seek(struct flz_engine *engine, int32_t slot, int64_t frame);

/** Pad gain range in dB; FLZ_PAD_GAIN_DB_MIN mutes (linear gain exactly 0). */
#define FLZ_PAD_GAIN_DB_MIN -60.0
#define FLZ_PAD_GAIN_DB_MAX 12.0

/**
 * The pad's gain, multiplying every voice of the pad: playing voices glide
 * to it over 10 ms, and it stays for later plays until changed. Default 0 dB.
 * @param gain_db FLZ_PAD_GAIN_DB_MIN..FLZ_PAD_GAIN_DB_MAX; the minimum gives
 *        linear 0, anything else 10^(gain_db / 20) (at most FLZ_PAD_GAIN_MAX_LIN)
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bad slot or gain out of range (NaN
 *         included); -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_pad_gain(struct flz_engine *engine, int32_t slot,
					    double gain_db);

/** Pad EQ band gain range in dB; FLZ_PAD_EQ_DB_MIN kills the band (gain 0). */
#define FLZ_PAD_EQ_DB_MIN -60.0
#define FLZ_PAD_EQ_DB_MAX 6.0

/**
 * The pad's 3-band DJ isolator (libeq, flz/eq.h): crossovers at 250 Hz and
 * 4 kHz (4th-order Linkwitz-Riley, the bands sum flat), each band's gain in
 * dB. Each voice of the pad has its own filters: playing voices glide to the
 * new gains over 10 ms, a new voice starts at them. It stays for later plays
 * until changed; default 0, 0, 0, an exact bypass (the output bit for bit
 * that of no EQ). The filters of every voice run all the time, bypassed
 * too, so that they are warm when the EQ moves: about 31 ns per stereo
 * frame per voice (docs/design.md, "EQ").
 * @param low_db, mid_db, high_db FLZ_PAD_EQ_DB_MIN..FLZ_PAD_EQ_DB_MAX each;
 *        the minimum kills the band
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bad slot or a gain out of range (NaN
 *         included); -ENOTSUP the device's rate or channels are beyond
 *         libeq's (FLZ_EQ_RATE_HZ_MIN..MAX, FLZ_EQ_CHANNELS_MAX); -EAGAIN
 *         (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_pad_eq(struct flz_engine *engine, int32_t slot, double low_db,
					  double mid_db, double high_db);

/**
 * The pad's speed, multiplying the global speed for its voices (varispeed:
 * pitch follows); playing voices glide over 20 ms. Default 1.
 * @param speed FLZ_PAD_SPEED_MIN..FLZ_PAD_SPEED_MAX
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bad slot or speed out of range (NaN
 *         included); -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_pad_speed(struct flz_engine *engine, int32_t slot,
					     double speed);

/**
 * The half-open region [start, end) of sample frames the pad's voices loop.
 * Later plays start at @p start; a playing voice at or past the new end
 * wraps to the new start at once, crossfaded (5 ms); one before start plays
 * on until it reaches the region. A load or unload of the slot resets the
 * region to the whole sample. Checked, like flz_engine_seek(), against the
 * sample the engine last published to the slot.
 * @param end a frame, or -1 for the sample's end
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bad slot, or not 0 <= start < end <=
 *         n_frames (end < -1 included); -ENOENT the slot is empty; -EAGAIN
 *         (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_loop_region(struct flz_engine *engine, int32_t slot,
					       int64_t start, int64_t end);

/** What flz_engine_sample_info() reports of a slot's sample. */
struct flz_engine_sample_info {
	/** Frames of the sample as it plays (at rate_hz). */
	int64_t n_frames;
	/** Channels: the engine's. */
	uint32_t n_channels;
	/** The sample's rate: the engine's (samples are converted when loaded). */
	uint32_t rate_hz;
	/** The rate of the file before conversion; for flz_engine_load_sample(),
	 *  the sample's own rate. */
	uint32_t source_rate_hz;
	/** Length in bytes of the whole source name, without its NUL (it may be
	 *  longer than the caller's buffer held). */
	size_t source_len;
};

/**
 * What the engine last published to a slot, as the control side recorded it
 * when it queued the load (so in command order: a load queued before this
 * call is reported even if the audio thread has not applied it yet; an
 * unload forgets it). A stop forgets every slot.
 * @param info filled when the slot holds a sample
 * @param source receives the source's name, NUL-terminated and cut to
 *        @p source_size bytes: the file's path as given to
 *        flz_engine_load_file(), or "<memory>" for flz_engine_load_memory()
 *        and flz_engine_load_sample(); may be NULL when @p source_size is 0
 * @return 1 when @p info was filled, 0 when the slot is empty, or an error
 * Errors: -ENOTCONN not running; -EINVAL NULL engine or info, bad slot.
 * Thread: control.
 * Ownership: @p info and @p source are the caller's.
 */
FLZ_WARN_UNUSED int flz_engine_sample_info(struct flz_engine *engine, int32_t slot,
					   struct flz_engine_sample_info *info, char *source,
					   size_t source_size);

/**
 * Min and max of the mono mix of the slot's sample per column, over the frames
 * [start, end) (flz_summary_query(): exact, cost O(width) whatever the span),
 * from the summary built when the sample was loaded; on the record of what
 * was last published, like flz_engine_sample_info(). The query runs outside
 * the engine's lock on a hold of its own, so it delays no other call, and a
 * load or unload racing with it is either wholly before or after it.
 * @param end the end frame, or -1 for the sample's end
 * @param width 1..FLZ_SUMMARY_MAX_WIDTH
 * @param[out] out 2 * width floats: min then max of each column
 * @return 0 or an error
 * Errors: -ENOTCONN not running; -ENOENT the slot is empty; -EINVAL NULL
 *         engine or out, bad slot, not 0 <= start < end <= n_frames, or a
 *         bad width (@p out is untouched on every error).
 * Thread: control.
 * Ownership: @p out is the caller's.
 */
FLZ_WARN_UNUSED int flz_engine_waveform(struct flz_engine *engine, int32_t slot, int64_t start,
					int64_t end, uint32_t width, float *out);

/**
 * Output frames rendered since start: the transport clock, published by the
 * audio side once per block (after the block's messages, so that a caller
 * that reads N and then polls messages sees every message of the frames
 * before N).
 * @return the frame count (>= 0), or an error
 * Errors: -ENOTCONN not running; -EINVAL NULL engine.
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int64_t flz_engine_frame(struct flz_engine *engine);

/**
 * The trigger quantisation: how a play with FLZ_ENGINE_START_DEFAULT starts.
 * Control-side state, read when a play is queued (so it applies to plays
 * made after this call); FLZ_QUANTIZE_OFF (at once) at each start.
 * @param mode a mode of flz/transport.h
 * @return 0 or an error
 * Errors: -ENOTCONN not running; -EINVAL NULL engine or no mode.
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_trigger_quantization(struct flz_engine *engine,
							enum flz_quantize mode);

/**
 * Whether this build has key lock: the stretch feature (libstretch on
 * Rubber Band, GPL-2.0-or-later: README "License") was on.
 * Errors: none. Thread: any. Ownership: none.
 */
bool flz_engine_has_key_lock(void);

/**
 * Key lock for every pad that follows it (flz_engine_set_pad_key_lock()):
 * a key-locked voice keeps its pitch while its rate (global x pad speed)
 * changes: it renders through a time stretcher (libstretch, Rubber Band's
 * R2 engine in real-time mode) that pulls the voice's material at rate 1,
 * and starts on the same output frame as an unlocked voice (the
 * stretcher's delay is compensated by pre-roll and priming in the voice's
 * first block). The setting applies to playing voices too: from the block
 * after the command reaches the audio thread each switches path with a
 * 10 ms equal-power crossfade (docs/design.md "Lock on and off"). A
 * key-locked play (or switch) beyond the key_lock_voices processors plays
 * unlocked and counts in stats.key_lock_refused. A key-locked voice of a
 * tempo-locked pad (flz_engine_set_bpm_lock()) plays through the
 * stretcher at its lock ratio, pitch kept, and stays phase locked: a
 * servo trims the stretcher's rate by at most 0.5 % to keep it on the
 * lock's position.
 * Default off at each start.
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -ENOTSUP @p enabled in a build without the
 *         stretch feature (flz_engine_has_key_lock() false); -EAGAIN
 *         (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_key_lock(struct flz_engine *engine, bool enabled);

/**
 * A pad's own key lock, overriding the global one (flz_engine_set_key_lock()):
 * @p mode 1 on, 0 off, -1 follows the global setting (the default at each
 * start). The pad's playing voices switch path as for
 * flz_engine_set_key_lock().
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bad slot or mode; -ENOTSUP mode 1 in
 *         a build without the stretch feature; -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_pad_key_lock(struct flz_engine *engine, int32_t slot, int mode);

/**
 * Set the transport's tempo, from the output frame at which the command
 * reaches the audio thread, keeping the position within the bar there (the
 * downbeat moves). Pending starts keep the frames they were given. Locked
 * pads' voices (flz_engine_set_pad_bpm()) take the new ratio there, their
 * rate gliding over 20 ms with the phase kept.
 * Default FLZ_TRANSPORT_BPM_DEFAULT at each start.
 * @param bpm FLZ_TRANSPORT_BPM_MIN..FLZ_TRANSPORT_BPM_MAX
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bpm out of range (NaN included);
 *         -EAGAIN command buffer full (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_master_bpm(struct flz_engine *engine, double bpm);

/**
 * The pad's tempo, for the tempo lock (flz_engine_set_bpm_lock()). With the
 * lock on, the pad's voices play at master / pad tempo (folded by doubling
 * or halving the pad's tempo into FLZ_TRANSPORT_RATIO_MIN..MAX; the global
 * and pad speed do not apply), phase locked to the transport: the sample
 * position is a pure function of the output frame and the voice's start,
 * and the pad's downbeat (flz_engine_set_pad_downbeat()) falls on the
 * transport's bar downbeats. Playing voices of the pad lock, relock
 * (gliding, see flz_mixer_set_pad_lock()) or unlock at once. Default: none.
 * @param bpm FLZ_TRANSPORT_BPM_MIN..MAX, or 0 for none (the pad plays at
 *        the global speed x its pad speed, as with the lock off)
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bad slot or bpm neither 0 nor in
 *         range (NaN included); -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_pad_bpm(struct flz_engine *engine, int32_t slot, double bpm);

/**
 * Where the pad's first downbeat lies in its sample, for the tempo lock:
 * later locked plays put this frame on the transport's bar downbeats
 * (when the loop region no longer holds it, its start instead). Playing
 * voices keep their phase. Checked, like flz_engine_seek(), against the
 * sample published last; it stays across loads until changed. Default 0.
 * @param frame 0 <= frame < the slot's sample's frames
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bad slot or frame outside the
 *         sample; -ENOENT empty slot; -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_pad_downbeat(struct flz_engine *engine, int32_t slot,
						int64_t frame);

/**
 * Turn the tempo lock on or off for every pad with a tempo
 * (flz_engine_set_pad_bpm()); their playing voices lock (gliding from
 * their varispeed rate) or return to varispeed at once. Pads without a
 * tempo are not affected. Off at each start.
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_bpm_lock(struct flz_engine *engine, bool enabled);

/**
 * Set the beats per bar (the downbeat stays; bars count from it with the
 * new length). Default 4 at each start.
 * @param beats_per_bar FLZ_TRANSPORT_BEATS_PER_BAR_MIN..MAX
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL out of range; -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_beats_per_bar(struct flz_engine *engine,
						 uint32_t beats_per_bar);

/** flz_engine_anchor_transport(): the frame at which the command is applied. */
#define FLZ_ENGINE_ANCHOR_NOW ((int64_t)-1)

/**
 * Make output frame @p frame a downbeat (bar 0, beat 0); 0 at each start.
 * @param frame 0..FLZ_TRANSPORT_FRAME_MAX, or FLZ_ENGINE_ANCHOR_NOW for the
 *        output frame at which the command reaches the audio thread
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL frame out of range; -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_anchor_transport(struct flz_engine *engine, int64_t frame);

/** The transport as the audio side last published it (flz_engine_transport()). */
struct flz_engine_transport {
	/** The output frame it describes: the end of the last block rendered. */
	int64_t frame;
	double bpm;
	uint32_t beats_per_bar;
	/** Bar at @ref frame, from 0 at the downbeat (negative before it). */
	int64_t bar;
	/** Beat within the bar at @ref frame, 0 <= beat < beats_per_bar. */
	double beat;
	/** The downbeat, rounded to a whole frame (see flz/transport.h). */
	int64_t downbeat_frame;
	/** Starts pending now: queued and not yet started or cancelled. */
	uint32_t n_pending;
};

/** One pad's meter in a snapshot (struct flz_engine_meters). */
struct flz_engine_pad_meter {
	/** The pad's contribution was non-zero in the interval. When false
	 *  the other fields are 0. */
	bool sounded;
	/** Max |x| of the pad's contribution (its voices after their gain,
	 *  the pad's gain, the fades and the EQ), over every frame of the
	 *  interval and every channel. */
	float peak;
	/** Position in its sample, in seconds of the sample's rate, of the
	 *  pad's newest voice that sounded, at the end of the last block it
	 *  sounded in. */
	double position_s;
};

/**
 * A meter snapshot. The output is cut into intervals of n_frames =
 * round(rate_hz / meter_hz) frames from frame 0 (the audio side splits its
 * render at their ends); at each end it publishes the snapshot of that
 * interval, output frames [frame - n_frames, frame), whose figures are the
 * exact maxima over every one of those frames.
 */
struct flz_engine_meters {
	/** The first output frame after the interval (0: no snapshot yet). */
	int64_t frame;
	/** Frames in the interval (0: no snapshot yet, all figures 0). */
	int64_t n_frames;
	uint32_t n_channels;
	/** Max |x| per output channel after the master gain (the output as
	 *  rendered in float, before the device's format). */
	float master_peak[FLZ_MAX_CHANNELS];
	/** Some master_peak reached 1.0. */
	bool master_clip;
	struct flz_engine_pad_meter pads[FLZ_NUM_SAMPLES];
};

/**
 * The latest meter snapshot the audio side published (a triple buffer:
 * never waits for the audio thread, nor it for the caller; a reader that
 * is slow only skips snapshots). Before the first one: frame 0, n_frames
 * 0, every figure 0.
 * @param[out] out the snapshot
 * @return 0 or an error
 * Errors: -ENOTCONN not running; -EINVAL NULL argument.
 * Thread: control (any thread: readers take the engine lock, as
 *         flz_engine_get_stats() does).
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_get_meters(struct flz_engine *engine,
					  struct flz_engine_meters *out);

/**
 * The frame of the latest meter snapshot (its struct flz_engine_meters
 * frame; 0 before the first), taking a newer one if the audio side
 * published it, as flz_engine_get_meters() would. Snapshots' frames rise
 * within a run, so a caller that kept the last snapshot it read learns
 * cheaply whether there is another.
 * @param[out] frame the frame
 * @return 0 or an error
 * Errors: -ENOTCONN not running; -EINVAL NULL argument.
 * Thread: control (any thread; takes the engine lock).
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_meters_frame(struct flz_engine *engine, int64_t *frame);

/**
 * A count that changes whenever the snapshot flz_engine_get_meters() would
 * return may have changed: the audio side raises it after each snapshot it
 * publishes, and each stop raises it. It is never reset (not by a stop nor
 * a start), so a caller that kept the count it read before a
 * flz_engine_get_meters() with that call's snapshot knows, while the count
 * is still the same, that the snapshot is still the latest and the engine
 * still running, without the lock. A count read first is never ahead of
 * the snapshot read after it (the snapshot may be newer: the count then
 * changes later, and a caller only reads again).
 * @return the count; 0 for NULL
 * Errors: none.
 * Thread: any (one atomic load, no lock, never waits; with the engine
 *         stopped too).
 * Ownership: reads only.
 */
uint64_t flz_engine_meters_seq(const struct flz_engine *engine);

/**
 * The transport's state, as the audio side published it after its last
 * block (a seqlock: never waits for the audio thread). A command queued
 * since shows once a block has been rendered after it.
 * @param[out] out the state
 * @return 0 or an error
 * Errors: -ENOTCONN not running; -EINVAL NULL argument.
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_transport(struct flz_engine *engine,
					 struct flz_engine_transport *out);

/**
 * Fade out every voice of the slot (5 ms). One FLZ_MSG_STOPPED, carrying the
 * command's seq, follows once they are silent, if it silenced any voice.
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bad slot; -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_stop_slot(struct flz_engine *engine, int32_t slot);

/**
 * Fade out every voice; FLZ_MSG_STOPPED (slot -1) as for flz_engine_stop_slot().
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_stop_all(struct flz_engine *engine);

/**
 * Fade out the slot's voices and empty it; FLZ_MSG_STOPPED as for
 * flz_engine_stop_slot(). The sample goes back to the control side once
 * nothing plays it.
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL bad slot; -EAGAIN (not applied).
 * Thread: control.
 * Ownership: the engine's reference of the slot's load is dropped later, on
 * flz-house.
 */
FLZ_WARN_UNUSED int flz_engine_unload(struct flz_engine *engine, int32_t slot);

/**
 * Master gain, a latest-value parameter (a 10 ms glide): never refused for
 * a full queue, never lost, applied in call order among the commands.
 * @param gain 0..1
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL gain out of range (NaN included).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_volume(struct flz_engine *engine, float gain);

/**
 * Global varispeed, a latest-value parameter like flz_engine_set_volume()
 * (a 20 ms glide).
 * @param speed FLZ_SPEED_MIN..FLZ_SPEED_MAX
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EINVAL speed out of range (NaN included).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_set_speed(struct flz_engine *engine, double speed);

/**
 * Ask the audio thread for a FLZ_MSG_PONG carrying this command's seq.
 * @return 0 or an error
 * Errors: -ENOTCONN; -ENODEV; -EAGAIN (not applied).
 * Thread: control.
 * Ownership: nothing changes hands.
 */
FLZ_WARN_UNUSED int flz_engine_ping(struct flz_engine *engine);

/**
 * Take the next message from the audio thread. Never blocks.
 * @param msg caller storage, filled when a message was there
 * @return 1 when @p msg was filled, 0 when there is none, or an error
 * Errors: -ENOTCONN not running; -EINVAL NULL arguments.
 * Thread: control.
 * Ownership: the message is a plain copy.
 */
FLZ_WARN_UNUSED int flz_engine_poll_message(struct flz_engine *engine, struct flz_engine_msg *msg);

/**
 * A snapshot of the engine's state; cheap (no system calls). When the
 * engine is not running, everything is zero (running = false).
 * Errors: none (a NULL engine gives zeros).
 * Thread: control.
 * Ownership: @p stats is the caller's, written in full.
 */
void flz_engine_get_stats(struct flz_engine *engine, struct flz_engine_stats *stats);

/**
 * Record every frame the engine plays from now on to @p path, a 32-bit
 * float WAV (created or truncated) at the device's rate and channels: the
 * mix as a FLOAT_LE device gets it (clipped to -1..1, NaN to 0), before
 * conversion to the device's sample format, on every device (ALSA, wav:,
 * offline, where flz_engine_render() feeds it). A writer thread
 * ("flz-recorder") writes the file; the audio thread never waits for it: a
 * block that finds its ring (at least 2 s) full is dropped whole, counted
 * in stats.record_dropped and logged (once, a warning). A failed write is
 * counted in stats.record_write_errors and logged (once, an error); the
 * recording goes on and the header is finalised at the end all the same.
 * The recording ends at flz_engine_stop_recording(), or at flz_engine_stop()
 * (the file finalised the same way).
 * @param why on failure, the reason (may be NULL)
 * @return 0 or an error
 * Errors: -EINVAL NULL engine or path, or an empty path; -ENOTCONN not
 *         running; -EBUSY already recording; -ENOENT, -EACCES, -EPERM,
 *         -EISDIR, -ENOTDIR, -EROFS the file cannot be created for that
 *         reason, -EIO for another; -ENOMEM; a positive errno from
 *         pthread_create() negated. On any error nothing changed.
 * Thread: control. Blocks for the file's creation; waits for a render in
 * progress (offline), never for the audio thread.
 * Ownership: @p path is copied.
 */
FLZ_WARN_UNUSED int flz_engine_start_recording(struct flz_engine *engine, const char *path,
					       char *why, size_t why_size);

/**
 * End the recording: the audio side lets go of it (the call waits at most
 * for the block being rendered), the writer writes what it holds, and the
 * header is finalised.
 * @return the frames written to the file; 0 when not recording (nothing
 *         changes)
 * Errors: none (a NULL engine: 0).
 * Thread: control. Blocks for the writer's last writes and its join.
 * Ownership: the file is the caller's once this returns; the engine frees
 * its writer.
 */
uint64_t flz_engine_stop_recording(struct flz_engine *engine);

/** Frames flz_engine_render() renders at most in one call (about 6 minutes
 *  at 48 kHz): a bound on the caller's buffer, not on the engine. */
#define FLZ_ENGINE_MAX_RENDER_FRAMES (1u << 24)

/**
 * Render the next @p n_frames of an engine whose device is "offline": apply
 * every command and parameter queued so far, then render on the calling
 * thread through the same core as a device's audio thread (block by block,
 * at most period_frames each, every block taking the commands queued before
 * it; samples clipped to -1..1, NaN to 0, as on a FLOAT_LE device). The same
 * calls in the same order give bit-identical output. Messages (PONG,
 * STOPPED, APPLIED) then come through flz_engine_poll_message().
 *
 * @param out n_frames * n_channels interleaved floats (stats.n_channels)
 * @param n_frames 1..FLZ_ENGINE_MAX_RENDER_FRAMES
 * @return 0 or an error
 * Errors: -EINVAL NULL engine or out, or n_frames out of range; -ENOTSUP the
 *         engine's device is not "offline"; -ENOTCONN not running.
 * Thread: control. Renders run one at a time, and wait for a start or stop
 * in progress; other control calls do not wait for a render.
 * Ownership: @p out is the caller's, written in full on success.
 */
FLZ_WARN_UNUSED int flz_engine_render(struct flz_engine *engine, float *out, uint32_t n_frames);

/**
 * Name of a device format, e.g. "FLOAT_LE".
 * Errors: none ("unknown" for a value that is no format).
 * Thread: any.
 * Ownership: the string is static.
 */
const char *flz_device_format_name(enum flz_device_format format);

/* ------------------------------------------------------------------------ */
/* Device listing                                                           */

/** One ALSA PCM that can play: what flz_engine_list_devices() returns. */
struct flz_device {
	/** The PCM name to put in flz_engine_config.device, e.g. "default",
	 *  "hw:CARD=PCH,DEV=0", "plughw:CARD=PCH,DEV=0", "pulse". Never NULL. */
	char *name;
	/** ALSA's human-readable description, or NULL when the PCM has none.
	 *  May span several lines ("HDA Intel PCH, ALC892 Analog\nFront speakers"). */
	char *description;
};

/**
 * List the ALSA PCMs that can play, as ALSA's name hints give them
 * (snd_device_name_hint(-1, "pcm")): every PCM whose IOID hint is "Output"
 * or absent (both directions); capture-only PCMs are left out. The order is
 * ALSA's. A PCM defined in a configuration file is listed when it carries a
 * `hint` section or when `defaults.namehint.showall` is on; cards' hw and
 * plughw PCMs are listed when a card exists.
 *
 * @param out receives the array, or NULL when the count is 0
 * @return the number of devices (0 included), or a negative code
 * Errors: -EINVAL @p out is NULL; -ENOMEM; ALSA's codes when its
 *         configuration cannot be read.
 * Thread: any but flz-audio; blocks (ALSA reads its configuration and may
 *         probe cards). Needs no engine.
 * Ownership: the caller frees the array with flz_engine_free_devices().
 */
FLZ_WARN_UNUSED int64_t flz_engine_list_devices(struct flz_device **out);

/**
 * As flz_engine_list_devices(), with alsa-lib's messages (a configuration
 * file that does not parse, for one) given to @p log at FLZ_LOG_INFO on the
 * calling thread, during the call, as 'alsa-lib: conf.c:2007
 * (_snd_config_load_with_include): _toplevel_:1:9:Unexpected char'.
 * flz_engine_list_devices() drops them. Neither prints to stderr, and
 * neither changes alsa-lib's process-wide error handler: a handler the
 * host set gets them instead, as for its own ALSA calls.
 * @param log may be NULL (the messages are dropped)
 * @return the number of devices, or a negative code
 * Errors: as flz_engine_list_devices().
 * Thread: any but flz-audio; blocks; @p log is called on the calling thread.
 * Ownership: as flz_engine_list_devices(); the message strings are only
 * valid during the @p log call.
 */
FLZ_WARN_UNUSED int64_t flz_engine_list_devices_log(struct flz_device **out,
						    void (*log)(void *userdata,
								enum flz_log_level level,
								const char *message),
						    void *log_userdata);

/**
 * Free what flz_engine_list_devices() returned.
 * @param n_devices the count it returned
 * Errors: none (NULL is accepted and ignored).
 * Thread: any but flz-audio.
 * Ownership: the array and its strings are gone.
 */
void flz_engine_free_devices(struct flz_device *devices, size_t n_devices);

/* ------------------------------------------------------------------------
 * Asynchronous loading (issue 15)
 * ------------------------------------------------------------------------ */

/**
 * A pool of loader threads ("flz-load") that decode and publish loads while
 * the caller goes on. Each worker has its own loader and decodes into its
 * own memory; a finished sample is published through the command ring like
 * flz_engine_load_file()'s, under the engine's lock only for the publish.
 * Nothing here runs on, or waits for, the audio thread.
 *
 * Requests end in order of nothing but their own: each request's events
 * come in the order PROGRESS..., then exactly one DONE or FAILED; events
 * of different requests interleave. Load events are a stream of their own,
 * apart from flz_engine_poll_message()'s (the audio thread's).
 *
 * Supersession: every load (of any kind), unload and stop of the engine
 * bumps the slot's generation under the engine's lock; a request takes a
 * generation of its own when submitted and publishes only if the slot is
 * still at it, checked in the same lock hold as the publish. An overtaken
 * request is never published: it fails with -ECANCELED, reason
 * "superseded: ...".
 *
 * Destroying the pool (and so the engine's shut-down in Python) fails the
 * requests not yet started with -ECANCELED, reason "shut down", waits for
 * the ones decoding (they fail the same way, unpublished, when their
 * decode ends) and joins the workers.
 */
struct flz_loadpool;

/** Kinds of struct flz_load_event. */
enum flz_load_event_kind {
	/** The request's work moved on: fraction and stage are set. */
	FLZ_LOAD_PROGRESS = 1,
	/** Published: duration_s is set. */
	FLZ_LOAD_DONE = 2,
	/** Not published: error (a negative errno) and reason are set. */
	FLZ_LOAD_FAILED = 3,
};

/** One event of one request (flz_loadpool_poll()). */
struct flz_load_event {
	enum flz_load_event_kind kind;
	/** The request id flz_loadpool_submit() gave (1, 2, ...). */
	uint64_t request;
	/** The slot the request loads. */
	int32_t slot;
	/** PROGRESS: 0..1, never falling within a request. */
	double fraction;
	/** PROGRESS: "queued", "decode" or "publish" (static strings). */
	const char *stage;
	/** DONE: the published sample's length in seconds at the engine's rate. */
	double duration_s;
	/** FAILED: the negative errno the synchronous load would have returned,
	 *  or -ECANCELED (superseded, cancelled, shut down). */
	int error;
	/** FAILED: the exact reason (the loader's, or "superseded: ...",
	 *  "cancelled", "shut down"). */
	char reason[256];
};

/** What a request loads: exactly one of path, data (encoded bytes) or
 *  pcm_data (interleaved PCM with its format, frames, channels and rate). */
struct flz_load_source {
	const char *path;
	const void *data;
	size_t n_bytes;
	const void *pcm_data;
	enum flz_pcm_format pcm_format;
	int64_t pcm_frames;
	uint32_t pcm_channels;
	uint32_t pcm_rate_hz;
};

/** Workers a pool may have. */
#define FLZ_LOADPOOL_MAX_WORKERS 16

/** Requests a pool holds at once: submitted and whose last event (DONE or
 *  FAILED) has not been polled yet. One more is refused with -EAGAIN. The
 *  events queued are bounded too: per request at most "queued", one
 *  "decode" (later decode progress updates an unread one in place),
 *  "publish" and the last event. */
#define FLZ_LOADPOOL_MAX_UNREAD 256

/**
 * Start a pool of @p n_workers threads loading into @p engine.
 * @param[out] out the pool; untouched on failure
 * @return 0 or a negative errno
 * Errors: -EINVAL NULL arguments or n_workers outside 1..FLZ_LOADPOOL_MAX_WORKERS;
 *         -ENOMEM; -EAGAIN a thread could not be created.
 * Thread: control.
 * Ownership: destroy it with flz_loadpool_destroy() before the engine.
 */
FLZ_WARN_UNUSED int flz_loadpool_new(struct flz_engine *engine, uint32_t n_workers,
				     struct flz_loadpool **out);

/**
 * Fail pending requests ("shut down"), join the workers, free the pool and
 * the events not yet polled.
 * Errors: none (NULL: nothing happens).
 * Thread: control; blocks until the decodes in progress end.
 */
void flz_loadpool_destroy(struct flz_loadpool *pool);

/**
 * Queue a load of @p slot. Never blocks on a decode: the source is copied
 * (a path, or the bytes) and the call returns at once. Its first event is
 * PROGRESS 0 "queued".
 * @param[out] request the request's id
 * @return 0 or a negative errno
 * Errors: -EINVAL NULL arguments, a bad slot, not exactly one source, a
 *         bad PCM description (as flz_engine_load_pcm()); -EAGAIN
 *         FLZ_LOADPOOL_MAX_UNREAD requests are held (poll their last
 *         events to make room); -ENOTCONN the pool is shutting down;
 *         -ENOMEM. On -EAGAIN and -EINVAL nothing changes (no event, no
 *         claim of the slot).
 * Thread: control (any thread but flz-audio and the pool's).
 * Ownership: the source stays the caller's.
 */
FLZ_WARN_UNUSED int flz_loadpool_submit(struct flz_loadpool *pool, int32_t slot,
					const struct flz_load_source *source,
					uint64_t *request);

/**
 * Cancel a request: one not started fails at once, one decoding fails when
 * its decode ends (never published); both with -ECANCELED, "cancelled"
 * (a decode that fails on its own first reports its own error).
 * @return 0; -ENOENT no such request or it has ended (its last event is
 *         queued); -EALREADY it is publishing (it will end DONE or FAILED
 *         on its own); -EINVAL NULL pool.
 * Thread: control.
 */
FLZ_WARN_UNUSED int flz_loadpool_cancel(struct flz_loadpool *pool, uint64_t request);

/**
 * Take the next load event. Never blocks (but for the pool's own short
 * mutex, never held across a decode).
 * @return 1 when @p event was filled, 0 when there is none; -EINVAL NULL args
 * Thread: control.
 * Ownership: @p event is a plain copy.
 */
FLZ_WARN_UNUSED int flz_loadpool_poll(struct flz_loadpool *pool, struct flz_load_event *event);

/**
 * Pause or resume the pool: while paused, workers start no request (queued
 * ones wait; decodes in progress go on to their end). A host can keep
 * loading off the CPU during a passage that needs it; tests queue several
 * requests and know that none has begun.
 * @param paused true to pause, false to resume
 * Errors: none (NULL: nothing happens).
 * Thread: control.
 */
void flz_loadpool_pause(struct flz_loadpool *pool, bool paused);

/**
 * Block until every request submitted so far has ended (its last event is
 * queued). For tests and shut-down; the GIL must not be held. A paused
 * pool's queued requests do not end: resume it first.
 * Thread: control.
 */
void flz_loadpool_wait_idle(struct flz_loadpool *pool);

#ifdef __cplusplus
}
#endif

#endif /* FLZ_ENGINE_H */
