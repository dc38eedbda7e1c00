/* SPDX-License-Identifier: MIT */
/* mixer:config, mixer:latency, mixer:args: configuration, latency, bad arguments. */
#include "mixer-tests.h"

/* ---- mixer:config ---- */

START_TEST(test_config)
{
	struct flz_mixer_config d = flz_mixer_config_init();
	ck_assert_uint_eq(d.rate_hz, 48000);
	ck_assert_uint_eq(d.n_channels, 2);
	ck_assert_uint_eq(d.max_block_frames, 4096);
	ck_assert_float_eq(d.voice_ramp_ms, 5.0f);
	ck_assert_float_eq(d.master_ramp_ms, 10.0f);
	ck_assert_float_eq(d.speed_ramp_ms, 20.0f);
	ck_assert_float_eq(d.master_gain, 1.0f);
	ck_assert(d.speed == 1.0);
	ck_assert(d.retire == NULL);

	struct rec r = { 0 };
	struct flz_mixer *m = (struct flz_mixer *)&r; /* must stay untouched */
	/* No retire callback. */
	ck_assert_int_eq(flz_mixer_new(&d, &m), -EINVAL);
	ck_assert_ptr_eq(m, (struct flz_mixer *)&r);
	ck_assert_int_eq(flz_mixer_new(NULL, &m), -EINVAL);

	struct flz_mixer_config bad[16];
	int n_bad = 0;
	for (int i = 0; i < 14; i++)
		bad[i] = mk_config(&r);
	bad[n_bad++].rate_hz = FLZ_RATE_MIN_HZ - 1;
	bad[n_bad++].rate_hz = FLZ_RATE_MAX_HZ + 1;
	bad[n_bad++].n_channels = 0;
	bad[n_bad++].n_channels = FLZ_MAX_CHANNELS + 1;
	bad[n_bad++].max_block_frames = 0;
	bad[n_bad++].max_block_frames = FLZ_MAX_BLOCK_FRAMES + 1;
	bad[n_bad++].voice_ramp_ms = -1.0f;
	bad[n_bad++].master_ramp_ms = NAN;
	bad[n_bad++].speed_ramp_ms = INFINITY;
	bad[n_bad++].master_gain = 1.5f;
	bad[n_bad++].master_gain = NAN;
	bad[n_bad++].speed = 0.25;
	bad[n_bad++].speed = 2.5;
	bad[n_bad++].speed = NAN;
	for (int i = 0; i < n_bad; i++) {
		m = (struct flz_mixer *)&r;
		ck_assert_msg(flz_mixer_new(&bad[i], &m) == -EINVAL, "bad config %d accepted", i);
		ck_assert_ptr_eq(m, (struct flz_mixer *)&r);
	}

	struct flz_mixer_config c = mk_config(&r);
	c.n_channels = 1;
	c.rate_hz = 44100;
	m = new_mixer_cfg(&c);
	struct flz_mixer_config got = flz_mixer_get_config(m);
	ck_assert_uint_eq(got.n_channels, 1);
	ck_assert_uint_eq(got.rate_hz, 44100);
	/* Commands take effect at the next output frame: no delay. */
	ck_assert_uint_eq(flz_mixer_latency_frames(m), 0);
	ck_assert_int_eq(flz_mixer_frame(m), 0);
	flz_mixer_destroy(m);
	flz_mixer_destroy(NULL);
}
END_TEST

/* ---- mixer:latency ---- */

/* An impulse at the sample's first frame appears at output frame
 * latency_frames exactly, with its value unchanged, and nothing before. */
START_TEST(test_latency)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	const uint32_t lat = flz_mixer_latency_frames(m);
	struct flz_sample *s = dc_sample(2000, 0.0f);
	s->data[0] = 1.0f;
	s->data[1] = -0.5f;
	load(m, 7, s);
	play(m, 7, 1.0f);
	float *out = floats(1000);
	render(m, out, 1000, 1000);
	for (uint32_t i = 0; i < 1000; i++) {
		float l = i == lat ? 1.0f : 0.0f, rr = i == lat ? -0.5f : 0.0f;
		ck_assert_msg(out[i * CH] == l && out[i * CH + 1] == rr, "frame %u", i);
	}
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

/* ---- mixer:args ---- */

/* Bad arguments return -EINVAL and change nothing: a mixer that received
 * them renders exactly what its twin without them renders. */
START_TEST(test_args)
{
	struct rec ra = { 0 }, rb = { 0 };
	struct flz_mixer *a = new_mixer(&ra), *b = new_mixer(&rb);
	struct flz_sample *s = noise_sample(700, 9, 0.4);
	flz_sample_ref(s); /* one for each mixer, one kept here */
	flz_sample_ref(s);
	load(a, 0, s);
	load(b, 0, s);
	play(a, 0, 0.5f);
	play(b, 0, 0.5f);

	ck_assert_int_eq(flz_mixer_play(a, -1, 0.5f), -EINVAL);
	ck_assert_int_eq(flz_mixer_play(a, FLZ_NUM_SAMPLES, 0.5f), -EINVAL);
	ck_assert_int_eq(flz_mixer_play(a, 0, -0.01f), -EINVAL);
	ck_assert_int_eq(flz_mixer_play(a, 0, 1.01f), -EINVAL);
	ck_assert_int_eq(flz_mixer_play(a, 0, NAN), -EINVAL);
	ck_assert_int_eq(flz_mixer_play(a, 0, INFINITY), -EINVAL);
	ck_assert_int_eq(flz_mixer_stop_slot(a, -1, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_stop_slot(a, FLZ_NUM_SAMPLES, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_unload(a, -1, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_unload(a, FLZ_NUM_SAMPLES, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_master_gain(a, -0.1f), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_master_gain(a, 1.1f), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_master_gain(a, NAN), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_speed(a, 0.49), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_speed(a, 2.01), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_speed(a, NAN), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_speed(a, INFINITY), -EINVAL);

	struct flz_sample *other_rate = flz_sample_new(100, CH, 44100);
	struct flz_sample *mono = flz_sample_new(100, 1, RATE);
	ck_assert_ptr_nonnull(other_rate);
	ck_assert_ptr_nonnull(mono);
	memset(other_rate->data, 0, 100 * CH * sizeof(float));
	memset(mono->data, 0, 100 * sizeof(float));
	struct flz_sample *good = noise_sample(100, 4, 0.5);
	ck_assert_int_eq(flz_mixer_load(a, -1, good), -EINVAL);
	ck_assert_int_eq(flz_mixer_load(a, FLZ_NUM_SAMPLES, good), -EINVAL);
	ck_assert_int_eq(flz_mixer_load(a, 0, NULL), -EINVAL);
	ck_assert_int_eq(flz_mixer_load(a, 0, other_rate), -EINVAL);
	ck_assert_int_eq(flz_mixer_load(a, 0, mono), -EINVAL);
	/* The caller kept its references. */
	ck_assert_int_eq(atomic_load(&good->refcount), 1);
	ck_assert_int_eq(atomic_load(&other_rate->refcount), 1);
	ck_assert_int_eq(atomic_load(&mono->refcount), 1);
	flz_sample_unref(good);
	flz_sample_unref(other_rate);
	flz_sample_unref(mono);

	float *oa = floats(4097), *ob = floats(4097);
	oa[0] = 5.0f;
	ck_assert_int_eq(flz_mixer_render(a, oa, 4097), -EINVAL);
	ck_assert_float_eq(oa[0], 5.0f);
	ck_assert_int_eq(flz_mixer_render(a, NULL, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_frame(a), 0);
	ck_assert_uint_eq(flz_mixer_voices_playing(a), 1);

	render(a, oa, 3000, 256);
	render(b, ob, 3000, 256);
	for (uint32_t i = 0; i < 3000 * CH; i++)
		ck_assert_msg(oa[i] == ob[i], "differs at %u", i / CH);
	ck_assert_int_eq(ra.n_retired, 0);
	ck_assert_int_eq(ra.n_events, 0);
	free(oa);
	free(ob);
	flz_mixer_destroy(a);
	flz_mixer_destroy(b);
	flz_sample_unref(s);
}
END_TEST

TCase *mixer_case_config(void)
{
	return mixer_tcase("mixer:config", test_config);
}

TCase *mixer_case_latency(void)
{
	return mixer_tcase("mixer:latency", test_latency);
}

TCase *mixer_case_args(void)
{
	return mixer_tcase("mixer:args", test_args);
}
