/* SPDX-License-Identifier: MIT */
/* test-eq: the shared helpers, the suite in its order, and main(). */
#include "eq-tests.h"

const uint32_t eq_test_rates[3] = { 44100, 48000, 96000 };

struct flz_eq make_eq(uint32_t rate_hz, uint32_t n_channels, double lo, double mid, double hi,
		      bool exact_bypass, uint32_t glide_frames)
{
	struct flz_eq_config c = flz_eq_config_init();
	c.rate_hz = rate_hz;
	c.n_channels = n_channels;
	c.exact_bypass = exact_bypass;
	c.glide_frames = glide_frames;
	c.gain_db[0] = lo;
	c.gain_db[1] = mid;
	c.gain_db[2] = hi;
	struct flz_eq eq;
	ck_assert_int_eq(flz_eq_init(&eq, &c), 0);
	return eq;
}

void eq_run(struct flz_eq *eq, float *frames, size_t n_frames)
{
	ck_assert_int_eq(flz_eq_process(eq, frames, n_frames), 0);
}

double eq_tone_gain_db(uint32_t rate_hz, double lo, double mid, double hi, bool exact_bypass,
		       double freq_hz)
{
	struct flz_eq eq = make_eq(rate_hz, 1, lo, mid, hi, exact_bypass, 0);
	size_t n = rate_hz / 2, skip = rate_hz / 4;
	float *x = malloc(n * sizeof(float));
	ck_assert_ptr_nonnull(x);
	flz_test_sine(x, n, 1, freq_hz, rate_hz, 0.5, 0.0);
	eq_run(&eq, x, n);
	double amp, resid;
	flz_test_sine_fit(x + skip, n - skip, 1, freq_hz / rate_hz, &amp, &resid);
	free(x);
	return flz_test_db(amp / 0.5);
}

double eq_max_step(const float *x, size_t from, size_t to, unsigned n_ch)
{
	double worst = 0.0;
	for (size_t t = from < 1 ? 1 : from; t < to; t++) {
		double d = fabs((double)x[t * n_ch] - (double)x[(t - 1) * n_ch]);
		if (d > worst)
			worst = d;
	}
	return worst;
}

TCase *eq_tcase(const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);
	tcase_add_test(tc, test);
	return tc;
}

static Suite *eq_suite(void)
{
	Suite *s = suite_create("eq");
	TCase *(*const cases[])(void) = {
		eq_case_neutral,
		eq_case_kills,
		eq_case_flat,
		eq_case_band_gain,
		eq_case_glide,
		eq_case_bypass_fade,
		eq_case_reset,
		eq_case_split,
		eq_case_bad_input,
		eq_case_denormals,
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		suite_add_tcase(s, cases[i]());
	return s;
}

int main(void)
{
	return flz_test_run_tap(eq_suite());
}
