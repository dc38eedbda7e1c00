/* SPDX-License-Identifier: MIT */
/* test-engine: a device that suspends (ALSA builds only). */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:suspend (a device that suspends, through struct flz_engine_pcm_ops)
 * ------------------------------------------------------------------------ */

/* A device whose resume says -EAGAIN n_again times, then resume_result;
 * and a clock that advances step_ns at each reading. */
struct fake_pcm {
	int n_again;
	int resume_result;
	int prepare_result;
	int n_resume;
	int n_prepare;
	int64_t now;
	int64_t step_ns;
};

static int fake_resume(void *userdata)
{
	struct fake_pcm *f = userdata;
	f->n_resume++;
	if (f->n_again > 0) {
		f->n_again--;
		return -EAGAIN;
	}
	return f->resume_result;
}

static int fake_prepare(void *userdata)
{
	struct fake_pcm *f = userdata;
	f->n_prepare++;
	return f->prepare_result;
}

static int64_t fake_now(void *userdata)
{
	struct fake_pcm *f = userdata;
	f->now += f->step_ns;
	return f->now;
}

static int64_t real_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* An audio side with no PCM descriptors: pfds[0] is the wake eventfd. */
static void fake_audio(struct flz_engine_audio *audio, struct flz_engine_pcm_ops *ops,
		       struct fake_pcm *f)
{
	memset(audio, 0, sizeof(*audio));
	*ops = (struct flz_engine_pcm_ops){ .resume = fake_resume, .prepare = fake_prepare,
					    .now_ns = fake_now, .userdata = f };
	audio->ops = ops;
	audio->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(audio->wake_fd, 0);
	audio->n_pcm_fds = 0;
	audio->pfds[0] = (struct pollfd){ .fd = audio->wake_fd, .events = POLLIN };
	audio->last_progress_ns = f->now;
}

/*
 * engine:suspend - suspended for 60 resume attempts on a clock that runs
 * 50 ms per reading (about 6 s, far beyond the 1 s stall limit): never
 * declared lost, one bounded wait per -EAGAIN (so no spin: the attempts fit
 * the real time elapsed at one per 10 ms), resumed without a prepare; after
 * that the stall check is live again.
 */
START_TEST(suspend_waits_not_lost)
{
	enum { N = 60 };
	struct fake_pcm f = { .n_again = N, .resume_result = 0, .step_ns = 50000000LL,
			      .now = 1000000000LL };
	struct flz_engine_audio audio;
	struct flz_engine_pcm_ops ops;
	fake_audio(&audio, &ops, &f);
	const int64_t fake_start = f.now;

	int64_t t0 = real_now_ns();
	int turns = 0;
	while (f.n_resume <= N) {
		/* What audio_loop() does while avail_update says -ESTRPIPE. */
		int rc = flz_engine_settle_rt(&audio, -ESTRPIPE);
		ck_assert_msg(rc == 0, "turn %d: %d (%s)", turns, rc, snd_strerror(rc));
		turns++;
		ck_assert_int_le(turns, N + 1);
	}
	int64_t elapsed = real_now_ns() - t0;
	ck_assert_int_eq(f.n_resume, N + 1);
	ck_assert_uint_eq(audio.n_suspend_waits, N);
	ck_assert_int_eq(f.n_prepare, 0);
	ck_assert_int_gt(f.now - fake_start, 5 * FLZ_ENGINE_STALL_NS);
	/* Each wait lasted its full timeout (poll's timeout is a minimum). */
	ck_assert_msg(f.n_resume <= elapsed / (FLZ_ENGINE_RESUME_WAIT_MS * 1000000LL) + 1,
		      "%d resume attempts in %lld ns", f.n_resume, (long long)elapsed);

	/* Resumed: the device plays on; without progress, it is lost after the
	 * stall limit as before. */
	ck_assert_int_eq(flz_engine_settle_rt(&audio, 0), 0);
	f.now += FLZ_ENGINE_STALL_NS;
	ck_assert_int_eq(flz_engine_settle_rt(&audio, 0), -ENODEV);
	close(audio.wake_fd);
}
END_TEST

struct wake_later {
	int fd;
	int delay_ms;
};

static void *write_wake_later(void *arg)
{
	struct wake_later *w = arg;
	sleep_ms(w->delay_ms);
	uint64_t one = 1;
	ck_assert_int_eq(write(w->fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	return NULL;
}

/*
 * engine:suspend - a device that never resumes: the thread goes on waiting
 * (never lost) until the wake descriptor is written, which ends the wait it
 * is in (settle says 1); with the descriptor written, a wait returns at
 * once whatever its timeout.
 */
START_TEST(suspend_wake_ends_wait)
{
	struct fake_pcm f = { .n_again = 1 << 30, .step_ns = 100000000LL, .now = 1 };
	struct flz_engine_audio audio;
	struct flz_engine_pcm_ops ops;
	fake_audio(&audio, &ops, &f);

	struct wake_later w = { .fd = audio.wake_fd, .delay_ms = 100 };
	pthread_t writer;
	ck_assert_int_eq(pthread_create(&writer, NULL, write_wake_later, &w), 0);
	int rc = 0;
	int turns = 0;
	int64_t t0 = real_now_ns();
	while (rc == 0 && turns < 100000) {
		rc = flz_engine_settle_rt(&audio, -ESTRPIPE);
		turns++;
	}
	int64_t elapsed = real_now_ns() - t0;
	pthread_join(writer, NULL);
	ck_assert_int_eq(rc, 1);
	ck_assert_uint_eq(audio.n_suspend_waits, (uint64_t)turns);
	/* No spin: one attempt per full wait, the last one cut short. */
	ck_assert_msg(turns <= elapsed / (FLZ_ENGINE_RESUME_WAIT_MS * 1000000LL) + 1,
		      "%d attempts in %lld ns", turns, (long long)elapsed);
	/* Suspended for longer than the stall limit on the fake clock. */
	ck_assert_int_gt(f.now, FLZ_ENGINE_STALL_NS);
	/* Still readable (the loop then sees quit): every further wait ends at once. */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(flz_engine_settle_rt(&audio, -ESTRPIPE), 1);
	close(audio.wake_fd);
}
END_TEST

/*
 * engine:suspend - a resume that fails otherwise (-ENOSYS: the device cannot
 * resume) prepares instead, once, with no wait; a prepare that fails too
 * loses the device with that error.
 */
START_TEST(suspend_resume_fails_prepares)
{
	struct fake_pcm f = { .resume_result = -ENOSYS, .prepare_result = 0, .step_ns = 1 };
	struct flz_engine_audio audio;
	struct flz_engine_pcm_ops ops;
	fake_audio(&audio, &ops, &f);
	ck_assert_int_eq(flz_engine_settle_rt(&audio, -ESTRPIPE), 0);
	ck_assert_int_eq(f.n_resume, 1);
	ck_assert_int_eq(f.n_prepare, 1);
	ck_assert_uint_eq(audio.n_suspend_waits, 0);
	f.prepare_result = -EIO;
	ck_assert_int_eq(flz_engine_settle_rt(&audio, -ESTRPIPE), -EIO);
	ck_assert_int_eq(f.n_prepare, 2);
	close(audio.wake_fd);
}
END_TEST

TCase *engine_case_suspend(void)
{
	TCase *tc = engine_tcase("engine:suspend");
	tcase_add_test(tc, suspend_waits_not_lost);
	tcase_add_test(tc, suspend_wake_ends_wait);
	tcase_add_test(tc, suspend_resume_fails_prepares);
	return tc;
}
