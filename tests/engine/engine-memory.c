/* SPDX-License-Identifier: MIT */
/* test-engine: retired samples go back and are freed. */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:memory (retired samples go back and are freed; nothing leaks)
 * ------------------------------------------------------------------------ */

static bool wait_refcount(struct flz_sample *s, int want)
{
	for (int i = 0; i < 400; i++) { /* the housekeeping thread runs every 20 ms */
		if (refcount(s) == want)
			return true;
		sleep_ms(5);
	}
	return false;
}

START_TEST(memory_retire_and_free)
{
	const uint32_t block = 128;
	struct flz_engine *engine = offline_engine(block, false);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	float out[128 * 2];
	struct flz_sample *s[6];
	for (int i = 0; i < 6; i++) {
		s[i] = make_noise(500 + i, 2, 48000, 0.3, 100 + (uint32_t)i);
		flz_sample_ref(s[i]); /* the test's own reference: refcount 2 */
	}

	ck_assert_int_eq(flz_engine_load_sample(engine, 0, s[0]), 0);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, s[1]), 0); /* replaces s0 */
	ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), 0);
	ck_assert_int_eq(flz_engine_load_sample(engine, 1, s[2]), 0);
	ck_assert_int_eq(flz_engine_load_sample(engine, 2, s[3]), 0);
	ck_assert_int_eq(flz_engine_play(engine, 2, 1.0f), 0);
	ck_assert_int_eq(flz_engine_core_process_rt(core, out, block), 0);
	/* s1 plays and is in slot 0 while s0 was never played: retired at once. */
	ck_assert_msg(wait_refcount(s[0], 1), "s0 not freed: refcount %d", refcount(s[0]));

	ck_assert_int_eq(flz_engine_load_sample(engine, 0, s[4]), 0); /* s1 keeps playing */
	ck_assert_int_eq(flz_engine_unload(engine, 1), 0);	      /* s2: no voice */
	ck_assert_int_eq(flz_engine_core_process_rt(core, out, block), 0);
	ck_assert_msg(wait_refcount(s[2], 1), "s2 not freed");
	/* s1 still plays (slot 0 now holds s4): the engine still holds it. */
	ck_assert_int_ge(refcount(s[1]), 2);
	ck_assert_int_eq(flz_engine_stop_slot(engine, 0), 0);
	for (int b = 0; b < 10; b++) /* past the 5 ms fade */
		ck_assert_int_eq(flz_engine_core_process_rt(core, out, block), 0);
	ck_assert_msg(wait_refcount(s[1], 1), "s1 not freed after its voice ended");

	/* Left in the engine at stop: s3 (slot, playing), s4 (slot), s5 (queued). */
	ck_assert_int_eq(flz_engine_load_sample(engine, 5, s[5]), 0);
	/* test + the load's (its voice takes none) + the slot record's */
	ck_assert_int_eq(refcount(s[3]), 3);
	ck_assert_int_eq(refcount(s[4]), 3);
	ck_assert_int_eq(refcount(s[5]), 3);
	flz_engine_stop(engine);
	for (int i = 0; i < 6; i++) {
		ck_assert_msg(refcount(s[i]) == 1, "sample %d refcount %d after stop", i,
			      refcount(s[i]));
		flz_sample_unref(s[i]);
	}
	flz_engine_destroy(engine);
}
END_TEST

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll (1 ms naps, up to 20 s: the housekeeping thread may be slow to
 * run on a loaded machine, but it runs) until at most @p most loads are in flight. */
static bool wait_in_flight(struct flz_engine *engine, int most)
{
	const int64_t deadline = mono_ms() + 20000;
	while (flz_engine_samples_in_flight(engine) > most) {
		if (mono_ms() > deadline)
			return false;
		sleep_ms(1);
	}
	return true;
}

/*
 * A C caller keeps its own reference and loads the same sample into a slot
 * again and again, more often than FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT, some
 * loads played: every replaced load leaves the in-flight count once nothing
 * plays it, so every load is accepted (the test waits for housekeeping when
 * the count reaches the bound; before the loads came back with the caller
 * holding a reference, that wait never ended), and at the end the caller's
 * reference is the only one left.
 */
START_TEST(memory_reload_shared)
{
	const uint32_t block = 64;
	struct flz_engine *engine = offline_engine(block, false);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	float out[64 * 2];
	struct flz_sample *s = make_noise(300, 2, 48000, 0.3, 41); /* the test's reference */
	const int n_loads = FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT + 300;
	for (int i = 0; i < n_loads; i++) {
		if (flz_engine_samples_in_flight(engine) >= FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT) {
			/* Only the slot's load and those voices still play stay. */
			ck_assert_msg(wait_in_flight(engine, FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT / 2),
				      "load %d: %d loads still in flight after 20 s", i,
				      flz_engine_samples_in_flight(engine));
		}
		flz_sample_ref(s); /* the one this load hands over */
		int err = flz_engine_load_sample(engine, 0, s);
		ck_assert_msg(err == 0, "load %d of the same sample: %s", i, flz_strerror(err));
		if (i % 50 == 0)
			ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), 0);
		if (i % 50 == 25)
			ck_assert_int_eq(flz_engine_stop_all(engine), 0);
		ck_assert_int_eq(flz_engine_core_process_rt(core, out, block), 0);
	}

	/* Unload and let the fades end: every load comes back. */
	ck_assert_int_eq(flz_engine_unload(engine, 0), 0);
	for (int b = 0; b < 20; b++) /* 1280 frames: past the 240-frame fade and the look-ahead */
		ck_assert_int_eq(flz_engine_core_process_rt(core, out, block), 0);
	ck_assert_msg(wait_in_flight(engine, 0), "%d loads never came back",
		      flz_engine_samples_in_flight(engine));
	/* relaxed: a statistic, read after the count said everything is back. */
	ck_assert_uint_eq(atomic_load_explicit(&core->stat_retire_lost, memory_order_relaxed), 0);
	ck_assert_int_eq(refcount(s), 1);
	flz_engine_stop(engine);
	ck_assert_int_eq(refcount(s), 1);
	/* Still the caller's, and readable. */
	ck_assert(isfinite(s->data[0]) && isfinite(s->data[599]));
	flz_sample_unref(s);
	flz_engine_destroy(engine);
}
END_TEST

TCase *engine_case_memory(void)
{
	TCase *tc = engine_tcase("engine:memory");
	tcase_add_test(tc, memory_retire_and_free);
	tcase_add_test(tc, memory_reload_shared);
	return tc;
}
