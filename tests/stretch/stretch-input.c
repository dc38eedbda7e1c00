/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stretch:bad-input: every bad argument is -EINVAL and changes nothing. */
#include <errno.h>

#include "stretch-tests.h"

START_TEST(test_bad_input)
{
	struct flz_stretch *st = (struct flz_stretch *)&st; /* a sentinel */
	struct flz_stretch_config c = flz_stretch_config_init();
	ck_assert_int_eq(flz_stretch_new(NULL, &st), -EINVAL);
	ck_assert_int_eq(flz_stretch_new(&c, NULL), -EINVAL);
	struct flz_stretch_config bad[6];
	for (int i = 0; i < 6; i++)
		bad[i] = c;
	bad[0].rate_hz = 7999;
	bad[1].n_channels = 0;
	bad[2].n_channels = FLZ_STRETCH_MAX_CHANNELS + 1;
	bad[3].max_block_frames = 0;
	bad[4].max_block_frames = 8193;
	bad[5].engine = (enum flz_stretch_engine)2;
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(flz_stretch_new(&bad[i], &st), -EINVAL);
		ck_assert_ptr_eq(st, (struct flz_stretch *)&st);
	}

	st = make_stretch(FLZ_STRETCH_ENGINE_FASTER, 2);
	struct tone_src src = { 1000.0, TEST_AMP, 2, 0, -1, 0 };
	start_voice(st, &src, 1.25);
	float out[2 * 1025];
	for (size_t i = 0; i < 2 * 1025; i++)
		out[i] = 7.0f;
	const double rates[] = { 0.0, 0.2499, 4.0001, -1.0, NAN, INFINITY, -INFINITY };
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		ck_assert_int_eq(flz_stretch_set_rate(st, rates[i]), -EINVAL);
		ck_assert_int_eq(flz_stretch_reset(st, rates[i]), -EINVAL);
	}
	ck_assert_int_eq(flz_stretch_set_rate(NULL, 1.0), -EINVAL);
	ck_assert_int_eq(flz_stretch_reset(NULL, 1.0), -EINVAL);
	ck_assert_int_eq(flz_stretch_prime(NULL, tone_read, &src), -EINVAL);
	ck_assert_int_eq(flz_stretch_prime(st, NULL, &src), -EINVAL);
	ck_assert_int_eq(flz_stretch_render(NULL, tone_read, &src, out, 1), -EINVAL);
	ck_assert_int_eq(flz_stretch_render(st, NULL, &src, out, 1), -EINVAL);
	ck_assert_int_eq(flz_stretch_render(st, tone_read, &src, NULL, 1), -EINVAL);
	ck_assert_int_eq(flz_stretch_render(st, tone_read, &src, out, 1025), -EINVAL);
	ck_assert_int_eq(flz_stretch_preroll_frames(NULL), -EINVAL);
	ck_assert_int_eq(flz_stretch_latency_frames(NULL), -EINVAL);
	ck_assert_int_eq(flz_stretch_frames_read(NULL), -EINVAL);
	ck_assert_int_eq(flz_stretch_max_read_frames(NULL), -EINVAL);
	/* Nothing was read or written, and the processor is as it was: it
	 * renders exactly what a twin that saw no bad call renders. */
	for (size_t i = 0; i < 2 * 1025; i++)
		ck_assert_float_eq(out[i], 7.0f);
	ck_assert_int_eq(flz_stretch_frames_read(st), src.pos);
	struct flz_stretch *twin = make_stretch(FLZ_STRETCH_ENGINE_FASTER, 2);
	struct tone_src src2 = { 1000.0, TEST_AMP, 2, 0, -1, 0 };
	start_voice(twin, &src2, 1.25);
	float a[2 * 4096], b[2 * 4096];
	render_frames(st, &src, a, 4096);
	render_frames(twin, &src2, b, 4096);
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
	flz_stretch_destroy(twin);
	flz_stretch_destroy(st);
	flz_stretch_destroy(NULL);
}
END_TEST

TCase *stretch_case_bad_input(void)
{
	return stretch_tcase("stretch:bad-input", test_bad_input);
}
