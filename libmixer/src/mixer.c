/* SPDX-License-Identifier: MIT */
/* Control side of the mixer: configuration, allocation, teardown. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mixer-internal.h"

struct flz_mixer_config flz_mixer_config_init(void)
{
	struct flz_mixer_config c = {
		.rate_hz = 48000,
		.n_channels = 2,
		.max_block_frames = 4096,
		.voice_ramp_ms = 5.0f,
		.master_ramp_ms = 10.0f,
		.speed_ramp_ms = 20.0f,
		.master_gain = 1.0f,
		.speed = 1.0,
		.retire = NULL,
		.event = NULL,
		.userdata = NULL,
	};
	return c;
}

static bool ramp_ms_ok(float ms)
{
	/* Ten seconds is far beyond any sensible fade; it bounds the frame count. */
	return ms >= 0.0f && ms <= 10000.0f;
}

static int check_config(const struct flz_mixer_config *c)
{
	if (c->rate_hz < FLZ_RATE_MIN_HZ || c->rate_hz > FLZ_RATE_MAX_HZ)
		return -EINVAL;
	if (c->n_channels < 1 || c->n_channels > FLZ_MAX_CHANNELS)
		return -EINVAL;
	if (c->max_block_frames < 1 || c->max_block_frames > FLZ_MAX_BLOCK_FRAMES)
		return -EINVAL;
	if (!ramp_ms_ok(c->voice_ramp_ms) || !ramp_ms_ok(c->master_ramp_ms) ||
	    !ramp_ms_ok(c->speed_ramp_ms))
		return -EINVAL;
	if (!(c->master_gain >= FLZ_VOLUME_MIN && c->master_gain <= FLZ_VOLUME_MAX))
		return -EINVAL;
	if (!(c->speed >= FLZ_SPEED_MIN && c->speed <= FLZ_SPEED_MAX))
		return -EINVAL;
	if (c->retire == NULL)
		return -EINVAL;
	return 0;
}

int flz_mixer_new(const struct flz_mixer_config *config, struct flz_mixer **out)
{
	if (config == NULL || out == NULL)
		return -EINVAL;
	int err = check_config(config);
	if (err < 0)
		return err;

	struct flz_mixer *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	m->config = *config;
	m->n_channels = config->n_channels;
	m->kernels = flz_voice_kernels_get();
	m->interp = flz_resampler_frame;
	m->interp_run = flz_resampler_run;
#ifdef FLZ_HAVE_AVX2_RESAMPLER
	/* Follow the voice kernels' choice (CPU check and test switch). */
	if (m->n_channels == 2 && m->kernels == flz_voice_kernels_avx2()) {
		m->interp = flz_resampler_frame_stereo_avx2;
		m->interp_run = flz_resampler_run_stereo_avx2;
	}
	m->steady_avx2 = m->kernels == flz_voice_kernels_avx2();
#endif
	m->voice_ramp_frames = flz_voice_ramp_frames(config->voice_ramp_ms, config->rate_hz);

	/* The source block holds the interpolator's history and look-ahead
	 * (2 x LOOKAHEAD) plus the source frames of one block at the highest
	 * speed (2 x max_block + 2); at least as much again (and no less than
	 * 8192 frames) as slack, so the history is moved back to the start
	 * only every few (small: every hundred or so) blocks. */
	uint32_t max_block = config->max_block_frames;
	uint32_t slack = 2 * max_block > 8192 ? 2 * max_block : 8192;
	m->src_cap_frames = 2 * max_block + slack + 4 * FLZ_MIXER_LOOKAHEAD +
			    2 * FLZ_MIXER_ALIGN_FRAMES;
	size_t src_bytes = (size_t)m->src_cap_frames * m->n_channels * sizeof(float);
	src_bytes = (src_bytes + 63) & ~(size_t)63;
	m->src = aligned_alloc(64, src_bytes);
	/* The scratch block takes one render call's source frames, or a
	 * voice's frames of the look-ahead when a stop takes them back. */
	uint32_t mix_frames = FLZ_MIXER_MAX_SRC_BLOCK(max_block);
	if (mix_frames < FLZ_MIXER_LOOKAHEAD + 1)
		mix_frames = FLZ_MIXER_LOOKAHEAD + 1;
	size_t mix_bytes = (size_t)mix_frames * m->n_channels * sizeof(float);
	mix_bytes = (mix_bytes + 63) & ~(size_t)63;
	m->mix = aligned_alloc(64, mix_bytes);
	size_t hist_bytes = (size_t)2 * FLZ_MIXER_LOOKAHEAD * m->n_channels * sizeof(float);
	hist_bytes = (hist_bytes + 63) & ~(size_t)63;
	m->hist[0] = aligned_alloc(64, hist_bytes);
	m->hist[1] = aligned_alloc(64, hist_bytes);
	m->scratch_n = calloc(max_block, sizeof(*m->scratch_n));
	m->scratch_frac = calloc(max_block, sizeof(*m->scratch_frac));
	m->scratch_inc = calloc(max_block, sizeof(*m->scratch_inc));
	if (m->src == NULL || m->mix == NULL || m->hist[0] == NULL || m->hist[1] == NULL ||
	    m->scratch_n == NULL || m->scratch_frac == NULL ||
	    m->scratch_inc == NULL || flz_resampler_init(&m->resampler) < 0 ||
	    flz_resampler_stretch_init(&m->stretch) < 0) {
		flz_mixer_destroy(m);
		return -ENOMEM;
	}
	memset(m->src, 0, src_bytes);

	for (uint32_t i = 0; i < FLZ_MIXER_VOICE_STRUCTS; i++) {
		flz_voice_init(&m->voices[i].voice, m->voice_ramp_frames);
		m->voices[i].pending = -1;
		m->voices[i].entry = -1;
	}
	for (uint32_t i = 0; i < FLZ_NUM_SAMPLES; i++)
		m->slots[i] = -1;
	/* Pushed in reverse so that entry 0 is taken first (only tidier to debug). */
	for (uint32_t i = 0; i < FLZ_MIXER_SAMPLE_ENTRIES; i++)
		m->free_samples[i] = (uint16_t)(FLZ_MIXER_SAMPLE_ENTRIES - 1 - i);
	m->n_free_samples = FLZ_MIXER_SAMPLE_ENTRIES;

	/* Output frame 0 sits at source frame 0; the frames before it and the
	 * look-ahead up to it are silence already "rendered", so the source
	 * head obeys head = (last output position) + LOOKAHEAD + 1 from the
	 * start, as if an output frame had been at position -1. */
	m->src_head = FLZ_MIXER_LOOKAHEAD;
	m->src_base = m->src_head - (2 * FLZ_MIXER_LOOKAHEAD + FLZ_MIXER_ALIGN_FRAMES - 1) /
					    FLZ_MIXER_ALIGN_FRAMES * FLZ_MIXER_ALIGN_FRAMES;
	m->pos_int = 0;
	m->pos_frac = 0;
	m->inc_fp = (uint64_t)llround(config->speed * 4294967296.0);
	m->inc_start_fp = m->inc_fp;
	m->inc_target_fp = m->inc_fp;
	m->speed_glide.n_frames = flz_voice_ramp_frames(config->speed_ramp_ms, config->rate_hz);
	flz_resampler_prepare(&m->interp_speed, m->inc_fp, NULL);
	m->master_lin = config->master_gain;
	m->master_start_lin = config->master_gain;
	m->master_target_lin = config->master_gain;
	m->master_glide.n_frames = flz_voice_ramp_frames(config->master_ramp_ms, config->rate_hz);
	*out = m;
	return 0;
}

void flz_mixer_destroy(struct flz_mixer *mixer)
{
	if (mixer == NULL)
		return;
	/* One reference per entry in use, whatever slots and voices used it. */
	for (uint32_t i = 0; i < FLZ_MIXER_SAMPLE_ENTRIES; i++)
		flz_sample_unref(mixer->samples[i].sample);
	flz_resampler_deinit(&mixer->resampler);
	flz_resampler_stretch_deinit(&mixer->stretch);
	free(mixer->src);
	free(mixer->mix);
	free(mixer->hist[0]);
	free(mixer->hist[1]);
	free(mixer->scratch_n);
	free(mixer->scratch_frac);
	free(mixer->scratch_inc);
	free(mixer);
}

uint32_t flz_mixer_latency_frames(const struct flz_mixer *mixer)
{
	/* Commands take effect at the next output frame (see
	 * lookahead_region() in mixer-rt.c). */
	(void)mixer;
	return 0;
}

struct flz_mixer_config flz_mixer_get_config(const struct flz_mixer *mixer)
{
	return mixer->config;
}
