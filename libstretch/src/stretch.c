/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libstretch, control side: creating, warming and freeing processors. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flz/constants.h>

#include "stretch-internal.h"

/* Input chunk: at 4x a block reads 4 * max_block_frames, and Rubber Band
 * asks for up to a window's worth at once (R3 at 192 kHz: 8192 frames);
 * larger requests are split. */
#define STRETCH_MIN_CHUNK_FRAMES 8192u

struct flz_stretch_config flz_stretch_config_init(void)
{
	return (struct flz_stretch_config){
		.rate_hz = 48000,
		.n_channels = 2,
		.max_block_frames = 1024,
		.engine = FLZ_STRETCH_ENGINE_FASTER,
	};
}

static uint32_t silence_read(void *ctx, float *dst, uint32_t n_frames)
{
	(void)ctx;
	(void)dst;
	(void)n_frames;
	return 0;
}

/*
 * Run silence through at the extreme rates and back: R2 grows its output
 * ring buffers the first time the time ratio exceeds what they were sized
 * for (measured: allocation and free on the audio thread at rates 0.5 and
 * 0.25 without this), and every page either engine writes should be faulted
 * in now, not on the audio thread.
 */
static int warm(struct flz_stretch *st)
{
	static const double rates[] = { FLZ_STRETCH_RATE_MIN, FLZ_STRETCH_RATE_MAX, 1.0 };
	float *out = calloc((size_t)st->max_block_frames * st->n_channels, sizeof(float));
	if (out == NULL)
		return -ENOMEM;
	int ret = 0;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]) && ret == 0; i++) {
		ret = flz_stretch_reset(st, rates[i]);
		/* About a quarter second of output: several windows at any rate. */
		uint32_t n_blocks = st->rate_hz / 4 / st->max_block_frames + 4;
		for (uint32_t b = 0; b < n_blocks && ret == 0; b++)
			ret = flz_stretch_render(st, silence_read, NULL, out, st->max_block_frames);
	}
	free(out);
	if (ret == 0)
		ret = flz_stretch_reset(st, 1.0);
	return ret;
}

int flz_stretch_new(const struct flz_stretch_config *config, struct flz_stretch **out)
{
	if (config == NULL || out == NULL)
		return -EINVAL;
	if (config->rate_hz < FLZ_RATE_MIN_HZ || config->rate_hz > FLZ_RATE_MAX_HZ ||
	    config->n_channels < 1 || config->n_channels > FLZ_STRETCH_MAX_CHANNELS ||
	    config->max_block_frames < 1 || config->max_block_frames > FLZ_MAX_BLOCK_FRAMES ||
	    (config->engine != FLZ_STRETCH_ENGINE_FASTER &&
	     config->engine != FLZ_STRETCH_ENGINE_FINER))
		return -EINVAL;

	struct flz_stretch *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	st->rate_hz = config->rate_hz;
	st->n_channels = config->n_channels;
	st->max_block_frames = config->max_block_frames;
	st->engine = config->engine;
	uint32_t chunk = 4 * config->max_block_frames;
	st->chunk_frames = chunk > STRETCH_MIN_CHUNK_FRAMES ? chunk : STRETCH_MIN_CHUNK_FRAMES;
	st->rate = 1.0;

	int ret = -ENOMEM;
	st->in_frames = calloc((size_t)st->chunk_frames * st->n_channels, sizeof(float));
	if (st->in_frames == NULL)
		goto fail;
	for (uint32_t c = 0; c < st->n_channels; c++) {
		st->in_planes[c] = calloc(st->chunk_frames, sizeof(float));
		st->out_planes[c] = calloc(st->chunk_frames, sizeof(float));
		if (st->in_planes[c] == NULL || st->out_planes[c] == NULL)
			goto fail;
	}

	/*
	 * Real time; one thread (ours: Rubber Band's own threads would wait on
	 * each other); pitch scale fixed at 1, so the default pitch mode does
	 * no resampling; the engine as configured. Transients and window are
	 * Rubber Band's defaults for R2 (crisp, standard window).
	 */
	RubberBandOptions opts = RubberBandOptionProcessRealTime | RubberBandOptionThreadingNever |
				 (config->engine == FLZ_STRETCH_ENGINE_FINER
					  ? RubberBandOptionEngineFiner
					  : RubberBandOptionEngineFaster);
	st->rb = rubberband_new(st->rate_hz, st->n_channels, opts, 1.0, 1.0);
	if (st->rb == NULL)
		goto fail;
	rubberband_set_max_process_size(st->rb, st->chunk_frames);
	ret = warm(st);
	if (ret != 0)
		goto fail;
	*out = st;
	return 0;

fail:
	flz_stretch_destroy(st);
	return ret;
}

void flz_stretch_destroy(struct flz_stretch *st)
{
	if (st == NULL)
		return;
	if (st->rb != NULL)
		rubberband_delete(st->rb);
	for (uint32_t c = 0; c < FLZ_STRETCH_MAX_CHANNELS; c++) {
		free(st->in_planes[c]);
		free(st->out_planes[c]);
	}
	free(st->in_frames);
	free(st);
}

int64_t flz_stretch_max_read_frames(const struct flz_stretch *st)
{
	if (st == NULL)
		return -EINVAL;
	return st->chunk_frames;
}
