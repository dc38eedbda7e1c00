/* SPDX-License-Identifier: MIT */
/* test-engine: the offline device, rendered with flz_engine_render(). */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:offline: the offline device, rendered with flz_engine_render()
 * ------------------------------------------------------------------------ */

/* An offline engine (period 64), with one noise sample loaded in slot 3
 * and played at 0.5 before the first render, rendering n_frames. */
static void offline_play_render(float *out, uint32_t n_frames, struct flz_sample *sample)
{
	struct flz_engine *engine = offline_engine(64, false);
	flz_sample_ref(sample);
	ck_assert_int_eq(flz_engine_load_sample(engine, 3, sample), 0);
	ck_assert_int_eq(flz_engine_play(engine, 3, 0.5f), 0);
	ck_assert_int_eq(flz_engine_ping(engine), 0);
	/* Odd sizes: the engine splits them into blocks of its own. */
	uint32_t first = 1000;
	ck_assert_int_eq(flz_engine_render(engine, out, first), 0);
	ck_assert_int_eq(flz_engine_render(engine, out + (size_t)first * 2, n_frames - first), 0);
	struct flz_engine_msg m;
	ck_assert_int_eq(flz_engine_poll_message(engine, &m), 1);
	ck_assert_int_eq(m.kind, FLZ_MSG_PONG);
	ck_assert_int_eq(m.frame, 0);
	struct flz_engine_stats st;
	flz_engine_get_stats(engine, &st);
	ck_assert_int_eq(st.frames, n_frames);
	/* No device buffer: the mixer's delay alone. */
	ck_assert_uint_eq(st.latency_frames, flz_mixer_latency_frames(flz_engine_get_core(engine)->mixer));
	ck_assert_uint_eq(st.latency_frames, 0);
	ck_assert(st.latency_ms == 0.0);
	flz_engine_destroy(engine);
}

START_TEST(offline_render_exact)
{
	enum { N = 4801 };
	struct flz_sample *sample = make_noise(3000, 2, 48000, 0.9, 77);
	static float a[N * 2], b[N * 2], ref[N * 2];
	offline_play_render(a, N, sample);
	offline_play_render(b, N, sample);
	/* Deterministic: the same calls give the same bits. */
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);

	/* The reference: the mixer alone, the play applied before frame 0. */
	struct ref_retired retired = { .n = 0 };
	struct flz_mixer_config mc = flz_mixer_config_init();
	mc.max_block_frames = 64;
	mc.retire = ref_retire;
	mc.userdata = &retired;
	struct flz_mixer *mixer = NULL;
	ck_assert_int_eq(flz_mixer_new(&mc, &mixer), 0);
	flz_sample_ref(sample);
	ck_assert_int_eq(flz_mixer_load(mixer, 3, sample), 0);
	ck_assert_int_eq(flz_mixer_play(mixer, 3, 0.5f), 1);
	for (uint32_t done = 0; done < N; done += 64) {
		uint32_t n = N - done < 64 ? N - done : 64;
		ck_assert_int_eq(flz_mixer_render(mixer, ref + (size_t)done * 2, n), 0);
	}
	flz_mixer_destroy(mixer);
	for (size_t i = 0; i < retired.n; i++)
		flz_sample_unref(retired.samples[i]);
	double worst = 0;
	for (size_t i = 0; i < (size_t)N * 2; i++) {
		double d = fabs((double)a[i] - (double)ref[i]);
		worst = d > worst ? d : worst;
	}
	ck_assert_msg(worst <= 1e-6, "offline render differs from the mixer by %g", worst);
	/* Sound from the very first frame (the sample loops: never silent). */
	ck_assert(a[0] != 0.0f || a[1] != 0.0f);
	ck_assert_float_eq_tol(a[0], 0.5f * sample->data[0], 1e-6);
	flz_sample_unref(sample);
}
END_TEST

START_TEST(offline_render_errors)
{
	float out[256];
	ck_assert_int_eq(flz_engine_render(NULL, out, 1), -EINVAL);
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "offline";
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	ck_assert_int_eq(flz_engine_render(engine, out, 64), -ENOTCONN);
	char why[256] = "";
	ck_assert_int_eq(flz_engine_start(engine, why, sizeof(why)), 0);
	ck_assert_int_eq(flz_engine_render(engine, out, 0), -EINVAL);
	ck_assert_int_eq(flz_engine_render(engine, NULL, 64), -EINVAL);
	ck_assert_int_eq(flz_engine_render(engine, out, FLZ_ENGINE_MAX_RENDER_FRAMES + 1), -EINVAL);
	ck_assert_int_eq(flz_engine_render(engine, out, 128), 0);
	/* Nothing played: silence. */
	for (size_t i = 0; i < 256; i++)
		ck_assert(out[i] == 0.0f);
	/* Bad commands are refused as on a device. */
	ck_assert_int_eq(flz_engine_play(engine, FLZ_NUM_SAMPLES, 0.5f), -EINVAL);
	ck_assert_int_eq(flz_engine_set_speed(engine, NAN), -EINVAL);
	flz_engine_stop(engine);
	ck_assert_int_eq(flz_engine_render(engine, out, 64), -ENOTCONN);
	flz_engine_destroy(engine);

	/* Another device: render is refused, running or not. */
	config.device = "flznull";
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	ck_assert_int_eq(flz_engine_render(engine, out, 64), -ENOTSUP);
	flz_engine_destroy(engine);
}
END_TEST

TCase *engine_case_offline(void)
{
	TCase *tc = engine_tcase("engine:offline");
	tcase_add_test(tc, offline_render_exact);
	tcase_add_test(tc, offline_render_errors);
	return tc;
}
