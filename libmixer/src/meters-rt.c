/* SPDX-License-Identifier: MIT */
/*
 * The meters' read-out: the render keeps each voice's max |x| since the
 * last fold (its peak_lin, the meter tap after gain, fades and stages) and
 * calls in here for the output block after the master gain; this folds
 * them into per-slot and per-channel maxima until the engine takes them.
 * Kept apart from mixer-rt.c, which calls in at three points only.
 */
#include <string.h>

#include "mixer-internal.h"

/*
 * Fold a voice's tap (its max since the last fold, voice_tap()) into its
 * slot's meter and zero it. Once per take for a playing voice, and at its
 * end (finish_voice()): the render only keeps each voice's max.
 */
FLZ_RT FLZ_HOT static inline void meter_voice(struct flz_mixer *m, struct flz_mixer_voice *v)
{
	const float peak = v->peak_lin;
	v->peak_lin = 0.0f;
	if (!(peak > 0.0f) || v->slot < 0 || v->sample == NULL)
		return;
	struct flz_mixer_meters *mm = &m->meter;
	const int32_t s = v->slot;
	if (!mm->sounded[s])
		m->meter_slots[m->n_meter_slots++] = (uint8_t)s;
	if (!mm->sounded[s] || peak > mm->pad_peak[s])
		mm->pad_peak[s] = peak;
	/* The newest voice's position: a later start has a larger serial. A
	 * key-locked voice's is its audible one (its source's reader is ahead
	 * by what the source holds). */
	if (!mm->sounded[s] || v->serial >= m->meter_serial[s]) {
		const struct flz_mixer_reader *rd = v->src >= 0 ? &v->aud : &v->rd;
		m->meter_serial[s] = v->serial;
		mm->position_frames[s] =
			(double)rd->pos_frames + (double)rd->pos_frac * (1.0 / 4294967296.0);
		mm->sample_rate_hz[s] = v->sample->rate_hz;
	}
	mm->sounded[s] = true;
}

FLZ_RT void flz_mixer_meter_voice(struct flz_mixer *m, struct flz_mixer_voice *v)
{
	meter_voice(m, v);
}

FLZ_RT void flz_mixer_meter_frames(struct flz_mixer *m, uint32_t n_frames)
{
	m->meter.n_frames += n_frames;
}

FLZ_RT void flz_mixer_meter_block(struct flz_mixer *m, const float *out, uint32_t n_frames)
{
	m->meter.n_frames += n_frames;
	/* Per channel, into the interval's maxima (the SIMD kernel of the
	 * mixer's table: stereo four frames a vector). */
	m->ops.peak_frames(out, n_frames, m->n_channels, m->meter.master_peak);
}

FLZ_RT void flz_mixer_take_meters(struct flz_mixer *m, struct flz_mixer_meters *out)
{
	for (uint32_t i = 0; i < m->n_active; i++)
		meter_voice(m, &m->voices[m->active[i]]);
	struct flz_mixer_meters *mm = &m->meter;
	out->n_frames = mm->n_frames;
	out->n_channels = m->n_channels;
	memcpy(out->master_peak, mm->master_peak, sizeof(out->master_peak));
	memset(out->sounded, 0, sizeof(out->sounded));
	/* The slots that sounded alone: the rest of out's per-slot values
	 * stay as they were (mixer.h: unspecified where not sounded). */
	for (uint32_t i = 0; i < m->n_meter_slots; i++) {
		const uint32_t s = m->meter_slots[i];
		out->sounded[s] = true;
		out->pad_peak[s] = mm->pad_peak[s];
		out->position_frames[s] = mm->position_frames[s];
		out->sample_rate_hz[s] = mm->sample_rate_hz[s];
		mm->sounded[s] = false;
	}
	m->n_meter_slots = 0;
	mm->n_frames = 0;
	memset(mm->master_peak, 0, sizeof(mm->master_peak));
}
