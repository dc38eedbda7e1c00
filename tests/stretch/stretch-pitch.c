/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stretch:pitch and stretch:time: key lock keeps the tone's frequency while
 * the material is consumed at the rate. */
#include <stdio.h>

#include "stretch-tests.h"

static const double pitch_rates[] = { 1.25, 0.8, 1.0 };

START_TEST(test_pitch)
{
	/* _i: the engine. 3 s of output; the first 0.5 s (the stretcher
	 * settling on the tone) is left out of the measurement. */
	enum flz_stretch_engine engine = (enum flz_stretch_engine)_i;
	struct flz_stretch *st = make_stretch(engine, 2);
	size_t n = 3 * TEST_RATE_HZ, skip = TEST_RATE_HZ / 2;
	float *out = malloc(n * 2 * sizeof(float));
	ck_assert_ptr_nonnull(out);
	for (size_t r = 0; r < sizeof(pitch_rates) / sizeof(pitch_rates[0]); r++) {
		struct tone_src src = { 1000.0, TEST_AMP, 2, 0, -1, 0 };
		start_voice(st, &src, pitch_rates[r]);
		render_frames(st, &src, out, n);
		for (unsigned c = 0; c < 2; c++) {
			double f = measure_freq_hz(out + skip * 2 + c, n - skip, 2);
			fprintf(stderr, "# pitch: engine %d rate %.2f ch %u: %.3f Hz\n", (int)engine,
				pitch_rates[r], c, f);
			/* 0.5 %, the key-lock requirement. */
			ck_assert_double_eq_tol(f, 1000.0, 5.0);
		}
	}
	free(out);
	flz_stretch_destroy(st);
}
END_TEST

static const double time_rates[] = { 0.25, 0.8, 1.0, 1.25, 4.0 };

START_TEST(test_time)
{
	/* Input pulled per output frame, over 4 s of output after 1 s: the
	 * stretcher reads in hops and keeps a window buffered, so the count
	 * moves in steps; the tolerance is 1 % of the span's input. */
	enum flz_stretch_engine engine = (enum flz_stretch_engine)_i;
	struct flz_stretch *st = make_stretch(engine, 2);
	size_t lead = TEST_RATE_HZ, span = 4 * TEST_RATE_HZ;
	float *out = malloc((lead + span) * 2 * sizeof(float));
	ck_assert_ptr_nonnull(out);
	for (size_t r = 0; r < sizeof(time_rates) / sizeof(time_rates[0]); r++) {
		struct tone_src src = { 1000.0, TEST_AMP, 2, 0, -1, 0 };
		start_voice(st, &src, time_rates[r]);
		render_frames(st, &src, out, lead);
		int64_t in0 = flz_stretch_frames_read(st);
		render_frames(st, &src, out, span);
		int64_t in1 = flz_stretch_frames_read(st);
		double per_frame = (double)(in1 - in0) / (double)span;
		fprintf(stderr, "# time: engine %d rate %.2f: %.5f input frames per output frame\n",
			(int)engine, time_rates[r], per_frame);
		ck_assert_double_eq_tol(per_frame, time_rates[r], 0.01 * time_rates[r]);
		/* The reader's position is what the processor counted. */
		ck_assert_int_eq(src.pos, in1);
	}
	free(out);
	flz_stretch_destroy(st);
}
END_TEST

TCase *stretch_case_pitch(void)
{
	TCase *tc = tcase_create("stretch:pitch");
	tcase_add_loop_test(tc, test_pitch, FLZ_STRETCH_ENGINE_FASTER, FLZ_STRETCH_ENGINE_FINER + 1);
	tcase_set_timeout(tc, 300);
	return tc;
}

TCase *stretch_case_time(void)
{
	TCase *tc = tcase_create("stretch:time");
	tcase_add_loop_test(tc, test_time, FLZ_STRETCH_ENGINE_FASTER, FLZ_STRETCH_ENGINE_FINER + 1);
	tcase_set_timeout(tc, 300);
	return tc;
}
