/* SPDX-License-Identifier: MIT */
/* eq: the exact bypass, the kills, the flat sum and the band gains. */
#include <complex.h>

#include "eq-tests.h"

/* At (0, 0, 0) with the exact bypass the output is the input, bit for bit:
 * noise through 1, 2 and 8 channels in blocks of 0, 1, an odd count and a
 * large one. The bank runs meanwhile (its memories move), but no sample is
 * written. */
START_TEST(test_neutral)
{
	static const uint32_t channels[] = { 1, 2, 8 };
	static const size_t blocks[] = { 0, 1, 333, 48000 };
	for (size_t r = 0; r < 3; r++) {
		for (size_t c = 0; c < 3; c++) {
			uint32_t n_ch = channels[c];
			struct flz_eq eq = make_eq(eq_test_rates[r], n_ch, 0, 0, 0, true, 0);
			ck_assert(flz_eq_bypassed(&eq));
			size_t n = 0;
			for (size_t b = 0; b < 4; b++)
				n += blocks[b];
			float *x = malloc(n * n_ch * sizeof(float));
			float *ref = malloc(n * n_ch * sizeof(float));
			ck_assert(x && ref);
			flz_test_noise(x, n * n_ch, 0.9, 17u + (uint32_t)c);
			memcpy(ref, x, n * n_ch * sizeof(float));
			size_t at = 0;
			for (size_t b = 0; b < 4; b++) {
				eq_run(&eq, blocks[b] ? x + at * n_ch : NULL, blocks[b]);
				at += blocks[b];
			}
			ck_assert_int_eq(memcmp(x, ref, n * n_ch * sizeof(float)), 0);
			ck_assert(flz_eq_bypassed(&eq));
			ck_assert_uint_eq(flz_eq_latency_frames(&eq), 0);
			/* The bank did run: its state is warm for the way out. */
			ck_assert(eq.mem[0][0][0] != 0.0);
			free(x);
			free(ref);
		}
	}
}
END_TEST

/*
 * Kills, steady state, at 44.1, 48 and 96 kHz (16 kHz needs > 32 kHz).
 * Low kill: 60 Hz at least 45 dB down (LR4 gives 49.6), 16 kHz within
 * 0.5 dB. High kill: 16 kHz at least 45 dB down (48.9..69.7, the bilinear
 * zero at Nyquist helping at low rates), 60 Hz within 0.5 dB. Mid kill:
 * 1 kHz, two octaves from each crossover, where both LR4 skirts are 48 dB
 * down and add nearly in phase: LR4 gives 42.3..42.7 dB here, so the bound
 * is 42 dB (not 45); 60 Hz and 16 kHz within 0.5 dB.
 */
START_TEST(test_kills)
{
	for (size_t r = 0; r < 3; r++) {
		uint32_t fs = eq_test_rates[r];
		double lo60 = eq_tone_gain_db(fs, -60, 0, 0, true, 60);
		double lo16k = eq_tone_gain_db(fs, -60, 0, 0, true, 16000);
		double hi16k = eq_tone_gain_db(fs, 0, 0, -60, true, 16000);
		double hi60 = eq_tone_gain_db(fs, 0, 0, -60, true, 60);
		double mid1k = eq_tone_gain_db(fs, 0, -60, 0, true, 1000);
		double mid60 = eq_tone_gain_db(fs, 0, -60, 0, true, 60);
		double mid16k = eq_tone_gain_db(fs, 0, -60, 0, true, 16000);
		fprintf(stderr, "# %u Hz: low kill 60 Hz %.2f dB, 16 kHz %.4f dB; high kill 16 kHz %.2f dB, "
		       "60 Hz %.4f dB; mid kill 1 kHz %.2f dB, 60 Hz %.4f dB, 16 kHz %.4f dB\n",
		       fs, lo60, lo16k, hi16k, hi60, mid1k, mid60, mid16k);
		ck_assert_double_le(lo60, -45.0);
		ck_assert_double_le(fabs(lo16k), 0.5);
		ck_assert_double_le(hi16k, -45.0);
		ck_assert_double_le(fabs(hi60), 0.5);
		ck_assert_double_le(mid1k, -42.0);
		ck_assert_double_le(fabs(mid60), 0.5);
		ck_assert_double_le(fabs(mid16k), 0.5);
	}
}
END_TEST

/* |H(f)| of an impulse response by its DFT at f. */
static double ir_mag(const float *h, size_t n, double f_norm)
{
	double complex acc = 0;
	for (size_t k = 0; k < n; k++)
		acc += (double)h[k] * cexp(-I * 2.0 * M_PI * f_norm * (double)k);
	return cabs(acc);
}

/*
 * The bank itself (exact bypass off) at (0, 0, 0) sums flat: the DFT of its
 * impulse response is within 0.1 dB of 0 dB at 200 frequencies spaced
 * logarithmically over 20 Hz..20 kHz (up to 0.45 x rate at 8 kHz), at 8,
 * 44.1, 48, 96 and 192 kHz. The response is 2^15 frames long: at 192 kHz
 * 170 ms, some 190 time constants of the slowest pole (0.9 ms, at 250 Hz),
 * so nothing of it is cut off at float precision. It must not be the identity:
 * the phase turns (at 250 Hz by 180 degrees), which is what tells this from
 * the exact bypass.
 */
START_TEST(test_flat)
{
	static const uint32_t rates[] = { 8000, 44100, 48000, 96000, 192000 };
	const size_t n = 1u << 15;
	float *h = calloc(n, sizeof(float));
	ck_assert_ptr_nonnull(h);
	for (size_t r = 0; r < 5; r++) {
		uint32_t fs = rates[r];
		struct flz_eq eq = make_eq(fs, 1, 0, 0, 0, false, 0);
		ck_assert(!flz_eq_bypassed(&eq));
		memset(h, 0, n * sizeof(float));
		h[0] = 1.0f;
		eq_run(&eq, h, n);
		double f_top = fmin(20000.0, 0.45 * fs), worst = 0.0;
		for (int i = 0; i < 200; i++) {
			double f = 20.0 * pow(f_top / 20.0, i / 199.0);
			double dev = fabs(flz_test_db(ir_mag(h, n, f / fs)));
			if (dev > worst)
				worst = dev;
		}
		fprintf(stderr, "# %u Hz: bank at (0, 0, 0) flat within %.2e dB, 20 Hz..%.0f Hz\n", fs, worst,
		       f_top);
		ck_assert_double_le(worst, 0.1);
		ck_assert(fabsf(h[0] - 1.0f) > 1e-3f);
	}
	free(h);
}
END_TEST

/*
 * A band at -6 and +6 dB gives that gain within 0.1 dB two octaves from the
 * crossovers: low at 62.5 Hz, mid at 1 kHz, high at 16 kHz (LR4's own error
 * there: up to 0.07 dB, the other bands' skirts).
 */
START_TEST(test_band_gain)
{
	static const double freq[FLZ_EQ_N_BANDS] = { 62.5, 1000.0, 16000.0 };
	static const double gains[] = { -6.0, 6.0 };
	for (size_t r = 0; r < 3; r++) {
		uint32_t fs = eq_test_rates[r];
		for (int b = 0; b < FLZ_EQ_N_BANDS; b++) {
			for (size_t k = 0; k < 2; k++) {
				double g[FLZ_EQ_N_BANDS] = { 0, 0, 0 };
				g[b] = gains[k];
				double got = eq_tone_gain_db(fs, g[0], g[1], g[2], true, freq[b]);
				ck_assert_msg(fabs(got - gains[k]) <= 0.1,
					      "%u Hz band %d at %.0f dB: %.3f dB at %.1f Hz", fs, b,
					      gains[k], got, freq[b]);
			}
		}
	}
}
END_TEST

TCase *eq_case_neutral(void)
{
	return eq_tcase("eq:neutral", test_neutral);
}

TCase *eq_case_kills(void)
{
	return eq_tcase("eq:kills", test_kills);
}

TCase *eq_case_flat(void)
{
	return eq_tcase("eq:flat", test_flat);
}

TCase *eq_case_band_gain(void)
{
	return eq_tcase("eq:band-gain", test_band_gain);
}
