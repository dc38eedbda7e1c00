/* SPDX-License-Identifier: MIT */
/* libeq, control side: configuration and coefficients. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "eq-internal.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* The structure is compared byte for byte by the tests' "nothing changed"
 * checks; that is only sound without padding. */
_Static_assert(sizeof(struct flz_eq) ==
		       4 * sizeof(uint32_t) + sizeof(struct flz_eq_biquad) * FLZ_EQ_N_SECTIONS +
			       4 * FLZ_EQ_N_BANDS * sizeof(double) + 2 * sizeof(uint32_t) +
			       FLZ_EQ_CHANNELS_MAX * FLZ_EQ_N_SECTIONS * 2 * sizeof(double),
	       "struct flz_eq has padding");

struct flz_eq_config flz_eq_config_init(void)
{
	struct flz_eq_config c = {
		.rate_hz = 48000,
		.n_channels = 2,
		.glide_frames = 0,
		.exact_bypass = true,
		.gain_db = { 0.0, 0.0, 0.0 },
	};
	return c;
}

/*
 * A 2nd-order Butterworth section (Q = 1/sqrt 2) by the bilinear transform,
 * its cutoff prewarped (k = tan(pi fc / fs)) so that the -3 dB point of the
 * section, and hence the -6 dB point of the LR4 pair, lands exactly on fc at
 * every rate. Low and high pass share the denominator, which is what makes
 * their squares sum to an allpass in z as they do in s.
 */
static void butterworth(double fc_hz, double rate_hz, struct flz_eq_biquad *lp,
			struct flz_eq_biquad *hp, struct flz_eq_biquad *ap)
{
	const double k = tan(M_PI * fc_hz / rate_hz);
	const double k2 = k * k;
	const double sqrt2 = 1.41421356237309504880;
	const double norm = 1.0 / (1.0 + sqrt2 * k + k2);
	const double a1 = 2.0 * (k2 - 1.0) * norm;
	const double a2 = (1.0 - sqrt2 * k + k2) * norm;

	lp->b0 = k2 * norm;
	lp->b1 = 2.0 * lp->b0;
	lp->b2 = lp->b0;
	lp->a1 = a1;
	lp->a2 = a2;

	hp->b0 = norm;
	hp->b1 = -2.0 * norm;
	hp->b2 = norm;
	hp->a1 = a1;
	hp->a2 = a2;

	/* LP^2 + HP^2 = (s^2 - sqrt2 w s + w^2) / (s^2 + sqrt2 w s + w^2): the
	 * allpass whose numerator is the denominator reversed. */
	ap->b0 = a2;
	ap->b1 = a1;
	ap->b2 = 1.0;
	ap->a1 = a1;
	ap->a2 = a2;
}

int flz_eq_init(struct flz_eq *eq, const struct flz_eq_config *config)
{
	if (!eq || !config)
		return -EINVAL;
	if (config->rate_hz < FLZ_EQ_RATE_HZ_MIN || config->rate_hz > FLZ_EQ_RATE_HZ_MAX)
		return -EINVAL;
	if (config->n_channels < 1 || config->n_channels > FLZ_EQ_CHANNELS_MAX)
		return -EINVAL;
	if (config->glide_frames > FLZ_EQ_GLIDE_FRAMES_MAX)
		return -EINVAL;
	if (!flz_eq_gains_valid(config->gain_db))
		return -EINVAL;

	struct flz_eq e;
	memset(&e, 0, sizeof(e));
	e.rate_hz = config->rate_hz;
	e.n_channels = config->n_channels;
	e.glide_frames = config->glide_frames
				 ? config->glide_frames
				 : (config->rate_hz * FLZ_EQ_GLIDE_MS_DEFAULT + 500u) / 1000u;
	e.exact_bypass = config->exact_bypass ? 1u : 0u;

	struct flz_eq_biquad unused_ap;
	butterworth(FLZ_EQ_CROSSOVER_LOW_HZ, config->rate_hz, &e.coef[0], &e.coef[2], &unused_ap);
	e.coef[1] = e.coef[0];
	e.coef[3] = e.coef[2];
	/* At rates below 8889 Hz the 4 kHz crossover would reach Nyquist
	 * (tan() diverges at 8 kHz): it moves down to 0.45 x rate_hz. */
	double high_hz = fmin(FLZ_EQ_CROSSOVER_HIGH_HZ, FLZ_EQ_CROSSOVER_HIGH_MAX_NYQ * config->rate_hz);
	butterworth(high_hz, config->rate_hz, &e.coef[4], &e.coef[6], &e.coef[8]);
	e.coef[5] = e.coef[4];
	e.coef[7] = e.coef[6];

	for (int b = 0; b < FLZ_EQ_N_BANDS; b++)
		e.gain_db[b] = config->gain_db[b];
	/* reset() puts the gains, glide and crossfade where a clean start has
	 * them: one definition of "clean" for init and reset alike. */
	flz_eq_reset(&e);
	*eq = e;
	return 0;
}
