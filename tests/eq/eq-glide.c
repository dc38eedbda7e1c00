/* SPDX-License-Identifier: MIT */
/* eq: glides, the bypass crossfade, reset, and block-split invariance. */
#include "eq-tests.h"

/*
 * The zipper bound. A tone of amplitude a at f under a gain g(t) moving by
 * at most d per frame changes by at most
 *     a x gmax x 2 sin(pi f / fs)  +  a x d
 * from one frame to the next (the tone's own largest step plus the gain's).
 * A glide of the whole range over N frames has d = 1 / N; a crossfade
 * between two versions of the tone (each of amplitude <= a) moves their
 * difference (<= 2a) by 1 / N per frame. The bound allows 2 % for the
 * bands' ripple (a band's amplitude is within 0.2 dB of a at the tones
 * used) and 1e-6 for rounding. A step of the gain (a click) shows as a
 * jump of up to a x |change|: 100 times this bound at 1 kHz.
 */
static double zipper_bound(double amp, double gmax, double f, double fs, double per_frame)
{
	return 1.02 * amp * (gmax * 2.0 * sin(M_PI * f / fs) + per_frame) + 1e-6;
}

/*
 * The envelope of a tone at exactly fs / 4: two consecutive samples of
 * A sin(pi t / 2 + phi) are A sin and A cos of one angle, so
 * sqrt(y[t]^2 + y[t-1]^2) is A itself, whatever the phase; with A moving,
 * it lies between A[t-1] and A[t], so its steps are bounded by
 * |A[t] - A[t-2]|. Largest step over frames from..to-1.
 */
static double quarter_env_max_step(const float *x, size_t from, size_t to)
{
	double worst = 0.0, prev = -1.0;
	for (size_t t = from < 1 ? 1 : from; t < to; t++) {
		double e = sqrt((double)x[t] * x[t] + (double)x[t - 1] * x[t - 1]);
		if (prev >= 0.0 && fabs(e - prev) > worst)
			worst = fabs(e - prev);
		prev = e;
	}
	return worst;
}

/*
 * Process a mono tone: for each band in turn, 0 -> -60 dB (a kill) then
 * back to 0, the tone at the band's centre, glide_frames N; the largest
 * frame-to-frame step over the whole run must stay under zipper_bound(
 * d = 1 / N). The same run with a one-frame "glide" must break the bound
 * (at one of four switch times a quarter period apart, one finds the tone
 * near its peak): the measure sees a click. The high band's tone at 16 kHz
 * moves by up to 1.5 x its amplitude per frame on its own, which would hide
 * any click, so that band is measured on its envelope instead: a tone at
 * fs / 4 (11025, 12000, 24000 Hz, well inside the band) whose envelope
 * (quarter_env_max_step()) may step by at most 1.02 x a x 2 / N + 1e-6.
 */
static double glide_run(uint32_t fs, int band, double f, uint32_t glide, size_t switch_at,
			bool envelope)
{
	struct flz_eq eq = make_eq(fs, 1, 0, 0, 0, true, glide);
	const double amp = 0.5;
	size_t n = fs / 2;
	float *x = malloc(n * sizeof(float));
	ck_assert_ptr_nonnull(x);
	flz_test_sine(x, n, 1, f, fs, amp, 0.0);
	/* Leave the bypass first, so that only the gain moves in the run. */
	double g[FLZ_EQ_N_BANDS] = { 0, 0, 0 };
	g[band] = -1e-9;
	ck_assert_int_eq(flz_eq_set_gains(&eq, g), 0);
	eq_run(&eq, x, switch_at);
	g[band] = FLZ_EQ_GAIN_DB_MIN;
	ck_assert_int_eq(flz_eq_set_gains(&eq, g), 0);
	size_t back = switch_at + fs / 8;
	eq_run(&eq, x + switch_at, back - switch_at);
	g[band] = -1e-9;
	ck_assert_int_eq(flz_eq_set_gains(&eq, g), 0);
	eq_run(&eq, x + back, n - back);
	double worst = envelope ? quarter_env_max_step(x, switch_at, n) : eq_max_step(x, switch_at, n, 1);
	free(x);
	return worst;
}

START_TEST(test_glide)
{
	static const double freq[FLZ_EQ_N_BANDS] = { 62.5, 1000.0, 16000.0 };
	for (size_t r = 0; r < 3; r++) {
		uint32_t fs = eq_test_rates[r];
		uint32_t n = (fs * FLZ_EQ_GLIDE_MS_DEFAULT + 500u) / 1000u;
		for (int b = 0; b < FLZ_EQ_N_BANDS; b++) {
			/* Past the settling of the filters (0.1 s). */
			size_t at = fs / 10;
			bool env = b == FLZ_EQ_BAND_HIGH;
			double f = env ? fs / 4.0 : freq[b];
			double bound = env ? 1.02 * 0.5 * 2.0 / n + 1e-6
					   : zipper_bound(0.5, 1.0, f, fs, 1.0 / n);
			double smooth = glide_run(fs, b, f, 0, at, env);
			ck_assert_msg(smooth <= bound, "%u Hz band %d: step %.6f > bound %.6f", fs, b,
				      smooth, bound);
			double click = 0.0;
			for (int q = 0; q < 4; q++) {
				size_t off = (size_t)((double)q * fs / f / 4.0);
				double s = glide_run(fs, b, f, 1, at + off, env);
				if (s > click)
					click = s;
			}
			fprintf(stderr, "# %u Hz band %d at %.1f Hz: glide step %.5f (bound %.5f), "
				"one-frame glide %.5f\n", fs, b, f, smooth, bound, click);
			ck_assert_msg(click > bound, "%u Hz band %d: a click (%.6f) within %.6f",
					      fs, b, click, bound);
		}
	}
}
END_TEST

/*
 * Entering and leaving the bypass: from (0, 0, 0) bypassed to a low kill and
 * back, a 250 Hz tone (where the bank turns the phase by 180 degrees, the
 * worst case for the crossfade), glide and crossfade of glide frames, the
 * kill set at frame fs / 10 + shift. The output is the input bit for bit
 * before, and again from the frame the bypass is reached (2 x glide - 1
 * frames after (0, 0, 0) is set, not one earlier); returns the largest
 * frame-to-frame step.
 */
static double bypass_run(uint32_t fs, uint32_t glide, size_t shift)
{
	const double amp = 0.5, f = 250.0;
	size_t n = fs;
	float *x = malloc(n * sizeof(float));
	float *ref = malloc(n * sizeof(float));
	ck_assert(x && ref);
	flz_test_sine(x, n, 1, f, fs, amp, 0.0);
	memcpy(ref, x, n * sizeof(float));
	struct flz_eq eq = make_eq(fs, 1, 0, 0, 0, true, glide);
	size_t out_at = fs / 10 + shift, back_at = fs / 2;
	eq_run(&eq, x, out_at);
	ck_assert(flz_eq_bypassed(&eq));
	const double kill[FLZ_EQ_N_BANDS] = { -60, 0, 0 };
	const double flat[FLZ_EQ_N_BANDS] = { 0, 0, 0 };
	ck_assert_int_eq(flz_eq_set_gains(&eq, kill), 0);
	eq_run(&eq, x + out_at, back_at - out_at);
	ck_assert(!flz_eq_bypassed(&eq));
	ck_assert_int_eq(flz_eq_set_gains(&eq, flat), 0);
	/* The crossfade's first frame is the glide's last, where the gains
	 * reach unity. */
	size_t settled = back_at + 2 * (size_t)eq.glide_frames - 1;
	eq_run(&eq, x + back_at, settled - 1 - back_at);
	ck_assert(!flz_eq_bypassed(&eq));
	eq_run(&eq, x + settled - 1, 1);
	ck_assert(flz_eq_bypassed(&eq));
	eq_run(&eq, x + settled, n - settled);
	/* Dry before, dry after. */
	ck_assert_int_eq(memcmp(x, ref, out_at * sizeof(float)), 0);
	ck_assert_int_eq(memcmp(x + settled, ref + settled, (n - settled) * sizeof(float)), 0);
	/* And something happened in between. */
	ck_assert(flz_test_max_diff(x + out_at, ref + out_at, back_at - out_at, NULL) > 0.1);
	double worst = eq_max_step(x, 1, n, 1);
	free(x);
	free(ref);
	return worst;
}

/*
 * The bypass crossfades have no click: the largest step stays under the
 * zipper bound with d = 3 / N (the crossfade moves the difference between
 * bank and input, <= 2a, by 1 / N per frame while the gain moves its band,
 * <= a, by up to 1 / N in the same frame), N the default glide. The same run
 * with one-frame glide and crossfade breaks that bound (at one of four
 * switch times a quarter period apart): the measure sees a click.
 */
START_TEST(test_bypass_fade)
{
	for (size_t r = 0; r < 3; r++) {
		uint32_t fs = eq_test_rates[r];
		uint32_t n_glide = (fs * FLZ_EQ_GLIDE_MS_DEFAULT + 500u) / 1000u;
		const double amp = 0.5, f = 250.0;
		double bound = zipper_bound(amp, 1.0, f, fs, 3.0 / n_glide);
		double worst = bypass_run(fs, 0, 0);
		double click = 0.0;
		for (int q = 0; q < 4; q++) {
			double s = bypass_run(fs, 1, (size_t)((double)q * fs / f / 4.0));
			if (s > click)
				click = s;
		}
		fprintf(stderr, "# %u Hz: through the bypass crossfades the largest step is %.5f (bound %.5f, "
		       "the tone's own %.5f; with a one-frame crossfade %.5f)\n",
		       fs, worst, bound, amp * 2.0 * sin(M_PI * f / fs), click);
		ck_assert_double_le(worst, bound);
		ck_assert_double_gt(click, bound);
	}
}
END_TEST

/*
 * After reset the output equals a fresh EQ's (initialised with the gains
 * last set) bit for bit, whatever the state was: mid-glide, mid-crossfade,
 * with full memories; for a few gain sets, with and without the exact
 * bypass, stereo and 8 channels.
 */
START_TEST(test_reset)
{
	static const double sets[][FLZ_EQ_N_BANDS] = {
		{ 0, 0, 0 }, { -60, 3, -6 }, { 6, -60, 6 }, { -60, -60, -60 },
	};
	static const uint32_t channels[] = { 2, 8 };
	for (size_t c = 0; c < 2; c++) {
		uint32_t n_ch = channels[c];
		size_t n = 4800;
		float *used = malloc(n * n_ch * sizeof(float));
		float *fresh = malloc(n * n_ch * sizeof(float));
		ck_assert(used && fresh);
		for (size_t s = 0; s < 4; s++) {
			for (int bypass = 0; bypass < 2; bypass++) {
				struct flz_eq eq = make_eq(48000, n_ch, -6, 0, 6, bypass, 0);
				flz_test_noise(used, n * n_ch, 0.9, 5);
				eq_run(&eq, used, n);
				/* Set the gains, then stop halfway through the glide. */
				ck_assert_int_eq(flz_eq_set_gains(&eq, sets[s]), 0);
				eq_run(&eq, used, 240);
				flz_eq_reset(&eq);
				struct flz_eq clean = make_eq(48000, n_ch, sets[s][0], sets[s][1], sets[s][2],
							      bypass, 0);
				ck_assert_int_eq(memcmp(&eq, &clean, sizeof(eq)), 0);
				flz_test_noise(used, n * n_ch, 0.9, 6);
				memcpy(fresh, used, n * n_ch * sizeof(float));
				eq_run(&eq, used, n);
				eq_run(&clean, fresh, n);
				ck_assert_int_eq(memcmp(used, fresh, n * n_ch * sizeof(float)), 0);
			}
		}
		free(used);
		free(fresh);
	}
}
END_TEST

/*
 * Block splits never change the output: the same noise and the same gain
 * changes (at the same frames: mid-glide, during crossfades, into and out of
 * the bypass) rendered in one call per change and in blocks of 0, 1, odd and
 * varying sizes give the same bytes, at 44.1/48/96 kHz with 1, 2 and 8
 * channels.
 */
START_TEST(test_split)
{
	static const double sets[][FLZ_EQ_N_BANDS] = {
		{ -60, 0, 0 }, { 0, 0, 0 }, { 3, -60, -6 }, { 0, 0, 0 }, { 6, 6, 6 }, { -60, -60, -60 },
	};
	/* Frames at which each set is applied (some mid-glide, mid-crossfade). */
	static const size_t when[] = { 100, 2000, 2333, 3100, 3500, 7000 };
	static const uint32_t channels[] = { 1, 2, 8 };
	static const size_t blocks[] = { 0, 1, 7, 64, 0, 1, 255, 1000 };
	for (size_t r = 0; r < 3; r++) {
		for (size_t c = 0; c < 3; c++) {
			uint32_t fs = eq_test_rates[r], n_ch = channels[c];
			size_t n = 12000;
			float *a = malloc(n * n_ch * sizeof(float));
			float *b = malloc(n * n_ch * sizeof(float));
			ck_assert(a && b);
			flz_test_noise(a, n * n_ch, 0.9, 11);
			memcpy(b, a, n * n_ch * sizeof(float));
			struct flz_eq ea = make_eq(fs, n_ch, 0, 0, 0, true, 0);
			struct flz_eq eb = ea;
			size_t at = 0;
			for (size_t k = 0; k <= 6; k++) {
				size_t end = k < 6 ? when[k] : n;
				eq_run(&ea, a + at * n_ch, end - at);
				at = end;
				if (k < 6)
					ck_assert_int_eq(flz_eq_set_gains(&ea, sets[k]), 0);
			}
			at = 0;
			size_t bi = 0;
			for (size_t k = 0; k <= 6; k++) {
				size_t end = k < 6 ? when[k] : n;
				while (at < end) {
					size_t len = blocks[bi++ % 8];
					if (len > end - at)
						len = end - at;
					eq_run(&eb, len ? b + at * n_ch : NULL, len);
					at += len;
				}
				if (k < 6)
					ck_assert_int_eq(flz_eq_set_gains(&eb, sets[k]), 0);
			}
			ck_assert_int_eq(memcmp(a, b, n * n_ch * sizeof(float)), 0);
			ck_assert_int_eq(memcmp(&ea, &eb, sizeof(ea)), 0);
			free(a);
			free(b);
		}
	}
}
END_TEST

TCase *eq_case_glide(void)
{
	return eq_tcase("eq:glide", test_glide);
}

TCase *eq_case_bypass_fade(void)
{
	return eq_tcase("eq:bypass-fade", test_bypass_fade);
}

TCase *eq_case_reset(void)
{
	return eq_tcase("eq:reset", test_reset);
}

TCase *eq_case_split(void)
{
	return eq_tcase("eq:split", test_split);
}
