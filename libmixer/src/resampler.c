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
	return 0;
}

void flz_resampler_deinit(struct flz_resampler *r)
{
	flz_pages_free(r->h, FLZ_RESAMPLER_TABLE_BYTES);
	flz_pages_free(r->dh, FLZ_RESAMPLER_TABLE_BYTES);
	r->h = NULL;
	r->dh = NULL;
}
