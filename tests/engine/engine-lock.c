/* SPDX-License-Identifier: MIT */
/* test-engine: the tempo sync's C API (issue 13): the paths Python does not
 * take (a tempo of 0 clears, -ENOENT and -ENOTCONN as codes, NULL), the
 * commands' order and values, and a locked pad's speed independence. The
 * phase lock itself is checked end to end by tests/python/test_tempo_lock.py
 * and in libmixer (mixer:lock*). */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:tempo-lock
 * ------------------------------------------------------------------------ */

START_TEST(tempo_lock_arguments)
{
	struct flz_engine *engine = offline_engine_new(64, true);
	ck_assert_int_eq(flz_engine_set_pad_bpm(engine, 0, 120.0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_pad_downbeat(engine, 0, 0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_bpm_lock(engine, true), -ENOTCONN);
	ck_assert_int_eq(flz_engine_start_offline(engine), 0);

	const double bad_bpm[] = { 19.999, 300.001, -120.0, -0.0 + 1e-300, NAN, INFINITY, -INFINITY };
	for (size_t i = 0; i < sizeof bad_bpm / sizeof bad_bpm[0]; i++)
		ck_assert_int_eq(flz_engine_set_pad_bpm(engine, 0, bad_bpm[i]), -EINVAL);
	ck_assert_int_eq(flz_engine_set_pad_bpm(engine, -1, 120.0), -EINVAL);
	ck_assert_int_eq(flz_engine_set_pad_bpm(engine, FLZ_NUM_SAMPLES, 120.0), -EINVAL);
	ck_assert_int_eq(flz_engine_set_pad_bpm(NULL, 0, 120.0), -EINVAL);
	ck_assert_int_eq(flz_engine_set_bpm_lock(NULL, true), -EINVAL);
	/* An empty slot has no frames to hold a downbeat. */
	ck_assert_int_eq(flz_engine_set_pad_downbeat(engine, 0, 0), -ENOENT);
	ck_assert_int_eq(flz_engine_set_pad_downbeat(engine, -1, 0), -EINVAL);
	ck_assert_int_eq(flz_engine_set_pad_downbeat(NULL, 0, 0), -EINVAL);
	struct flz_sample *sample = make_noise(1000, 2, 48000, 0.5, 3);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, sample), 0); /* 1 */
	const int64_t bad_frames[] = { -1, 1000, INT64_MIN, INT64_MAX };
	for (size_t i = 0; i < sizeof bad_frames / sizeof bad_frames[0]; i++)
		ck_assert_int_eq(flz_engine_set_pad_downbeat(engine, 0, bad_frames[i]), -EINVAL);

	/* The good ones: seq 2.. in call order, values as the trace carries them. */
	ck_assert_int_eq(flz_engine_set_pad_bpm(engine, 0, 20.0), 0);	  /* 2 */
	ck_assert_int_eq(flz_engine_set_pad_bpm(engine, 0, 300.0), 0);	  /* 3 */
	ck_assert_int_eq(flz_engine_set_pad_bpm(engine, 0, 0.0), 0);	  /* 4: none */
	ck_assert_int_eq(flz_engine_set_pad_downbeat(engine, 0, 999), 0); /* 5 */
	ck_assert_int_eq(flz_engine_set_bpm_lock(engine, true), 0);	  /* 6 */
	ck_assert_int_eq(flz_engine_set_bpm_lock(engine, false), 0);	  /* 7 */
	float out[256];
	ck_assert_int_eq(flz_engine_render(engine, out, 100), 0);
	static struct msg_log log;
	log.n = 0;
	collect(engine, &log);
	static const struct applied_want want[] = {
		{ FLZ_CMD_LOAD, 0, 0.0 },	   { FLZ_CMD_PAD_BPM, 0, 20.0 },
		{ FLZ_CMD_PAD_BPM, 0, 300.0 },	   { FLZ_CMD_PAD_BPM, 0, 0.0 },
		{ FLZ_CMD_PAD_DOWNBEAT, 0, 999.0 }, { FLZ_CMD_BPM_LOCK, -1, 1.0 },
		{ FLZ_CMD_BPM_LOCK, -1, 0.0 },
	};
	check_applied(&log, want, sizeof want / sizeof want[0], 0);
	flz_engine_destroy(engine);
}
END_TEST

enum { LOCK_FRAMES = 20000 };

/* A pad at 120 BPM under the lock at the default 120 BPM master plays at
 * exactly 1, whatever the global and pad speed: bit for bit the output of a
 * plain play at speed 1. Without the lock the same speeds apply (the output
 * differs). */
static void render_pad(bool lock, float *out)
{
	struct flz_engine *engine = offline_engine(64, false);
	struct flz_sample *sample = make_noise(777, 2, 48000, 0.5, 9);
	ck_assert_int_eq(flz_engine_load_sample(engine, 2, sample), 0);
	ck_assert_int_eq(flz_engine_set_pad_bpm(engine, 2, 120.0), 0);
	ck_assert_int_eq(flz_engine_set_bpm_lock(engine, lock), 0);
	ck_assert_int_eq(flz_engine_set_speed(engine, 1.5), 0);
	ck_assert_int_eq(flz_engine_set_pad_speed(engine, 2, 0.75), 0);
	ck_assert_int_eq(flz_engine_play(engine, 2, 1.0f), 0);
	for (int64_t done = 0; done < LOCK_FRAMES;) {
		uint32_t n = LOCK_FRAMES - done < 1500 ? (uint32_t)(LOCK_FRAMES - done) : 1500;
		ck_assert_int_eq(flz_engine_render(engine, out + done * 2, n), 0);
		done += n;
	}
	flz_engine_destroy(engine);
}

START_TEST(tempo_lock_ignores_speeds)
{
	static float locked[LOCK_FRAMES * 2], unlocked[LOCK_FRAMES * 2], plain[LOCK_FRAMES * 2];
	render_pad(true, locked);
	render_pad(false, unlocked);
	struct flz_engine *engine = offline_engine(64, false);
	struct flz_sample *sample = make_noise(777, 2, 48000, 0.5, 9);
	ck_assert_int_eq(flz_engine_load_sample(engine, 2, sample), 0);
	ck_assert_int_eq(flz_engine_play(engine, 2, 1.0f), 0);
	ck_assert_int_eq(flz_engine_render(engine, plain, LOCK_FRAMES), 0);
	flz_engine_destroy(engine);
	for (size_t i = 0; i < LOCK_FRAMES * 2; i++)
		ck_assert_msg(locked[i] == plain[i], "sample %zu: %g != %g", i, locked[i], plain[i]);
	size_t n_diff = 0;
	for (size_t i = 0; i < LOCK_FRAMES * 2; i++)
		n_diff += unlocked[i] != plain[i];
	ck_assert_uint_gt(n_diff, LOCK_FRAMES);
}
END_TEST

TCase *engine_case_tempo_lock(void)
{
	TCase *tc = tcase_create("engine:tempo-lock");
	tcase_add_test(tc, tempo_lock_arguments);
	tcase_add_test(tc, tempo_lock_ignores_speeds);
	return tc;
}
