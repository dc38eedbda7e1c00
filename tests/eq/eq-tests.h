/* SPDX-License-Identifier: MIT */
/*
 * libeq tests. Responses are measured on the library's output: a sine's
 * amplitude by a least-squares fit (flz_test_sine_fit()) once the filters
 * have settled, or the magnitude of the impulse response's DFT; exactness
 * (bypass, reset, block splits) is memcmp(). Each check states its tolerance.
 */
#ifndef EQ_TESTS_H
#define EQ_TESTS_H

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flz/eq.h>

#include "flz-test.h"

/* The rates every response is measured at. */
extern const uint32_t eq_test_rates[3];

/* An EQ at rate_hz with n_channels, starting at gains (lo, mid, hi) dB;
 * exact_bypass as given; glide_frames 0 for the default. */
struct flz_eq make_eq(uint32_t rate_hz, uint32_t n_channels, double lo, double mid, double hi,
		      bool exact_bypass, uint32_t glide_frames);

/* Process in place, asserting success. */
void eq_run(struct flz_eq *eq, float *frames, size_t n_frames);

/*
 * Steady-state gain in dB of a mono EQ started at (lo, mid, hi) for a sine
 * at freq_hz: 0.5 s of tone, the first 0.25 s (over 200 time constants of
 * the slowest pole) discarded, the rest fitted.
 */
double eq_tone_gain_db(uint32_t rate_hz, double lo, double mid, double hi, bool exact_bypass,
		       double freq_hz);

/* Largest |x[t] - x[t-1]| over frames from..to-1 of channel 0 (stride n_ch). */
double eq_max_step(const float *x, size_t from, size_t to, unsigned n_ch);

/* One Check case, as every case of the suite is made (eq-main.c). */
TCase *eq_tcase(const char *name, const TTest *test);

TCase *eq_case_neutral(void);
TCase *eq_case_kills(void);
TCase *eq_case_flat(void);
TCase *eq_case_band_gain(void);
TCase *eq_case_glide(void);
TCase *eq_case_bypass_fade(void);
TCase *eq_case_reset(void);
TCase *eq_case_split(void);
TCase *eq_case_bad_input(void);
TCase *eq_case_denormals(void);

#endif /* EQ_TESTS_H */
