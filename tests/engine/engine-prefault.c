/* SPDX-License-Identifier: MIT */
/* test-engine: the real-time memory prefaulted, on each device with an audio thread. */
#include "engine-tests.h"

/* How many regions have a page that was never written (-1: mincore failed). */
static int regions_not_written(const struct flz_mem_region *regions, int n, char *which,
			       size_t which_size)
{
	int bad = 0;
	which[0] = '\0';
	for (int i = 0; i < n; i++) {
		long missing = flz_test_pages_not_resident(regions[i].addr, regions[i].n_bytes);
		if (missing != 0) {
			size_t len = strlen(which);
			snprintf(which + len, which_size - len, " #%d (%zu bytes: %ld pages)", i,
				 regions[i].n_bytes, missing);
			bad++;
		}
	}
	return bad;
}

/*
 * engine:prefault - right after the start, before a single period, every
 * page of every buffer the audio thread works in is resident: the engine
 * struct, the rings, the scratch block, the wav device's frame ring and its
 * state, the thread's stack and all the mixer's buffers and tables. Locking
 * is off here, since mlock() would fault the pages in itself. Each region
 * is a fresh mapping (flz/pages.h), so a buffer nobody wrote shows up as
 * not resident whatever the heap did before (checked: without the write in
 * flz_pages_alloc() every region fails). On every device with an audio
 * thread, which lists the stack, and the offline start, which does not.
 */
/* The regions of the engine's own mixer, counted on it rather than on a
 * mixer made here with the default configuration (the engine's is the one whose pages
 * are checked). */
static int mixer_region_count(struct flz_engine *engine)
{
	return flz_mixer_memory(flz_engine_get_core(engine)->mixer, NULL, 0);
}

START_TEST(prefault_all_rt_memory)
{
	const char *devices[2];
	int n_devices = thread_devices(devices);
	for (int d = 0; d < n_devices; d++) {
		bool wav = strncmp(devices[d], "wav:", 4) == 0;
		for (int offline = 0; offline < 2; offline++) {
			struct flz_engine *engine = thread_engine(devices[d], FLZ_FORMAT_UNKNOWN, false);
			flz_engine_set_lock_memory(engine, false);
			char why[256] = "";
			int err = offline ? flz_engine_start_offline(engine)
					  : flz_engine_start(engine, why, sizeof(why));
			ck_assert_msg(err == 0, "start on %s: %s", devices[d], why);
			struct flz_mem_region regions[FLZ_ENGINE_MAX_RT_REGIONS];
			size_t total = 0;
			int n = engine_regions(engine, regions, &total);
			/* struct, 3 rings, scratch, (wav state and frame ring:
			 * a wav start only, an offline start has no wav backend),
			 * (stack), the EQ states, the mixer's regions */
			ck_assert_int_eq(n, 6 + (wav && !offline ? 2 : 0) + (offline ? 0 : 1) +
						    mixer_region_count(engine));
			char which[512];
			ck_assert_msg(regions_not_written(regions, n, which, sizeof(which)) == 0,
				      "%s start on %s: regions with unwritten pages:%s",
				      offline ? "offline" : "device", devices[d], which);
			/* After the scratch block (and the wav regions): the whole
			 * stack the thread was given. */
			if (!offline)
				ck_assert_uint_eq(regions[wav ? 7 : 5].n_bytes,
						  FLZ_ENGINE_AUDIO_STACK_BYTES);
			struct flz_engine_stats stats;
			flz_engine_get_stats(engine, &stats);
			ck_assert(!stats.memory_locked);
			ck_assert_uint_eq(stats.locked_bytes, 0);
			flz_engine_destroy(engine);
		}
	}
}
END_TEST

TCase *engine_case_prefault(void)
{
	TCase *tc = engine_tcase("engine:prefault");
	tcase_add_test(tc, prefault_all_rt_memory);
	return tc;
}
