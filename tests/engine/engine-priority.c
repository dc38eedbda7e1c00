/* SPDX-License-Identifier: MIT */
/* test-engine: SCHED_FIFO refused, on the null PCM (ALSA builds only). */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:priority (SCHED_FIFO refused: runs anyway, reports EPERM)
 * ------------------------------------------------------------------------ */

/* In a child without the right to real-time scheduling: as root, drop to
 * nobody (no CAP_SYS_NICE, RLIMIT_RTPRIO 0). Exit code = the failed step. */
static int priority_child(void)
{
	int step = drop_privileges(RLIMIT_RTPRIO);
	if (step != 0)
		return step;
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "flznull";
	config.rt_priority = 70;
	struct flz_engine *engine = NULL;
	step = child_start(&config, &engine);
	if (step != 0)
		return step;
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	int rc = 0;
	if (stats.rt_priority != 0)
		rc = 14;
	else if (stats.rt_error != EPERM)
		rc = 15;
	sleep_ms(20);
	flz_engine_get_stats(engine, &stats);
	if (rc == 0 && (stats.frames <= 0 || stats.device_lost))
		rc = 16; /* it plays all the same */
	flz_engine_destroy(engine);
	return rc;
}

START_TEST(priority_refused)
{
	run_in_child(priority_child);
}
END_TEST

TCase *engine_case_priority(void)
{
	TCase *tc = engine_tcase("engine:priority");
	tcase_add_test(tc, priority_refused);
	return tc;
}
