/* SPDX-License-Identifier: MIT */
/*
 * The frame writer, control side and writer thread (record.h): the file is
 * written by a thread of its own, never by the audio thread. It empties the
 * ring every WRITER_PERIOD_MS; a writer that falls behind costs frames in
 * the file (counted), never a wait on the audio thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sndfile.h>

#include "engine-private.h"
#include "record.h"

/* How often the writer empties the ring: small against its 2 s, large
 * enough that the writes come in blocks of a few hundred frames. */
#define WRITER_PERIOD_MS 15
/* The ring holds at least this much audio. */
#define RING_SECONDS 2

static void writer_free(struct flz_frame_writer *w)
{
	if (w->file)
		sf_close(w->file);
	flz_pages_free(w->frames, w->frames_bytes);
	free(w->path);
	flz_pages_free(w, sizeof(*w));
}

int flz_frame_writer_open(struct flz_frame_writer **out, const struct flz_frame_writer_spec *spec,
			  char *why, size_t why_size)
{
	uint32_t capacity = spec->ring_frames;
	if (capacity == 0) {
		capacity = 1;
		while (capacity < RING_SECONDS * spec->rate_hz)
			capacity <<= 1;
	}
	struct flz_frame_writer *w = flz_pages_alloc(sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->capacity = capacity;
	w->n_channels = spec->n_channels;
	w->clamp = spec->clamp;
	w->frames_bytes = sizeof(float) * (size_t)capacity * spec->n_channels;
	/* flz_pages_alloc() writes every page: the audio thread never faults. */
	w->frames = flz_pages_alloc(w->frames_bytes);
	w->path = strdup(spec->path);
	w->log = spec->log;
	w->stat_dropped = spec->stat_dropped;
	w->stat_errors = spec->stat_errors;
	w->hold_writer = spec->hold_writer;
	atomic_init(&w->head, 0);
	atomic_init(&w->tail, 0);
	atomic_init(&w->writer_quit, false);
	atomic_init(&w->dropped_frames, 0);
	atomic_init(&w->write_errors, 0);
	if (w->frames == NULL || w->path == NULL) {
		writer_free(w);
		return -ENOMEM;
	}

	SF_INFO info = {
		.samplerate = (int)spec->rate_hz,
		.channels = (int)spec->n_channels,
		.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT,
	};
	errno = 0;
	SNDFILE *file = sf_open(spec->path, SFM_WRITE, &info);
	if (file == NULL) {
		/* open()'s errno survives sndfile's failure path: the caller can
		 * tell a missing directory from a refused permission. */
		int err = errno;
		flz_engine_set_why(why, why_size, "%s", sf_strerror(NULL));
		writer_free(w);
		return err == ENOENT || err == EACCES || err == EPERM || err == EISDIR ||
				       err == ENOTDIR || err == EROFS
			       ? -err
			       : -EIO;
	}
	w->file = file;
	*out = w;
	return 0;
}

/* Write what the ring holds. */
static void writer_drain(struct flz_frame_writer *w)
{
	/* relaxed: only this thread writes tail. */
	uint64_t tail = atomic_load_explicit(&w->tail, memory_order_relaxed);
	/* acquire: pairs with the producer's release store; the frames counted
	 * are written. */
	uint64_t head = atomic_load_explicit(&w->head, memory_order_acquire);
	while (tail != head) {
		uint32_t at = (uint32_t)(tail & (w->capacity - 1));
		uint64_t n = head - tail;
		if (n > w->capacity - at)
			n = w->capacity - at;
		sf_count_t written =
			sf_writef_float(w->file, w->frames + (size_t)at * w->n_channels, (sf_count_t)n);
		if (written > 0)
			w->frames_written += (uint64_t)written;
		if (written != (sf_count_t)n) {
			/* relaxed: a statistic; only this thread writes it. */
			atomic_fetch_add_explicit(&w->write_errors, 1, memory_order_relaxed);
			if (!w->write_error_logged) {
				flz_backend_logf(&w->log, FLZ_LOG_ERROR,
					"cannot write to \"%s\" (wrote %lld of %llu frames): %s; "
					"the frames that failed are lost (stats: %s)",
					w->path, (long long)(written < 0 ? 0 : written),
					(unsigned long long)n, sf_strerror(w->file), w->stat_errors);
				w->write_error_logged = true;
			}
		}
		tail += n;
		/* release: our reads of these frames are done before the producer
		 * may overwrite them. */
		atomic_store_explicit(&w->tail, tail, memory_order_release);
	}
	/* relaxed: a statistic, reported only. */
	uint64_t dropped = atomic_load_explicit(&w->dropped_frames, memory_order_relaxed);
	if (dropped != w->drops_logged && w->drops_logged == 0)
		flz_backend_logf(&w->log, FLZ_LOG_WARNING,
			"the writer of \"%s\" fell behind: %llu frames played but not written so far "
			"(stats: %s)",
			w->path, (unsigned long long)dropped, w->stat_dropped);
	w->drops_logged = dropped;
}

static void *writer_main(void *arg)
{
	struct flz_frame_writer *w = arg;
	/* acquire: pairs with close's release store, made once the producer
	 * is done: its last frames are counted in head. */
	while (!atomic_load_explicit(&w->writer_quit, memory_order_acquire)) {
		/* relaxed: a test's gate only; the frames are ordered by head and tail. */
		if (w->hold_writer == NULL ||
		    !atomic_load_explicit(w->hold_writer, memory_order_relaxed))
			writer_drain(w);
		struct timespec ts = { .tv_sec = 0, .tv_nsec = WRITER_PERIOD_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	/* The producer is done: everything it pushed is in the ring. */
	writer_drain(w);
	return NULL;
}

int flz_frame_writer_start(struct flz_frame_writer *w, const char *thread_name)
{
	int rc = flz_engine_create_thread(&w->writer, NULL, writer_main, w);
	if (rc != 0)
		return rc;
	pthread_setname_np(w->writer, thread_name);
	w->writer_started = true;
	return 0;
}

uint64_t flz_frame_writer_close(struct flz_frame_writer *w, uint64_t *write_errors)
{
	if (w == NULL)
		return 0;
	if (w->writer_started) {
		/* release: pairs with the writer's acquire; the producer is done. */
		atomic_store_explicit(&w->writer_quit, true, memory_order_release);
		pthread_join(w->writer, NULL);
	} else {
		writer_drain(w);
	}
	/* sf_close() writes the header's final sizes. */
	if (w->file && sf_close(w->file) != 0)
		flz_backend_logf(&w->log, FLZ_LOG_ERROR, "cannot finish \"%s\": %s", w->path,
				 sf_strerror(NULL));
	w->file = NULL;
	uint64_t written = w->frames_written;
	if (write_errors != NULL)
		/* relaxed: the writer thread was joined; a plain read. */
		*write_errors = atomic_load_explicit(&w->write_errors, memory_order_relaxed);
	writer_free(w);
	return written;
}
