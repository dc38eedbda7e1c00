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

/* A buffer of whole pages, written (flz_pages_alloc()), recorded for
 * flz_mixer_memory() and destroy. n_bytes is already a multiple of 64, so
 * the buffer keeps the 64-byte alignment the kernels want (pages are more). */
_Static_assert(1 + FLZ_MIXER_BUFFERS + 4 <= FLZ_MIXER_MAX_MEMORY_REGIONS,
	       "the struct, its buffers and the four table arrays fit the list");

static void *buffer_alloc(struct flz_mixer *m, size_t n_bytes)
{
	void *p = flz_pages_alloc(n_bytes);
	if (p != NULL && m->n_buffers < FLZ_MIXER_BUFFERS)
		m->buffers[m->n_buffers++] = (struct flz_mem_region){ p, n_bytes };
	return p;
}

int flz_mixer_new(const struct flz_mixer_config *config, struct flz_mixer **out)
{
	if (config == NULL || out == NULL)
		return -EINVAL;
	int err = check_config(config);
	if (err < 0)
		return err;

	/* The struct holds the voices and the audio thread's state: pages of
	 * its own too, written, so it can be locked and listed. */
	struct flz_mixer *m = flz_pages_alloc(sizeof(*m));
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
	m->src = buffer_alloc(m, src_bytes);
	/* The scratch block takes one render call's source frames, or a
	 * voice's frames of the look-ahead when a stop takes them back. */
	uint32_t mix_frames = FLZ_MIXER_MAX_SRC_BLOCK(max_block);
	if (mix_frames < FLZ_MIXER_LOOKAHEAD + 1)
		mix_frames = FLZ_MIXER_LOOKAHEAD + 1;
	size_t mix_bytes = (size_t)mix_frames * m->n_channels * sizeof(float);
	mix_bytes = (mix_bytes + 63) & ~(size_t)63;
	m->mix = buffer_alloc(m, mix_bytes);
	size_t hist_bytes = (size_t)2 * FLZ_MIXER_LOOKAHEAD * m->n_channels * sizeof(float);
	hist_bytes = (hist_bytes + 63) & ~(size_t)63;
	m->hist[0] = buffer_alloc(m, hist_bytes);
	m->hist[1] = buffer_alloc(m, hist_bytes);
	m->scratch_n = buffer_alloc(m, max_block * sizeof(*m->scratch_n));
	m->scratch_frac = buffer_alloc(m, max_block * sizeof(*m->scratch_frac));
	m->scratch_inc = buffer_alloc(m, max_block * sizeof(*m->scratch_inc));
	if (m->src == NULL || m->mix == NULL || m->hist[0] == NULL || m->hist[1] == NULL ||
	    m->scratch_n == NULL || m->scratch_frac == NULL ||
	    m->scratch_inc == NULL || flz_resampler_init(&m->resampler) < 0 ||
	    flz_resampler_stretch_init(&m->stretch) < 0) {
		flz_mixer_destroy(m);
		return -ENOMEM;
	}

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
	for (uint32_t i = 0; i < mixer->n_buffers; i++)
		flz_pages_free((void *)mixer->buffers[i].addr, mixer->buffers[i].n_bytes);
	flz_pages_free(mixer, sizeof(*mixer));
}

int flz_mixer_memory(const struct flz_mixer *mixer, struct flz_mem_region *regions,
		     int max_regions)
{
	struct flz_mem_region all[FLZ_MIXER_MAX_MEMORY_REGIONS];
	int n = 0;
	all[n++] = (struct flz_mem_region){ mixer, sizeof(*mixer) };
	for (uint32_t i = 0; i < mixer->n_buffers; i++)
		all[n++] = mixer->buffers[i];
	all[n++] = (struct flz_mem_region){ mixer->resampler.h, FLZ_RESAMPLER_TABLE_BYTES };
	all[n++] = (struct flz_mem_region){ mixer->resampler.dh, FLZ_RESAMPLER_TABLE_BYTES };
	all[n++] = (struct flz_mem_region){ mixer->stretch.h, FLZ_RESAMPLER_STRETCH_BYTES };
	all[n++] = (struct flz_mem_region){ mixer->stretch.dh, FLZ_RESAMPLER_STRETCH_BYTES };
	for (int i = 0; i < n && i < max_regions; i++)
		regions[i] = all[i];
	return n;
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
