/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stretch:rtcheck: the audio-thread calls (reset, prime, render, set_rate)
 * run on a thread named flz-audio while tests/rtcheck's interposer
 * (LD_PRELOAD, see tests/stretch/meson.build) counts its allocation, free,
 * lock, I/O and sleeping calls; the count must be zero. The case runs only
 * in the stretch-rtcheck test, which preloads it; without the interposer it
 * fails rather than passing unmeasured.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "stretch-tests.h"

struct rt_job {
	struct flz_stretch *st;
	struct tone_src src;
	float *out;
	int failures;
	double peak;
	long (*count)(const char *, const char *);
	/* The thread's counts as it starts its work and as it ends it, read on
	 * the thread itself: the C library frees the thread's own storage when
	 * it exits, which is not the processor's doing. */
	long before;
	long after;
	/* Calls counted for a deliberate malloc() and free() after the work:
	 * the proof that the interposer sees this thread. */
	long probe;
};

static void rt_render(struct rt_job *job, double rate, size_t n_blocks)
{
	if (flz_stretch_set_rate(job->st, rate) != 0)
		job->failures++;
	for (size_t b = 0; b < n_blocks; b++) {
		if (flz_stretch_render(job->st, tone_read, &job->src, job->out, TEST_BLOCK) != 0)
			job->failures++;
		for (size_t i = 0; i < TEST_BLOCK * 2; i++)
			job->peak = fmax(job->peak, fabs(job->out[i]));
	}
}

static void rt_start(struct rt_job *job, double rate, bool prime)
{
	if (flz_stretch_reset(job->st, rate) != 0)
		job->failures++;
	job->src.pos = -flz_stretch_preroll_frames(job->st);
	if (prime && flz_stretch_prime(job->st, tone_read, &job->src) != 0)
		job->failures++;
}

static void *rt_thread(void *arg)
{
	struct rt_job *job = arg;
	/* Counting starts with the name (the interposer reads it per call). */
	pthread_setname_np(pthread_self(), "flz-audio");
	job->before = job->count("flz-audio", NULL);
	/* Start, run, glide through 1.0, jump to the extremes, steal (reset
	 * while running) without an explicit prime and with a stepped one, run
	 * again. */
	rt_start(job, 1.0, true);
	rt_render(job, 1.0, 200);
	for (int k = 0; k <= 40; k++)
		rt_render(job, 0.8 + 0.45 * k / 40.0, 5);
	rt_render(job, FLZ_STRETCH_RATE_MAX, 100);
	rt_render(job, FLZ_STRETCH_RATE_MIN, 100);
	rt_render(job, 1.0, 100);
	rt_start(job, 1.25, false);
	rt_render(job, 1.25, 200);
	rt_start(job, 0.8, false);
	while (flz_stretch_prime_step(job->st, tone_read, &job->src, 128) == 0)
		;
	rt_render(job, 0.8, 200);
	for (int k = 0; k < 100; k++)
		rt_render(job, k % 2 ? 0.5 : 2.0, 2);
	job->after = job->count("flz-audio", NULL);
	void *volatile p = malloc(16);
	free(p);
	job->probe = job->count("flz-audio", NULL) - job->after;
	return NULL;
}

START_TEST(test_rtcheck)
{
	/* POSIX's way to take a function from dlsym() without ISO C's
	 * object-to-function pointer conversion. */
	long (*count)(const char *, const char *);
	void *sym = dlsym(RTLD_DEFAULT, "flz_rtcheck_count");
	memcpy(&count, &sym, sizeof(count));
	ck_assert_msg(count != NULL,
		      "needs tests/rtcheck's interposer preloaded (meson test stretch-rtcheck)");
	enum flz_stretch_engine engine = (enum flz_stretch_engine)_i;
	struct rt_job job = { .st = make_stretch(engine, 2),
			      .src = { 1000.0, TEST_AMP, 2, 0, -1, 0 },
			      .count = count };
	job.out = calloc(TEST_BLOCK * 2, sizeof(float));
	ck_assert_ptr_nonnull(job.out);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, rt_thread, &job), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(job.failures, 0);
	/* The thread was watched, and did render the tone. */
	ck_assert_int_ge(job.before, 0);
	ck_assert_double_gt(job.peak, 0.5 * TEST_AMP);
	ck_assert_int_ge(job.probe, 2);
	static const char *const watched[] = { "malloc", "calloc", "realloc", "free",
		"posix_memalign", "aligned_alloc", "mmap", "munmap", "pthread_mutex_lock",
		"pthread_cond_wait", "sem_wait", "write", "nanosleep" };
	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
		long n = count("flz-audio", watched[i]);
		fprintf(stderr, "# rtcheck: engine %d: %s x %ld (thread's life: probe, exit)\n",
			(int)engine, watched[i], n);
	}
	long total = job.after - job.before;
	fprintf(stderr, "# rtcheck: engine %d: %ld forbidden calls in total during the work\n",
		(int)engine, total);
	ck_assert_int_eq(total, 0);
	free(job.out);
	flz_stretch_destroy(job.st);
}
END_TEST

TCase *stretch_case_rtcheck(void)
{
	TCase *tc = tcase_create("stretch:rtcheck");
	tcase_add_loop_test(tc, test_rtcheck, FLZ_STRETCH_ENGINE_FASTER,
			    FLZ_STRETCH_ENGINE_FINER + 1);
	tcase_set_timeout(tc, 300);
	/* Excluded from the plain run (CK_EXCLUDE_TAGS, meson.build). */
	tcase_set_tags(tc, "interposer");
	return tc;
}
