/* SPDX-License-Identifier: MIT */
/* test-engine: the commands, in order and in content. */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:commands
 * ------------------------------------------------------------------------ */

/* The engine's stereo output equals, bit for bit, a mixer without stages
 * given the commands of @p log at the same frames, and is not silence (so
 * that the comparison means something). */
static void check_equals_plain_mixer(const struct msg_log *log, struct flz_sample *sample,
				     uint32_t block, const float *out, float *want,
				     int64_t n_frames)
{
	ref_render(log, sample, 48000, 2, block, want, n_frames);
	size_t at = 0;
	double diff = flz_test_max_diff(out, want, (size_t)n_frames * 2, &at);
	ck_assert_msg(diff == 0.0, "engine vs a mixer without stages: %g at sample %zu", diff, at);
	double peak = 0.0;
	for (int64_t i = 0; i < n_frames * 2; i++)
		peak = fmax(peak, fabs(out[i]));
	ck_assert_double_gt(peak, 0.1);
}

START_TEST(commands_order_and_content)
{
	const uint32_t block = 64;
	struct flz_engine *engine = offline_engine(block, true);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	struct flz_sample *sample = make_noise(1000, 2, 48000, 0.5, 42);
	flz_sample_ref(sample); /* ours, for the reference render */

	const int64_t n_frames = 64 * 60;
	float *out = calloc((size_t)n_frames * 2, sizeof(float));
	float *want = calloc((size_t)n_frames * 2, sizeof(float));
	static struct msg_log log;
	log.n = 0;

	/* Commands are applied at the start of the next block, in call order. */
	ck_assert_int_eq(flz_engine_load_sample(engine, 3, sample), 0);
	ck_assert_int_eq(flz_engine_play(engine, 3, 0.5f), 0);
	ck_assert_int_eq(flz_engine_play(engine, 7, 1.0f), 0); /* empty slot: ignored */
	int64_t frame = 0;
	for (int b = 0; b < 60; b++) {
		if (b == 10)
			ck_assert_int_eq(flz_engine_play(engine, 3, 0.25f), 0);
		if (b == 20)
			ck_assert_int_eq(flz_engine_set_volume(engine, 0.5f), 0);
		if (b == 25) {
			ck_assert_int_eq(flz_engine_stop_slot(engine, 3), 0);
			ck_assert_int_eq(flz_engine_ping(engine), 0);
		}
		if (b == 40) {
			ck_assert_int_eq(flz_engine_play(engine, 3, 1.0f), 0);
			ck_assert_int_eq(flz_engine_set_speed(engine, 1.5), 0);
		}
		if (b == 50) {
			ck_assert_int_eq(flz_engine_unload(engine, 3), 0);
			ck_assert_int_eq(flz_engine_stop_all(engine), 0);
		}
		ck_assert_int_eq(flz_engine_core_process_rt(core, out + frame * 2, block), 0);
		frame += block;
	}
	collect(engine, &log);

	/* The applied commands, in order, with their frames. */
	struct {
		enum flz_cmd_kind cmd;
		int32_t slot;
		double value;
		int64_t frame;
	} expect[] = {
		{ FLZ_CMD_LOAD, 3, 0.0, 0 },	   { FLZ_CMD_PLAY, 3, 0.5, 0 },
		{ FLZ_CMD_PLAY, 7, 1.0, 0 },	   { FLZ_CMD_PLAY, 3, 0.25, 640 },
		{ FLZ_CMD_VOLUME, -1, 0.5, 1280 }, { FLZ_CMD_STOP, 3, 0.0, 1600 },
		{ FLZ_CMD_PING, -1, 0.0, 1600 },   { FLZ_CMD_PLAY, 3, 1.0, 2560 },
		{ FLZ_CMD_SPEED, -1, 1.5, 2560 },  { FLZ_CMD_UNLOAD, 3, 0.0, 3200 },
		{ FLZ_CMD_STOP_ALL, -1, 0.0, 3200 },
	};
	size_t n_expect = sizeof(expect) / sizeof(expect[0]);
	size_t k = 0;
	uint32_t last_seq = 0, stop_seq = 0, ping_seq = 0, unload_seq = 0;
	int n_pong = 0, n_stopped = 0, n_plays = 0, n_started = 0;
	uint32_t play_seq[3] = { 0 };
	int64_t play_frame[3] = { 0 };
	for (size_t i = 0; i < log.n; i++) {
		const struct flz_engine_msg *m = &log.msgs[i];
		if (m->kind == FLZ_MSG_APPLIED) {
			ck_assert_uint_lt(k, n_expect);
			ck_assert_int_eq(m->cmd, expect[k].cmd);
			ck_assert_int_eq(m->slot, expect[k].slot);
			ck_assert_double_eq_tol(m->value, expect[k].value, 1e-7);
			ck_assert_int_eq(m->frame, expect[k].frame);
			/* Sequence numbers rise in call order. */
			ck_assert(flz_engine_seq_after(m->seq, last_seq));
			last_seq = m->seq;
			if (m->cmd == FLZ_CMD_STOP)
				stop_seq = m->seq;
			if (m->cmd == FLZ_CMD_PING)
				ping_seq = m->seq;
			if (m->cmd == FLZ_CMD_UNLOAD)
				unload_seq = m->seq;
			if (m->cmd == FLZ_CMD_PLAY && m->slot == 3) {
				ck_assert_uint_lt(n_plays, 3);
				play_seq[n_plays] = m->seq;
				play_frame[n_plays++] = m->frame;
			}
			k++;
		} else if (m->kind == FLZ_MSG_PONG) {
			ck_assert_uint_eq(m->seq, ping_seq);
			ck_assert_int_eq(m->frame, 1600);
			n_pong++;
		} else if (m->kind == FLZ_MSG_STOPPED) {
			/* Once per stop that silenced a voice, after the fade (5 ms at
			 * 48 kHz = 240 frames, plus the block it ends in). */
			if (n_stopped == 0) {
				ck_assert_uint_eq(m->seq, stop_seq);
				ck_assert_int_eq(m->slot, 3);
				ck_assert_int_gt(m->frame, 1600);
				ck_assert_int_le(m->frame, 1600 + 240 + 2 * block);
			} else {
				/* The unload silenced the voice; stop_all found none playing. */
				ck_assert_uint_eq(m->seq, unload_seq);
				ck_assert_int_eq(m->slot, 3);
			}
			n_stopped++;
		} else if (m->kind == FLZ_MSG_STARTED) {
			/* Once per play that started a voice (not the empty slot 7's),
			 * after its APPLIED, at the frame it was applied before: the
			 * voice's first frame is the next output frame. */
			ck_assert_int_lt(n_started, n_plays);
			ck_assert_int_eq(m->slot, 3);
			ck_assert_uint_eq(m->seq, play_seq[n_started]);
			ck_assert_int_eq(m->frame, play_frame[n_started]);
			n_started++;
		} else {
			ck_abort_msg("unexpected message kind %d", m->kind);
		}
	}
	ck_assert_uint_eq(k, n_expect);
	ck_assert_int_eq(n_pong, 1);
	ck_assert_int_eq(n_stopped, 2);
	ck_assert_int_eq(n_started, 3);

	/* Content: the engine's output equals a plain mixer given the same
	 * commands at the same frames, bit for bit (0 tolerance): the same
	 * arithmetic (commands_eq_bypass_exact below shows it with gains whose
	 * products round). */
	check_equals_plain_mixer(&log, sample, block, out, want, n_frames);

	flz_engine_destroy(engine);
	ck_assert_int_eq(refcount(sample), 1);
	flz_sample_unref(sample);
	free(out);
	free(want);
}
END_TEST

/* Several control threads at once, the audio side draining concurrently:
 * every command arrives once, each thread's commands in its call order. */
#define MT_THREADS 4
#define MT_PER_THREAD 3000

struct mt_ctx {
	struct flz_engine *engine;
	int32_t slot;
	atomic_bool *quit;
};

static void *mt_producer(void *arg)
{
	struct mt_ctx *ctx = arg;
	for (int i = 0; i < MT_PER_THREAD; i++) {
		float gain = (float)(i + 1) / (float)MT_PER_THREAD;
		int err;
		while ((err = flz_engine_play(ctx->engine, ctx->slot, gain)) == -EAGAIN) {
			/* acquire: pairs with the main thread's release store. */
			if (atomic_load_explicit(ctx->quit, memory_order_acquire))
				return NULL; /* the test gave up; it reports why */
			sched_yield();
		}
		if (err != 0)
			return (void *)1;
		if (i % 97 == 0 && flz_engine_set_volume(ctx->engine, gain) != 0)
			return (void *)1;
	}
	return NULL;
}

static void *mt_drainer(void *arg)
{
	struct mt_ctx *ctx = arg;
	struct flz_engine_core *core = flz_engine_get_core(ctx->engine);
	float out[64 * 2];
	/* acquire: pairs with the main thread's release store. */
	while (!atomic_load_explicit(ctx->quit, memory_order_acquire)) {
		/* Stand in for a real-time pace: let the reader keep up, so that
		 * no trace message is dropped (a block yields at most 1024 + 2). */
		if (flz_ring_count(&core->msg_ring) > FLZ_ENGINE_MSG_CAPACITY - 1100) {
			sched_yield();
			continue;
		}
		if (flz_engine_core_process_rt(core, out, 64) != 0)
			return (void *)1;
	}
	return NULL;
}

START_TEST(commands_many_threads)
{
	struct flz_engine *engine = offline_engine(64, true);
	atomic_bool quit;
	atomic_init(&quit, false);
	struct mt_ctx ctx[MT_THREADS + 1];
	pthread_t threads[MT_THREADS + 1];
	for (int t = 0; t <= MT_THREADS; t++) {
		ctx[t] = (struct mt_ctx){ engine, 10 + t, &quit };
		ck_assert_int_eq(pthread_create(&threads[t], NULL,
						t == MT_THREADS ? mt_drainer : mt_producer,
						&ctx[t]),
				 0);
	}

	/* No assertion while the threads run (a failing one would leave them
	 * running on this stack without fork mode): note the first problem. */
	int32_t n_seen[MT_THREADS] = { 0 };
	int n_total = 0;
	uint32_t last_seq = 0;
	char failure[160] = "";
	/* Give up after a long stretch without messages (about a minute of
	 * 100 us naps: generous for sanitizers and valgrind). */
	int idle = 0;
	while (n_total < MT_THREADS * MT_PER_THREAD && !failure[0]) {
		struct flz_engine_msg m;
		int rc = flz_engine_poll_message(engine, &m);
		if (rc == 0) {
			if (++idle > 600000) {
				snprintf(failure, sizeof(failure), "only %d of %d commands arrived",
					 n_total, MT_THREADS * MT_PER_THREAD);
				break;
			}
			struct timespec nap = { 0, 100000 };
			nanosleep(&nap, NULL);
			continue;
		}
		idle = 0;
		if (rc < 0 || m.kind != FLZ_MSG_APPLIED) {
			snprintf(failure, sizeof(failure), "poll %d kind %d", rc, (int)m.kind);
			break;
		}
		/* Applied in one global order: sequence numbers only rise. */
		if (n_total > 0 && !flz_engine_seq_after(m.seq, last_seq))
			snprintf(failure, sizeof(failure), "seq %u after %u", m.seq, last_seq);
		last_seq = m.seq;
		if (m.cmd == FLZ_CMD_VOLUME)
			continue;
		int t = m.slot - 10;
		if (m.cmd != FLZ_CMD_PLAY || t < 0 || t >= MT_THREADS) {
			snprintf(failure, sizeof(failure), "cmd %d slot %d", (int)m.cmd, m.slot);
			break;
		}
		/* Per thread: exactly its calls, in its order. */
		n_seen[t]++;
		if (fabs(m.value - (double)n_seen[t] / MT_PER_THREAD) > 1e-6)
			snprintf(failure, sizeof(failure), "thread %d call %d has gain %g", t,
				 n_seen[t], m.value);
		n_total++;
	}
	atomic_store_explicit(&quit, true, memory_order_release);
	for (int t = 0; t <= MT_THREADS; t++) {
		void *ret = NULL;
		pthread_join(threads[t], &ret);
		ck_assert_ptr_null(ret);
	}
	ck_assert_msg(failure[0] == '\0', "%s", failure);
	ck_assert_int_eq(n_total, MT_THREADS * MT_PER_THREAD);
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	ck_assert_uint_eq(stats.messages_dropped, 0);
	flz_engine_destroy(engine);
}
END_TEST

/* Loading from a file and from memory: decoded at the engine's format,
 * queued, applied; errors leave the slot unchanged and say why. */
START_TEST(commands_load_file)
{
	const uint32_t block = 128;
	struct flz_engine *engine = offline_engine(block, true);
	struct flz_engine_core *core = flz_engine_get_core(engine);

	/* A 48 kHz stereo float WAV of noise. */
	char path[] = "/tmp/flz-test-engine-load-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const int n_frames = 2000;
	float *data = malloc(sizeof(float) * n_frames * 2);
	flz_test_noise(data, (size_t)n_frames * 2, 0.5, 1234);
	SF_INFO info = { .samplerate = 48000, .channels = 2,
			 .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
	ck_assert_ptr_nonnull(sf);
	ck_assert_int_eq(sf_writef_float(sf, data, n_frames), n_frames);
	sf_close(sf);

	char why[256];
	ck_assert_int_eq(flz_engine_load_file(engine, 4, path, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
	ck_assert_int_eq(flz_engine_load_file(engine, 216, path, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(flz_engine_load_file(engine, 5, "/nonexistent/a.wav", why, sizeof(why)),
			 -ENOENT);
	ck_assert_str_ne(why, "");
	const char junk[] = "this is not audio at all, not even close";
	int err = flz_engine_load_memory(engine, 6, junk, sizeof(junk), why, sizeof(why));
	ck_assert_int_lt(err, 0);
	ck_assert_str_ne(why, "");
	ck_assert_int_eq(flz_engine_play(engine, 4, 1.0f), 0);
	ck_assert_int_eq(flz_engine_play(engine, 5, 1.0f), 0); /* empty: silent */
	ck_assert_int_eq(flz_engine_play(engine, 6, 1.0f), 0); /* empty: silent */

	float *out = calloc((size_t)block * 10 * 2, sizeof(float));
	for (int b = 0; b < 10; b++)
		ck_assert_int_eq(flz_engine_core_process_rt(core, out + b * block * 2, block), 0);
	static struct msg_log log;
	log.n = 0;
	collect(engine, &log);
	/* LOAD, the three PLAYs, then the one Started (slot 4's: 5 and 6 are empty). */
	ck_assert_uint_eq(log.n, 5);
	ck_assert_int_eq(log.msgs[0].cmd, FLZ_CMD_LOAD);
	ck_assert_int_eq(log.msgs[0].slot, 4);
	ck_assert_int_eq(log.msgs[4].kind, FLZ_MSG_STARTED);
	ck_assert_int_eq(log.msgs[4].slot, 4);
	ck_assert_uint_eq(log.msgs[4].seq, log.msgs[1].seq);
	ck_assert_int_eq(log.msgs[4].frame, 0);

	/* The file's frames at the same rate: the output is the reference mix
	 * of the original data (tolerance 1e-5 for the decode path). */
	struct flz_sample *orig = flz_sample_new(n_frames, 2, 48000);
	memcpy(orig->data, data, sizeof(float) * n_frames * 2);
	float *want = calloc((size_t)block * 10 * 2, sizeof(float));
	log.n = 2; /* LOAD and PLAY slot 4 */
	ref_render(&log, orig, 48000, 2, block, want, block * 10);
	size_t at = 0;
	double diff = flz_test_max_diff(out, want, (size_t)block * 10 * 2, &at);
	ck_assert_msg(diff <= 1e-5, "loaded file vs original: %g at %zu", diff, at);
	double peak = 0.0;
	for (uint32_t i = 0; i < block * 10 * 2; i++)
		peak = fmax(peak, fabs(out[i]));
	ck_assert_double_gt(peak, 0.1);

	flz_engine_destroy(engine);
	flz_sample_unref(orig);
	unlink(path);
	free(data);
	free(out);
	free(want);
}
END_TEST

/* A file with NaN and infinities: it loads, and the load says what was
 * replaced, per kind, naming the slot and the file; a clean file says nothing. */
START_TEST(commands_load_nonfinite)
{
	static struct log_lines lines = LOG_LINES_INIT;
	memset(&lines, 0, sizeof(lines));
	struct flz_engine_config config = flz_engine_config_init();
	config.log = log_collect;
	config.log_userdata = &lines;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	ck_assert_int_eq(flz_engine_start_offline(engine), 0);
	int n_start = lines.n;

	char path[] = "/tmp/flz-test-engine-bad-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	enum { N = 1000 };
	float data[N * 2];
	flz_test_noise(data, N * 2, 0.5, 99);
	data[10] = NAN;
	data[11] = NAN;
	data[12] = INFINITY;
	data[13] = -INFINITY;
	data[14] = -INFINITY;
	data[15] = 8.0f; /* finite: kept, not counted */
	data[2 * N - 1] = NAN;
	SF_INFO info = { .samplerate = 48000, .channels = 2,
			 .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
	ck_assert_ptr_nonnull(sf);
	ck_assert_int_eq(sf_writef_float(sf, data, N), N);
	sf_close(sf);

	char why[256];
	ck_assert_int_eq(flz_engine_load_file(engine, 7, path, why, sizeof(why)), 0);
	ck_assert_int_eq(lines.n, n_start + 1);
	ck_assert_int_eq(lines.level[n_start], FLZ_LOG_WARNING);
	char want[512];
	snprintf(want, sizeof(want),
		 "slot 7: 6 non-finite sample values replaced (NaN -> 0: 3, +Inf -> +1: 1, "
		 "-Inf -> -1: 2, rate-conversion overflow: 0) in \"%s\"",
		 path);
	ck_assert_str_eq(lines.text[n_start], want);

	/* From memory: the same counts, the source named as such. */
	int rfd = open(path, O_RDONLY);
	ck_assert_int_ge(rfd, 0);
	static unsigned char bytes[1 << 16];
	ssize_t n_bytes = read(rfd, bytes, sizeof(bytes));
	close(rfd);
	ck_assert_int_gt(n_bytes, N * 8);
	ck_assert_int_eq(flz_engine_load_memory(engine, 8, bytes, (size_t)n_bytes, why,
						sizeof(why)),
			 0);
	ck_assert_int_eq(lines.n, n_start + 2);
	ck_assert_str_eq(lines.text[n_start + 1],
			 "slot 8: 6 non-finite sample values replaced (NaN -> 0: 3, +Inf -> +1: 1, "
			 "-Inf -> -1: 2, rate-conversion overflow: 0) in \"memory buffer\"");

	/* A refused load and a clean file: no line. */
	flz_test_noise(data, N * 2, 0.5, 98);
	ck_assert_int_eq(flz_engine_load_memory(engine, 9, bytes, 0, why, sizeof(why)) < 0, 1);
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
	ck_assert_ptr_nonnull(sf);
	ck_assert_int_eq(sf_writef_float(sf, data, N), N);
	sf_close(sf);
	ck_assert_int_eq(flz_engine_load_file(engine, 9, path, why, sizeof(why)), 0);
	ck_assert_int_eq(lines.n, n_start + 2);

	flz_engine_destroy(engine);
	unlink(path);
}
END_TEST

/* Every voice's EQ stage running (flz_engine_set_eq_always_warm_test():
 * else a neutral pad's voices leave it idle), at (0, 0, 0) the output is
 * still bit for bit that of a mixer without stages, with voice, pad and
 * master gains whose products round (0.7, -3 dB, 0.9) and at speed 1 and
 * 1.3 (a staged mix would round gain and sum separately where the plain
 * one fuses them: one bit off in places fails). */
START_TEST(commands_eq_bypass_exact)
{
	const uint32_t block = 128;
	struct flz_engine *engine = offline_engine(block, true);
	ck_assert_int_eq(flz_engine_set_eq_always_warm_test(engine), 0);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	struct flz_sample *sample = make_noise(3000, 2, 48000, 0.5, 77);
	flz_sample_ref(sample); /* ours, for the reference render */
	const int64_t n_frames = (int64_t)block * 40;
	float *out = calloc((size_t)n_frames * 2, sizeof(float));
	float *want = calloc((size_t)n_frames * 2, sizeof(float));
	static struct msg_log log;
	log.n = 0;
	ck_assert_int_eq(flz_engine_load_sample(engine, 2, sample), 0);
	ck_assert_int_eq(flz_engine_play(engine, 2, 0.7f), 0);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.9f), 0);
	for (int b = 0; b < 40; b++) {
		if (b == 8)
			ck_assert_int_eq(flz_engine_set_pad_gain(engine, 2, -3.0), 0);
		if (b == 20)
			ck_assert_int_eq(flz_engine_set_speed(engine, 1.3), 0);
		if (b == 24)
			ck_assert_int_eq(flz_engine_play(engine, 2, 0.3f), 0);
		ck_assert_int_eq(flz_engine_core_process_rt(core, out + (size_t)b * block * 2, block),
				 0);
	}
	collect(engine, &log);
	check_equals_plain_mixer(&log, sample, block, out, want, n_frames);
	flz_engine_destroy(engine);
	flz_sample_unref(sample);
	free(out);
	free(want);
}
END_TEST

/*
 * An idle EQ wakes warm. A voice whose pad is neutral runs no filters; the
 * first change that reaches it starts them at the exact bypass and applies
 * the gains FLZ_ENGINE_EQ_WARM_MS later. Against an engine whose every
 * voice runs its filters from the start (flz_engine_set_eq_always_warm_test())
 * and gets the same change when the idle one applies it: bit for bit the
 * same before that (both mix as without EQ), and within EQ_WAKE_TOL
 * (-120 dBFS) after it: measured 0 at the 20 ms warm-up, 6.9e-7 at 8 ms,
 * 4.7e-5 at 4 ms (which fails), while filters woken cold into the glide
 * differ by about -25 dB of the peak. The gains must have taken effect,
 * too: the end differs from the dry sample.
 */
#define EQ_WAKE_TOL 1e-6f
START_TEST(commands_eq_idle_wakes_warm)
{
	enum { BLOCK = 64, N_BLOCKS = 120, SET_AT = 20 };
	const uint32_t warm_blocks = 48000u * FLZ_ENGINE_EQ_WARM_MS / 1000u / BLOCK;
	ck_assert_uint_eq(warm_blocks * BLOCK, 48000u * FLZ_ENGINE_EQ_WARM_MS / 1000u);
	struct flz_sample *sample = make_noise(48000, 2, 48000, 0.5, 41);
	const size_t n = (size_t)BLOCK * N_BLOCKS * 2;
	float *out[2] = { calloc(n, sizeof(float)), calloc(n, sizeof(float)) };
	for (int e = 0; e < 2; e++) {
		struct flz_engine *engine = offline_engine(BLOCK, false);
		if (e == 1)
			ck_assert_int_eq(flz_engine_set_eq_always_warm_test(engine), 0);
		flz_sample_ref(sample);
		ck_assert_int_eq(flz_engine_load_sample(engine, 0, sample), 0);
		ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), 0);
		for (uint32_t b = 0; b < N_BLOCKS; b++) {
			if (b == (e == 0 ? SET_AT : SET_AT + warm_blocks))
				ck_assert_int_eq(flz_engine_set_pad_eq(engine, 0, -60.0, 0.0, 6.0), 0);
			ck_assert_int_eq(flz_engine_render(engine, out[e] + (size_t)b * BLOCK * 2, BLOCK),
					 0);
		}
		flz_engine_destroy(engine);
	}
	const size_t at = (size_t)(SET_AT + warm_blocks) * BLOCK * 2;
	for (size_t i = 0; i < at; i++)
		ck_assert_msg(out[0][i] == out[1][i], "sample %zu: %.9g, not %.9g", i, out[0][i],
			      out[1][i]);
	float worst = 0.0f, moved = 0.0f;
	for (size_t i = at; i < n; i++) {
		worst = fmaxf(worst, fabsf(out[0][i] - out[1][i]));
		if (i >= n - (size_t)BLOCK * 2 * 10)
			moved = fmaxf(moved, fabsf(out[0][i] - flz_sample_frames(sample).data[i % (48000 * 2)]));
	}
	fprintf(stderr, "engine:commands eq wake: %.3g off the always-warm EQ (tolerance %.3g)\n",
		(double)worst, (double)EQ_WAKE_TOL);
	ck_assert_msg(worst <= EQ_WAKE_TOL, "woken EQ %.3g off the always-warm one", (double)worst);
	ck_assert_msg(moved > 0.05f, "the EQ did not act (%.3g)", (double)moved);
	flz_sample_unref(sample);
	free(out[0]);
	free(out[1]);
}
END_TEST

TCase *engine_case_commands(void)
{
	TCase *tc = engine_tcase("engine:commands");
	tcase_add_test(tc, commands_order_and_content);
	tcase_add_test(tc, commands_many_threads);
	tcase_add_test(tc, commands_load_file);
	tcase_add_test(tc, commands_load_nonfinite);
	tcase_add_test(tc, commands_eq_bypass_exact);
	tcase_add_test(tc, commands_eq_idle_wakes_warm);
	return tc;
}
