/* SPDX-License-Identifier: MIT */
/*
 * The wav backend, control side: device "wav:PATH" plays in real time (the
 * audio thread, backend-wav-rt.c, is paced by the monotonic clock) and
 * writes every frame it plays to PATH as a 32-bit float WAV. The file is
 * written by the frame writer (record.h, shared with the engine's
 * recorder), never by the audio thread: frames reach its thread through a
 * frame ring of about 2 s. A writer that falls behind costs frames in the file
 * (counted: stats.file_dropped_frames), never a wait on the audio thread; a
 * failed or short write is counted (stats.file_write_errors) and the first
 * is logged. close drains the ring and finalises the header (sf_close).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine-private.h"
#include "record.h"

static int wav_open(const struct flz_backend_request *request, struct flz_backend_device *device,
		    char *why, size_t why_size)
{
	const char *path = request->target;
	if (path[0] == '\0') {
		flz_engine_set_why(why, why_size, "device \"wav:\" needs a path: wav:PATH");
		return -EINVAL;
	}
	if (request->test_ring_frames != 0 && request->test_ring_frames < request->period_frames) {
		flz_engine_set_why(why, why_size,
				 "device \"wav:%s\": a test ring of %u frames holds no period of %u",
				 path, request->test_ring_frames, request->period_frames);
		return -EINVAL;
	}
	struct flz_frame_writer_spec spec = {
		.path = path,
		.rate_hz = request->rate_hz,
		.n_channels = request->n_channels,
		.ring_frames = request->test_ring_frames,
		.hold_writer = request->test_hold_writer,
		.log = device->log,
		.stat_dropped = "file_dropped_frames",
		.stat_errors = "file_write_errors",
	};
	struct flz_frame_writer *wav = NULL;
	char reason[256] = "";
	int err = flz_frame_writer_open(&wav, &spec, reason, sizeof(reason));
	if (err == -ENOMEM)
		return err;
	if (err < 0) {
		flz_engine_set_why(why, why_size,
				   "cannot open \"%s\" for writing (device \"wav:%s\"): %s", path,
				   path, reason);
		return -EIO;
	}

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

static int wav_start(struct flz_engine_audio *audio, struct flz_backend_device *device,
		     char *why, size_t why_size)
{
	struct flz_frame_writer *wav = device->handle;
	audio->wav = wav;
	int rc = flz_frame_writer_start(wav, "flz-wav-writer");
	if (rc != 0) {
		flz_engine_set_why(why, why_size, "device \"wav:%s\": cannot start the writer thread: %s",
				 wav->path, strerror(rc));
		return -rc;
	}
	return 0;
}

static void wav_close(struct flz_engine_audio *audio, struct flz_backend_device *device)
{
	struct flz_frame_writer *wav = device->handle;
	if (wav == NULL)
		return;
	/* The audio thread was joined before (or never started). */
	flz_frame_writer_close(wav, NULL);
	audio->wav = NULL;
	device->handle = NULL;
}

const struct flz_backend flz_backend_wav = {
	.name = "wav",
	.open = wav_open,
	.start = wav_start,
	.rt_main = flz_engine_wav_main,
	.close = wav_close,
};
