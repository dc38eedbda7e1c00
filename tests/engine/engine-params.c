/* SPDX-License-Identifier: MIT */
/* test-engine: the parameters: the latest value wins. */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:params (latest value wins, in call order, even with a full queue)
 * ------------------------------------------------------------------------ */

START_TEST(params_full_queue)
{
	struct flz_engine *engine = offline_engine(128, true);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	static struct msg_log log;
	log.n = 0;

	/* Fill the command queue exactly. */
	int n_ok = 0;
	while (flz_engine_play(engine, 1, 0.5f) == 0)
		n_ok++;
	ck_assert_int_eq(n_ok, FLZ_QUEUE_CAPACITY);
	ck_assert_int_eq(flz_engine_ping(engine), -EAGAIN);
	/* Parameters are never refused; the last value wins. */
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.1f), 0);
	ck_assert_int_eq(flz_engine_set_speed(engine, 0.75), 0);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.7f), 0);
	ck_assert_int_eq(flz_engine_set_speed(engine, 1.5), 0);
	ck_assert_int_eq(flz_engine_stop_all(engine), -EAGAIN); /* still full */

	flz_engine_core_drain_rt(core);
	collect(engine, &log);
	ck_assert_uint_eq(log.n, FLZ_QUEUE_CAPACITY + 2);
	for (size_t i = 0; i < FLZ_QUEUE_CAPACITY; i++)
		ck_assert_int_eq(log.msgs[i].cmd, FLZ_CMD_PLAY);
	/* After every queued command (they were older), older parameter first. */
	ck_assert_int_eq(log.msgs[FLZ_QUEUE_CAPACITY].cmd, FLZ_CMD_VOLUME);
	ck_assert_double_eq_tol(log.msgs[FLZ_QUEUE_CAPACITY].value, 0.7, 1e-7);
	ck_assert_int_eq(log.msgs[FLZ_QUEUE_CAPACITY + 1].cmd, FLZ_CMD_SPEED);
	ck_assert_double_eq_tol(log.msgs[FLZ_QUEUE_CAPACITY + 1].value, 1.5, 1e-7);

	/* Nothing pending any more: a second drain applies nothing. */
	log.n = 0;
	flz_engine_core_drain_rt(core);
	collect(engine, &log);
	ck_assert_uint_eq(log.n, 0);

	/* Interleaved: each parameter lands before the first newer command. */
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.2f), 0); /* superseded below */
	ck_assert_int_eq(flz_engine_play(engine, 2, 0.5f), 0);
	ck_assert_int_eq(flz_engine_set_speed(engine, 0.75), 0);
	ck_assert_int_eq(flz_engine_play(engine, 3, 0.5f), 0);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.9f), 0);
	flz_engine_core_drain_rt(core);
	collect(engine, &log);
	ck_assert_uint_eq(log.n, 4);
	ck_assert_int_eq(log.msgs[0].cmd, FLZ_CMD_PLAY);
	ck_assert_int_eq(log.msgs[0].slot, 2);
	ck_assert_int_eq(log.msgs[1].cmd, FLZ_CMD_SPEED);
	ck_assert_double_eq_tol(log.msgs[1].value, 0.75, 1e-7);
	ck_assert_int_eq(log.msgs[2].cmd, FLZ_CMD_PLAY);
	ck_assert_int_eq(log.msgs[2].slot, 3);
	ck_assert_int_eq(log.msgs[3].cmd, FLZ_CMD_VOLUME);
	ck_assert_double_eq_tol(log.msgs[3].value, 0.9, 1e-7);

	/* A parameter set before a command takes effect before it. */
	log.n = 0;
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.3f), 0);
	ck_assert_int_eq(flz_engine_stop_slot(engine, 4), 0);
	flz_engine_core_drain_rt(core);
	collect(engine, &log);
	ck_assert_uint_eq(log.n, 2);
	ck_assert_int_eq(log.msgs[0].cmd, FLZ_CMD_VOLUME);
	ck_assert_double_eq_tol(log.msgs[0].value, 0.3, 1e-7);
	ck_assert_int_eq(log.msgs[1].cmd, FLZ_CMD_STOP);
	ck_assert_uint_eq(log.msgs[1].seq, log.msgs[0].seq + 1);

	flz_engine_destroy(engine);
}
END_TEST

/* The steady output gain follows the latest master volume. */
START_TEST(params_volume_content)
{
	const uint32_t block = 128;
	struct flz_engine *engine = offline_engine(block, false);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	/* A constant (DC) sample: the output level is then the gain itself. */
	struct flz_sample *dc = flz_sample_new(4800, 2, 48000);
	for (int i = 0; i < 4800 * 2; i++)
		dc->data[i] = 0.5f;
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, dc), 0);
	ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), 0);
	for (int v = 0; v < 50; v++)
		ck_assert_int_eq(flz_engine_set_volume(engine, (float)v / 100.0f), 0);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.25f), 0);
	float out[128 * 2];
	/* 100 ms: well past the voice and master ramps and the mixer's delay. */
	for (int b = 0; b < 40; b++)
		ck_assert_int_eq(flz_engine_core_process_rt(core, out, block), 0);
	for (uint32_t i = 0; i < block * 2; i++)
		ck_assert_float_eq_tol(out[i], 0.5f * 0.25f, 1e-4f);
	flz_engine_destroy(engine);
}
END_TEST

/*
 * Across the wrap of the 32-bit sequence counter (started near UINT32_MAX
 * through the test hook), every parameter value and command is applied, in
 * call order: a value numbered 0 is not taken for "nothing new" (the volume
 * was never set before it, which once made it look applied already), and
 * values and commands queued into one block on both sides of the wrap keep
 * their order. Content: the output equals a plain mixer given the traced
 * commands, and ends at the level the last values set.
 */
START_TEST(params_seq_wrap)
{
	const uint32_t block = 64;
	const int n_blocks = 40;
	struct flz_engine *engine = offline_engine(block, true);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	struct flz_sample *dc = flz_sample_new(4800, 2, 48000);
	for (int i = 0; i < 4800 * 2; i++)
		dc->data[i] = 0.5f;
	flz_sample_ref(dc); /* ours, for the reference render */
	float *out = calloc((size_t)block * n_blocks * 2, sizeof(float));
	float *want = calloc((size_t)block * n_blocks * 2, sizeof(float));
	static struct msg_log log;
	log.n = 0;

	ck_assert_int_eq(flz_engine_load_sample(engine, 0, dc), 0); /* seq 1 */
	flz_engine_set_next_seq_for_test(engine, UINT32_MAX - 2);
	for (int b = 0; b < n_blocks; b++) {
		switch (b) {
		case 1:
			ck_assert_int_eq(flz_engine_set_speed(engine, 1.5), 0); /* MAX - 2 */
			break;
		case 2:
			ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), 0); /* MAX - 1 */
			break;
		case 3:
			ck_assert_int_eq(flz_engine_ping(engine), 0); /* MAX */
			break;
		case 4:
			/* One block: a value numbered 0, then a command. */
			ck_assert_int_eq(flz_engine_set_volume(engine, 0.25f), 0); /* 0 */
			ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), 0);	    /* 1 */
			break;
		case 5:
			ck_assert_int_eq(flz_engine_set_volume(engine, 0.5f), 0); /* 2 */
			ck_assert_int_eq(flz_engine_set_speed(engine, 1.0), 0);   /* 3 */
			ck_assert_int_eq(flz_engine_ping(engine), 0);		  /* 4 */
			break;
		case 8:
			/* One block across the wrap itself: MAX - 1, MAX, 0, 1. */
			flz_engine_set_next_seq_for_test(engine, UINT32_MAX - 1);
			ck_assert_int_eq(flz_engine_set_speed(engine, 0.75), 0);
			ck_assert_int_eq(flz_engine_play(engine, 0, 0.25f), 0);
			ck_assert_int_eq(flz_engine_set_volume(engine, 0.75f), 0);
			ck_assert_int_eq(flz_engine_set_speed(engine, 1.0), 0);
			break;
		default:
			break;
		}
		ck_assert_int_eq(flz_engine_core_process_rt(core, out + (size_t)b * block * 2, block),
				 0);
	}
	collect(engine, &log);

	const uint32_t max = UINT32_MAX;
	struct {
		enum flz_cmd_kind cmd;
		double value;
		uint32_t seq;
		int64_t frame;
	} expect[] = {
		{ FLZ_CMD_LOAD, 0.0, 1, 0 },
		{ FLZ_CMD_SPEED, 1.5, max - 2, 1 * 64 },
		{ FLZ_CMD_PLAY, 1.0, max - 1, 2 * 64 },
		{ FLZ_CMD_PING, 0.0, max, 3 * 64 },
		{ FLZ_CMD_VOLUME, 0.25, 0, 4 * 64 },
		{ FLZ_CMD_PLAY, 0.5, 1, 4 * 64 },
		{ FLZ_CMD_VOLUME, 0.5, 2, 5 * 64 },
		{ FLZ_CMD_SPEED, 1.0, 3, 5 * 64 },
		{ FLZ_CMD_PING, 0.0, 4, 5 * 64 },
		/* Speed 0.75 (MAX - 1) was overwritten by speed 1.0 (1) before
		 * the block: only the latest speed counts, in its own place. */
		{ FLZ_CMD_PLAY, 0.25, max, 8 * 64 },
		{ FLZ_CMD_VOLUME, 0.75, 0, 8 * 64 },
		{ FLZ_CMD_SPEED, 1.0, 1, 8 * 64 },
	};
	const size_t n_expect = sizeof(expect) / sizeof(expect[0]);
	size_t k = 0;
	int n_pong = 0, n_started = 0;
	uint32_t last_play_seq = 0;
	for (size_t i = 0; i < log.n; i++) {
		const struct flz_engine_msg *m = &log.msgs[i];
		if (m->kind == FLZ_MSG_PONG) {
			n_pong++;
			continue;
		}
		if (m->kind == FLZ_MSG_STARTED) {
			/* Each play's voice, carrying the play's number across the wrap. */
			ck_assert_uint_eq(m->seq, last_play_seq);
			n_started++;
			continue;
		}
		ck_assert_int_eq(m->kind, FLZ_MSG_APPLIED);
		if (m->cmd == FLZ_CMD_PLAY)
			last_play_seq = m->seq;
		ck_assert_msg(k < n_expect, "unexpected trace: cmd %d seq %u", m->cmd, m->seq);
		ck_assert_msg(m->cmd == expect[k].cmd && m->seq == expect[k].seq,
			      "trace %zu: cmd %d seq %u, want cmd %d seq %u", k, m->cmd, m->seq,
			      expect[k].cmd, expect[k].seq);
		ck_assert_double_eq_tol(m->value, expect[k].value, 1e-7);
		ck_assert_int_eq(m->frame, expect[k].frame);
		k++;
	}
	ck_assert_uint_eq(k, n_expect);
	ck_assert_int_eq(n_pong, 2);
	ck_assert_int_eq(n_started, 3); /* one per play: 1 + 0.5 + 0.25 below */

	/* The same commands at the same frames through a plain mixer (same
	 * arithmetic: tolerance 1e-6), and the end level: DC 0.5 x voices
	 * (1 + 0.5 + 0.25) x master 0.75, through the interpolator's unit DC
	 * gain at speed 1 (tolerance 1e-4). */
	const int64_t n_frames = (int64_t)block * n_blocks;
	ref_render(&log, dc, 48000, 2, block, want, n_frames);
	size_t at = 0;
	double diff = flz_test_max_diff(out, want, (size_t)n_frames * 2, &at);
	ck_assert_msg(diff <= 1e-6, "engine vs reference: %g at sample %zu", diff, at);
	ck_assert_float_eq_tol(out[(n_frames - 1) * 2], 0.5f * 1.75f * 0.75f, 1e-4f);

	flz_engine_destroy(engine);
	ck_assert_int_eq(refcount(dc), 1);
	flz_sample_unref(dc);
	free(out);
	free(want);
}
END_TEST

TCase *engine_case_params(void)
{
	TCase *tc = engine_tcase("engine:params");
	tcase_add_test(tc, params_full_queue);
	tcase_add_test(tc, params_volume_content);
	tcase_add_test(tc, params_seq_wrap);
	return tc;
}
