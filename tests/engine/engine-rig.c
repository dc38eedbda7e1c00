/* SPDX-License-Identifier: MIT */
/* test-engine: real-time playback inside the JACK rig, with --rig (ALSA builds only). */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:rig-playback (only with --rig, inside tests/rig/rig.py --tee)
 * ------------------------------------------------------------------------ */

static void drain_into(struct flz_engine *engine, struct msg_log *log)
{
	collect(engine, log);
}

static int64_t first_xrun_frame(const struct msg_log *log)
{
	for (size_t i = 0; i < log->n; i++)
		if (log->msgs[i].kind == FLZ_MSG_XRUN)
			return log->msgs[i].frame;
	return -1;
}

/* Server xruns: tests/rig/rig.py appends one line per xrun jackd logs to the
 * file FLZ_RIG_SERVER_XRUNS names, "<CLOCK_MONOTONIC ns> <kind> <jackd's
 * text>"; the kinds "timer" (the dummy backend's timer was late) and
 * "recorder" (the rig's recorder was) mean the rig itself was late. */
#define RIG_WINDOW_MARGIN_NS (100LL * 1000 * 1000)
#define RIG_ATTEMPTS 3

static int64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The number of the rig's own xruns in [t0_ns, t1_ns] widened by
 * RIG_WINDOW_MARGIN_NS (0 outside a rig that keeps the file); the first one's
 * kind and text go to first. */
static int rig_server_late(int64_t t0_ns, int64_t t1_ns, char *first, size_t first_size)
{
	const char *path = getenv("FLZ_RIG_SERVER_XRUNS");
	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f)
		return 0;
	char line[512];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		long long t_ns;
		char kind[32];
		int text_at = 0;
		if (sscanf(line, "%lld %31s %n", &t_ns, kind, &text_at) < 2 || text_at == 0)
			continue;
		if (strcmp(kind, "timer") != 0 && strcmp(kind, "recorder") != 0)
			continue;
		if (t_ns < t0_ns - RIG_WINDOW_MARGIN_NS || t_ns > t1_ns + RIG_WINDOW_MARGIN_NS)
			continue;
		if (n++ == 0)
			snprintf(first, first_size, "%s: %.*s", kind,
				 (int)strcspn(line + text_at, "\n"), line + text_at);
	}
	fclose(f);
	return n;
}

/* One measurement of a rig case: its window and whether a check a late server
 * can break failed while the server was late (then why, the first such). */
struct rig_attempt {
	int64_t t0_ns;
	int64_t t1_ns;
	bool inconclusive;
	char why[512];
};

/* A check that a late JACK server can break (the deadline, the amount of audio
 * played in a wall-clock time). Failed while the rig's server xrun'd in the
 * attempt's window: the attempt is inconclusive and goes on with its other
 * checks. Failed while the server was on time: the case fails. */
static void rig_expect(struct rig_attempt *a, bool ok, const char *what)
{
	if (ok)
		return;
	char first[256] = "";
	int late = rig_server_late(a->t0_ns, a->t1_ns, first, sizeof(first));
	ck_assert_msg(late > 0, "%s while the JACK server was on time (no server xrun in the window)",
		      what);
	if (!a->inconclusive)
		snprintf(a->why, sizeof(a->why),
			 "%s; the JACK server xrun'd %d time(s) in the window (first: %s)", what,
			 late, first);
	a->inconclusive = true;
}

/* One measurement of engine:rig-playback, every check made: the content ones
 * with ck_assert, those a late server can break with rig_expect(). */
static void rig_playback_once(struct rig_attempt *attempt)
{
	attempt->t0_ns = monotonic_ns();
	char what[256];
	const char *tee = getenv("FLZ_RIG_TEE");
	ck_assert_msg(tee != NULL, "run inside the rig with --tee");
	struct flz_engine_config config = flz_engine_config_init();
	config.device = getenv("FLITZIS_AUDIO_DEVICE");
	config.trace_commands = true;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	char why[256];
	int err = flz_engine_start(engine, why, sizeof(why));
	ck_assert_msg(err == 0, "start: %s", why);
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	ck_assert_int_eq(stats.format, FLZ_FORMAT_FLOAT_LE);
	ck_assert_uint_eq(stats.period_frames, 128);
	ck_assert_uint_eq(stats.n_periods, 2);
	if (geteuid() == 0) {
		ck_assert_int_eq(stats.rt_priority, 70);
	} else {
		ck_assert(stats.rt_priority == 70 || stats.rt_error != 0);
	}

	/* 0.3 s of a 440 Hz sine, looped. */
	uint32_t rate = stats.rate_hz;
	struct flz_sample *sine = flz_sample_new(rate * 3 / 10, 2, rate);
	flz_test_sine(sine->data, rate * 3 / 10, 2, 440.0, rate, 0.8, 0.5);
	flz_sample_ref(sine);
	static struct msg_log log;
	log.n = 0;

	ck_assert_int_eq(flz_engine_load_sample(engine, 0, sine), 0);
	sleep_ms(100);
	ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), 0);
	sleep_ms(600);
	drain_into(engine, &log);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.5f), 0);
	ck_assert_int_eq(flz_engine_set_speed(engine, 1.25), 0);
	sleep_ms(500);
	ck_assert_int_eq(flz_engine_stop_slot(engine, 0), 0);
	ck_assert_int_eq(flz_engine_ping(engine), 0);
	sleep_ms(300);
	drain_into(engine, &log);
	flz_engine_get_stats(engine, &stats);
	flz_engine_stop(engine);
	attempt->t1_ns = monotonic_ns();

	/* Real time: ~1.5 s of audio went out. Uninstrumented, without an
	 * underrun: the normal build is where deadlines are checked.
	 * Instrumented (sanitizers, valgrind), underruns are allowed, because
	 * a sanitizer can make one block late: under ThreadSanitizer a block
	 * of varispeed voices can take more of the audio thread's CPU than the
	 * 2.7 ms of audio queued at 128 x 2 (the stretched kernels' tables are
	 * built at mixer creation, on the control side, not here). Each must then be counted
	 * and reported once, and the content check below still holds in full:
	 * the tee records every committed frame, and the engine renders every
	 * frame once whatever the device did, so a late block cannot change
	 * what was committed, only when JACK played it. A JACK server late in
	 * the window can cost an underrun and frames, not content: see
	 * rig_playback below. */
	ck_assert(!stats.device_lost);
	snprintf(what, sizeof(what), "%lld frames played in 1.5 s, fewer than 1.3 s",
		 (long long)stats.frames);
	rig_expect(attempt, stats.frames >= (int64_t)rate * 13 / 10, what);
	snprintf(what, sizeof(what), "the engine underran %lld time(s)", (long long)stats.xruns);
	rig_expect(attempt, flz_test_instrumented() || stats.xruns == 0, what);
	ck_assert_uint_eq(stats.messages_dropped, 0);
	int n_applied = 0, n_pong = 0, n_stopped = 0, n_xrun = 0;
	for (size_t i = 0; i < log.n; i++) {
		n_applied += log.msgs[i].kind == FLZ_MSG_APPLIED;
		n_pong += log.msgs[i].kind == FLZ_MSG_PONG;
		n_stopped += log.msgs[i].kind == FLZ_MSG_STOPPED;
		if (log.msgs[i].kind == FLZ_MSG_XRUN) {
			n_xrun++;
			ck_assert_int_eq(log.msgs[i].error, -EPIPE);
			ck_assert_int_ge(log.msgs[i].frame, 0);
			ck_assert_int_le(log.msgs[i].frame, stats.frames);
		}
	}
	ck_assert_int_eq(n_xrun, (int)stats.xruns);
	if (n_xrun > 0)
		fprintf(stderr, "rig-playback: %d xrun(s)%s, first at frame %lld\n", n_xrun,
			flz_test_instrumented() ? " under instrumentation" : "",
			(long long)first_xrun_frame(&log));
	ck_assert_int_eq(n_applied, 6);
	ck_assert_int_eq(n_pong, 1);
	ck_assert_int_eq(n_stopped, 1);

	/* What was committed (the tee in front of JACK) equals the offline render. */
	FILE *f = fopen(tee, "rb");
	ck_assert_ptr_nonnull(f);
	size_t cap = (size_t)stats.frames * 2 + 1024;
	float *heard = calloc(cap, sizeof(float));
	size_t n_read = fread(heard, sizeof(float), cap, f);
	fclose(f);
	int64_t n_frames = (int64_t)(n_read / 2);
	if (n_frames > stats.frames)
		n_frames = stats.frames;
	snprintf(what, sizeof(what), "%lld frames in the tee, fewer than 1.2 s", (long long)n_frames);
	rig_expect(attempt, n_frames >= (int64_t)rate * 12 / 10, what);
	float *want = calloc((size_t)n_frames * 2, sizeof(float));
	ref_render(&log, sine, rate, 2, 128, want, n_frames);
	size_t at = 0;
	double diff = flz_test_max_diff(heard, want, (size_t)n_frames * 2, &at);
	if (diff > 1e-6)
		flz_test_dump("rig-heard.f32", heard, (size_t)n_frames * 2);
	ck_assert_msg(diff <= 1e-6, "heard vs offline render: %g at sample %zu of %lld", diff,
		      at, (long long)n_frames * 2);
	double peak = 0.0;
	for (int64_t i = 0; i < n_frames * 2; i++)
		peak = fmax(peak, fabs(heard[i]));
	ck_assert_double_gt(peak, 0.2);

	flz_engine_destroy(engine);
	ck_assert_int_eq(refcount(sine), 1);
	flz_sample_unref(sine);
	free(heard);
	free(want);
}

START_TEST(rig_playback)
{
	/* An attempt whose deadline or amount of audio failed while the JACK
	 * server itself xrun'd (its timer late on a loaded machine: the server
	 * stalled, not the engine) is taken again, up to RIG_ATTEMPTS times; a
	 * failure while the server was on time fails at once, and the content
	 * checks fail at once in any case. Check has no skip: if the server was
	 * late in every attempt, the case says so on stderr and passes on its
	 * content checks, made in full in every attempt over what it played (a
	 * late server cannot change what the tee holds) (docs/testing.md). */
	struct rig_attempt attempt = { 0 };
	for (int n = 1; n <= RIG_ATTEMPTS; n++) {
		attempt = (struct rig_attempt){ 0 };
		rig_playback_once(&attempt);
		if (!attempt.inconclusive)
			return;
		fprintf(stderr, "engine:rig-playback: attempt %d of %d inconclusive: %s\n", n,
			RIG_ATTEMPTS, attempt.why);
	}
	fprintf(stderr,
		"engine:rig-playback: deadline not judged: the JACK server xrun'd in the window "
		"of each of %d attempts (content checked in full in each); last: %s\n",
		RIG_ATTEMPTS, attempt.why);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:device-lost (only with --rig: a private JACK server is killed)
 * ------------------------------------------------------------------------ */

START_TEST(rig_device_lost)
{
	char name[64];
	snprintf(name, sizeof(name), "flzlost%d", (int)getpid());
	pid_t jackd = fork();
	ck_assert_int_ge(jackd, 0);
	if (jackd == 0) {
		/* Never outlive the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		setenv("JACK_NO_AUDIO_RESERVATION", "1", 1);
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("jackd", "jackd", "-n", name, "-S", "-d", "dummy", "-r", "48000", "-p", "64",
		       (char *)NULL);
		_exit(127);
	}
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "jack_wait -s %s -w -t 10 >/dev/null 2>&1", name);
	ck_assert_int_eq(system(cmd), 0);
	/* The ALSA jack plugin connects to the server named here. The rig's
	 * own name is put back at the end: with CK_FORK=no (the sanitizers,
	 * valgrind) the next cases run in this process and need it. */
	const char *rig_server = getenv("JACK_DEFAULT_SERVER");
	char saved_server[128] = "";
	if (rig_server)
		snprintf(saved_server, sizeof(saved_server), "%s", rig_server);
	setenv("JACK_DEFAULT_SERVER", name, 1);

	struct flz_engine_config config = flz_engine_config_init();
	config.device = "flzjack";
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	char why[256];
	int err = flz_engine_start(engine, why, sizeof(why));
	ck_assert_msg(err == 0, "start: %s", why);
	struct flz_sample *s = make_noise(4800, 2, 48000, 0.3, 5);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, s), 0);
	ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), 0);
	sleep_ms(300);
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	ck_assert_int_gt(stats.frames, 0);
	ck_assert(!stats.device_lost);

	/* SIGTERM, not SIGKILL: the server's clients see it vanish all the
	 * same, and it leaves the JACK server registry clean (a killed server's
	 * entry stays until its name is reused; eight block any new server). */
	kill(jackd, SIGTERM);
	waitpid(jackd, NULL, 0);

	/* Within a few seconds the loss is reported: stats and a message. */
	bool lost_msg = false;
	for (int i = 0; i < 100 && !lost_msg; i++) {
		struct flz_engine_msg m;
		while (flz_engine_poll_message(engine, &m) == 1)
			if (m.kind == FLZ_MSG_DEVICE_LOST) {
				lost_msg = true;
				ck_assert_int_lt(m.error, 0);
			}
		if (!lost_msg)
			sleep_ms(50);
	}
	ck_assert(lost_msg);
	flz_engine_get_stats(engine, &stats);
	ck_assert(stats.device_lost);
	ck_assert(flz_engine_is_running(engine));
	/* Commands now say the device is gone; stop returns (the test timeout
	 * would catch a hang) and frees everything. */
	ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), -ENODEV);
	flz_engine_stop(engine);
	ck_assert(!flz_engine_is_running(engine));
	flz_engine_destroy(engine);
	if (rig_server)
		setenv("JACK_DEFAULT_SERVER", saved_server, 1);
	else
		unsetenv("JACK_DEFAULT_SERVER");

	/* The client side of a vanished server leaves its semaphore files. */
	char pattern[128];
	snprintf(pattern, sizeof(pattern), "/dev/shm/jack_sem.*_%s_*", name);
	glob_t found;
	if (glob(pattern, 0, NULL, &found) == 0) {
		for (size_t i = 0; i < found.gl_pathc; i++)
			unlink(found.gl_pathv[i]);
		globfree(&found);
	}
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:wake-stop (only with --rig)
 * ------------------------------------------------------------------------ */

/* A device engine on the rig's default PCM, started. */
static struct flz_engine *rig_engine(void)
{
	struct flz_engine_config config = flz_engine_config_init();
	config.device = getenv("FLITZIS_AUDIO_DEVICE");
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	char why[256];
	int err = flz_engine_start(engine, why, sizeof(why));
	ck_assert_msg(err == 0, "start: %s", why);
	return engine;
}

/*
 * flz_engine_stop() writes the wake descriptor, and the audio thread leaves
 * its wait through it. The thread spends most of a period waiting, so a stop
 * lands in the wait nearly every time; one that lands while a block renders
 * sees quit at the top of the loop instead. Of 8 stops, none leaving by the
 * wake descriptor means it does not work. (How long stop takes is measured
 * by bench/shutdown.py, not asserted.)
 */
START_TEST(rig_wake_stop)
{
	struct flz_engine *engine = rig_engine();
	int n_by_wake = 0;
	for (int i = 0; i < 8; i++) {
		if (i > 0) {
			char why[256];
			int err = flz_engine_start(engine, why, sizeof(why));
			ck_assert_msg(err == 0, "start: %s", why);
		}
		sleep_ms(60);
		struct flz_engine_stats stats;
		flz_engine_get_stats(engine, &stats);
		ck_assert(!stats.device_lost);
		flz_engine_stop(engine);
		bool written = false, by_wake = false;
		flz_engine_last_stop(engine, &written, &by_wake);
		ck_assert(written);
		n_by_wake += by_wake;
	}
	ck_assert_int_ge(n_by_wake, 1);
	flz_engine_destroy(engine);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:page-faults (only with --rig)
 * ------------------------------------------------------------------------ */

/* Minor page faults of thread @p tid so far (/proc/.../stat field 10). */
static long long thread_minflt(pid_t tid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name (field 2) may hold spaces: count fields after its ')'. */
	char *p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	long long minflt = -1;
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %lld", &minflt), 1);
	return minflt;
}

/*
 * Once it plays, the audio thread takes no page fault: everything it writes
 * (rings, mixer buffers, the resampler's stretch table, its stack) was
 * written before it started. The window opens after 0.5 s of playback, when
 * the device's own buffers (the jack plugin's mmap area, alsa-lib's state)
 * have been through one full cycle; it covers new voices, volume, the
 * first speed-up (whose stretched tables were built and written at mixer
 * creation), a slow-down and stops.
 * It catches faults that reach the thread, whatever their cause (as root
 * the buffers are locked too, which maps them by itself); that every
 * buffer is written by the engine is engine:prefault's (and
 * mixer:memory's) to prove.
 */
/* One fresh engine through the window: the audio thread's minor faults in it. */
static long long page_faults_in_window(void)
{
	struct flz_engine *engine = rig_engine();
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	struct flz_sample *s = make_noise(stats.rate_hz, 2, stats.rate_hz, 0.2, 3);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, s), 0);
	ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), 0);
	sleep_ms(500);
	pid_t tid = thread_named("flz-audio");
	ck_assert_int_gt(tid, 0);
	long long before = thread_minflt(tid);

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(flz_engine_play(engine, 0, 0.25f), 0);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.7f), 0);
	sleep_ms(100);
	ck_assert_int_eq(flz_engine_set_speed(engine, 1.5), 0);
	sleep_ms(400);
	ck_assert_int_eq(flz_engine_set_speed(engine, 0.75), 0);
	sleep_ms(300);
	ck_assert_int_eq(flz_engine_set_speed(engine, 1.9), 0);
	sleep_ms(300);
	ck_assert_int_eq(flz_engine_stop_all(engine), 0);
	sleep_ms(100);

	long long after = thread_minflt(tid);
	flz_engine_get_stats(engine, &stats);
	ck_assert(!stats.device_lost);
	flz_engine_destroy(engine);
	return after - before;
}

/*
 * The window runs on a fresh engine, and once more on another fresh engine
 * when the first took faults: a page the engine first writes while playing
 * faults in every engine, so it fails both; a fault that comes now and
 * then from outside the engine's memory (1 fault, seen in two of some
 * thirty CI emulations; its cause not found) does not fail the test on
 * its own and is reported on stderr.
 */
START_TEST(rig_no_page_faults)
{
	long long faults = page_faults_in_window();
	/* Instrumented, the faults are the tool's own (ASan's shadow pages
	 * written on first poisoning, valgrind's translations; ASan's mlock()
	 * locks nothing): counted, not asserted. */
	if (flz_test_instrumented()) {
		if (faults != 0)
			fprintf(stderr, "engine:page-faults: %lld minor faults (instrumented)\n",
				faults);
		return;
	}
	if (faults != 0) {
		fprintf(stderr, "engine:page-faults: %lld minor faults in the first window, "
				"running it again on a fresh engine\n", faults);
		faults = page_faults_in_window();
	}
	ck_assert_msg(faults == 0, "flz-audio took %lld minor page faults while playing", faults);
}
END_TEST

TCase *engine_case_rig_playback(void)
{
	TCase *tc = engine_tcase("engine:rig-playback");
	tcase_add_test(tc, rig_playback);
	return tc;
}

TCase *engine_case_device_lost(void)
{
	TCase *tc = engine_tcase("engine:device-lost");
	tcase_add_test(tc, rig_device_lost);
	return tc;
}

TCase *engine_case_wake_stop(void)
{
	TCase *tc = engine_tcase("engine:wake-stop");
	tcase_add_test(tc, rig_wake_stop);
	return tc;
}

TCase *engine_case_page_faults(void)
{
	TCase *tc = engine_tcase("engine:page-faults");
	tcase_add_test(tc, rig_no_page_faults);
	return tc;
}
