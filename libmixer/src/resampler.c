/* SPDX-License-Identifier: MIT */
/* Control side of the interpolator: building the kernel tables. */
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

/* A prototype (half-width @p half frames, Kaiser @p beta) at @p y source
 * frames from the position, before stretching. */
static double prototype(double y, double half, double beta)
{
	if (fabs(y) >= half)
		return 0.0;
	if (y == 0.0)
		return 1.0;
	const double w = y / half;
	const double kaiser = bessel_i0(beta * sqrt(1.0 - w * w)) / bessel_i0(beta);
	return sin(M_PI * y) / (M_PI * y) * kaiser;
}

/* The prototype of table k: the base one or the stretched one. */
static double table_half(int k)
{
	return k == 0 ? FLZ_RESAMPLER_HALF_TAPS : FLZ_RESAMPLER_STRETCH_HALF_TAPS;
}

static double table_beta(int k)
{
	return k == 0 ? FLZ_RESAMPLER_KAISER_BETA : FLZ_RESAMPLER_STRETCH_KAISER_BETA;
}

/* Stretch of table k: 1, then 2^(k / 6); the last is exactly FLZ_RATE_MAX. */
static double table_stretch(int k)
{
	if (k == 0)
		return 1.0;
	return k == FLZ_RESAMPLER_N_TABLES - 1 ? FLZ_RATE_MAX : pow(2.0, k / 6.0);
}

/* Taps each side of table k: its prototype reaches half x stretch frames,
 * rounded up to even so that the taps come in groups of four. */
static int32_t table_side(int k)
{
	const int32_t reach = (int32_t)ceil(table_half(k) * table_stretch(k) - 1e-9);
	return (reach + 1) & ~1;
}

int flz_resampler_init(struct flz_resampler *r)
{
	size_t n_floats = 0;
	for (int k = 0; k < FLZ_RESAMPLER_N_TABLES; k++) {
		const int32_t side = table_side(k);
		const uint32_t stride = ((uint32_t)(2 * side) + FLZ_RESAMPLER_GROUP - 1) &
					~(uint32_t)(FLZ_RESAMPLER_GROUP - 1);
		n_floats += (size_t)FLZ_RESAMPLER_PHASES * 2 * stride;
	}
	r->mem_bytes = (n_floats * sizeof(float) + 63) & ~(size_t)63;
	r->mem = flz_pages_alloc(r->mem_bytes);
	if (r->mem == NULL)
		return -ENOMEM;
	float *at = r->mem;
	float cur[2 * FLZ_RESAMPLER_MAX_SIDE_TAPS], next[2 * FLZ_RESAMPLER_MAX_SIDE_TAPS];
	for (int k = 0; k < FLZ_RESAMPLER_N_TABLES; k++) {
		struct flz_resampler_table *t = &r->table[k];
		const double s = table_stretch(k);
		t->inc_fp = (uint64_t)llround(s * 4294967296.0);
		t->side = table_side(k);
		t->stride = ((uint32_t)(2 * t->side) + FLZ_RESAMPLER_GROUP - 1) &
			    ~(uint32_t)(FLZ_RESAMPLER_GROUP - 1);
		t->rows = at;
		const int32_t n_taps = 2 * t->side;
		/* Row q's taps at fraction q / PHASES (row PHASES only feeds the
		 * last differences). Tap i reads source frame n + 1 - side + i, at
		 * distance (q / PHASES - (1 - side + i)) / s from the position. At
		 * stretch 1 and q == 0 that is a whole number of frames: the
		 * prototype is exactly 1 there at 0 and 0 elsewhere, so a whole-
		 * frame position at rate 1 passes the sample through unchanged. */
		for (int32_t q = 0; q <= FLZ_RESAMPLER_PHASES; q++) {
			for (int32_t i = 0; i < n_taps; i++) {
				const double x = (double)q / FLZ_RESAMPLER_PHASES - (double)(1 - t->side + i);
				double v;
				if (k == 0 && q % FLZ_RESAMPLER_PHASES == 0)
					v = x == 0.0 ? 1.0 : 0.0;
				else
					v = prototype(x / s, table_half(k), table_beta(k)) / s;
				next[i] = (float)v;
			}
			if (q > 0) {
				/* Padding taps stay zero (flz_pages_alloc() zeroes). The
				 * differences come from the rounded values, so that
				 * h + 1.0 x dh reproduces the next row closely. */
				float *row = at + (size_t)(q - 1) * 2 * t->stride;
				for (int32_t i = 0; i < n_taps; i++) {
					const int32_t g = i / FLZ_RESAMPLER_GROUP;
					const int32_t p = flz_resampler_order[i % FLZ_RESAMPLER_GROUP];
					row[g * 2 * FLZ_RESAMPLER_GROUP + p] = cur[i];
					row[g * 2 * FLZ_RESAMPLER_GROUP + FLZ_RESAMPLER_GROUP + p] =
						next[i] - cur[i];
				}
			}
			memcpy(cur, next, (size_t)n_taps * sizeof(float));
		}
		at += (size_t)FLZ_RESAMPLER_PHASES * 2 * t->stride;
	}
	return 0;
}

void flz_resampler_deinit(struct flz_resampler *r)
{
	flz_pages_free(r->mem, r->mem_bytes);
	r->mem = NULL;
	r->mem_bytes = 0;
}
