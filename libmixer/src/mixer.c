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
		.cpu_flags = flz_cpu_detect(),
		.n_stages = 0,
		.stages = NULL,
		.source_ops = NULL,
		.n_sources = 0,
		.source_states = NULL,
		.prime_budget_frames = 0,
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
	if ((c->cpu_flags & ~flz_cpu_detect()) != 0)
		return -EINVAL;
	if (c->n_stages > FLZ_MIXER_MAX_STAGES || (c->n_stages > 0 && c->stages == NULL))
		return -EINVAL;
	for (uint32_t i = 0; i < c->n_stages; i++) {
		const struct flz_mixer_stage *st = &c->stages[i];
		if (st->ops == NULL || st->ops->process == NULL || st->ops->reset == NULL)
			return -EINVAL;
		for (uint32_t v = 0; v < FLZ_MIXER_VOICE_SLOTS; v++)
			if (st->states[v] == NULL)
				return -EINVAL;
	}
	if (c->n_sources > FLZ_MIXER_MAX_SOURCES ||
	    (c->n_sources > 0 && (c->source_ops == NULL || c->source_states == NULL)))
		return -EINVAL;
	if (c->source_ops != NULL && (c->source_ops->start == NULL ||
				      c->source_ops->set_rate == NULL ||
				      c->source_ops->render == NULL))
		return -EINVAL;
	for (uint32_t i = 0; i < c->n_sources; i++)
		if (c->source_states[i] == NULL)
			return -EINVAL;
	return 0;
}

/* A buffer of whole pages, written (flz_pages_alloc()), recorded for
 * flz_mixer_memory() and destroy. n_bytes is rounded up to a multiple of
 * 64, so the buffer keeps the 64-byte alignment the kernels want (pages
 * are more). */
_Static_assert(1 + FLZ_MIXER_BUFFERS + 3 <= FLZ_MIXER_MAX_MEMORY_REGIONS,
	       "the struct, its buffers and the three table arrays fit the list");

static void *buffer_alloc(struct flz_mixer *m, size_t n_bytes)
{
	n_bytes = (n_bytes + 63) & ~(size_t)63;
	void *p = flz_pages_alloc(n_bytes);
	if (p != NULL && m->n_buffers < FLZ_MIXER_BUFFERS)
		m->buffers[m->n_buffers++] = (struct flz_mem_region){ p, n_bytes };
	return p;
}

/* The one choice of kernels, from the explicit flags alone. */
static void mixer_ops_init(struct flz_mixer_ops *ops, uint32_t cpu_flags, uint32_t n_channels)
{
	const struct flz_voice_kernels *k = flz_voice_kernels_for(cpu_flags);
	ops->add = k->add;
	ops->mix_add = k->mix_add;
	ops->peak = k->peak;
	ops->peak_frames = k->peak_frames;
	ops->mix_out = k->mix_out;
	ops->interp = flz_resampler_frame;
	ops->interp_run = flz_resampler_run;
	ops->name = k->name;
#ifdef FLZ_HAVE_AVX2_RESAMPLER
	const uint32_t want = FLZ_CPU_AVX2 | FLZ_CPU_FMA;
	if (n_channels == 2 && (cpu_flags & want) == want) {
		ops->interp = flz_resampler_frame_stereo_avx2;
		ops->interp_run = flz_resampler_run_stereo_avx2;
	}
#else
	(void)n_channels;
#endif
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
	m->config.stages = m->stages; /* the copy: the caller's array may go */
	m->n_stages = config->n_stages;
	for (uint32_t i = 0; i < config->n_stages; i++)
		m->stages[i] = config->stages[i];
	/* The copy of the source states: the caller's array may go. */
	m->source_ops = config->source_ops;
	m->n_sources = config->n_sources;
	for (uint32_t i = 0; i < config->n_sources; i++)
		m->source_states[i] = config->source_states[i];
	m->config.source_states = NULL;
	m->n_channels = config->n_channels;
	mixer_ops_init(&m->ops, config->cpu_flags, m->n_channels);
	m->voice_ramp_frames = flz_voice_ramp_frames(config->voice_ramp_ms, config->rate_hz);
	/* The pad gain glides over a fixed 10 ms (the API's contract). */
	m->pad_gain_ramp_frames = flz_voice_ramp_frames(10.0f, config->rate_hz);

	const uint32_t max_block = config->max_block_frames;
	const size_t frame_bytes = (size_t)m->n_channels * sizeof(float);
	m->window_frames = FLZ_MIXER_WINDOW_FRAMES(max_block);
	m->vbuf = buffer_alloc(m, max_block * frame_bytes);
	m->vbuf_old = buffer_alloc(m, max_block * frame_bytes);
	m->window = buffer_alloc(m, m->window_frames * frame_bytes);
	m->scratch_off = buffer_alloc(m, max_block * sizeof(*m->scratch_off));
	m->scratch_frac = buffer_alloc(m, max_block * sizeof(*m->scratch_frac));
	m->scratch_inc = buffer_alloc(m, max_block * sizeof(*m->scratch_inc));
	/* The switch between key lock's paths: 10 ms, equal power. */
	m->switch_frames = flz_voice_ramp_frames(10.0f, config->rate_hz);
	m->switch_gain = buffer_alloc(m, 2 * (size_t)m->switch_frames * sizeof(float));
	if (m->switch_gain != NULL) {
		for (uint32_t k = 1; k <= m->switch_frames; k++) {
			const double a = 1.57079632679489661923 * k / m->switch_frames;
			m->switch_gain[2 * (k - 1)] = (float)cos(a);
			m->switch_gain[2 * (k - 1) + 1] = (float)sin(a);
		}
	}
	if (m->vbuf == NULL || m->vbuf_old == NULL || m->window == NULL ||
	    m->scratch_off == NULL || m->scratch_frac == NULL || m->scratch_inc == NULL ||
	    m->switch_gain == NULL ||
	    flz_resampler_init(&m->resampler) < 0) {
		flz_mixer_destroy(m);
		return -ENOMEM;
	}

	for (uint32_t i = 0; i < FLZ_MIXER_VOICE_STRUCTS; i++) {
		m->voices[i].slot = -1;
		m->voices[i].pending = -1;
		m->voices[i].entry = -1;
		m->voices[i].src = -1;
		m->voices[i].sw_src = -1;
	}
	/* Pushed in reverse so that state 0 is taken first. */
	for (uint32_t i = 0; i < m->n_sources; i++)
		m->free_sources[i] = (uint8_t)(m->n_sources - 1 - i);
	m->n_free_sources = m->n_sources;
	/* 0 derives the priming budget from the block (mixer.h). */
	m->prime_budget = config->prime_budget_frames;
	if (m->prime_budget == 0) {
		const uint64_t b = 24ull * config->max_block_frames;
		m->prime_budget = b < 2048 ? 2048 : (b > UINT32_MAX ? UINT32_MAX : (uint32_t)b);
	}
	m->config.prime_budget_frames = m->prime_budget;
	m->prime_period = -1;
	m->standby_on = m->n_sources > 0 && config->source_ops != NULL &&
			config->source_ops->prime_step != NULL && !config->standby_off;
	for (uint32_t i = 0; i < FLZ_NUM_SAMPLES; i++) {
		m->slots[i] = -1;
		struct flz_mixer_pad *pad = &m->pads[i];
		pad->gain.start = pad->gain.target = 1.0f;
		pad->gain.n_frames = m->pad_gain_ramp_frames;
		pad->speed.start_fp = pad->speed.target_fp = FLZ_MIXER_POS_ONE;
		pad->speed.n_frames = flz_voice_ramp_frames(config->speed_ramp_ms, config->rate_hz);
		pad->key_lock = -1;
	}
	/* Pushed in reverse so that entry 0 is taken first (only tidier to debug). */
	for (uint32_t i = 0; i < FLZ_MIXER_SAMPLE_ENTRIES; i++)
		m->free_samples[i] = (uint16_t)(FLZ_MIXER_SAMPLE_ENTRIES - 1 - i);
	m->n_free_samples = FLZ_MIXER_SAMPLE_ENTRIES;

	m->inc_fp = (uint64_t)llround(config->speed * 4294967296.0);
	m->speed.start_fp = m->speed.target_fp = m->inc_fp;
	m->speed.n_frames = flz_voice_ramp_frames(config->speed_ramp_ms, config->rate_hz);
	m->master_lin = config->master_gain;
	m->master.start = m->master.target = config->master_gain;
	m->master.n_frames = flz_voice_ramp_frames(config->master_ramp_ms, config->rate_hz);
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
	all[n++] = (struct flz_mem_region){ mixer->resampler.mem, mixer->resampler.mem_bytes };
	for (int i = 0; i < n && i < max_regions; i++)
		regions[i] = all[i];
	return n;
}

uint32_t flz_mixer_latency_frames(const struct flz_mixer *mixer)
{
	/* A voice reads its sample from memory and sounds from the next output
	 * frame: nothing is rendered ahead. */
	(void)mixer;
	return 0;
}

struct flz_mixer_config flz_mixer_get_config(const struct flz_mixer *mixer)
{
	return mixer->config;
}
