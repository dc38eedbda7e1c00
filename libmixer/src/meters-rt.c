/* SPDX-License-Identifier: MIT */
/*
 * The meters' read-out: the render loop taps each voice's block (its
 * peak_lin, the meter tap after gain, fades and stages) and the output
 * block after the master gain; this folds them into per-slot and
 * per-channel maxima until the engine takes them. Kept apart from
 * mixer-rt.c, which calls in at three points only.
 */
#include <string.h>

#include "mixer-internal.h"

/* flz_mixer_meter_voice(), inlined into the per-block loop below. */
FLZ_RT FLZ_HOT static inline void meter_voice(struct flz_mixer *m, struct flz_mixer_voice *v)
{
	const float peak = v->peak_lin;
	/* Zeroed so that a later fold (the end of the block, or a steal at
	 * the next trigger) does not count the same block again. */
	v->peak_lin = 0.0f;
	if (!(peak > 0.0f) || v->slot < 0 || v->sample == NULL)
		return;
	struct flz_mixer_meters *mm = &m->meter;
	const int32_t s = v->slot;
	if (!mm->sounded[s] || peak > mm->pad_peak[s])
		mm->pad_peak[s] = peak;
	/* The newest voice's position: a later start has a larger serial. */
	if (!mm->sounded[s] || v->serial >= m->meter_serial[s]) {
		m->meter_serial[s] = v->serial;
		mm->position_frames[s] =
			(double)v->rd.pos_frames + (double)v->rd.pos_frac * (1.0 / 4294967296.0);
		mm->sample_rate_hz[s] = v->sample->rate_hz;
	}
	mm->sounded[s] = true;
}

FLZ_RT void flz_mixer_meter_voice(struct flz_mixer *m, struct flz_mixer_voice *v)
{
	meter_voice(m, v);
}

FLZ_RT void flz_mixer_meter_voices(struct flz_mixer *m, uint32_t n_frames)
{
	for (uint32_t i = 0; i < m->n_active; i++)
		meter_voice(m, &m->voices[m->active[i]]);
	m->meter.n_frames += n_frames;
}

FLZ_RT void flz_mixer_meter_block(struct flz_mixer *m, const float *out, uint32_t n_frames)
{
	flz_mixer_meter_voices(m, n_frames);
	/* Per channel, into the interval's maxima (the SIMD kernel of the
	 * mixer's table: stereo four frames a vector). */
	m->ops.peak_frames(out, n_frames, m->n_channels, m->meter.master_peak);
}

FLZ_RT void flz_mixer_take_meters(struct flz_mixer *m, struct flz_mixer_meters *out)
{
	m->meter.n_channels = m->n_channels;
	memcpy(out, &m->meter, sizeof(*out));
	memset(&m->meter, 0, sizeof(m->meter));
}
