/* SPDX-License-Identifier: MIT */
/* loader:channels, loader:channels-file: channel mapping. */
#include "loader-tests.h"

/* Run flz_loader_convert at equal rates and check every output sample. */
static void check_map(uint32_t n_in, uint32_t n_out, int64_t n_frames)
{
	float *x = malloc(sizeof(float) * (size_t)n_frames * n_in);
	flz_test_noise(x, (size_t)n_frames * n_in, 1.0, 7 + n_in * 16 + n_out);
	struct flz_loader *loader = make_loader(48000, n_out);
	struct flz_sample *s = SENTINEL;
	struct flz_frames in = { x, n_frames, n_in };
	ck_assert_int_eq(flz_loader_convert(loader, in, 48000, &s), 0);
	ck_assert_int_eq(s->n_frames, n_frames);
	ck_assert_uint_eq(s->n_channels, n_out);
	for (int64_t i = 0; i < n_frames; i++) {
		const float *src = x + i * n_in;
		for (uint32_t c = 0; c < n_out; c++) {
			double want;
			if (n_in == n_out) {
				want = src[c];
			} else if (n_in == 1) {
				want = src[0];
			} else if (n_out == 1) {
				want = 0;
				for (uint32_t k = 0; k < n_in; k++)
					want += src[k];
				want /= n_in;
			} else {
				want = c < n_in ? src[c] : 0.0;
			}
			double got = s->data[i * n_out + c];
			/* Tolerance: float rounding of a sum of up to 8 terms. */
			ck_assert_msg(fabs(got - want) <= 1e-6,
				      "%u->%u frame %lld ch %u: %.9g, want %.9g", n_in, n_out,
				      (long long)i, c, got, want);
		}
	}
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(x);
}

START_TEST(test_channels)
{
	check_map(1, 2, 5000);  /* mono to stereo */
	check_map(2, 1, 5000);  /* stereo to mono: average */
	check_map(2, 4, 5000);  /* stereo to 4: L R 0 0 */
	check_map(1, 8, 4097);  /* mono to N */
	check_map(3, 1, 4096);  /* N to mono: average */
	check_map(6, 2, 4095);  /* M to N: first N */
	check_map(4, 6, 1);     /* M to N > M: copy, then silence */
	check_map(2, 2, 8193);  /* equal */

	/* Exact values for the documented rules, by hand. */
	const float st[4] = { 0.5f, -0.25f, 1.0f, 0.0f };
	struct flz_loader *loader = make_loader(48000, 1);
	struct flz_sample *s = SENTINEL;
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ st, 2, 2 }, 48000, &s), 0);
	ck_assert_float_eq(s->data[0], 0.125f);
	ck_assert_float_eq(s->data[1], 0.5f);
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	loader = make_loader(48000, 4);
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ st, 2, 2 }, 48000, &s), 0);
	const float want[8] = { 0.5f, -0.25f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f };
	ck_assert_int_eq(memcmp(s->data, want, sizeof(want)), 0);
	flz_sample_unref(s);
	flz_loader_destroy(loader);
}
END_TEST

START_TEST(test_channels_file)
{
	/* The same rules through the file path with conversion: a stereo
	 * 44.1 kHz file loaded as mono equals converting its average. */
	enum { N = 20000 };
	float *x = malloc(sizeof(float) * N * 2);
	float *avg = malloc(sizeof(float) * N);
	flz_test_sine(x, N, 2, 440.0, 44100.0, 0.5, 1.0);
	for (size_t i = 0; i < N; i++)
		avg[i] = (x[2 * i] + x[2 * i + 1]) * 0.5f;
	const char *path = tmp_path("stereo.wav");
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, x, N);

	struct flz_loader *mono = make_loader(48000, 1);
	struct flz_sample *a = load_ok(mono, path), *b = SENTINEL;
	ck_assert_int_eq(flz_loader_convert(mono, (struct flz_frames){ avg, N, 1 }, 44100, &b), 0);
	ck_assert_int_eq(a->n_frames, b->n_frames);
	size_t at;
	double d = flz_test_max_diff(a->data, b->data, (size_t)a->n_frames, &at);
	ck_assert_msg(d <= 1e-6, "mono from file vs converted average differ by %g at %zu", d, at);
	flz_sample_unref(a);
	flz_sample_unref(b);
	flz_loader_destroy(mono);

	/* Stereo file into 4 channels with conversion: 0,1 follow the
	 * stereo load, 2 and 3 are silent. */
	struct flz_loader *st = make_loader(48000, 2), *quad = make_loader(48000, 4);
	a = load_ok(st, path);
	b = load_ok(quad, path);
	ck_assert_int_eq(a->n_frames, b->n_frames);
	for (int64_t i = 0; i < a->n_frames; i++) {
		ck_assert_float_eq_tol(b->data[4 * i], a->data[2 * i], 1e-7);
		ck_assert_float_eq_tol(b->data[4 * i + 1], a->data[2 * i + 1], 1e-7);
		ck_assert_float_eq(b->data[4 * i + 2], 0.0f);
		ck_assert_float_eq(b->data[4 * i + 3], 0.0f);
	}
	flz_sample_unref(a);
	flz_sample_unref(b);
	flz_loader_destroy(st);
	flz_loader_destroy(quad);
	free(x);
	free(avg);
}
END_TEST

TCase *loader_case_channels(void)
{
	return loader_tcase("loader:channels", test_channels);
}

TCase *loader_case_channels_file(void)
{
	return loader_tcase("loader:channels-file", test_channels_file);
}
