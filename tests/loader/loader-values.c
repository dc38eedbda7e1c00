/* SPDX-License-Identifier: MIT */
/* loader:nonfinite, loader:overflow: NaN and infinities replaced and counted, all finite after conversion. */
#include "loader-tests.h"

/* A float file's bad values: the value at frame i, channel c. Frames 100..103
 * carry NaN, +Inf, -Inf and 8.0 on every channel; one more NaN and -Inf
 * sit on channel 1 only; the rest is noise within +-0.5. */
enum { BAD_N = 20011, BAD_CH = 2 };

static float *bad_values(void)
{
	float *x = malloc(sizeof(float) * BAD_N * BAD_CH);
	ck_assert_ptr_nonnull(x);
	flz_test_noise(x, BAD_N * BAD_CH, 0.5, 4242);
	for (int c = 0; c < BAD_CH; c++) {
		x[100 * BAD_CH + c] = NAN;
		x[101 * BAD_CH + c] = INFINITY;
		x[102 * BAD_CH + c] = -INFINITY;
		x[103 * BAD_CH + c] = 8.0f;
	}
	x[15000 * BAD_CH + 1] = -NAN;
	x[BAD_N * BAD_CH - 1] = -INFINITY; /* the very last sample */
	return x;
}

/* The value the loader must make of a source value. */
static float sanitized(float v)
{
	if (isnan(v))
		return 0.0f;
	if (isinf(v))
		return v > 0 ? 1.0f : -1.0f;
	return v;
}

static void check_replaced(const struct flz_loader *loader, uint64_t n_nan, uint64_t n_pos,
			   uint64_t n_neg)
{
	struct flz_loader_replaced r;
	memset(&r, 0xff, sizeof(r));
	flz_loader_get_replaced(loader, &r);
	ck_assert_uint_eq(r.n_nan, n_nan);
	ck_assert_uint_eq(r.n_pos_inf, n_pos);
	ck_assert_uint_eq(r.n_neg_inf, n_neg);
	ck_assert_uint_eq(r.n_overflow, 0);
}

static void check_all_finite(const struct flz_sample *s, float bound)
{
	for (int64_t i = 0; i < s->n_frames * (int64_t)s->n_channels; i++)
		ck_assert_msg(isfinite(s->data[i]) && fabsf(s->data[i]) <= bound,
			      "sample %lld is %g", (long long)i, s->data[i]);
}

START_TEST(test_nonfinite)
{
	float *x = bad_values();
	const char *path = tmp_path("bad.wav");
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, BAD_CH, x, BAD_N);

	/* Same rate and channels (the decoder writes straight into the
	 * sample): exactly the source with the replacements, 8.0 kept. */
	struct flz_loader *loader = make_loader(48000, BAD_CH);
	struct flz_sample *s = load_ok(loader, path);
	ck_assert_int_eq(s->n_frames, BAD_N);
	for (int64_t i = 0; i < BAD_N * BAD_CH; i++)
		ck_assert_msg(s->data[i] == sanitized(x[i]), "sample %lld: %g from %g",
			      (long long)i, s->data[i], x[i]);
	ck_assert(s->data[100 * BAD_CH] == 0.0f && s->data[101 * BAD_CH] == 1.0f &&
		  s->data[102 * BAD_CH] == -1.0f && s->data[103 * BAD_CH] == 8.0f);
	check_replaced(loader, 3, 2, 3);
	flz_sample_unref(s);

	/* From memory: the same counts. */
	size_t n_bytes;
	unsigned char *bytes = read_bytes(path, &n_bytes);
	s = SENTINEL;
	ck_assert_int_eq(flz_loader_load_memory(loader, bytes, n_bytes, &s), 0);
	check_replaced(loader, 3, 2, 3);
	ck_assert(s->data[103 * BAD_CH + 1] == 8.0f);
	flz_sample_unref(s);

	/* A failed load forgets the counts. */
	s = SENTINEL;
	ck_assert_int_eq(flz_loader_load_file(loader, tmp_path("missing.wav"), &s), -ENOENT);
	ck_assert_ptr_eq(s, SENTINEL);
	check_replaced(loader, 0, 0, 0);
	flz_loader_destroy(loader);

	/* Mono (the average of two channels, where one Inf would make the
	 * whole frame Inf and Inf - Inf a NaN): counted per source sample,
	 * replaced before the average. */
	loader = make_loader(48000, 1);
	s = load_ok(loader, path);
	for (int64_t i = 0; i < BAD_N; i++) {
		float want = (sanitized(x[2 * i]) + sanitized(x[2 * i + 1])) * 0.5f;
		ck_assert_msg(fabsf(s->data[i] - want) <= 1e-6f, "frame %lld: %g, want %g",
			      (long long)i, s->data[i], want);
	}
	check_replaced(loader, 3, 2, 3);
	flz_sample_unref(s);
	flz_loader_destroy(loader);

	/* Through the rate converter and to more channels: all finite (a NaN
	 * fed to the filter would spread over its whole length), the 8.0
	 * survives as a peak well above 1, and the noise far from the bad
	 * frames comes through. */
	loader = make_loader(44100, 4);
	s = load_ok(loader, path);
	check_replaced(loader, 3, 2, 3);
	check_all_finite(s, 16.0f);
	float peak = 0.0f;
	for (int64_t i = 80; i < 110; i++)
		peak = fmaxf(peak, fabsf(s->data[i * 4]));
	ck_assert_msg(peak > 4.0f, "the 8.0 is gone (peak %g)", peak);
	ck_assert(s->data[5000 * 4] != 0.0f && s->data[5000 * 4 + 2] == 0.0f);
	flz_sample_unref(s);
	flz_loader_destroy(loader);

	/* flz_loader_convert(): the same replacement, the caller's frames untouched. */
	loader = make_loader(48000, BAD_CH);
	s = SENTINEL;
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ x, BAD_N, BAD_CH }, 48000,
					    &s),
			 0);
	check_replaced(loader, 3, 2, 3);
	ck_assert(isnan(x[100 * BAD_CH]) && isinf(x[101 * BAD_CH]));
	for (int64_t i = 0; i < BAD_N * BAD_CH; i++)
		ck_assert(s->data[i] == sanitized(x[i]));
	flz_sample_unref(s);
	s = SENTINEL;
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ x, BAD_N, BAD_CH }, 32000,
					    &s),
			 0);
	check_replaced(loader, 3, 2, 3);
	check_all_finite(s, 16.0f);
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(bytes);
	free(x);
}
END_TEST

START_TEST(test_overflow)
{
	/* Finite but near the float range's end: a square wave whose every
	 * edge the filter overshoots (Gibbs, ~9%) beyond FLT_MAX. Every output
	 * is finite and the replacements are counted apart from the source's. */
	enum { N = 4000 };
	float *x = malloc(sizeof(float) * N);
	for (int i = 0; i < N; i++)
		x[i] = ((i / 200) & 1) ? -3.4e38f : 3.4e38f;
	struct flz_loader *loader = make_loader(48000, 1);
	struct flz_sample *s = SENTINEL;
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ x, N, 1 }, 44100, &s), 0);
	struct flz_loader_replaced r;
	flz_loader_get_replaced(loader, &r);
	ck_assert_uint_eq(r.n_nan + r.n_pos_inf + r.n_neg_inf, 0);
	/* The replaced values are the only ones within +-1: everything else
	 * is of the order of 1e38, or the steps' zero crossings (>= 1e12). */
	uint64_t n_unit = 0;
	for (int64_t i = 0; i < s->n_frames; i++) {
		ck_assert(isfinite(s->data[i]));
		n_unit += fabsf(s->data[i]) <= 1.0f;
	}
	ck_assert_uint_gt(r.n_overflow, 0);
	ck_assert_uint_eq(r.n_overflow, n_unit);
	flz_sample_unref(s);
	/* Equal rates: nothing converted, nothing replaced, bit-exact. */
	s = SENTINEL;
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ x, N, 1 }, 48000, &s), 0);
	flz_loader_get_replaced(loader, &r);
	ck_assert_uint_eq(r.n_overflow, 0);
	ck_assert_int_eq(memcmp(s->data, x, sizeof(float) * N), 0);
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(x);
}
END_TEST

TCase *loader_case_nonfinite(void)
{
	return loader_tcase("loader:nonfinite", test_nonfinite);
}

TCase *loader_case_overflow(void)
{
	return loader_tcase("loader:overflow", test_overflow);
}
