/* SPDX-License-Identifier: MIT */
/* test-engine: arguments and states of the public calls. */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:api (arguments, states)
 * ------------------------------------------------------------------------ */

START_TEST(api_arguments_and_states)
{
	struct flz_engine_config config = flz_engine_config_init();
	ck_assert_uint_eq(config.rate_hz, 48000);
	ck_assert_uint_eq(config.n_channels, 2);
	ck_assert_uint_eq(config.period_frames, 128);
	ck_assert_uint_eq(config.n_periods, 2);
	ck_assert_int_eq(config.rt_priority, 70);

	struct flz_engine *engine = NULL;
	struct flz_engine_config bad = config;
	bad.n_channels = 0;
	ck_assert_int_eq(flz_engine_new(&bad, &engine), -EINVAL);
	bad = config;
	bad.rate_hz = 1000;
	ck_assert_int_eq(flz_engine_new(&bad, &engine), -EINVAL);
	bad = config;
	bad.n_periods = 1;
	ck_assert_int_eq(flz_engine_new(&bad, &engine), -EINVAL);
	bad = config;
	bad.rt_priority = 100;
	ck_assert_int_eq(flz_engine_new(&bad, &engine), -EINVAL);
	ck_assert_ptr_null(engine);

	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	/* Not running: every command says so. */
	ck_assert(!flz_engine_is_running(engine));
	ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), -ENOTCONN);
	ck_assert_int_eq(flz_engine_stop_slot(engine, 0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_stop_all(engine), -ENOTCONN);
	ck_assert_int_eq(flz_engine_unload(engine, 0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.5f), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_speed(engine, 1.0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_ping(engine), -ENOTCONN);
	struct flz_engine_msg m;
	ck_assert_int_eq(flz_engine_poll_message(engine, &m), -ENOTCONN);
	char why[256];
	ck_assert_int_eq(flz_engine_load_file(engine, 0, "/nonexistent.wav", why, sizeof(why)),
			 -ENOTCONN);
	flz_engine_stop(engine); /* idempotent when stopped */

	ck_assert_int_eq(flz_engine_start_offline(engine), 0);
	ck_assert(flz_engine_is_running(engine));
	ck_assert_int_eq(flz_engine_start_offline(engine), -EBUSY);
	snprintf(why, sizeof(why), "stale");
	ck_assert_int_eq(flz_engine_start(engine, why, sizeof(why)), -EBUSY);
	/* "Already running" leaves why empty; a busy device would name itself. */
	ck_assert_str_eq(why, "");
	/* Bad arguments, NaN and infinities included, change nothing. */
	ck_assert_int_eq(flz_engine_play(engine, -1, 0.5f), -EINVAL);
	ck_assert_int_eq(flz_engine_play(engine, FLZ_NUM_SAMPLES, 0.5f), -EINVAL);
	ck_assert_int_eq(flz_engine_play(engine, 0, 1.5f), -EINVAL);
	ck_assert_int_eq(flz_engine_play(engine, 0, NAN), -EINVAL);
	ck_assert_int_eq(flz_engine_stop_slot(engine, 216), -EINVAL);
	ck_assert_int_eq(flz_engine_unload(engine, -5), -EINVAL);
	ck_assert_int_eq(flz_engine_set_volume(engine, -0.1f), -EINVAL);
	ck_assert_int_eq(flz_engine_set_volume(engine, INFINITY), -EINVAL);
	ck_assert_int_eq(flz_engine_set_speed(engine, 0.49), -EINVAL);
	ck_assert_int_eq(flz_engine_set_speed(engine, NAN), -EINVAL);
	ck_assert_int_eq(flz_engine_poll_message(engine, &m), 0);

	struct flz_sample *wrong_rate = make_noise(10, 2, 44100, 0.5, 1);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, wrong_rate), -EINVAL);
	struct flz_sample *wrong_ch = make_noise(10, 1, 48000, 0.5, 1);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, wrong_ch), -EINVAL);
	/* The caller keeps its reference on failure. */
	ck_assert_int_eq(refcount(wrong_rate), 1);
	flz_sample_unref(wrong_rate);
	flz_sample_unref(wrong_ch);

	ck_assert_int_eq(flz_engine_load_file(engine, 0, "/nonexistent/x.wav", why, sizeof(why)),
			 -ENOENT);
	ck_assert_str_ne(why, "");

	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	ck_assert(stats.running);
	ck_assert_uint_eq(stats.rate_hz, 48000);
	ck_assert_uint_eq(stats.n_channels, 2);

	flz_engine_stop(engine);
	ck_assert(!flz_engine_is_running(engine));
	flz_engine_get_stats(engine, &stats);
	ck_assert(!stats.running);
	flz_engine_destroy(engine);
	flz_engine_destroy(NULL);
}
END_TEST

TCase *engine_case_api(void)
{
	TCase *tc = engine_tcase("engine:api");
	tcase_add_test(tc, api_arguments_and_states);
	return tc;
}
