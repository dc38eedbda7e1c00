/* SPDX-License-Identifier: MIT */
/*
 * mixer:meters: flz_mixer_take_meters() after render calls of 0, 1, an odd
 * count and the maximum of frames: the master peaks and the pad's peak are
 * the exact max |x| of the frames rendered since the last take, the
 * position that of the voice; a voice that finishes inside a render call
 * still counts its last frames, and a take resets everything.
 */
#include "mixer-tests.h"

static float max_abs(const float *out, uint32_t n_frames, uint32_t c)
{
	float peak = 0.0f;
	for (uint32_t f = 0; f < n_frames; f++)
		peak = fmaxf(peak, fabsf(out[(size_t)f * CH + c]));
	return peak;
}

static void assert_only_slot(const struct flz_mixer_meters *mm, int32_t slot)
{
	for (int32_t s = 0; s < FLZ_NUM_SAMPLES; s++)
		ck_assert_msg(mm->sounded[s] == (s == slot), "slot %d sounded %d", s, mm->sounded[s]);
}

START_TEST(test_meters)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	static struct flz_mixer_meters mm;
	flz_mixer_take_meters(m, &mm);
	ck_assert_int_eq(mm.n_frames, 0);
	ck_assert_uint_eq(mm.n_channels, CH);
	assert_only_slot(&mm, -1);

	struct flz_sample *s = noise_sample(20000, 11, 0.8);
	load(m, 5, s);
	play(m, 5, 0.5f);
	float *out = floats(4096);
	static const uint32_t sizes[] = { 0, 1, 7, 4096 };
	int64_t played = 0;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		const uint32_t n = sizes[i];
		ck_assert_int_eq(flz_mixer_render(m, out, n), 0);
		played += n;
		flz_mixer_take_meters(m, &mm);
		ck_assert_int_eq(mm.n_frames, n);
		ck_assert(mm.master_peak[0] == max_abs(out, n, 0));
		ck_assert(mm.master_peak[1] == max_abs(out, n, 1));
		if (n == 0) {
			assert_only_slot(&mm, -1);
			continue;
		}
		assert_only_slot(&mm, 5);
		/* Master gain 1 and one pad: the output is its contribution. */
		ck_assert(mm.pad_peak[5] == fmaxf(mm.master_peak[0], mm.master_peak[1]));
		ck_assert(mm.position_frames[5] == (double)played);
		ck_assert_uint_eq(mm.sample_rate_hz[5], RATE);
	}

	/* Two render calls fold into one take: the max over both. */
	ck_assert_int_eq(flz_mixer_render(m, out, 100), 0);
	float first = fmaxf(max_abs(out, 100, 0), max_abs(out, 100, 1));
	ck_assert_int_eq(flz_mixer_render(m, out, 33), 0);
	float second = fmaxf(max_abs(out, 33, 0), max_abs(out, 33, 1));
	flz_mixer_take_meters(m, &mm);
	ck_assert_int_eq(mm.n_frames, 133);
	ck_assert(mm.pad_peak[5] == fmaxf(first, second));

	/* The 240-frame stop fade ends inside this call: the voice is freed
	 * there, and its last frames still count. */
	ck_assert_int_ge(flz_mixer_stop_slot(m, 5, 9), 1);
	ck_assert_int_eq(flz_mixer_render(m, out, 301), 0);
	ck_assert(out[300 * CH] == 0.0f && out[300 * CH + 1] == 0.0f);
	flz_mixer_take_meters(m, &mm);
	assert_only_slot(&mm, 5);
	ck_assert(mm.pad_peak[5] > 0.0f);
	ck_assert(mm.pad_peak[5] == fmaxf(max_abs(out, 301, 0), max_abs(out, 301, 1)));
	ck_assert_int_eq(flz_mixer_render(m, out, 64), 0);
	flz_mixer_take_meters(m, &mm);
	assert_only_slot(&mm, -1);
	ck_assert(mm.master_peak[0] == 0.0f && mm.master_peak[1] == 0.0f);

	free(out);
	flz_mixer_destroy(m);
}
END_TEST

TCase *mixer_case_meters(void)
{
	return mixer_tcase("mixer:meters", test_meters);
}
