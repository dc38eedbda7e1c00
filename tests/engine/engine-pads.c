/* SPDX-License-Identifier: MIT */
/* test-engine: the per-pad controls' C API (issue 12): validation, command
 * order, sample_info() and the frame clock. What they do to the sound is
 * tested through the Python module (tests/python/test_pads.py). */
#include <flz/eq.h>

#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:pads
 * ------------------------------------------------------------------------ */

/* Every new call refuses a stopped engine. */
static void check_not_running(struct flz_engine *engine)
{
	struct flz_engine_play play = flz_engine_play_init(0);
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), -ENOTCONN);
	ck_assert_int_eq(flz_engine_pause(engine, 0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_resume(engine, 0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_seek(engine, 0, 0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_pad_gain(engine, 0, 0.0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_pad_eq(engine, 0, 0.0, 0.0, 0.0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_pad_speed(engine, 0, 1.0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_loop_region(engine, 0, 0, -1), -ENOTCONN);
	struct flz_engine_sample_info info;
	ck_assert_int_eq(flz_engine_sample_info(engine, 0, &info, NULL, 0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_frame(engine), -ENOTCONN);
}

/* Every bad argument of every new call, on a running engine whose slot 5
 * holds a sample of n_frames; none may queue anything. */
static void check_bad_arguments(struct flz_engine *engine, int64_t n_frames)
{
	struct flz_engine_play play = flz_engine_play_init(5);
	ck_assert_int_eq(flz_engine_play_ex(engine, NULL), -EINVAL);
	ck_assert_int_eq(flz_engine_play_ex(NULL, &play), -EINVAL);
	const int32_t bad_slots[] = { -1, FLZ_NUM_SAMPLES, INT32_MIN, INT32_MAX };
	for (size_t i = 0; i < sizeof bad_slots / sizeof bad_slots[0]; i++) {
		int32_t slot = bad_slots[i];
		play = flz_engine_play_init(slot);
		ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EINVAL);
		play.exclusive = true;
		ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EINVAL);
		ck_assert_int_eq(flz_engine_pause(engine, slot), -EINVAL);
		ck_assert_int_eq(flz_engine_resume(engine, slot), -EINVAL);
		ck_assert_int_eq(flz_engine_seek(engine, slot, 0), -EINVAL);
		ck_assert_int_eq(flz_engine_set_pad_gain(engine, slot, 0.0), -EINVAL);
		ck_assert_int_eq(flz_engine_set_pad_speed(engine, slot, 1.0), -EINVAL);
		ck_assert_int_eq(flz_engine_set_pad_eq(engine, slot, 0.0, 0.0, 0.0), -EINVAL);
		ck_assert_int_eq(flz_engine_set_loop_region(engine, slot, 0, -1), -EINVAL);
		struct flz_engine_sample_info info;
		ck_assert_int_eq(flz_engine_sample_info(engine, slot, &info, NULL, 0), -EINVAL);
	}
	const float bad_gains[] = { -0.001f, 1.001f, NAN, INFINITY, -INFINITY };
	for (size_t i = 0; i < sizeof bad_gains / sizeof bad_gains[0]; i++) {
		play = flz_engine_play_init(5);
		play.gain = bad_gains[i];
		ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EINVAL);
		play.exclusive = true;
		ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EINVAL);
	}
	const double bad_db[] = { -60.0001, 12.0001, NAN, INFINITY, -INFINITY };
	for (size_t i = 0; i < sizeof bad_db / sizeof bad_db[0]; i++)
		ck_assert_int_eq(flz_engine_set_pad_gain(engine, 5, bad_db[i]), -EINVAL);
	/* The engine's EQ range is libeq's, each band checked on its own. */
	ck_assert(FLZ_PAD_EQ_DB_MIN == FLZ_EQ_GAIN_DB_MIN && FLZ_PAD_EQ_DB_MAX == FLZ_EQ_GAIN_DB_MAX);
	const double bad_eq[] = { -60.0001, 6.0001, NAN, INFINITY, -INFINITY };
	for (size_t i = 0; i < sizeof bad_eq / sizeof bad_eq[0]; i++) {
		ck_assert_int_eq(flz_engine_set_pad_eq(engine, 5, bad_eq[i], 0.0, 0.0), -EINVAL);
		ck_assert_int_eq(flz_engine_set_pad_eq(engine, 5, 0.0, bad_eq[i], 0.0), -EINVAL);
		ck_assert_int_eq(flz_engine_set_pad_eq(engine, 5, 0.0, 0.0, bad_eq[i]), -EINVAL);
	}
	ck_assert_int_eq(flz_engine_set_pad_eq(NULL, 5, 0.0, 0.0, 0.0), -EINVAL);
	const double bad_speeds[] = { 0.4999, 2.0001, 0.0, -1.0, NAN, INFINITY };
	for (size_t i = 0; i < sizeof bad_speeds / sizeof bad_speeds[0]; i++)
		ck_assert_int_eq(flz_engine_set_pad_speed(engine, 5, bad_speeds[i]), -EINVAL);
	/* Frames against the sample the engine published last. */
	ck_assert_int_eq(flz_engine_seek(engine, 5, -1), -EINVAL);
	ck_assert_int_eq(flz_engine_seek(engine, 5, n_frames), -EINVAL);
	ck_assert_int_eq(flz_engine_seek(engine, 5, INT64_MAX), -EINVAL);
	ck_assert_int_eq(flz_engine_seek(engine, 5, INT64_MIN), -EINVAL);
	const int64_t bad_regions[][2] = {
		{ 0, 0 },	      { 10, 5 },	   { 10, 10 }, { -1, 10 },
		{ 0, n_frames + 1 }, { n_frames, -1 }, { 0, -2 },  { INT64_MIN, -1 },
		{ 0, INT64_MAX },    { n_frames - 1, n_frames + 1 },
	};
	for (size_t i = 0; i < sizeof bad_regions / sizeof bad_regions[0]; i++)
		ck_assert_msg(flz_engine_set_loop_region(engine, 5, bad_regions[i][0],
							 bad_regions[i][1]) == -EINVAL,
			      "region %lld..%lld accepted", (long long)bad_regions[i][0],
			      (long long)bad_regions[i][1]);
	/* An empty slot has no frames at all. */
	ck_assert_int_eq(flz_engine_seek(engine, 6, 0), -ENOENT);
	ck_assert_int_eq(flz_engine_set_loop_region(engine, 6, 0, -1), -ENOENT);
	struct flz_engine_sample_info info;
	ck_assert_int_eq(flz_engine_sample_info(engine, 5, NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(flz_engine_sample_info(engine, 5, &info, NULL, 4), -EINVAL);
	ck_assert_int_eq(flz_engine_sample_info(NULL, 5, &info, NULL, 0), -EINVAL);
	ck_assert_int_eq(flz_engine_frame(NULL), -EINVAL);
}

START_TEST(pads_arguments)
{
	struct flz_engine *engine = offline_engine_new(64, true);
	check_not_running(engine);
	ck_assert_int_eq(flz_engine_start_offline(engine), 0);
	ck_assert_int_eq(flz_engine_frame(engine), 0);

	enum { N_FRAMES = 1000 };
	struct flz_sample *sample = make_noise(N_FRAMES, 2, 48000, 0.5, 9);
	ck_assert_int_eq(flz_engine_load_sample(engine, 5, sample), 0); /* seq 1 */
	check_bad_arguments(engine, N_FRAMES);

	/* The good ones, at the ends of their ranges: seq 2.. in call order. */
	struct flz_engine_play play = flz_engine_play_init(5);
	ck_assert(play.gain == 1.0f && !play.exclusive);
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), 0);			/* 2 */
	play.exclusive = true;
	play.gain = 0.25f;
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), 0);			/* 3 */
	ck_assert_int_eq(flz_engine_pause(engine, 5), 0);			/* 4 */
	ck_assert_int_eq(flz_engine_resume(engine, 5), 0);			/* 5 */
	ck_assert_int_eq(flz_engine_seek(engine, 5, N_FRAMES - 1), 0);		/* 6 */
	ck_assert_int_eq(flz_engine_set_pad_gain(engine, 5, -60.0), 0);		/* 7 */
	ck_assert_int_eq(flz_engine_set_pad_gain(engine, 5, 12.0), 0);		/* 8 */
	ck_assert_int_eq(flz_engine_set_pad_gain(engine, 5, -6.0206), 0);	/* 9 */
	ck_assert_int_eq(flz_engine_set_pad_speed(engine, 5, 0.5), 0);		/* 10 */
	ck_assert_int_eq(flz_engine_set_pad_speed(engine, 5, 2.0), 0);		/* 11 */
	ck_assert_int_eq(flz_engine_set_loop_region(engine, 5, N_FRAMES - 1, -1), 0); /* 12 */
	ck_assert_int_eq(flz_engine_set_loop_region(engine, 5, 0, N_FRAMES), 0); /* 13 */
	ck_assert_int_eq(flz_engine_play(engine, 5, 0.5f), 0);			/* 14 */
	ck_assert_int_eq(flz_engine_set_pad_eq(engine, 5, -60.0, 6.0, 0.0), 0);	/* 15 */

	float out[256 * 2];
	ck_assert_int_eq(flz_engine_render(engine, out, 200), 0);
	ck_assert_int_eq(flz_engine_frame(engine), 200);
	ck_assert_int_eq(flz_engine_render(engine, out, 37), 0);
	ck_assert_int_eq(flz_engine_frame(engine), 237);

	/* Exactly the good commands were applied, in call order, numbered
	 * without gaps: the refused calls queued nothing and took no number. */
	static struct msg_log log;
	log.n = 0;
	collect(engine, &log);
	static const struct {
		enum flz_cmd_kind cmd;
		double value;
	} want[] = {
		{ FLZ_CMD_LOAD, 0.0 },
		{ FLZ_CMD_PLAY, 1.0 },
		{ FLZ_CMD_PLAY_EXCLUSIVE, 0.25 },
		{ FLZ_CMD_PAUSE, 0.0 },
		{ FLZ_CMD_RESUME, 0.0 },
		{ FLZ_CMD_SEEK, N_FRAMES - 1 },
		{ FLZ_CMD_PAD_GAIN, 0.0 },
		{ FLZ_CMD_PAD_GAIN, (double)FLZ_PAD_GAIN_MAX_LIN },
		{ FLZ_CMD_PAD_GAIN, -1.0 /* about 0.5: checked below */ },
		{ FLZ_CMD_PAD_SPEED, 0.5 },
		{ FLZ_CMD_PAD_SPEED, 2.0 },
		{ FLZ_CMD_LOOP_REGION, N_FRAMES - 1 },
		{ FLZ_CMD_LOOP_REGION, 0.0 },
		{ FLZ_CMD_PLAY, 0.5 },
		{ FLZ_CMD_PAD_EQ, 0.0 },
	};
	size_t n_applied = 0;
	for (size_t i = 0; i < log.n; i++) {
		const struct flz_engine_msg *m = &log.msgs[i];
		if (m->kind != FLZ_MSG_APPLIED)
			continue;
		ck_assert_uint_lt(n_applied, sizeof want / sizeof want[0]);
		ck_assert_int_eq(m->cmd, want[n_applied].cmd);
		ck_assert_uint_eq(m->seq, n_applied + 1);
		ck_assert_int_eq(m->slot, 5);
		ck_assert_int_eq(m->frame, 0);
		if (want[n_applied].value >= 0.0)
			ck_assert_msg(m->value == want[n_applied].value, "%s: value %.9g, not %.9g",
				      flz_cmd_name(m->cmd), m->value, want[n_applied].value);
		else /* 10^(-6.0206 / 20), in float */
			ck_assert_double_eq_tol(m->value, 0.5, 1e-5);
		n_applied++;
	}
	ck_assert_uint_eq(n_applied, sizeof want / sizeof want[0]);
	flz_engine_destroy(engine);
}
END_TEST

START_TEST(pads_sample_info)
{
	struct flz_engine *engine = offline_engine(64, false);
	struct flz_engine_sample_info info;
	char source[64];
	ck_assert_int_eq(flz_engine_sample_info(engine, 0, &info, source, sizeof source), 0);

	/* A decoded sample: its own rate is its source rate. */
	struct flz_sample *sample = make_noise(777, 2, 48000, 0.5, 3);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, sample), 0);
	/* In command order: reported before the audio side applied the load. */
	memset(&info, 0xff, sizeof info);
	ck_assert_int_eq(flz_engine_sample_info(engine, 0, &info, source, sizeof source), 1);
	ck_assert_int_eq(info.n_frames, 777);
	ck_assert_uint_eq(info.n_channels, 2);
	ck_assert_uint_eq(info.rate_hz, 48000);
	ck_assert_uint_eq(info.source_rate_hz, 48000);
	ck_assert_str_eq(source, "<memory>");
	ck_assert_uint_eq(info.source_len, strlen("<memory>"));
	/* A short buffer gets the start of the name, and the whole length. */
	char tiny[4];
	ck_assert_int_eq(flz_engine_sample_info(engine, 0, &info, tiny, sizeof tiny), 1);
	ck_assert_str_eq(tiny, "<me");
	ck_assert_uint_eq(info.source_len, 8);
	ck_assert_int_eq(flz_engine_sample_info(engine, 0, &info, NULL, 0), 1);
	ck_assert_int_eq(info.n_frames, 777);

	/* A file at 44.1 kHz, converted to the engine's 48 kHz. */
	char path[] = "/tmp/flz-pads-XXXXXX.wav";
	int fd = mkstemps(path, 4);
	ck_assert_int_ge(fd, 0);
	close(fd);
	SF_INFO sfi = { .samplerate = 44100, .channels = 1,
			.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	SNDFILE *sf = sf_open(path, SFM_WRITE, &sfi);
	ck_assert_ptr_nonnull(sf);
	static float mono[4410];
	for (int i = 0; i < 4410; i++)
		mono[i] = 0.25f * sinf(2.0f * (float)M_PI * 440.0f * (float)i / 44100.0f);
	ck_assert_int_eq(sf_writef_float(sf, mono, 4410), 4410);
	sf_close(sf);
	char why[256];
	ck_assert_int_eq(flz_engine_load_file(engine, 1, path, why, sizeof why), 0);
	char long_source[256];
	ck_assert_int_eq(flz_engine_sample_info(engine, 1, &info, long_source, sizeof long_source),
			 1);
	ck_assert_int_eq(info.n_frames, 4800); /* round(4410 * 48000 / 44100) */
	ck_assert_uint_eq(info.n_channels, 2);
	ck_assert_uint_eq(info.rate_hz, 48000);
	ck_assert_uint_eq(info.source_rate_hz, 44100);
	ck_assert_str_eq(long_source, path);

	/* Replacing a slot reports the new sample; a failed load keeps the old. */
	ck_assert_int_lt(flz_engine_load_file(engine, 1, "/nonexistent/x.wav", why, sizeof why), 0);
	ck_assert_int_eq(flz_engine_sample_info(engine, 1, &info, NULL, 0), 1);
	ck_assert_int_eq(info.n_frames, 4800);
	ck_assert_int_eq(flz_engine_seek(engine, 1, 4799), 0); /* the file's frames, not 777 */
	ck_assert_int_eq(flz_engine_seek(engine, 1, 4800), -EINVAL);

	/* An unload forgets at once: what follows it sees an empty slot. */
	ck_assert_int_eq(flz_engine_unload(engine, 1), 0);
	ck_assert_int_eq(flz_engine_sample_info(engine, 1, &info, NULL, 0), 0);
	ck_assert_int_eq(flz_engine_seek(engine, 1, 0), -ENOENT);
	ck_assert_int_eq(flz_engine_set_loop_region(engine, 1, 0, -1), -ENOENT);

	/* A stop forgets every slot. */
	flz_engine_stop(engine);
	ck_assert_int_eq(flz_engine_sample_info(engine, 0, &info, NULL, 0), -ENOTCONN);
	char why2[256];
	ck_assert_int_eq(flz_engine_start(engine, why2, sizeof why2), 0);
	ck_assert_int_eq(flz_engine_sample_info(engine, 0, &info, NULL, 0), 0);
	ck_assert_int_eq(flz_engine_frame(engine), 0);
	flz_engine_destroy(engine);
	unlink(path);
}
END_TEST

/* A full command ring refuses every new command and changes nothing. */
START_TEST(pads_queue_full)
{
	struct flz_engine *engine = offline_engine(64, true);
	struct flz_sample *sample = make_noise(100, 2, 48000, 0.5, 4);
	ck_assert_int_eq(flz_engine_load_sample(engine, 2, sample), 0);
	int n_pings = 0;
	while (flz_engine_ping(engine) == 0)
		n_pings++;
	ck_assert_int_eq(n_pings, FLZ_QUEUE_CAPACITY - 1);
	struct flz_engine_play play = flz_engine_play_init(2);
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EAGAIN);
	play.exclusive = true;
	ck_assert_int_eq(flz_engine_play_ex(engine, &play), -EAGAIN);
	ck_assert_int_eq(flz_engine_pause(engine, 2), -EAGAIN);
	ck_assert_int_eq(flz_engine_resume(engine, 2), -EAGAIN);
	ck_assert_int_eq(flz_engine_seek(engine, 2, 50), -EAGAIN);
	ck_assert_int_eq(flz_engine_set_pad_gain(engine, 2, -3.0), -EAGAIN);
	ck_assert_int_eq(flz_engine_set_pad_speed(engine, 2, 1.5), -EAGAIN);
	ck_assert_int_eq(flz_engine_set_loop_region(engine, 2, 10, 20), -EAGAIN);
	/* A refused unload does not forget the slot. */
	ck_assert_int_eq(flz_engine_unload(engine, 2), -EAGAIN);
	struct flz_engine_sample_info info;
	ck_assert_int_eq(flz_engine_sample_info(engine, 2, &info, NULL, 0), 1);

	float out[64 * 2];
	ck_assert_int_eq(flz_engine_render(engine, out, 64), 0);
	static struct msg_log log;
	log.n = 0;
	collect(engine, &log);
	/* Only the load and the pings were applied, and the next command takes
	 * the next number: the refusals consumed none. */
	uint32_t last_seq = 0;
	for (size_t i = 0; i < log.n; i++) {
		if (log.msgs[i].kind != FLZ_MSG_APPLIED)
			continue;
		ck_assert(log.msgs[i].cmd == FLZ_CMD_LOAD || log.msgs[i].cmd == FLZ_CMD_PING);
		last_seq = log.msgs[i].seq;
	}
	ck_assert_uint_eq(last_seq, (uint32_t)n_pings + 1);
	ck_assert_int_eq(flz_engine_pause(engine, 2), 0);
	ck_assert_int_eq(flz_engine_render(engine, out, 64), 0);
	log.n = 0;
	collect(engine, &log);
	ck_assert_uint_eq(log.n, 1);
	ck_assert_int_eq(log.msgs[0].cmd, FLZ_CMD_PAUSE);
	ck_assert_uint_eq(log.msgs[0].seq, last_seq + 1);
	flz_engine_destroy(engine);
}
END_TEST

TCase *engine_case_pads(void)
{
	TCase *tc = engine_tcase("engine:pads");
	tcase_add_test(tc, pads_arguments);
	tcase_add_test(tc, pads_sample_info);
	tcase_add_test(tc, pads_queue_full);
	return tc;
}
