/* SPDX-License-Identifier: MIT */
/* libeq, audio thread: gains, reset, and the filter bank. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "eq-internal.h"

bool flz_eq_gains_valid(const double gain_db[FLZ_EQ_N_BANDS])
{
	for (int b = 0; b < FLZ_EQ_N_BANDS; b++) {
		/* Written so that NaN fails. */
		if (!(gain_db[b] >= FLZ_EQ_GAIN_DB_MIN && gain_db[b] <= FLZ_EQ_GAIN_DB_MAX))
			return false;
	}
	return true;
}

double flz_eq_gain_lin(double gain_db)
{
	if (gain_db <= FLZ_EQ_GAIN_DB_MIN)
		return 0.0;
	/* pow(10, 0) is exactly 1, so 0 dB is exactly unity: the bypass test
	 * below compares with 1.0. */
	return pow(10.0, gain_db / 20.0);
}

static bool unity(const double g[FLZ_EQ_N_BANDS])
{
	return g[0] == 1.0 && g[1] == 1.0 && g[2] == 1.0;
}

/*
 * Whether the crossfade heads for the input: the gains reached and the
 * gains headed for both unity. Asking for the gains reached (not for the
 * glide's end) keeps a bypassed EQ bypassed when (0, 0, 0) is set again:
 * its glide runs from 1 to 1.
 */
static bool wants_dry(const struct flz_eq *eq)
{
	return eq->exact_bypass && unity(eq->gain_target) && unity(eq->gain_now);
}

int flz_eq_set_gains(struct flz_eq *eq, const double gain_db[FLZ_EQ_N_BANDS])
{
	if (!eq || !gain_db || !flz_eq_gains_valid(gain_db))
		return -EINVAL;
	for (int b = 0; b < FLZ_EQ_N_BANDS; b++) {
		eq->gain_db[b] = gain_db[b];
		eq->gain_start[b] = eq->gain_now[b];
		eq->gain_target[b] = flz_eq_gain_lin(gain_db[b]);
	}
	eq->glide_pos = 0;
	return 0;
}

void flz_eq_reset(struct flz_eq *eq)
{
	for (int b = 0; b < FLZ_EQ_N_BANDS; b++) {
		double g = flz_eq_gain_lin(eq->gain_db[b]);
		eq->gain_start[b] = g;
		eq->gain_target[b] = g;
		eq->gain_now[b] = g;
	}
	eq->glide_pos = eq->glide_frames;
	eq->wet_k = wants_dry(eq) ? 0 : eq->glide_frames;
	memset(eq->mem, 0, sizeof(eq->mem));
}

uint32_t flz_eq_latency_frames(const struct flz_eq *eq)
{
	(void)eq;
	return 0;
}

bool flz_eq_bypassed(const struct flz_eq *eq)
{
	return eq->wet_k == 0 && wants_dry(eq);
}

/*
 * One biquad section, transposed direct form II in double: the 250 Hz poles
 * sit within 0.01 of z = 1 at high rates, where single precision memories
 * would add audible noise. The input carries FLZ_EQ_DENORMAL_OFFSET so that
 * in silence the memories settle at about that size (every section passes or
 * holds a constant: low-pass and allpass pass it, a high-pass holds it in
 * its memories) rather than decaying into subnormals.
 */
static inline double section(const struct flz_eq_biquad *c, double m[2], double x)
{
	x += FLZ_EQ_DENORMAL_OFFSET;
	double y = c->b0 * x + m[0];
	m[0] = c->b1 * x - c->a1 * y + m[1];
	m[1] = c->b2 * x - c->a2 * y;
	return y;
}

/* The crossover tree for one sample of one channel: low, mid, high. */
static inline void bank(const struct flz_eq_biquad *c, double m[FLZ_EQ_N_SECTIONS][2], double x,
			double band[FLZ_EQ_N_BANDS])
{
	double lo = section(&c[1], m[1], section(&c[0], m[0], x));
	double rest = section(&c[3], m[3], section(&c[2], m[2], x));
	band[FLZ_EQ_BAND_MID] = section(&c[5], m[5], section(&c[4], m[4], rest));
	band[FLZ_EQ_BAND_HIGH] = section(&c[7], m[7], section(&c[6], m[6], rest));
	/* The low band meets the 4 kHz split's phase through its allpass. */
	band[FLZ_EQ_BAND_LOW] = section(&c[8], m[8], lo);
}

static inline double weigh(const double g[FLZ_EQ_N_BANDS], const double band[FLZ_EQ_N_BANDS])
{
	return g[0] * band[0] + g[1] * band[1] + g[2] * band[2];
}

/*
 * Settled: the gains at their target and the crossfade at its end. One
 * channel at a time, its memories in locals (the compiler cannot keep them
 * in registers through stores to the float buffer otherwise).
 */
static void run_settled(struct flz_eq *eq, float *frames, size_t n_frames, bool write)
{
	const uint32_t n_ch = eq->n_channels;
	const double g[FLZ_EQ_N_BANDS] = { eq->gain_now[0], eq->gain_now[1], eq->gain_now[2] };
	for (uint32_t ch = 0; ch < n_ch; ch++) {
		double m[FLZ_EQ_N_SECTIONS][2];
		memcpy(m, eq->mem[ch], sizeof(m));
		float *p = frames + ch;
		for (size_t i = 0; i < n_frames; i++, p += n_ch) {
			double band[FLZ_EQ_N_BANDS];
			bank(eq->coef, m, *p, band);
			/* Bypassed, the bank runs for its state alone (warm for
			 * the way out) and the sample stays untouched. */
			if (write)
				*p = (float)weigh(g, band);
		}
		memcpy(eq->mem[ch], m, sizeof(m));
	}
}

/* Whether nothing moves until the next flz_eq_set_gains(). */
static bool settled(const struct flz_eq *eq)
{
	if (eq->glide_pos != eq->glide_frames)
		return false;
	return wants_dry(eq) ? eq->wet_k == 0 : eq->wet_k == eq->glide_frames;
}

/*
 * One frame while gliding or crossfading. The gains are a function of the
 * frame's index in the glide alone (start + (target - start) x pos / N, the
 * last frame exactly the target), and the crossfade is an integer count of
 * frames moved one per frame, so no value is accumulated and a block split
 * anywhere gives the same frames.
 */
static void step_frame(struct flz_eq *eq, float *frame)
{
	const uint32_t n = eq->glide_frames;
	if (eq->glide_pos < n) {
		eq->glide_pos++;
		for (int b = 0; b < FLZ_EQ_N_BANDS; b++) {
			if (eq->glide_pos == n)
				eq->gain_now[b] = eq->gain_target[b];
			else
				eq->gain_now[b] = eq->gain_start[b] +
						  (eq->gain_target[b] - eq->gain_start[b]) *
							  ((double)eq->glide_pos / (double)n);
		}
	}
	if (wants_dry(eq)) {
		if (eq->wet_k > 0)
			eq->wet_k--;
	} else if (eq->wet_k < n) {
		eq->wet_k++;
	}
	const double wet = (double)eq->wet_k / (double)n;
	for (uint32_t ch = 0; ch < eq->n_channels; ch++) {
		double band[FLZ_EQ_N_BANDS];
		bank(eq->coef, eq->mem[ch], frame[ch], band);
		double y = weigh(eq->gain_now, band);
		if (eq->wet_k == n)
			frame[ch] = (float)y;
		else if (eq->wet_k > 0)
			frame[ch] = (float)(wet * y + (1.0 - wet) * (double)frame[ch]);
		/* wet_k 0: the input stays as it is. */
	}
}

int flz_eq_process(struct flz_eq *eq, float *frames, size_t n_frames)
{
	if (!eq || (!frames && n_frames > 0))
		return -EINVAL;
	size_t i = 0;
	while (i < n_frames && !settled(eq)) {
		step_frame(eq, frames + i * eq->n_channels);
		i++;
	}
	if (i < n_frames)
		run_settled(eq, frames + i * eq->n_channels, n_frames - i, eq->wet_k != 0);
	return 0;
}
