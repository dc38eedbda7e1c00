/* SPDX-License-Identifier: MIT */
/* test-engine: key lock's C API (issue 14): the paths Python does not take
 * (codes, NULL, the config's range), the commands' order and values, the
 * pool of processors the engine gives the mixer (its free list through
 * stats.key_lock_refused and flz_mixer_key_locked_voices()). What key lock
 * does to the sound is tested through the Python module
 * (tests/python/test_key_lock.py), libstretch's own suite and libmixer's
 * mixer:keylock*. */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:key-lock
 * ------------------------------------------------------------------------ */

START_TEST(key_lock_arguments)
{
	ck_assert(flz_engine_has_key_lock() == (FLZ_HAVE_STRETCH != 0));
	struct flz_engine_config config = flz_engine_config_init();
	ck_assert_uint_eq(config.key_lock_voices, FLZ_ENGINE_KEY_LOCK_VOICES_DEFAULT);
	config.device = "offline";
	config.period_frames = 64;
	config.trace_commands = true;
	struct flz_engine *engine = NULL;
	config.key_lock_voices = FLZ_MAX_VOICES + 1;
	ck_assert_int_eq(flz_engine_new(&config, &engine), -EINVAL);
	ck_assert_ptr_null(engine);
	config.key_lock_voices = 2;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	ck_assert_int_eq(flz_engine_set_key_lock(engine, false), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_pad_key_lock(engine, 0, -1), -ENOTCONN);
	ck_assert_int_eq(flz_engine_start_offline(engine), 0);

	const int bad_modes[] = { -2, 2, INT32_MIN, INT32_MAX };
	for (size_t i = 0; i < sizeof bad_modes / sizeof bad_modes[0]; i++)
		ck_assert_int_eq(flz_engine_set_pad_key_lock(engine, 0, bad_modes[i]), -EINVAL);
	ck_assert_int_eq(flz_engine_set_pad_key_lock(engine, -1, 0), -EINVAL);
	ck_assert_int_eq(flz_engine_set_pad_key_lock(engine, FLZ_NUM_SAMPLES, 0), -EINVAL);
	ck_assert_int_eq(flz_engine_set_pad_key_lock(NULL, 0, 0), -EINVAL);
	ck_assert_int_eq(flz_engine_set_key_lock(NULL, false), -EINVAL);
	const int on = flz_engine_has_key_lock() ? 0 : -ENOTSUP;
	ck_assert_int_eq(flz_engine_set_key_lock(engine, true), on); /* 1 (with the feature) */
	ck_assert_int_eq(flz_engine_set_pad_key_lock(engine, 7, 1), on); /* 2 */
	ck_assert_int_eq(flz_engine_set_pad_key_lock(engine, 7, 0), 0);
	ck_assert_int_eq(flz_engine_set_pad_key_lock(engine, 7, -1), 0);
	ck_assert_int_eq(flz_engine_set_key_lock(engine, false), 0);
	float out[128 * 2];
	ck_assert_int_eq(flz_engine_render(engine, out, 100), 0);
	static struct msg_log log;
	log.n = 0;
	collect(engine, &log);
	static const struct applied_want want[] = {
		{ FLZ_CMD_KEY_LOCK, -1, 1.0 },	  { FLZ_CMD_PAD_KEY_LOCK, 7, 1.0 },
		{ FLZ_CMD_PAD_KEY_LOCK, 7, 0.0 }, { FLZ_CMD_PAD_KEY_LOCK, 7, -1.0 },
		{ FLZ_CMD_KEY_LOCK, -1, 0.0 },
	};
	/* Without the feature the two that turn it on were refused. */
	const size_t first = flz_engine_has_key_lock() ? 0 : 2;
	check_applied(&log, want, sizeof want / sizeof want[0], first);
	flz_engine_destroy(engine);
}
END_TEST

/* Two processors: the third key-locked play is refused (and counted), a
 * stopped voice's processor serves the next play, and a new start counts
 * from 0 again with its own processors. */
START_TEST(key_lock_pool)
{
	if (!flz_engine_has_key_lock())
		return; /* nothing to hand out: engine:key-lock's arguments case
			 * checks the refusals of such a build */
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "offline";
	config.period_frames = 64;
	config.key_lock_voices = 2;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	float out[1024 * 2];
	for (int run = 0; run < 2; run++) {
		ck_assert_int_eq(flz_engine_start_offline(engine), 0);
		struct flz_mixer *mixer = flz_engine_get_core(engine)->mixer;
		for (int32_t slot = 0; slot < 3; slot++)
			ck_assert_int_eq(flz_engine_load_sample(engine, slot,
								make_noise(1000, 2, 48000, 0.5, 5)),
					 0);
		ck_assert_int_eq(flz_engine_set_speed(engine, 1.25), 0);
		ck_assert_int_eq(flz_engine_set_key_lock(engine, true), 0);
		for (int32_t slot = 0; slot < 3; slot++)
			ck_assert_int_eq(flz_engine_play(engine, slot, 1.0f), 0);
		ck_assert_int_eq(flz_engine_render(engine, out, 64), 0);
		struct flz_engine_stats st;
		flz_engine_get_stats(engine, &st);
		ck_assert_uint_eq(st.key_lock_refused, 1);
		ck_assert_uint_eq(st.voices_playing, 3);
		ck_assert_uint_eq(flz_mixer_key_locked_voices(mixer), 2);
		/* Pad 0's voice fades out (5 ms) and gives its processor back to
		 * the next key-locked play. */
		ck_assert_int_eq(flz_engine_stop_slot(engine, 0), 0);
		ck_assert_int_eq(flz_engine_render(engine, out, 1024), 0);
		ck_assert_uint_eq(flz_mixer_key_locked_voices(mixer), 1);
		ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), 0);
		ck_assert_int_eq(flz_engine_render(engine, out, 64), 0);
		ck_assert_uint_eq(flz_mixer_key_locked_voices(mixer), 2);
		flz_engine_get_stats(engine, &st);
		ck_assert_uint_eq(st.key_lock_refused, 1);
		flz_engine_stop(engine);
	}
	flz_engine_destroy(engine);
}
END_TEST

TCase *engine_case_key_lock(void)
{
	TCase *tc = tcase_create("engine:key-lock");
	tcase_add_test(tc, key_lock_arguments);
	tcase_add_test(tc, key_lock_pool);
	return tc;
}
