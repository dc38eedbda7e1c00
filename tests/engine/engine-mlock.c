/* SPDX-License-Identifier: MIT */
/* test-engine: the real-time memory locked, on the null PCM (ALSA builds only). */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:mlock (locked where allowed; refused: plays all the same)
 * ------------------------------------------------------------------------ */

/* This process's locked memory (VmLck in /proc/self/status), in bytes. */
static long long vm_locked_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	ck_assert_ptr_nonnull(f);
	char line[256];
	long long kib = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %lld kB", &kib) == 1)
			break;
	fclose(f);
	ck_assert_int_ge(kib, 0);
	return kib * 1024;
}

/*
 * Where mlock is allowed (as root: CAP_IPC_LOCK), start locks every region:
 * stats say so, VmLck grows by at least the regions' pages, and stop gives
 * them all back (VmLck as before: no page left locked, none unlocked that
 * was not the engine's). Under ASan and TSan, mlock() is their interceptor,
 * which locks nothing and returns 0: VmLck is not checked there.
 */
START_TEST(mlock_locks_rt_memory)
{
	struct rlimit limit;
	ck_assert_int_eq(getrlimit(RLIMIT_MEMLOCK, &limit), 0);
	bool allowed = geteuid() == 0 || limit.rlim_cur == RLIM_INFINITY ||
		       limit.rlim_cur >= 4u * 1024 * 1024;
	for (int offline = 0; offline < 2; offline++) {
		struct flz_engine_config config = flz_engine_config_init();
		config.device = "flznull";
		config.rt_priority = 0;
		struct flz_engine *engine = NULL;
		ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
		long long before = vm_locked_bytes();
		char why[256] = "";
		int err = offline ? flz_engine_start_offline(engine)
				  : flz_engine_start(engine, why, sizeof(why));
		ck_assert_msg(err == 0, "start: %s", why);
		struct flz_mem_region regions[FLZ_ENGINE_MAX_RT_REGIONS];
		size_t total = 0;
		engine_regions(engine, regions, &total);
		struct flz_engine_stats stats;
		flz_engine_get_stats(engine, &stats);
		long long during = vm_locked_bytes();
		if (allowed) {
			ck_assert(stats.memory_locked);
			ck_assert_uint_eq(stats.locked_bytes, total);
#ifndef FLZ_TEST_SANITIZED
			ck_assert_msg(during - before >= (long long)total,
				      "VmLck grew by %lld, %zu locked", during - before, total);
#else
			(void)during;
#endif
		} else {
			ck_assert(stats.memory_locked || stats.locked_bytes < total);
		}
		flz_engine_stop(engine);
		ck_assert_int_eq(vm_locked_bytes(), before);
		flz_engine_get_stats(engine, &stats);
		ck_assert(!stats.memory_locked); /* stopped: nothing to report */
		flz_engine_destroy(engine);
	}
}
END_TEST

/* In a child that may not lock memory (RLIMIT_MEMLOCK 0 and, as root, drop
 * to nobody: no CAP_IPC_LOCK): start succeeds, reports nothing locked, warns
 * once through the log, plays, and the pages are written all the same.
 * Under ASan and TSan nothing can refuse (their mlock() does nothing and
 * succeeds), so only the rest is checked. Exit code = the failed step. */
static int mlock_child(void)
{
	int step = drop_privileges(RLIMIT_MEMLOCK);
	if (step != 0)
		return step;
	static struct log_lines lines = LOG_LINES_INIT;
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "flznull";
	config.rt_priority = 0;
	config.log = log_collect;
	config.log_userdata = &lines;
	struct flz_engine *engine = NULL;
	step = child_start(&config, &engine);
	if (step != 0)
		return step;
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
#ifndef FLZ_TEST_SANITIZED
	if (stats.memory_locked || stats.locked_bytes != 0)
		return 14;
	int n_warn = 0;
	for (int i = 0; i < lines.n && i < LOG_LINES; i++)
		if (lines.level[i] == FLZ_LOG_WARNING &&
		    strstr(lines.text[i], "cannot lock the audio thread's memory") != NULL &&
		    strstr(lines.text[i], "RLIMIT_MEMLOCK 0 bytes") != NULL)
			n_warn++;
	if (n_warn != 1)
		return 15;
#endif
	struct flz_mem_region regions[FLZ_ENGINE_MAX_RT_REGIONS];
	int n = flz_engine_rt_regions(engine, regions, FLZ_ENGINE_MAX_RT_REGIONS);
	for (int i = 0; i < n; i++)
		if (flz_test_pages_not_resident(regions[i].addr, regions[i].n_bytes) != 0)
			return 16;
	sleep_ms(20);
	flz_engine_get_stats(engine, &stats);
	if (stats.frames <= 0 || stats.device_lost)
		return 17; /* it plays all the same */
	flz_engine_destroy(engine);
	return 0;
}

START_TEST(mlock_refused)
{
	run_in_child(mlock_child);
}
END_TEST

TCase *engine_case_mlock(void)
{
	TCase *tc = engine_tcase("engine:mlock");
	tcase_add_test(tc, mlock_locks_rt_memory);
	tcase_add_test(tc, mlock_refused);
	return tc;
}
