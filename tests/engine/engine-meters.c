/* SPDX-License-Identifier: MIT */
/* test-engine: the meters' C API (issue 15): validation, the snapshot
 * before any interval, and exact peaks per interval when the intervals end
 * inside the engine's blocks (480 frames against 64-frame periods). The
 * Python suite (test_meters.py) covers clipping, silence and positions. */
#include "engine-tests.h"

#define RATE 48000
#define INTERVAL 480 /* round(48000 / 100) */

static struct flz_engine *meter_engine(double meter_hz, int *err)
{
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "offline";
	config.period_frames = 64;
	config.meter_hz = meter_hz;
	struct flz_engine *engine = NULL;
	*err = flz_engine_new(&config, &engine);
	return engine;
}

START_TEST(meters_arguments)
{
	const double bad[] = { 0.999, 200.001, -30.0, -0.5, NAN, INFINITY, -INFINITY };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int err = 0;
		ck_assert_ptr_null(meter_engine(bad[i], &err));
		ck_assert_int_eq(err, -EINVAL);
	}
	ck_assert(flz_engine_config_init().meter_hz == 30.0);
	int err = 0;
	/* 0 is the default (a config zeroed and filled in by hand): 1600-frame
	 * intervals at 48 kHz, as 30 gives. */
	struct flz_engine *engine = meter_engine(0.0, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(flz_engine_start_offline(engine), 0);
	static float zeros[1600 * 2];
	ck_assert_int_eq(flz_engine_render(engine, zeros, 1600), 0);
	struct flz_engine_meters m0;
	ck_assert_int_eq(flz_engine_get_meters(engine, &m0), 0);
	ck_assert_int_eq(m0.frame, 1600);
	ck_assert_int_eq(m0.n_frames, 1600);
	flz_engine_destroy(engine);
	engine = meter_engine(200.0, &err);
	ck_assert_int_eq(err, 0);
	flz_engine_destroy(engine);
	engine = meter_engine(1.0, &err);
	ck_assert_int_eq(err, 0);

	struct flz_engine_meters m;
	memset(&m, 0x55, sizeof m);
	ck_assert_int_eq(flz_engine_get_meters(engine, &m), -ENOTCONN);
	ck_assert_int_eq(flz_engine_get_meters(NULL, &m), -EINVAL);
	ck_assert_int_eq(flz_engine_get_meters(engine, NULL), -EINVAL);
	ck_assert_int_eq(flz_engine_start_offline(engine), 0);
	ck_assert_int_eq(flz_engine_get_meters(engine, &m), 0);
	ck_assert_int_eq(m.frame, 0);
	ck_assert_int_eq(m.n_frames, 0);
	ck_assert_uint_eq(m.n_channels, 2);
	ck_assert(!m.master_clip);
	for (uint32_t c = 0; c < FLZ_MAX_CHANNELS; c++)
		ck_assert(m.master_peak[c] == 0.0f);
	for (uint32_t s = 0; s < FLZ_NUM_SAMPLES; s++)
		ck_assert(!m.pads[s].sounded && m.pads[s].peak == 0.0f);
	flz_engine_destroy(engine);
}
END_TEST

START_TEST(meters_exact)
{
	int err = 0;
	struct flz_engine *engine = meter_engine(100.0, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(flz_engine_start_offline(engine), 0);
	struct flz_sample *sample = make_noise(RATE, 2, RATE, 0.6, 7);
	ck_assert_int_eq(flz_engine_load_sample(engine, 3, sample), 0);
	ck_assert_int_eq(flz_engine_play(engine, 3, 0.5f), 0);

	enum { TOTAL = 20 * INTERVAL, CHUNK = 333 };
	static float out[(TOTAL + CHUNK) * 2];
	int64_t done = 0;
	int checked = 0;
	while (done < TOTAL) {
		ck_assert_int_eq(flz_engine_render(engine, out + (size_t)done * 2, CHUNK), 0);
		done += CHUNK;
		struct flz_engine_meters m;
		ck_assert_int_eq(flz_engine_get_meters(engine, &m), 0);
		/* The last interval that ended: frame is its end. */
		ck_assert_int_eq(m.frame, done / INTERVAL * INTERVAL);
		if (m.frame == 0)
			continue;
		ck_assert_int_eq(m.n_frames, INTERVAL);
		float want[2] = { 0.0f, 0.0f };
		for (int64_t f = m.frame - INTERVAL; f < m.frame; f++)
			for (int c = 0; c < 2; c++)
				want[c] = fmaxf(want[c], fabsf(out[f * 2 + c]));
		ck_assert(want[0] > 0.0f && want[1] > 0.0f);
		/* Exact: the same floats, the max over the same frames. */
		ck_assert(m.master_peak[0] == want[0]);
		ck_assert(m.master_peak[1] == want[1]);
		ck_assert(!m.master_clip);
		/* One pad at master gain 1: the output is its contribution. */
		for (uint32_t s = 0; s < FLZ_NUM_SAMPLES; s++)
			ck_assert(m.pads[s].sounded == (s == 3));
		ck_assert(m.pads[3].peak == fmaxf(want[0], want[1]));
		ck_assert_double_eq_tol(m.pads[3].position_s, (double)m.frame / RATE, 1e-9);
		checked++;
	}
	ck_assert_int_ge(checked, 19);
	flz_engine_destroy(engine);
}
END_TEST

/* flz_engine_meters_seq(): the same while no snapshot is published, raised
 * by each one and by a stop, and never back to a value of an earlier run. */
START_TEST(meters_seq)
{
	int err = 0;
	ck_assert_uint_eq(flz_engine_meters_seq(NULL), 0);
	struct flz_engine *engine = meter_engine(100.0, &err);
	ck_assert_int_eq(err, 0);
	uint64_t before = flz_engine_meters_seq(engine);
	ck_assert_int_eq(flz_engine_start_offline(engine), 0);
	ck_assert_uint_eq(flz_engine_meters_seq(engine), before); /* none published yet */
	static float out[3 * INTERVAL * 2];
	ck_assert_int_eq(flz_engine_render(engine, out, INTERVAL - 1), 0);
	ck_assert_uint_eq(flz_engine_meters_seq(engine), before);
	ck_assert_int_eq(flz_engine_render(engine, out, 1), 0);
	uint64_t one = flz_engine_meters_seq(engine);
	ck_assert_uint_eq(one, before + 1);
	struct flz_engine_meters m;
	ck_assert_int_eq(flz_engine_get_meters(engine, &m), 0);
	ck_assert_int_eq(m.frame, INTERVAL);
	ck_assert_uint_eq(flz_engine_meters_seq(engine), one); /* reading changes nothing */
	/* Two intervals in one render: raised once for each. */
	ck_assert_int_eq(flz_engine_render(engine, out, 2 * INTERVAL), 0);
	uint64_t three = flz_engine_meters_seq(engine);
	ck_assert_uint_eq(three, one + 2);
	flz_engine_stop(engine);
	uint64_t stopped = flz_engine_meters_seq(engine);
	ck_assert_uint_gt(stopped, three);
	ck_assert_int_eq(flz_engine_get_meters(engine, &m), -ENOTCONN);
	/* A new run starts its frames from 0 but not its count. */
	ck_assert_int_eq(flz_engine_start_offline(engine), 0);
	ck_assert_int_eq(flz_engine_render(engine, out, INTERVAL), 0);
	ck_assert_uint_eq(flz_engine_meters_seq(engine), stopped + 1);
	flz_engine_destroy(engine);
}
END_TEST

TCase *engine_case_meters(void)
{
	TCase *tc = tcase_create("engine:meters");
	tcase_add_test(tc, meters_arguments);
	tcase_add_test(tc, meters_exact);
	tcase_add_test(tc, meters_seq);
	return tc;
}
