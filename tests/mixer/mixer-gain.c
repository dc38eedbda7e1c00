/* SPDX-License-Identifier: MIT */
/* mixer:gain, mixer:master: voice and master gains. */
#include "mixer-tests.h"

/* ---- mixer:gain ---- */

/* The mix equals the sum of each voice times its gain times the master
 * gain, sample by sample (tolerance 1e-6: float rounding of a sum of three
 * terms below 0.5), delayed by the constant latency; then a master change
 * glides linearly over master_ramp_ms and holds exactly. */
START_TEST(test_gain)
{
	struct rec r = { 0 };
	struct flz_mixer_config c = mk_config(&r);
	c.master_gain = 0.75f;
	struct flz_mixer *m = new_mixer_cfg(&c);
	const uint32_t lat = flz_mixer_latency_frames(m);
	const int64_t lens[3] = { 1000, 777, 50 };
	const float gains[3] = { 0.9f, 0.4f, 1.0f };
	struct flz_sample *s[3];
	for (int v = 0; v < 3; v++) {
		s[v] = noise_sample(lens[v], (uint32_t)v + 1, 0.5);
		flz_sample_ref(s[v]); /* keep one to compute the expectation */
		load(m, v, s[v]);
		play(m, v, gains[v]);
	}
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 3);
	const uint32_t n1 = 3000, n2 = 2000, ramp = 480; /* 10 ms at 48 kHz */
	float *out = floats(n1 + n2);
	render(m, out, n1, 128);
	ck_assert_int_eq(flz_mixer_set_master_gain(m, 0.25f), 0);
	render(m, out + n1 * CH, n2, 100);
	for (uint32_t i = 0; i < n1 + n2; i++) {
		double master;
		if (i < n1)
			master = 0.75;
		else if (i - n1 + 1 < ramp)
			master = 0.75 + (0.25 - 0.75) * (double)(i - n1 + 1) / ramp;
		else
			master = 0.25;
		for (uint32_t ch = 0; ch < CH; ch++) {
			double sum = 0.0;
			if (i >= lat)
				for (int v = 0; v < 3; v++)
					sum += gains[v] * s[v]->data[((i - lat) % lens[v]) * CH + ch];
			double expect = master * sum;
			ck_assert_msg(fabs(out[i * CH + ch] - expect) <= 1e-6, "frame %u: %g vs %g",
				      i, out[i * CH + ch], expect);
		}
	}
	free(out);
	flz_mixer_destroy(m);
	for (int v = 0; v < 3; v++)
		flz_sample_unref(s[v]);
	ck_assert_int_eq(r.n_retired, 0);
}
END_TEST

/* ---- mixer:master ---- */

/* Master gain glides linearly per output frame over master_ramp_ms
 * (R = 480 frames), taking effect at the next output frame: a fade to 0
 * reaches exact zero at frame R, and no step exceeds 1 / R. At speed 1 the
 * values are exact to 1e-6; at speed 1.37 (through the interpolator, whose
 * DC gain is 1 within 1e-4) to 1e-4. */
START_TEST(test_master)
{
	for (int sp = 0; sp < 2; sp++) {
		struct rec r = { 0 };
		struct flz_mixer_config c = mk_config(&r);
		c.speed = sp ? 1.37 : 1.0;
		struct flz_mixer *m = new_mixer_cfg(&c);
		const uint32_t ramp = 480, before = 1000, total = 3000;
		const double tol = sp ? 1e-4 : 1e-6;
		load(m, 0, dc_sample(100, 1.0f));
		play(m, 0, 1.0f);
		float *out = floats(total);
		render(m, out, before, 200);
		ck_assert_int_eq(flz_mixer_set_master_gain(m, 0.0f), 0);
		render(m, out + before * CH, total - before, 111);
		for (uint32_t i = 500; i < total; i++) {
			double expect = i < before ? 1.0
				       : i - before + 1 < ramp ? 1.0 - (double)(i - before + 1) / ramp
							       : 0.0;
			for (uint32_t ch = 0; ch < CH; ch++) {
				float x = out[i * CH + ch];
				if (expect == 0.0)
					ck_assert_msg(x == 0.0f, "speed %d frame %u: %g", sp, i, x);
				else
					ck_assert_msg(fabs(x - expect) <= tol, "speed %d frame %u: %g vs %g",
						      sp, i, x, expect);
				ck_assert_msg(fabs(x - out[(i - 1) * CH + ch]) <= 1.0 / ramp + tol,
					      "step at %u", i);
			}
		}
		/* Setting the same value again changes nothing. */
		ck_assert_int_eq(flz_mixer_set_master_gain(m, 0.0f), 0);
		render(m, out, 100, 100);
		ck_assert_float_eq(out[99 * CH], 0.0f);
		free(out);
		flz_mixer_destroy(m);
	}
}
END_TEST

TCase *mixer_case_gain(void)
{
	return mixer_tcase("mixer:gain", test_gain);
}

TCase *mixer_case_master(void)
{
	return mixer_tcase("mixer:master", test_master);
}
