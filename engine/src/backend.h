/* SPDX-License-Identifier: MIT */
/**
 * @file backend.h
 * The seam between the engine and what plays its audio.
 *
 * The engine (engine.c) owns the core (the mixer, the rings, the
 * statistics), the audio thread's memory, its stack and its lifecycle; a
 * backend owns a device and, when it has one, the loop of the audio thread
 * around the device-neutral core (flz_engine_core_process_rt()). The engine
 * drives every backend through one table of operations, in this order:
 *
 *   open -> start -> [audio thread runs rt_main] -> wake -> [join] -> close
 *
 * A failed open leaves nothing open; close is called after any later
 * failure as after a normal stop, and releases whatever open and start set
 * up. Every operation but rt_main runs on the control side, under the
 * engine's lifecycle mutex (never under its command lock): it may block.
 * rt_main is the audio thread's body: FLZ_RT, in the backend's *-rt.c file,
 * and bound by the real-time rules (tests/rt, tests/rtcheck).
 *
 * The backends:
 *  - "alsa" (backend-alsa.c, backend-alsa-rt.c): any ALSA PCM name; the
 *    mmap loop. Built only with ALSA.
 *  - "offline" (device "offline", backend.c): no device and no audio
 *    thread; the caller renders with flz_engine_render() on its own thread.
 *  - "wav" (device "wav:PATH", backend-wav.c, backend-wav-rt.c): an audio
 *    thread paced by the monotonic clock, and a writer thread that writes
 *    every frame it played to PATH (32-bit float WAV).
 */
#ifndef FLZ_BACKEND_H
#define FLZ_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flz/engine.h>

struct flz_engine_audio;

/** Where a backend's control-side diagnostics go: the engine's log callback. */
struct flz_backend_log {
	/** NULL: dropped. */
	void (*log)(void *userdata, enum flz_log_level level, const char *message);
	void *userdata;
};

/** What the engine asks a backend to open. */
struct flz_backend_request {
	/** The backend's part of the device string: the ALSA PCM name, the
	 *  path after "wav:"; "" for offline. */
	const char *target;
	uint32_t rate_hz;
	uint32_t n_channels;
	uint32_t period_frames;
	uint32_t n_periods;
	/** FLZ_FORMAT_UNKNOWN: the backend's first choice. */
	enum flz_device_format format;
	/** Tests only (flz_engine_set_wav_writer_test()), else 0 and NULL: the
	 *  wav backend's ring in frames (0: its own size), and a flag that, while
	 *  true, keeps its writer from emptying the ring. */
	uint32_t test_ring_frames;
	const atomic_bool *test_hold_writer;
};

/** What a backend granted, and its handle on the device. */
struct flz_backend_device {
	enum flz_device_format format;
	uint32_t rate_hz;
	uint32_t n_channels;
	uint32_t period_frames;
	uint32_t n_periods;
	/** Frames the device holds ahead of what is heard: the latency. */
	uint32_t buffer_frames;
	/** The backend's own (the ALSA PCM), NULL when closed. */
	void *handle;
	/** Set by the engine before open, for the backend's diagnostics. */
	struct flz_backend_log log;
};

struct flz_backend {
	/** "alsa", "offline", "wav". */
	const char *name;
	/**
	 * Open the device as close to @p request as it allows.
	 * @param why on failure, a reason naming the device
	 * @return 0 or a negative code; on failure nothing stays open
	 */
	int (*open)(const struct flz_backend_request *request, struct flz_backend_device *device,
		    char *why, size_t why_size);
	/**
	 * Set up what the audio thread needs beyond the engine's own (a wait
	 * set, a writer thread), once @p audio is filled in. NULL: nothing.
	 * @return 0 or a negative code with @p why set
	 */
	int (*start)(struct flz_engine_audio *audio, struct flz_backend_device *device, char *why,
		     size_t why_size);
	/** The audio thread's body (arg: the struct flz_engine_audio). NULL:
	 *  the backend has no audio thread (offline). */
	void *(*rt_main)(void *arg);
	/** Make the audio thread leave its wait at once; quit is set already.
	 *  @return whether a wake was written. NULL: nothing to wake. */
	bool (*wake)(struct flz_engine_audio *audio);
	/** After the audio thread ended (or never started): release everything
	 *  open and start set up. Safe on a half-started backend. */
	void (*close)(struct flz_engine_audio *audio, struct flz_backend_device *device);
};

/**
 * The backend for a device string: "offline", "wav:PATH", else an ALSA PCM
 * name (NULL: "default"). @p target receives the backend's part of it.
 * @return the backend; in a build without ALSA, an ALSA name gets one whose
 *         open fails with -ENOTSUP and says so
 * Thread: any.
 */
const struct flz_backend *flz_backend_for(const char *device, const char **target);

#if FLZ_HAVE_ALSA
extern const struct flz_backend flz_backend_alsa;
#endif
extern const struct flz_backend flz_backend_offline;
extern const struct flz_backend flz_backend_wav;

#endif /* FLZ_BACKEND_H */
