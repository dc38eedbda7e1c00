/* SPDX-License-Identifier: MIT */
/* loader:src, loader:src-band, loader:src-lengths: rate conversion. */
#include "loader-tests.h"

START_TEST(test_src_sine)
{
	/* 2 s of a 1 kHz sine at -6 dBFS, 44.1 kHz stereo, to 48 kHz. */
	enum { N = 88200 };
	const double f = 1000.0, amp = 0.5;
	float *x = malloc(sizeof(float) * N * 2);
	flz_test_sine(x, N, 2, f, 44100.0, amp, 0.5);
	const char *path = tmp_path("sine44k.wav");
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, x, N);

	struct flz_loader *loader = make_loader(48000, 2);
	struct flz_sample *s = load_ok(loader, path);
	/* Length: round(N * 48000 / 44100) = 96000 exactly. */
	ck_assert_int_eq(s->n_frames, 96000);
	for (unsigned c = 0; c < 2; c++) {
		double a, res;
		analyse(s, c, f, &a, &res);
		double freq = measure_freq_hz(s, c, f);
		printf("loader:src 44.1k->48k ch%u: amplitude error %.6f dB, frequency error %.3g Hz, "
		       "residual %.1f dBc\n",
		       c, flz_test_db(a / amp), freq - f, res);
		/* Tolerances: amplitude 0.1 dB (the contract; measured ~1e-5),
		 * frequency 0.01 Hz, everything else 100 dB down. */
		ck_assert_msg(fabs(flz_test_db(a / amp)) < 0.1, "amplitude %g", a);
		ck_assert_msg(fabs(freq - f) < 0.01, "frequency %.6f Hz", freq);
		ck_assert_msg(res < -100.0, "residual %.1f dBc", res);
	}
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(x);
}
END_TEST

START_TEST(test_src_band)
{
	/* Passband: 20 kHz (below 91% of 22.05 kHz) survives 44.1k->48k within
	 * 0.01 dB. Stopband: 23 kHz cannot exist at 44.1 kHz; 48k->44.1k must
	 * remove it, not fold it to 21.1 kHz. */
	enum { N = 48000 };
	float *x = malloc(sizeof(float) * N);
	struct flz_loader *up = make_loader(48000, 1), *down = make_loader(44100, 1);
	struct flz_sample *s = SENTINEL;

	flz_test_sine(x, N, 1, 20000.0, 44100.0, 0.5, 0.0);
	ck_assert_int_eq(flz_loader_convert(up, (struct flz_frames){ x, N, 1 }, 44100, &s), 0);
	double a, res;
	analyse(s, 0, 20000.0, &a, &res);
	printf("loader:src passband 20 kHz: %.5f dB, residual %.1f dBc\n", flz_test_db(a / 0.5),
	       res);
	ck_assert_msg(fabs(flz_test_db(a / 0.5)) < 0.01, "20 kHz gain %g dB", flz_test_db(a / 0.5));
	ck_assert_msg(res < -90.0, "residual %.1f dBc", res);
	flz_sample_unref(s);

	flz_test_sine(x, N, 1, 23000.0, 48000.0, 0.5, 0.0);
	ck_assert_int_eq(flz_loader_convert(down, (struct flz_frames){ x, N, 1 }, 48000, &s), 0);
	size_t skip = (size_t)s->n_frames / 10;
	double power = 0;
	for (size_t i = skip; i < (size_t)s->n_frames - skip; i++)
		power += (double)s->data[i] * s->data[i];
	power /= (double)s->n_frames - 2.0 * skip;
	double rejection_db = 10.0 * log10(power / (0.5 * 0.5 / 2.0) + 1e-300);
	printf("loader:src stopband 23 kHz at 48k->44.1k: %.1f dB\n", rejection_db);
	ck_assert_msg(rejection_db < -120.0, "23 kHz leaks at %.1f dB", rejection_db);
	flz_sample_unref(s);

	flz_loader_destroy(up);
	flz_loader_destroy(down);
	free(x);
}
END_TEST

START_TEST(test_src_lengths)
{
	/* Output length is round(n * out / in) for odd sizes and chunk edges,
	 * and a constant stays that constant (DC gain exactly 1 in the middle). */
	static const int64_t sizes[] = { 1, 2, 3, 441, 4095, 4096, 4097, 12345 };
	struct flz_loader *loader = make_loader(48000, 1);
	float *x = malloc(sizeof(float) * 12345);
	for (size_t i = 0; i < 12345; i++)
		x[i] = 0.25f;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct flz_sample *s = SENTINEL;
		ck_assert_int_eq(
			flz_loader_convert(loader, (struct flz_frames){ x, sizes[k], 1 }, 44100, &s),
			0);
		int64_t want = llround((double)sizes[k] * 48000.0 / 44100.0);
		ck_assert_msg(llabs(s->n_frames - want) <= 1, "%lld frames -> %lld, want %lld",
			      (long long)sizes[k], (long long)s->n_frames, (long long)want);
		if (sizes[k] > 4000) {
			float mid = s->data[s->n_frames / 2];
			ck_assert_msg(fabsf(mid - 0.25f) < 1e-5f, "DC %g", mid);
		}
		flz_sample_unref(s);
	}
	flz_loader_destroy(loader);
	free(x);
}
END_TEST

TCase *loader_case_src(void)
{
	return loader_tcase("loader:src", test_src_sine);
}

TCase *loader_case_src_band(void)
{
	return loader_tcase("loader:src-band", test_src_band);
}

TCase *loader_case_src_lengths(void)
{
	return loader_tcase("loader:src-lengths", test_src_lengths);
}
