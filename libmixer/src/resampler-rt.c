/* SPDX-License-Identifier: MIT */
/* The interpolator's audio-thread part: one output frame from the source. */
#include <stddef.h>
#include <stdint.h>

#include "resampler.h"

const uint8_t flz_resampler_order[FLZ_RESAMPLER_GROUP] = { 0, 1, 4, 5, 2, 3, 6, 7 };

FLZ_RT FLZ_HOT void flz_resampler_prepare_table(const struct flz_resampler *r,
					struct flz_resampler_speed *sp, uint64_t inc_fp)
{
	const struct flz_resampler_table *t = flz_resampler_table_for(r, inc_fp);
	sp->inc_fp = inc_fp;
	sp->side = t->side;
	sp->table = t;
}

FLZ_RT FLZ_HOT void flz_resampler_frame(const struct flz_resampler *r, const struct flz_resampler_speed *sp,
				const float *center, uint32_t n_channels, uint32_t frac,
				float gain_lin, float *out)
{
	(void)r;
	const int32_t side = sp->side;
	const int32_t n_taps = 2 * side;
	const float *x = center + (int32_t)(1 - side) * (int32_t)n_channels;
	float c[2 * FLZ_RESAMPLER_MAX_SIDE_TAPS];

	/* A row and its differences to the next, at a fraction a. */
	const float *row;
	const float a = flz_resampler_row(sp, frac, &row);
	for (int32_t i = 0; i < n_taps; i++) {
		const float *g = row + (i / FLZ_RESAMPLER_GROUP) * 2 * FLZ_RESAMPLER_GROUP;
		const int32_t p = flz_resampler_order[i % FLZ_RESAMPLER_GROUP];
		c[i] = g[p] + a * g[FLZ_RESAMPLER_GROUP + p];
	}

	if (n_channels == 2) {
		float a0 = 0.0f, a1 = 0.0f;
		for (int32_t i = 0; i < n_taps; i++) {
			a0 += c[i] * x[2 * i];
			a1 += c[i] * x[2 * i + 1];
		}
		out[0] = a0 * gain_lin;
		out[1] = a1 * gain_lin;
		return;
	}
	float acc[FLZ_MAX_CHANNELS] = { 0 };
	for (int32_t i = 0; i < n_taps; i++) {
		const float *xf = x + (size_t)i * n_channels;
		for (uint32_t ch = 0; ch < n_channels; ch++)
			acc[ch] += c[i] * xf[ch];
	}
	for (uint32_t ch = 0; ch < n_channels; ch++)
		out[ch] = acc[ch] * gain_lin;
}

FLZ_RT FLZ_HOT void flz_resampler_run(const struct flz_resampler *r, const struct flz_resampler_speed *sp,
			      const float *src, int64_t base, const int64_t *pos,
			      const uint32_t *frac, uint32_t n_channels, uint32_t n_frames,
			      float gain_lin, float *out)
{
	for (uint32_t j = 0; j < n_frames; j++)
		flz_resampler_frame(r, sp, src + (size_t)(pos[j] - base) * n_channels, n_channels,
				    frac[j], gain_lin, out + (size_t)j * n_channels);
}
