/* SPDX-License-Identifier: MIT */
/*
 * The wav backend, control side: device "wav:PATH" plays in real time (the
 * audio thread, backend-wav-rt.c, is paced by the monotonic clock) and
 * writes every frame it plays to PATH as a 32-bit float WAV. The file is
 * written by a writer thread of its own, never by the audio thread: frames
 * reach it through a frame ring of about 2 s, which it empties every
 * WAV_WRITER_PERIOD_MS. A writer that falls behind costs frames in the file
 * (counted: stats.file_dropped_frames), never a wait on the audio thread; a
 * failed or short write is counted (stats.file_write_errors) and the first
 * is logged. close drains the ring and finalises the header (sf_close).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sndfile.h>

#include "engine-private.h"

/* How often the writer empties the ring: small against its 2 s, large
 * enough that the writes come in blocks of a few hundred frames. */
#define WAV_WRITER_PERIOD_MS 15
/* The ring holds at least this much audio. */
#define WAV_RING_SECONDS 2

static void wav_free(struct flz_wav_out *wav)
{
	if (wav->file)
		sf_close(wav->file);
	flz_pages_free(wav->frames, wav->frames_bytes);
	free(wav->path);
	flz_pages_free(wav, sizeof(*wav));
}

static int wav_open(const struct flz_backend_request *request, struct flz_backend_device *device,
		    char *why, size_t why_size)
{
	const char *path = request->target;
	if (path[0] == '\0') {
		flz_engine_set_why(why, why_size, "device \"wav:\" needs a path: wav:PATH");
		return -EINVAL;
	}
	uint32_t capacity = 1;
	while (capacity < WAV_RING_SECONDS * request->rate_hz)
		capacity <<= 1;
	if (request->test_ring_frames != 0) {
		if (request->test_ring_frames < request->period_frames) {
			flz_engine_set_why(why, why_size,
					 "device \"wav:%s\": a test ring of %u frames holds no period of %u",
					 path, request->test_ring_frames, request->period_frames);
			return -EINVAL;
		}
		capacity = request->test_ring_frames;
	}
	struct flz_wav_out *wav = flz_pages_alloc(sizeof(*wav));
	if (wav == NULL)
		return -ENOMEM;
	wav->capacity = capacity;
	wav->n_channels = request->n_channels;
	wav->frames_bytes = sizeof(float) * (size_t)capacity * request->n_channels;
	/* flz_pages_alloc() writes every page: the audio thread never faults. */
	wav->frames = flz_pages_alloc(wav->frames_bytes);
	wav->path = strdup(path);
	wav->log = device->log;
	wav->hold_writer = request->test_hold_writer;
	atomic_init(&wav->head, 0);
	atomic_init(&wav->tail, 0);
	atomic_init(&wav->writer_quit, false);
	atomic_init(&wav->dropped_frames, 0);
	atomic_init(&wav->write_errors, 0);
	if (wav->frames == NULL || wav->path == NULL) {
		wav_free(wav);
		return -ENOMEM;
	}

	SF_INFO info = {
		.samplerate = (int)request->rate_hz,
		.channels = (int)request->n_channels,
		.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT,
	};
	SNDFILE *file = sf_open(path, SFM_WRITE, &info);
	if (file == NULL) {
		flz_engine_set_why(why, why_size, "cannot open \"%s\" for writing (device \"wav:%s\"): %s",
				 path, path, sf_strerror(NULL));
		wav_free(wav);
		return -EIO;
	}
	wav->file = file;

	/* The file takes what was asked: it has no hardware to refuse. */
	device->format = FLZ_FORMAT_FLOAT_LE;
	device->rate_hz = request->rate_hz;
	device->n_channels = request->n_channels;
	device->period_frames = request->period_frames;
	device->n_periods = request->n_periods;
	/* One block is rendered ahead of its deadline: that is the latency. */
	device->buffer_frames = request->period_frames;
	device->handle = wav;
	return 0;
}

/* Write what the ring holds. Returns the frames taken out of it. */
static uint64_t wav_drain(struct flz_wav_out *wav)
{
	/* relaxed: only this thread writes tail. */
	uint64_t tail = atomic_load_explicit(&wav->tail, memory_order_relaxed);
	/* acquire: pairs with the audio thread's release store; the frames
	 * counted are written. */
	uint64_t head = atomic_load_explicit(&wav->head, memory_order_acquire);
	uint64_t taken = head - tail;
	while (tail != head) {
		uint32_t at = (uint32_t)(tail & (wav->capacity - 1));
		uint64_t n = head - tail;
		if (n > wav->capacity - at)
			n = wav->capacity - at;
		sf_count_t written = sf_writef_float(wav->file, wav->frames + (size_t)at * wav->n_channels,
						     (sf_count_t)n);
		if (written != (sf_count_t)n) {
			/* relaxed: a statistic; only this thread writes it. */
			atomic_fetch_add_explicit(&wav->write_errors, 1,
						  memory_order_relaxed);
			if (!wav->write_error_logged) {
				flz_backend_logf(&wav->log, FLZ_LOG_ERROR,
					"cannot write to \"%s\" (wrote %lld of %llu frames): %s; "
					"the frames that failed are lost (stats: file_write_errors)",
					wav->path, (long long)(written < 0 ? 0 : written),
					(unsigned long long)n, sf_strerror(wav->file));
				wav->write_error_logged = true;
			}
		}
		tail += n;
		/* release: our reads of these frames are done before the audio
		 * thread may overwrite them. */
		atomic_store_explicit(&wav->tail, tail, memory_order_release);
	}
	/* relaxed: a statistic, reported only. */
	uint64_t dropped =
		atomic_load_explicit(&wav->dropped_frames, memory_order_relaxed);
	if (dropped != wav->drops_logged && wav->drops_logged == 0)
		flz_backend_logf(&wav->log, FLZ_LOG_WARNING,
			"the writer of \"%s\" fell behind: %llu frames played but not written so far "
			"(stats: file_dropped_frames)",
			wav->path, (unsigned long long)dropped);
	wav->drops_logged = dropped;
	return taken;
}

static void *wav_writer_main(void *arg)
{
	struct flz_wav_out *wav = arg;
	/* acquire: pairs with close's release store, after the audio thread
	 * was joined: its last frames are counted in head. */
	while (!atomic_load_explicit(&wav->writer_quit, memory_order_acquire)) {
		/* relaxed: a test's gate only; the frames are ordered by head and tail. */
		if (wav->hold_writer == NULL ||
		    !atomic_load_explicit(wav->hold_writer, memory_order_relaxed))
			wav_drain(wav);
		struct timespec ts = { .tv_sec = 0, .tv_nsec = WAV_WRITER_PERIOD_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	/* The audio thread has ended: everything it played is in the ring. */
	wav_drain(wav);
	return NULL;
}

static int wav_start(struct flz_engine_audio *audio, struct flz_backend_device *device,
		     char *why, size_t why_size)
{
	struct flz_wav_out *wav = device->handle;
	audio->wav = wav;
	int rc = flz_engine_create_thread(&wav->writer, NULL, wav_writer_main, wav);
	if (rc != 0) {
		flz_engine_set_why(why, why_size, "device \"wav:%s\": cannot start the writer thread: %s",
				 wav->path, strerror(rc));
		return -rc;
	}
	pthread_setname_np(wav->writer, "flz-wav-writer");
	wav->writer_started = true;
	return 0;
}

static void wav_close(struct flz_engine_audio *audio, struct flz_backend_device *device)
{
	struct flz_wav_out *wav = device->handle;
	if (wav == NULL)
		return;
	if (wav->writer_started) {
		/* release: pairs with the writer's acquire; the audio thread was
		 * joined before (or never started). */
		atomic_store_explicit(&wav->writer_quit, true, memory_order_release);
		pthread_join(wav->writer, NULL);
	}
	/* sf_close() writes the header's final sizes. */
	if (wav->file && sf_close(wav->file) != 0)
		flz_backend_logf(&wav->log, FLZ_LOG_ERROR, "cannot finish \"%s\": %s", wav->path,
			sf_strerror(NULL));
	wav->file = NULL;
	audio->wav = NULL;
	device->handle = NULL;
	wav_free(wav);
}

const struct flz_backend flz_backend_wav = {
	.name = "wav",
	.open = wav_open,
	.start = wav_start,
	.rt_main = flz_engine_wav_main,
	.close = wav_close,
};
