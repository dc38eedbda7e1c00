/* SPDX-License-Identifier: MIT */
/* test-engine: the wav:PATH device when its writer falls behind. */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:wav-drops
 * ------------------------------------------------------------------------ */

static struct flz_engine_stats wav_stats(struct flz_engine *engine)
{
	struct flz_engine_stats st;
	flz_engine_get_stats(engine, &st);
	return st;
}

/* Whether @p n_samples of @p a and @p b agree within 1e-6. */
static bool frames_equal(const float *a, const float *b, size_t n_samples)
{
	for (size_t i = 0; i < n_samples; i++)
		if (fabsf(a[i] - b[i]) > 1e-6f)
			return false;
	return true;
}

/*
 * Match the file against the render, block by block: every block of the
 * file must be the next block of the render, or one after a run of render
 * blocks missing from the file (a gap). The walk must end on the render's
 * last block. Returns the number of gaps; their lengths in frames go to
 * @p gaps, the render frames where they start to @p starts (16 kept).
 */
static int match_with_gaps(const float *file, int64_t n_file, const float *ref, int64_t n_ref,
			   uint32_t block, uint32_t n_channels, int64_t *gaps, int64_t *starts)
{
	ck_assert_int_eq(n_file % block, 0);
	ck_assert_int_eq(n_ref % block, 0);
	int n_gaps = 0;
	int64_t j = 0;
	for (int64_t i = 0; i < n_file; i += block) {
		int64_t skipped = 0, start = j;
		while (!frames_equal(file + i * n_channels, ref + j * n_channels,
				     (size_t)block * n_channels)) {
			j += block;
			skipped += block;
			ck_assert_msg(j < n_ref, "file frame %lld matches no frame of the render after %lld",
				      (long long)i, (long long)(j - skipped));
		}
		if (skipped > 0) {
			if (n_gaps < 16) {
				gaps[n_gaps] = skipped;
				starts[n_gaps] = start;
			}
			n_gaps++;
		}
		j += block;
	}
	ck_assert_msg(j == n_ref, "the file ends at render frame %lld of %lld", (long long)j,
		      (long long)n_ref);
	return n_gaps;
}

/*
 * engine:wav-drops - the writer of wav:PATH falls behind for real: a small
 * ring (16384 frames, 341 ms) and its writer held (flz_engine_set_wav_writer_test())
 * until the audio thread found the ring full. The audio thread does not
 * wait: it renders on past the full ring, dropping whole blocks and
 * counting them, and the writer, released, writes everything the ring
 * holds. The file must then be the render of the same commands (rebuilt
 * from the APPLIED trace within 1e-6) with exactly file_dropped_frames
 * frames missing, in whole blocks, the first gap while held; and the log
 * holds exactly one line saying so, with that gap's count. Stop comes right
 * after the last statistics, within less than one ring of audio, so the
 * count read is the final one. Xruns are asserted 0 only uninstrumented at
 * SCHED_FIFO; their messages always match their count.
 */
START_TEST(wav_writer_falls_behind)
{
	enum { RING = 16384, PERIOD = 128, RATE = 48000 };
	static struct log_lines lines = LOG_LINES_INIT;
	static atomic_bool hold;
	static struct msg_log log;
	char path[] = "/tmp/flz-test-wav-drops-XXXXXX";
	char device[64];
	struct flz_engine_config config = wav_device_config(path, device, PERIOD);
	config.trace_commands = true;
	config.log = log_collect;
	config.log_userdata = &lines;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	/* Not a power of two; then a ring smaller than a period, refused at start. */
	ck_assert_int_eq(flz_engine_set_wav_writer_test(engine, 3000, NULL), -EINVAL);
	ck_assert_int_eq(flz_engine_set_wav_writer_test(engine, 64, NULL), 0);
	char why[256] = "";
	ck_assert_int_eq(flz_engine_start(engine, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "holds no period") != NULL, "why: %s", why);

	atomic_store(&hold, true);
	ck_assert_int_eq(flz_engine_set_wav_writer_test(engine, RING, &hold), 0);
	ck_assert_int_eq(flz_engine_start(engine, why, sizeof(why)), 0);
	/* 1 s of noise: longer than any gap, so no block of it can stand in
	 * for another at a gap's end. */
	struct flz_sample *noise = make_noise(RATE, 2, RATE, 0.5, 31);
	flz_sample_ref(noise);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, noise), 0);
	ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), 0);

	struct flz_engine_stats st = wav_stats(engine);
	for (int k = 0; k < 2000 && st.file_dropped_frames == 0; k++) {
		sleep_ms(5);
		st = wav_stats(engine);
	}
	ck_assert_msg(st.file_dropped_frames > 0, "the held writer's ring never filled");
	/* It goes on rendering and dropping while the writer is held: it never
	 * waits for the writer. */
	uint64_t dropped_held = st.file_dropped_frames;
	int64_t frames_held = st.frames;
	for (int k = 0; k < 2000 && st.file_dropped_frames < dropped_held + 4 * PERIOD; k++) {
		sleep_ms(5);
		st = wav_stats(engine);
	}
	ck_assert_uint_ge(st.file_dropped_frames, dropped_held + 4 * PERIOD);
	ck_assert_int_ge(st.frames, frames_held + 4 * PERIOD);
	ck_assert_int_gt(st.frames, RING);
	ck_assert_uint_eq(st.file_dropped_frames % PERIOD, 0);
	/* Nothing is logged while the writer is held: it is the writer that says it. */
	pthread_mutex_lock(&lines.lock);
	for (int i = 0; i < lines.n && i < LOG_LINES; i++)
		ck_assert_msg(strstr(lines.text[i], "fell behind") == NULL, "logged while held: %s",
			      lines.text[i]);
	pthread_mutex_unlock(&lines.lock);

	atomic_store(&hold, false);
	/* Half a ring more: the writer has drained (every 15 ms) and keeps up. */
	int64_t frames_released = st.frames;
	for (int k = 0; k < 2000 && st.frames < frames_released + RING / 2; k++) {
		sleep_ms(5);
		st = wav_stats(engine);
	}
	collect(engine, &log);
	st = wav_stats(engine);
	flz_engine_stop(engine);

	ck_assert_uint_eq(st.file_write_errors, 0);
	ck_assert(!st.device_lost);
	int n_xrun = 0;
	for (size_t i = 0; i < log.n; i++)
		n_xrun += log.msgs[i].kind == FLZ_MSG_XRUN;
	ck_assert_int_eq(n_xrun, (int)st.xruns);
	/* None of the engine's own; the system's (a stalled machine) are not
	 * the engine's to answer for (engine:wav-xruns tells them apart). */
	ck_assert_uint_le(st.xruns_stalled, st.xruns);
	if (!flz_test_instrumented() && st.rt_priority > 0)
		ck_assert_uint_eq(st.xruns - st.xruns_stalled, 0);
	if (st.xruns > 0)
		fprintf(stderr, "engine:wav-drops: %d xrun(s), %llu of them the system's\n", n_xrun,
			(unsigned long long)st.xruns_stalled);

	/* The file, against the render of exactly file frames + dropped frames. */
	SF_INFO info = { 0 };
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	ck_assert_msg(f != NULL, "%s: %s", path, sf_strerror(NULL));
	ck_assert_int_eq(info.channels, 2);
	ck_assert_int_eq(info.samplerate, RATE);
	int64_t n_file = info.frames;
	float *file = malloc(sizeof(float) * 2 * (size_t)n_file + 1);
	ck_assert_ptr_nonnull(file);
	ck_assert_int_eq(sf_readf_float(f, file, n_file), n_file);
	sf_close(f);
	unlink(path);
	int64_t n_ref = n_file + (int64_t)st.file_dropped_frames;
	ck_assert_int_ge(n_ref, st.frames);
	float *ref = malloc(sizeof(float) * 2 * (size_t)n_ref);
	ck_assert_ptr_nonnull(ref);
	ref_render(&log, noise, RATE, 2, PERIOD, ref, n_ref);
	int64_t gaps[16], starts[16];
	int n_gaps = match_with_gaps(file, n_file, ref, n_ref, PERIOD, 2, gaps, starts);
	ck_assert_int_ge(n_gaps, 1);
	/* The first drop: when the held writer's ring was full. */
	ck_assert_int_eq(starts[0], RING);
	ck_assert_int_ge(gaps[0], (int64_t)dropped_held + 4 * PERIOD);
	/* Noise from before the ring filled, so that the gap lies in sound,
	 * where no block can stand in for another. */
	int64_t play_frame = -1;
	for (size_t i = 0; i < log.n && play_frame < 0; i++)
		if (log.msgs[i].kind == FLZ_MSG_APPLIED && log.msgs[i].cmd == FLZ_CMD_PLAY)
			play_frame = log.msgs[i].frame;
	ck_assert_int_ge(play_frame, 0);
	ck_assert_int_lt(play_frame, RING - PERIOD);
	for (int64_t i = (RING - PERIOD) * 2; i < RING * 2; i += 2)
		ck_assert(file[i] != 0.0f || file[i + 1] != 0.0f);

	/* One line, from the writer once it drained: the first gap's count. */
	int n_said = 0;
	unsigned long long said = 0;
	for (int i = 0; i < lines.n && i < LOG_LINES; i++) {
		const char *at = strstr(lines.text[i], "fell behind: ");
		if (at == NULL)
			continue;
		n_said++;
		ck_assert_int_eq(lines.level[i], FLZ_LOG_WARNING);
		ck_assert_msg(strstr(lines.text[i], path) != NULL, "line: %s", lines.text[i]);
		ck_assert_msg(strstr(lines.text[i], "(stats: file_dropped_frames)") != NULL, "line: %s",
			      lines.text[i]);
		ck_assert_int_eq(sscanf(at, "fell behind: %llu frames", &said), 1);
	}
	ck_assert_int_le(lines.n, LOG_LINES); /* every line was seen */
	ck_assert_int_eq(n_said, 1);
	ck_assert_int_eq((int64_t)said, gaps[0]);

	free(file);
	free(ref);
	flz_sample_unref(noise);
	flz_engine_destroy(engine);
}
END_TEST

/* Stats and the XRun messages so far; their counts must agree. */
static struct flz_engine_stats xrun_stats(struct flz_engine *engine, struct msg_log *log)
{
	collect(engine, log);
	struct flz_engine_stats st = wav_stats(engine);
	collect(engine, log);
	int n_xrun = 0;
	for (size_t i = 0; i < log->n; i++)
		n_xrun += log->msgs[i].kind == FLZ_MSG_XRUN;
	ck_assert_int_eq(n_xrun, (int)st.xruns);
	ck_assert_uint_le(st.xruns_stalled, st.xruns);
	return st;
}

/* Wait until the audio thread rendered @p n_frames more than @p since. */
static struct flz_engine_stats wait_frames(struct flz_engine *engine, int64_t since,
					   int64_t n_frames)
{
	struct flz_engine_stats st = wav_stats(engine);
	for (int k = 0; k < 4000 && st.frames < since + n_frames; k++) {
		sleep_ms(2);
		st = wav_stats(engine);
	}
	ck_assert_int_ge(st.frames, since + n_frames);
	return st;
}

/*
 * engine:wav-xruns - the wav:PATH device tells the engine's xruns from the
 * system's (stats.xruns_stalled). The engine's own: one render made to take
 * six periods on the CPU (flz_engine_set_wav_burn_test()) is exactly one
 * xrun, not the system's. The system's: the whole process stopped for 40 ms
 * (SIGSTOP from a child, then SIGCONT: the audio thread cannot run) gives
 * at least one xrun, every one of them the system's. Xruns the machine adds
 * by itself count as the system's and change neither figure of the
 * engine's own; instrumented (valgrind, sanitizers) renders are slow enough
 * to make their own, so there (and where the audio thread runs without
 * SCHED_FIFO, preempted at will) the engine's own count is only bounded
 * below.
 */
START_TEST(wav_xrun_causes)
{
	enum { PERIOD = 128, RATE = 48000 };
	static _Atomic int64_t burn_ns;
	static struct msg_log log;
	char path[] = "/tmp/flz-test-wav-xruns-XXXXXX";
	char device[64];
	struct flz_engine_config config = wav_device_config(path, device, PERIOD);
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	flz_engine_set_wav_burn_test(engine, &burn_ns);
	char why[256] = "";
	ck_assert_int_eq(flz_engine_start(engine, why, sizeof(why)), 0);
	struct flz_sample *noise = make_noise(RATE, 2, RATE, 0.5, 7);
	flz_sample_ref(noise);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, noise), 0);
	ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), 0);
	struct flz_engine_stats st0 = wait_frames(engine, 0, 16 * PERIOD);
	st0 = xrun_stats(engine, &log);
	/* Exact only where renders run at full speed on a thread nothing
	 * else preempts: not instrumented, and at SCHED_FIFO. */
	bool exact = !flz_test_instrumented() && st0.rt_priority > 0;
	int64_t period_ns = (int64_t)PERIOD * 1000000000LL / RATE;
	atomic_store(&burn_ns, 6 * period_ns);
	for (int k = 0; k < 4000 && atomic_load(&burn_ns) != 0; k++)
		sleep_ms(1);
	ck_assert_int_eq(atomic_load(&burn_ns), 0);
	wait_frames(engine, st0.frames, 4 * PERIOD);
	struct flz_engine_stats st1 = xrun_stats(engine, &log);
	uint64_t own0 = st0.xruns - st0.xruns_stalled, own1 = st1.xruns - st1.xruns_stalled;
	if (exact)
		ck_assert_uint_eq(own1, own0 + 1);
	else
		ck_assert_uint_ge(own1, own0 + 1);

	pid_t parent = getpid();
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct timespec stop = { .tv_sec = 0, .tv_nsec = 40 * 1000000L };
		kill(parent, SIGSTOP);
		nanosleep(&stop, NULL);
		kill(parent, SIGCONT);
		_exit(0);
	}
	int status = 0;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	wait_frames(engine, st1.frames, 4 * PERIOD);
	struct flz_engine_stats st2 = xrun_stats(engine, &log);
	ck_assert_uint_ge(st2.xruns_stalled, st1.xruns_stalled + 1);
	if (exact)
		ck_assert_uint_eq(st2.xruns - st2.xruns_stalled, own1);
	fprintf(stderr, "engine:wav-xruns: %llu xrun(s), %llu of them the system's\n",
		(unsigned long long)st2.xruns, (unsigned long long)st2.xruns_stalled);

	flz_engine_stop(engine);
	flz_engine_destroy(engine);
	flz_sample_unref(noise);
	unlink(path);
}
END_TEST

TCase *engine_case_wav_xruns(void)
{
	TCase *tc = engine_tcase("engine:wav-xruns");
	tcase_add_test(tc, wav_xrun_causes);
	return tc;
}

TCase *engine_case_wav_drops(void)
{
	TCase *tc = engine_tcase("engine:wav-drops");
	tcase_add_test(tc, wav_writer_falls_behind);
	return tc;
}
