/* SPDX-License-Identifier: MIT */
/* Control side of the interpolator: building the kernel table. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flz/pages.h>

#include "resampler.h"

/* Modified Bessel function of the first kind, order 0 (power series). */
static double bessel_i0(double x)
{
	double sum = 1.0, term = 1.0, q = x * x / 4.0;
	for (int k = 1; k < 200; k++) {
		term *= q / ((double)k * (double)k);
		sum += term;
		if (term < sum * 1e-17)
			break;
	}
	return sum;
}

static int flz_resampler_stretch_init(struct flz_resampler *r);

int flz_resampler_init(struct flz_resampler *r)
{
	const int half = FLZ_RESAMPLER_HALF_TAPS;
	const int phases = FLZ_RESAMPLER_PHASES;
	/* y runs over [-OFFSET, OFFSET]: two frames of zeros beyond the kernel
	 * each side, so a stretched tap at the edge (plus rounding of the table
	 * position) still reads zeros inside the table. */
	const int offset = FLZ_RESAMPLER_OFFSET;
	const int n_flat = 2 * offset * phases + 1;
	double *flat = malloc((size_t)(n_flat + 1) * sizeof(double));
	r->h = flz_pages_alloc(FLZ_RESAMPLER_TABLE_BYTES);
	r->dh = flz_pages_alloc(FLZ_RESAMPLER_TABLE_BYTES);
	if (flat == NULL || r->h == NULL || r->dh == NULL) {
		free(flat);
		flz_resampler_deinit(r);
		return -ENOMEM;
	}
	const double i0_beta = bessel_i0(FLZ_RESAMPLER_KAISER_BETA);
	for (int i = 0; i <= n_flat; i++) {
		int rel = i - offset * phases; /* y * phases, exact */
		double y = (double)rel / phases;
		if (fabs(y) >= half) {
			flat[i] = 0.0;
		} else if (rel % phases == 0) {
			/* Integer y: the sinc is exactly 1 at 0 and 0 elsewhere, so at
			 * speed 1 with no fractional position the kernel is an exact
			 * unit impulse and the mix passes through unchanged. */
			flat[i] = rel == 0 ? 1.0 : 0.0;
		} else {
			double w = y / half;
			double kaiser = bessel_i0(FLZ_RESAMPLER_KAISER_BETA * sqrt(1.0 - w * w)) / i0_beta;
			flat[i] = sin(M_PI * y) / (M_PI * y) * kaiser;
		}
	}
	for (int i = 0; i < n_flat; i++) {
		int k = i >> FLZ_RESAMPLER_PHASE_BITS;
		int p = i & (phases - 1);
		size_t at = (size_t)p * FLZ_RESAMPLER_ROW + (size_t)(FLZ_RESAMPLER_ROW - 1 - k);
		r->h[at] = (float)flat[i];
		/* The difference is taken from the rounded values so that
		 * h + 1.0 * dh reproduces the next point closely. */
		r->dh[at] = (float)flat[i + 1] - (float)flat[i];
	}
	free(flat);
	return flz_resampler_stretch_init(r);
}

void flz_resampler_deinit(struct flz_resampler *r)
{
	flz_pages_free(r->h, FLZ_RESAMPLER_TABLE_BYTES);
	flz_pages_free(r->dh, FLZ_RESAMPLER_TABLE_BYTES);
	flz_pages_free(r->stretch_mem, r->stretch_bytes);
	r->h = NULL;
	r->dh = NULL;
	r->stretch_mem = NULL;
	r->h2 = NULL;
	r->dh2 = NULL;
}

/* Build the stretched tables from the base table, here on the control side
 * (building one on the audio thread once cost an xrun), each row exactly
 * what the per-tap kernel gives at its fraction. */
static int flz_resampler_stretch_init(struct flz_resampler *r)
{
	size_t n_floats = 0;
	for (int k = 0; k < FLZ_RESAMPLER_N_STRETCH; k++) {
		struct flz_resampler_stretch *t = &r->stretch[k];
		/* 2^((k + 1) / 6); the last is exactly FLZ_RATE_MAX. */
		const double stretch =
			k == FLZ_RESAMPLER_N_STRETCH - 1 ? FLZ_RATE_MAX : pow(2.0, (k + 1) / 6.0);
		t->inc_fp = (uint64_t)llround(stretch * 4294967296.0);
		struct flz_resampler_speed sp;
		flz_resampler_prepare(&sp, t->inc_fp);
		t->side = sp.side;
		t->stride = (uint32_t)(2 * sp.side + 7) & ~7u;
		t->norm = sp.norm;
		n_floats += 2 * (size_t)FLZ_RESAMPLER_STRETCH_PHASES * 2 * t->stride;
	}
	const size_t n_row2 = (size_t)FLZ_RESAMPLER_PHASES * FLZ_RESAMPLER_ROW2;
	n_floats += 2 * n_row2;
	_Static_assert(FLZ_RESAMPLER_N_STRETCH == 12, "the grid is 2^(1/6) .. 2^2");
	r->stretch_bytes = (n_floats * sizeof(float) + 63) & ~(size_t)63;
	r->stretch_mem = flz_pages_alloc(r->stretch_bytes);
	if (r->stretch_mem == NULL) {
		flz_resampler_deinit(r);
		return -ENOMEM;
	}
	float *at = r->stretch_mem;
	/* The base rows doubled: the taps flz_resampler_row() gives at rates
	 * <= 1 (column ROW - 1 - (OFFSET + HALF_TAPS - 1) on). */
	r->h2 = at;
	r->dh2 = at + n_row2;
	at += 2 * n_row2;
	const int32_t col = FLZ_RESAMPLER_ROW - 1 - (FLZ_RESAMPLER_OFFSET + FLZ_RESAMPLER_HALF_TAPS - 1);
	for (int32_t p = 0; p < FLZ_RESAMPLER_PHASES; p++)
		for (int32_t i = 0; i < 2 * FLZ_RESAMPLER_HALF_TAPS; i++)
			for (int32_t c = 0; c < 2; c++) {
				const size_t from = (size_t)p * FLZ_RESAMPLER_ROW + (size_t)(col + i);
				const size_t to = (size_t)p * FLZ_RESAMPLER_ROW2 + (size_t)(2 * i + c);
				r->h2[to] = r->h[from];
				r->dh2[to] = r->dh[from];
			}
	float prev[2 * FLZ_RESAMPLER_MAX_SIDE_TAPS], cur[2 * FLZ_RESAMPLER_MAX_SIDE_TAPS];
	for (int k = 0; k < FLZ_RESAMPLER_N_STRETCH; k++) {
		struct flz_resampler_stretch *t = &r->stretch[k];
		const size_t n_row = (size_t)FLZ_RESAMPLER_STRETCH_PHASES * 2 * t->stride;
		t->h = at;
		t->dh = at + n_row;
		at += 2 * n_row;
		struct flz_resampler_speed sp;
		flz_resampler_prepare(&sp, t->inc_fp);
		const int32_t n_taps = 2 * sp.side;
		/* Row STRETCH_PHASES (fraction 1) only feeds the last difference.
		 * Padding taps stay zero (flz_pages_alloc() zeroes). */
		for (int32_t q = 0; q <= FLZ_RESAMPLER_STRETCH_PHASES; q++) {
			int32_t u = flz_resampler_first_u_stretched(
				&sp, (double)q / FLZ_RESAMPLER_STRETCH_PHASES);
			for (int32_t i = 0; i < n_taps; i++, u -= sp.step_u)
				cur[i] = flz_resampler_kernel_at(r, u);
			if (q > 0) {
				float *h = t->h + (size_t)(q - 1) * 2 * t->stride;
				float *dh = t->dh + (size_t)(q - 1) * 2 * t->stride;
				for (int32_t i = 0; i < n_taps; i++) {
					h[2 * i] = h[2 * i + 1] = prev[i];
					dh[2 * i] = dh[2 * i + 1] = cur[i] - prev[i];
				}
			}
			memcpy(prev, cur, (size_t)n_taps * sizeof(float));
		}
	}
	return 0;
}
