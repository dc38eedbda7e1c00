/* SPDX-License-Identifier: MIT */
/**
 * @file record.h
 * The frame writer: every frame the audio thread hands it, written to a
 * 32-bit float WAV by a writer thread of its own. The audio thread pushes
 * into a single-producer single-consumer frame ring (free-running counters)
 * and never waits: a full ring costs the whole block, counted in
 * dropped_frames and logged by the writer. A failed or short write is
 * counted in write_errors and the first is logged. Close drains the ring
 * and finalises the header (sf_close).
 *
 * Two users: the wav backend (device "wav:PATH", backend-wav.c) and the
 * engine's recorder (flz_engine_start_recording(), engine.c).
 */
#ifndef FLZ_RECORD_H
#define FLZ_RECORD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flz/rt.h>

#include "backend.h"

/*
 * Allocated with flz_pages_alloc() (the audio thread reads it, and its
 * pages are written before it ever does), freed by flz_frame_writer_close().
 */
struct flz_frame_writer {
	/* ---- Set up by the control side before either thread starts. ---- */
	/** capacity * n_channels floats of flz_pages_alloc(), frames_bytes long. */
	float *frames;
	size_t frames_bytes;
	/** The ring's capacity in frames: a power of two. */
	uint32_t capacity;
	uint32_t n_channels;
	/** Whether push clips what it copied as a FLOAT_LE device's buffer is
	 *  (-1..1, NaN to 0): the recorder's producer hands it the mix unclipped. */
	bool clamp;

	/* ---- The ring's counters: frames pushed and frames taken, free-running. ---- */
	/** Written by the audio thread only. */
	_Alignas(64) _Atomic uint64_t head;
	/** Written by the writer thread only. */
	_Alignas(64) _Atomic uint64_t tail;

	/* ---- Statistics. ---- */
	/** Frames the audio thread could not push because the ring was full. */
	_Alignas(64) _Atomic uint64_t dropped_frames;
	/** Failed or short writes (the writer thread). */
	_Atomic uint64_t write_errors;

	/* ---- Control side and writer thread (never the audio thread). ---- */
	_Alignas(64) void *file; /* SNDFILE * */
	char *path;
	struct flz_backend_log log;
	/** The stats names the log lines point at ("file_dropped_frames"). */
	const char *stat_dropped;
	const char *stat_errors;
	pthread_t writer;
	bool writer_started;
	/** Set by close once the producer is done: drain and leave. */
	atomic_bool writer_quit;
	/** Writer thread only (read by close after the join). */
	bool write_error_logged;
	uint64_t drops_logged;
	uint64_t frames_written;
	/** NULL but in tests: while it reads true, the writer leaves the ring alone. */
	const atomic_bool *hold_writer;
};

/** What flz_frame_writer_open() is asked for. */
struct flz_frame_writer_spec {
	const char *path;
	uint32_t rate_hz;
	uint32_t n_channels;
	/** The ring in frames, a power of two; 0: at least 2 s at rate_hz. */
	uint32_t ring_frames;
	/** NULL but in tests (see struct flz_frame_writer). */
	const atomic_bool *hold_writer;
	/** See struct flz_frame_writer. */
	bool clamp;
	struct flz_backend_log log;
	const char *stat_dropped;
	const char *stat_errors;
};

/**
 * Create the file (truncated) and the ring; nothing runs yet.
 * @return 0; -ENOMEM; or, when the file cannot be created, the errno open
 *         gave (-ENOENT, -EACCES, -EISDIR...) or -EIO, with @p why
 *         sndfile's reason alone (the caller names the path its own way)
 * Thread: control.
 */
int flz_frame_writer_open(struct flz_frame_writer **out, const struct flz_frame_writer_spec *spec,
			  char *why, size_t why_size);

/**
 * Start the writer thread, named @p thread_name.
 * @return 0 or a positive errno (the writer is then not started; close it)
 * Thread: control.
 */
int flz_frame_writer_start(struct flz_frame_writer *writer, const char *thread_name);

/**
 * Once nothing pushes any more: stop the writer, write what the ring
 * holds, finalise the header, free everything. Safe on a writer never
 * started. NULL: nothing.
 * @param write_errors if not NULL, receives the final write_errors (the last
 *        drain's included): the writer is gone when this returns
 * @return the frames written to the file
 * Thread: control.
 */
uint64_t flz_frame_writer_close(struct flz_frame_writer *writer, uint64_t *write_errors);

/**
 * Hand @p n_frames interleaved frames to the writer, all or nothing: a
 * block split between the file and the floor would hide where the gap is.
 * A full ring counts them in dropped_frames. Never waits.
 * Thread: rt (the writer's one producer).
 */
FLZ_RT void flz_frame_writer_push_rt(struct flz_frame_writer *writer, const float *frames,
				     uint32_t n_frames);

#endif /* FLZ_RECORD_H */
