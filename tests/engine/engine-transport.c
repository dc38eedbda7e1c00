/* SPDX-License-Identifier: MIT */
/* test-engine: the transport's C API (issue 13): validation, the commands'
 * order and values, scheduled starts split inside a block, cancellation,
 * the bound of pending starts and the published transport (read while
 * another thread renders). The grid itself is libtransport's (tests/transport);
 * the Python suite checks many starts against its own Fraction arithmetic. */
#include <pthread.h>

#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:transport-arguments
 * ------------------------------------------------------------------------ */

START_TEST(transport_arguments)
{
	struct flz_engine *engine = offline_engine_new(64, true);
	struct flz_engine_transport tp;
	struct flz_engine_play play = flz_engine_play_init(0);
	play.start = FLZ_ENGINE_START_AT_FRAME;
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_master_bpm(engine, 120.0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_beats_per_bar(engine, 4), -ENOTCONN);
	ck_assert_int_eq(flz_engine_anchor_transport(engine, FLZ_ENGINE_ANCHOR_NOW), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_trigger_quantization(engine, FLZ_QUANTIZE_BAR), -ENOTCONN);
	ck_assert_int_eq(flz_engine_transport(engine, &tp), -ENOTCONN);
	ck_assert_int_eq(flz_engine_start_offline(engine), 0);

	const double bad_bpm[] = { 19.999, 300.001, 0.0, -120.0, NAN, INFINITY, -INFINITY };
	for (size_t i = 0; i < sizeof bad_bpm / sizeof bad_bpm[0]; i++)
		ck_assert_int_eq(flz_engine_set_master_bpm(engine, bad_bpm[i]), -EINVAL);
	ck_assert_int_eq(flz_engine_set_master_bpm(NULL, 120.0), -EINVAL);
	const uint32_t bad_bpb[] = { 0, 17, UINT32_MAX };
	for (size_t i = 0; i < sizeof bad_bpb / sizeof bad_bpb[0]; i++)
		ck_assert_int_eq(flz_engine_set_beats_per_bar(engine, bad_bpb[i]), -EINVAL);
	const int64_t bad_frames[] = { -2, INT64_MIN, FLZ_TRANSPORT_FRAME_MAX + 1, INT64_MAX };
	for (size_t i = 0; i < sizeof bad_frames / sizeof bad_frames[0]; i++) {
		ck_assert_int_eq(flz_engine_anchor_transport(engine, bad_frames[i]), -EINVAL);
		play = flz_engine_play_init(0);
		play.start = FLZ_ENGINE_START_AT_FRAME;
		play.at_frame = bad_frames[i];
		ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EINVAL);
	}
	play = flz_engine_play_init(0);
	play.start = FLZ_ENGINE_START_AT_FRAME;
	play.at_frame = -1; /* FLZ_ENGINE_ANCHOR_NOW means nothing to a play */
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EINVAL);
	play = flz_engine_play_init(0);
	play.start = (enum flz_engine_start)4;
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EINVAL);
	play.start = (enum flz_engine_start)-1;
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EINVAL);
	play.start = FLZ_ENGINE_START_QUANTIZED;
	play.quantize = (enum flz_quantize)FLZ_QUANTIZE_N_MODES;
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EINVAL);
	play.quantize = FLZ_QUANTIZE_BAR;
	play.exclusive = true; /* an exclusive play starts at once */
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EINVAL);
	ck_assert_int_eq(flz_engine_set_trigger_quantization(engine, (enum flz_quantize)8),
			 -EINVAL);
	ck_assert_int_eq(flz_engine_set_trigger_quantization(engine, (enum flz_quantize)-1),
			 -EINVAL);
	ck_assert_int_eq(flz_engine_transport(engine, NULL), -EINVAL);
	ck_assert_int_eq(flz_engine_transport(NULL, &tp), -EINVAL);

	/* The good ones, at the ends of their ranges: seq 1.. in call order. */
	ck_assert_int_eq(flz_engine_set_master_bpm(engine, 20.0), 0);		 /* 1 */
	ck_assert_int_eq(flz_engine_set_master_bpm(engine, 300.0), 0);		 /* 2 */
	ck_assert_int_eq(flz_engine_set_beats_per_bar(engine, 1), 0);		 /* 3 */
	ck_assert_int_eq(flz_engine_set_beats_per_bar(engine, 16), 0);		 /* 4 */
	ck_assert_int_eq(flz_engine_anchor_transport(engine, FLZ_TRANSPORT_FRAME_MAX), 0); /* 5 */
	ck_assert_int_eq(flz_engine_anchor_transport(engine, FLZ_ENGINE_ANCHOR_NOW), 0); /* 6 */
	ck_assert_int_eq(flz_engine_set_trigger_quantization(engine, FLZ_QUANTIZE_BAR), 0);
	play = flz_engine_play_init(0);
	play.start = FLZ_ENGINE_START_AT_FRAME;
	play.at_frame = FLZ_TRANSPORT_FRAME_MAX;
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), 0); /* 7 */
	float out[256];
	ck_assert_int_eq(flz_engine_render(engine, out, 100), 0);

	static struct msg_log log;
	log.n = 0;
	collect(engine, &log);
	static const struct applied_want want[] = {
		{ FLZ_CMD_MASTER_BPM, -1, 20.0 },
		{ FLZ_CMD_MASTER_BPM, -1, 300.0 },
		{ FLZ_CMD_BEATS_PER_BAR, -1, 1.0 },
		{ FLZ_CMD_BEATS_PER_BAR, -1, 16.0 },
		{ FLZ_CMD_ANCHOR, -1, (double)FLZ_TRANSPORT_FRAME_MAX },
		{ FLZ_CMD_ANCHOR, -1, 0.0 /* now: the frame taken */ },
		{ FLZ_CMD_PLAY, 0, 1.0 },
	};
	/* A start at the last frame there is waits: nothing has started. */
	for (size_t i = 0; i < log.n; i++)
		ck_assert_int_ne(log.msgs[i].kind, FLZ_MSG_STARTED);
	check_applied(&log, want, sizeof want / sizeof want[0], 0);
	ck_assert_int_eq(flz_engine_transport(engine, &tp), 0);
	ck_assert_int_eq(tp.frame, 100);
	ck_assert(tp.bpm == 300.0);
	ck_assert_uint_eq(tp.beats_per_bar, 16);
	ck_assert_int_eq(tp.downbeat_frame, 0);
	ck_assert_uint_eq(tp.n_pending, 1);
	flz_engine_destroy(engine);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:transport-starts
 * ------------------------------------------------------------------------ */

enum { RATE = 48000, LOOP_FRAMES = 1000, TOTAL = 60000 };

static int64_t first_nonzero(const float *x, int64_t n, uint32_t n_channels)
{
	for (int64_t i = 0; i < n * n_channels; i++)
		if (x[i] != 0.0f)
			return i / n_channels;
	return -1;
}

/* Render @p n frames in blocks of varying size (not multiples of the period). */
static void render_chunks(struct flz_engine *engine, float *out, int64_t n)
{
	static const uint32_t sizes[] = { 1, 63, 64, 65, 127, 1000, 4097, 777 };
	for (int64_t done = 0, k = 0; done < n; k++) {
		int64_t m = sizes[k % 8];
		if (m > n - done)
			m = n - done;
		ck_assert_int_eq(flz_engine_render(engine, out + done * 2, (uint32_t)m), 0);
		done += m;
	}
}

static void started_frames(struct flz_engine *engine, int64_t *frames, int32_t *slots, size_t *n)
{
	static struct msg_log log;
	log.n = 0;
	collect(engine, &log);
	*n = 0;
	for (size_t i = 0; i < log.n; i++) {
		if (log.msgs[i].kind == FLZ_MSG_STARTED) {
			frames[*n] = log.msgs[i].frame;
			slots[*n] = log.msgs[i].slot;
			(*n)++;
		}
	}
}

START_TEST(transport_starts)
{
	struct flz_engine *engine = offline_engine(64, false);
	struct flz_sample *sample = make_noise(LOOP_FRAMES, 2, RATE, 0.5, 13);
	ck_assert_int_eq(flz_engine_load_sample(engine, 3, sample), 0);
	static float out[TOTAL * 2];

	/* At frame 1001 (inside a block of every chunking), and quantised to
	 * a beat at 120 BPM from frame 0: 24000. */
	struct flz_engine_play play = flz_engine_play_init(3);
	play.start = FLZ_ENGINE_START_AT_FRAME;
	play.at_frame = 1001;
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), 0);
	render_chunks(engine, out, 1500);
	ck_assert_int_eq(first_nonzero(out, 1500, 2), 1001);
	ck_assert_int_eq(flz_engine_stop_slot(engine, 3), 0);
	render_chunks(engine, out, 1500); /* the fade: frames 1500..1740 */
	ck_assert_int_eq(first_nonzero(out + 500 * 2, 1000, 2), -1);
	ck_assert_int_eq(flz_engine_set_trigger_quantization(engine, FLZ_QUANTIZE_1_4), 0);
	play = flz_engine_play_init(3); /* the default: the next beat */
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), 0);
	render_chunks(engine, out, 30000); /* frames 3000..33000 */
	ck_assert_int_eq(first_nonzero(out, 30000, 2), 24000 - 3000);
	int64_t frames[8];
	int32_t slots[8];
	size_t n;
	started_frames(engine, frames, slots, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(frames[0], 1001);
	ck_assert_int_eq(frames[1], 24000);
	ck_assert_int_eq(slots[1], 3);

	/* Pending starts are cancelled by stop, unload and stop all, and
	 * counted: started and cancelled ones leave the count. */
	struct flz_engine_transport tp;
	play = flz_engine_play_init(3);
	play.start = FLZ_ENGINE_START_QUANTIZED;
	play.quantize = FLZ_QUANTIZE_BAR; /* 96000 */
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), 0);
	ck_assert_int_eq(flz_engine_transport(engine, &tp), 0);
	ck_assert_uint_eq(tp.n_pending, 1);
	ck_assert_int_eq(flz_engine_stop_slot(engine, 3), 0);
	render_chunks(engine, out, 64);
	ck_assert_int_eq(flz_engine_transport(engine, &tp), 0);
	ck_assert_uint_eq(tp.n_pending, 0);

	for (int i = 0; i < FLZ_SCHEDULE_CAPACITY; i++) {
		play = flz_engine_play_init(i % 2 ? 3 : 4);
		play.start = FLZ_ENGINE_START_AT_FRAME;
		play.at_frame = 1000000 + i;
		ck_assert_int_eq(flz_engine_play_ex(engine, &play), 0);
	}
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EAGAIN);
	play.start = FLZ_ENGINE_START_QUANTIZED;
	play.quantize = FLZ_QUANTIZE_1_64;
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EAGAIN);
	/* Quantised to "off", and at once, are no pending starts (on an
	 * empty slot: they start nothing either). */
	play.slot = 4;
	play.quantize = FLZ_QUANTIZE_OFF;
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), 0);
	play.start = FLZ_ENGINE_START_NOW;
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), 0);
	ck_assert_int_eq(flz_engine_unload(engine, 3), 0); /* cancels the 128 of slot 3 */
	render_chunks(engine, out, 64);
	ck_assert_int_eq(flz_engine_transport(engine, &tp), 0);
	ck_assert_uint_eq(tp.n_pending, FLZ_SCHEDULE_CAPACITY / 2);
	ck_assert_int_eq(flz_engine_stop_all(engine), 0);
	render_chunks(engine, out, 64);
	ck_assert_int_eq(flz_engine_transport(engine, &tp), 0);
	ck_assert_uint_eq(tp.n_pending, 0);
	started_frames(engine, frames, slots, &n);
	ck_assert_uint_eq(n, 0);
	flz_engine_destroy(engine);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:transport-publish
 * ------------------------------------------------------------------------ */

struct reader {
	struct flz_engine *engine;
	atomic_bool stop;
	uint64_t n_reads;
	uint64_t n_bad;
};

/* At 120 BPM from frame 0 a beat is 24000 frames: every snapshot must be
 * one state, never fields of two blocks. */
static void *read_transport(void *arg)
{
	struct reader *r = arg;
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		struct flz_engine_transport tp;
		if (flz_engine_transport(r->engine, &tp) != 0) {
			r->n_bad++;
			break;
		}
		double beats = (double)tp.frame / 24000.0;
		double got = (double)tp.bar * 4 + tp.beat;
		if (tp.bpm != 120.0 || tp.beats_per_bar != 4 || tp.downbeat_frame != 0 ||
		    got < beats - 1e-9 || got > beats + 1e-9)
			r->n_bad++;
		r->n_reads++;
	}
	return NULL;
}

START_TEST(transport_publish)
{
	struct flz_engine *engine = offline_engine(64, false);
	struct flz_engine_transport tp;
	ck_assert_int_eq(flz_engine_transport(engine, &tp), 0);
	ck_assert_int_eq(tp.frame, 0);
	ck_assert(tp.bpm == 120.0 && tp.beat == 0.0);
	ck_assert_uint_eq(tp.beats_per_bar, 4);
	ck_assert_int_eq(tp.bar, 0);

	struct reader r = { .engine = engine };
	atomic_init(&r.stop, false);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, read_transport, &r), 0);
	static float out[4096 * 2];
	for (int i = 0; i < 2000; i++)
		ck_assert_int_eq(flz_engine_render(engine, out, 1 + (uint32_t)(i * 37) % 4000), 0);
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	ck_assert_uint_eq(r.n_bad, 0);
	ck_assert_uint_gt(r.n_reads, 0);

	/* A tempo change keeps the beat at the frame it is applied. */
	ck_assert_int_eq(flz_engine_transport(engine, &tp), 0);
	double beats = (double)tp.bar * 4 + tp.beat;
	ck_assert_int_eq(flz_engine_set_master_bpm(engine, 97.3), 0);
	ck_assert_int_eq(flz_engine_render(engine, out, 1000), 0);
	struct flz_engine_transport tp2;
	ck_assert_int_eq(flz_engine_transport(engine, &tp2), 0);
	ck_assert_int_eq(tp2.frame, tp.frame + 1000);
	ck_assert(tp2.bpm == 97.3);
	double beats2 = (double)tp2.bar * 4 + tp2.beat;
	ck_assert_double_eq_tol(beats2 - beats, 1000.0 * 97.3 / (60.0 * RATE), 1e-9);
	flz_engine_destroy(engine);
}
END_TEST

TCase *engine_case_transport(void)
{
	TCase *tc = tcase_create("engine:transport");
	tcase_add_test(tc, transport_arguments);
	tcase_add_test(tc, transport_starts);
	tcase_add_test(tc, transport_publish);
	return tc;
}
