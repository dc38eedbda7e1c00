/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-stretch: the shared helpers, the suite in its order, and main(). */
#include "stretch-tests.h"

uint32_t tone_read(void *ctx, float *dst, uint32_t n_frames)
{
	struct tone_src *src = ctx;
	uint32_t n = n_frames;
	if (src->n_frames >= 0) {
		int64_t left = src->n_frames - src->pos;
		if (left < 0)
			left = 0;
		if ((int64_t)n > left)
			n = (uint32_t)left;
	}
	for (uint32_t i = 0; i < n; i++) {
		int64_t t = src->pos + i - src->onset;
		float v = t < 0 ? 0.0f
				: (float)(src->amp * sin(2.0 * M_PI * src->freq_hz * (double)t /
							 TEST_RATE_HZ));
		for (uint32_t c = 0; c < src->n_channels; c++)
			dst[(size_t)i * src->n_channels + c] = v;
	}
	src->pos += n;
	return n;
}

struct flz_stretch *make_stretch(enum flz_stretch_engine engine, uint32_t n_channels)
{
	struct flz_stretch_config c = flz_stretch_config_init();
	c.rate_hz = TEST_RATE_HZ;
	c.n_channels = n_channels;
	c.max_block_frames = 1024;
	c.engine = engine;
	struct flz_stretch *st = NULL;
	ck_assert_int_eq(flz_stretch_new(&c, &st), 0);
	ck_assert_ptr_nonnull(st);
	return st;
}

void start_voice(struct flz_stretch *st, struct tone_src *src, double rate)
{
	ck_assert_int_eq(flz_stretch_reset(st, rate), 0);
	int64_t pre = flz_stretch_preroll_frames(st);
	ck_assert_int_ge(pre, 0);
	src->pos = -pre;
	ck_assert_int_eq(flz_stretch_prime(st, tone_read, src), 0);
	ck_assert_int_eq(flz_stretch_preroll_frames(st), 0);
}

void render_frames(struct flz_stretch *st, struct tone_src *src, float *out, size_t n_frames)
{
	for (size_t done = 0; done < n_frames;) {
		uint32_t k = n_frames - done < TEST_BLOCK ? (uint32_t)(n_frames - done) : TEST_BLOCK;
		ck_assert_int_eq(flz_stretch_render(st, tone_read, src,
						    out + done * src->n_channels, k), 0);
		done += k;
	}
}

double measure_freq_hz(const float *x, size_t n, unsigned n_ch)
{
	double first = -1.0, last = -1.0;
	long n_cross = 0;
	for (size_t t = 1; t < n; t++) {
		double a = x[(t - 1) * n_ch], b = x[t * n_ch];
		if (a < 0.0 && b >= 0.0) {
			double at = (double)(t - 1) + a / (a - b);
			if (first < 0.0)
				first = at;
			last = at;
			n_cross++;
		}
	}
	ck_assert_int_gt(n_cross, 2);
	return (double)(n_cross - 1) / (last - first) * TEST_RATE_HZ;
}

TCase *stretch_tcase(const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);
	tcase_add_test(tc, test);
	tcase_set_timeout(tc, 300);
	return tc;
}

static Suite *stretch_suite(void)
{
	Suite *s = suite_create("stretch");
	TCase *(*const cases[])(void) = {
		stretch_case_pitch,
		stretch_case_time,
		stretch_case_start,
		stretch_case_prime_step,
		stretch_case_rate_change,
		stretch_case_blocks,
		stretch_case_reset,
		stretch_case_bad_input,
		stretch_case_rtcheck,
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		suite_add_tcase(s, cases[i]());
	return s;
}

int main(void)
{
	return flz_test_run_tap(stretch_suite());
}
