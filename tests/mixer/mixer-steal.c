/* SPDX-License-Identifier: MIT */
/* mixer:steal, mixer:steal-cut: voice stealing. */
#include "mixer-tests.h"

/* ---- mixer:steal ---- */

/* Beyond MAX_VOICES, the earliest-started playing voice is stolen: it fades
 * without an event, and later stops of its slot find nothing to stop. */
START_TEST(test_steal)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	float *out = floats(2000);
	for (int i = 0; i < 40; i++)
		load(m, i, dc_sample(64, 1.0f));
	for (int i = 0; i < FLZ_MAX_VOICES; i++)
		play(m, i, 0.01f);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), FLZ_MAX_VOICES);
	render(m, out, 100, 100);
	play(m, 32, 0.01f);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), FLZ_MAX_VOICES);
	ck_assert_uint_eq(flz_mixer_voices_fading(m), 1);
	ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 1), 0); /* stolen */
	ck_assert_int_eq(flz_mixer_stop_slot(m, 1, 2), 1);
	play(m, 33, 0.01f); /* 31 were playing: nothing stolen */
	ck_assert_uint_eq(flz_mixer_voices_playing(m), FLZ_MAX_VOICES);
	play(m, 34, 0.01f); /* slot 1 is fading, so slot 2's voice goes */
	ck_assert_int_eq(flz_mixer_stop_slot(m, 2, 3), 0);
	ck_assert_int_eq(flz_mixer_stop_slot(m, 3, 4), 1);
	render(m, out, 2000, 512);
	ck_assert_int_eq(r.n_events, 2);
	ck_assert_uint_eq(r.events[0].token, 2);
	ck_assert_uint_eq(r.events[1].token, 4);
	/* 31 voices remain at 0.01 each: slots 4..31 and 32..34. */
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 31);
	ck_assert_uint_eq(flz_mixer_voices_fading(m), 0);
	double expect = 31 * 0.01;
	ck_assert_msg(fabs(out[1999 * CH] - expect) <= 1e-6, "%g", out[1999 * CH]);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

/* When the fade slots are full too, the fading voice closest to silence is
 * cut. Gains are distinct, so the first output frame tells exactly which
 * voices sound: the 32 new ones at full gain and every fading one except
 * the quietest at (R - 1) / R of its gain (tolerance 1e-5). */
START_TEST(test_steal_cut)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	const uint32_t lat = flz_mixer_latency_frames(m), ramp = 240;
	for (int i = 0; i < 65; i++)
		load(m, i, dc_sample(64, 1.0f));
	/* Slot i plays at gain (i + 1) / 256. */
	for (int i = 0; i < 64; i++)
		play(m, i, (float)(i + 1) / 256.0f);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 32);
	ck_assert_uint_eq(flz_mixer_voices_fading(m), 32);
	play(m, 64, 65.0f / 256.0f); /* steals slot 32's voice; cuts slot 0's */
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 32);
	ck_assert_uint_eq(flz_mixer_voices_fading(m), 32);
	float *out = floats(lat + 1);
	render(m, out, lat + 1, 4096);
	double expect = 0.0;
	for (int i = 33; i <= 64; i++)
		expect += (i + 1) / 256.0;
	for (int i = 1; i <= 32; i++)
		expect += (i + 1) / 256.0 * (ramp - 1) / ramp;
	ck_assert_msg(fabs(out[lat * CH] - expect) <= 1e-5, "%.7f vs %.7f", out[lat * CH], expect);
	ck_assert_int_eq(r.n_events, 0);
	/* Slot 0's voice was cut before it sounded: of the 65 triggers, the
	 * 64 others send Started, at frame 0. */
	ck_assert_int_eq(r.n_started, 64);
	for (int i = 0; i < r.n_started; i++) {
		ck_assert_int_ne(r.started[i].slot, 0);
		ck_assert_int_eq(r.started[i].frame, 0);
	}
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

TCase *mixer_case_steal(void)
{
	return mixer_tcase("mixer:steal", test_steal);
}

TCase *mixer_case_steal_cut(void)
{
	return mixer_tcase("mixer:steal-cut", test_steal_cut);
}
