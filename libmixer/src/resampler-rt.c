/* SPDX-License-Identifier: MIT */
/* The interpolator's audio-thread part: one output frame from the source. */
#include <stddef.h>
#include <stdint.h>

#include "resampler.h"

#define U_SHIFT 16

FLZ_RT FLZ_HOT void flz_resampler_prepare(struct flz_resampler_speed *sp, uint64_t inc_fp)
{
	const uint64_t one = (uint64_t)1 << 32;
	/* Tap t (source frame n + t, t = 1-side .. side) sits at distance
	 * x = frac - t from the output position; it reads the kernel at
	 * y = x / max(speed, 1), i.e. at flat table position
	 * (OFFSET + y) * PHASES, in 16.16 fixed point. Taps are visited in
	 * increasing t, so the position decreases by step_u per tap. */
	sp->inc_fp = inc_fp;
	sp->table = NULL;
	if (inc_fp <= one) {
		sp->mode = FLZ_RESAMPLER_ONE_ROW;
		sp->side = FLZ_RESAMPLER_HALF_TAPS;
		sp->step_u = FLZ_RESAMPLER_PHASES << U_SHIFT;
		sp->unit = (double)sp->step_u;
		sp->norm = 1.0f;
		return;
	}
	double speed = (double)inc_fp / (double)one;
	sp->mode = FLZ_RESAMPLER_PER_TAP;
	sp->side = (int32_t)(((uint64_t)FLZ_RESAMPLER_HALF_TAPS * inc_fp + one - 1) >> 32);
	sp->unit = (double)FLZ_RESAMPLER_PHASES * FLZ_RESAMPLER_U_ONE / speed;
	sp->step_u = (int32_t)(sp->unit + 0.5);
	sp->norm = (float)(1.0 / speed);
}

FLZ_RT FLZ_HOT void flz_resampler_prepare_table(const struct flz_resampler *r,
					struct flz_resampler_speed *sp, uint64_t inc_fp)
{
	if (inc_fp <= ((uint64_t)1 << 32)) {
		flz_resampler_prepare(sp, inc_fp);
		return;
	}
	const struct flz_resampler_stretch *t = flz_resampler_table_for(r, inc_fp);
	sp->inc_fp = inc_fp;
	sp->mode = FLZ_RESAMPLER_STRETCH_TABLE;
	sp->side = t->side;
	sp->step_u = 0;
	sp->unit = 0.0;
	sp->norm = t->norm;
	sp->table = t;
}

FLZ_RT FLZ_HOT void flz_resampler_frame(const struct flz_resampler *r, const struct flz_resampler_speed *sp,
				const float *center, uint32_t n_channels, uint32_t frac,
				float gain_lin, float *out)
{
	const int32_t side = sp->side;
	const int32_t n_taps = 2 * side;
	const float *x = center + (int32_t)(1 - side) * (int32_t)n_channels;
	const float scale = gain_lin * sp->norm;
	float c[2 * FLZ_RESAMPLER_MAX_SIDE_TAPS];

	if (sp->mode == FLZ_RESAMPLER_PER_TAP) {
		int32_t u = flz_resampler_first_u(sp, frac);
		for (int32_t i = 0; i < n_taps; i++, u -= sp->step_u)
			c[i] = flz_resampler_kernel_at(r, u);
	} else {
		/* A row and its difference to the next, at a fraction a. */
		const float *h, *dh;
		int32_t step;
		const float a = flz_resampler_row(r, sp, frac, &h, &dh, &step);
		for (int32_t i = 0; i < n_taps; i++)
			c[i] = h[i * step] + a * dh[i * step];
	}

	if (n_channels == 2) {
		float a0 = 0.0f, a1 = 0.0f;
		for (int32_t i = 0; i < n_taps; i++) {
			a0 += c[i] * x[2 * i];
			a1 += c[i] * x[2 * i + 1];
		}
		out[0] = a0 * scale;
		out[1] = a1 * scale;
		return;
	}
	float acc[FLZ_MAX_CHANNELS] = { 0 };
	for (int32_t i = 0; i < n_taps; i++) {
		const float *xf = x + (size_t)i * n_channels;
		for (uint32_t ch = 0; ch < n_channels; ch++)
			acc[ch] += c[i] * xf[ch];
	}
	for (uint32_t ch = 0; ch < n_channels; ch++)
		out[ch] = acc[ch] * scale;
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
