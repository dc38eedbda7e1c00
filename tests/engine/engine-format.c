/* SPDX-License-Identifier: MIT */
/* test-engine: the device format converters. */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:format
 * ------------------------------------------------------------------------ */

static double clip_ref(float x)
{
	if (isnan(x))
		return 0.0;
	return x > 1.0f ? 1.0 : (x < -1.0f ? -1.0 : (double)x);
}

static void check_converter(enum flz_device_format format, size_t n_samples)
{
	flz_format_convert_fn fn = flz_format_converter(format);
	ck_assert(fn != NULL);
	uint32_t bytes = flz_format_sample_bytes(format);
	float *src = malloc((n_samples + 1) * sizeof(float));
	unsigned char *dst = malloc((n_samples + 1) * 4 + 1);
	ck_assert(src && dst);
	flz_test_noise(src, n_samples, 1.5, 77u + (uint32_t)n_samples);
	/* Fixed points where present: silence, full scale both ways, clipping,
	 * NaN, the infinities, the largest floats, a NaN with its sign set. */
	const float special[] = { 0.0f, 1.0f,      -1.0f,     2.0f,     -3.0f,    NAN,   0.5f,
				  -0.25f, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, -NAN, 8.0f };
	const size_t n_special = sizeof(special) / sizeof(special[0]);
	for (size_t i = 0; i < n_samples && i < n_special; i++)
		src[i] = special[i];
	/* In the largest block, NaN also lands in the last vector lanes and the tail. */
	if (n_samples > 64) {
		src[n_samples - 1] = NAN;
		src[n_samples - 9] = -NAN;
		src[n_samples - 10] = INFINITY;
	}
	memset(dst, 0xa5, (n_samples + 1) * 4 + 1);
	fn(dst, src, n_samples);
	/* The byte after the last sample is untouched. */
	ck_assert_uint_eq(dst[n_samples * bytes], 0xa5);

	for (size_t i = 0; i < n_samples; i++) {
		const unsigned char *b = dst + i * bytes;
		switch (format) {
		case FLZ_FORMAT_FLOAT_LE: {
			float f;
			memcpy(&f, b, 4);
			/* exact: the value itself within -1..1, else the bound; NaN 0 */
			ck_assert_msg(f == (float)clip_ref(src[i]), "sample %zu: %g from %g", i,
				      f, src[i]);
			break;
		}
		case FLZ_FORMAT_S32_LE: {
			int32_t v = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
					      (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
			int64_t want = (int64_t)nearbyint(clip_ref(src[i]) * 2147483647.0);
			ck_assert_int_eq(v, want); /* exact: round to nearest */
			break;
		}
		case FLZ_FORMAT_S24_3LE: {
			int32_t v = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
					      (uint32_t)b[2] << 16);
			if (v & 0x800000)
				v -= 0x1000000;
			ck_assert_int_eq(v, (int64_t)nearbyint(clip_ref(src[i]) * 8388607.0));
			break;
		}
		case FLZ_FORMAT_S16_LE: {
			int16_t v = (int16_t)((uint16_t)b[0] | (uint16_t)b[1] << 8);
			ck_assert_int_eq(v, (int64_t)nearbyint(clip_ref(src[i]) * 32767.0));
			break;
		}
		case FLZ_FORMAT_UNKNOWN:
			ck_abort();
		}
	}
	if (n_samples >= 6) {
		/* Full scale is symmetric and clipping holds. */
		if (format == FLZ_FORMAT_S16_LE) {
			int16_t v[6];
			for (int k = 0; k < 6; k++)
				v[k] = (int16_t)(dst[2 * k] | dst[2 * k + 1] << 8);
			ck_assert_int_eq(v[0], 0);
			ck_assert_int_eq(v[1], 32767);
			ck_assert_int_eq(v[2], -32767);
			ck_assert_int_eq(v[3], 32767);
			ck_assert_int_eq(v[4], -32767);
			ck_assert_int_eq(v[5], 0);
		}
	}
	free(src);
	free(dst);
}

/* The in-place clamp of the plain-float path stores what the FLOAT_LE
 * converter stores, bit for bit (signed zeros included), and touches
 * nothing past n_samples. */
static void check_clamp(size_t n_samples)
{
	float *x = malloc((n_samples + 1) * sizeof(float));
	float *want = malloc((n_samples + 1) * sizeof(float));
	ck_assert(x && want);
	flz_test_noise(x, n_samples + 1, 9.0, 5u + (uint32_t)n_samples);
	const float special[] = { NAN, INFINITY, -INFINITY, 8.0f, -8.0f, -0.0f, 1.0f, -1.0f, -NAN };
	for (size_t i = 0; i < n_samples && i < 9; i++)
		x[i] = special[i];
	if (n_samples > 16)
		x[n_samples - 1] = NAN;
	const float guard = x[n_samples];
	flz_format_converter(FLZ_FORMAT_FLOAT_LE)(want, x, n_samples);
	flz_format_clamp_float_rt(x, n_samples);
	ck_assert_int_eq(memcmp(x, want, n_samples * sizeof(float)), 0);
	ck_assert(x[n_samples] == guard);
	for (size_t i = 0; i < n_samples; i++)
		ck_assert(x[i] >= -1.0f && x[i] <= 1.0f); /* false for NaN */
	if (n_samples >= 9) {
		ck_assert(x[0] == 0.0f && x[1] == 1.0f && x[2] == -1.0f && x[3] == 1.0f &&
			  x[4] == -1.0f && x[8] == 0.0f);
		ck_assert(x[5] == 0.0f && signbit(x[5])); /* -0 stays -0 */
	}
	free(x);
	free(want);
}

START_TEST(format_converters)
{
	const enum flz_device_format formats[] = { FLZ_FORMAT_FLOAT_LE, FLZ_FORMAT_S32_LE,
						   FLZ_FORMAT_S24_3LE, FLZ_FORMAT_S16_LE };
	/* 0, 1, an odd count, one vector block and a tail, and the largest
	 * block (8 channels). */
	const size_t counts[] = { 0, 1, 7, 13, (size_t)FLZ_MAX_BLOCK_FRAMES * FLZ_MAX_CHANNELS };
	const size_t n_counts = sizeof(counts) / sizeof(counts[0]);
	for (size_t f = 0; f < 4; f++)
		for (size_t c = 0; c < n_counts; c++)
			check_converter(formats[f], counts[c]);
	for (size_t c = 0; c < n_counts; c++)
		check_clamp(counts[c]);
	check_clamp(FLZ_MAX_BLOCK_FRAMES * FLZ_MAX_CHANNELS - 3);
	ck_assert(flz_format_converter(FLZ_FORMAT_UNKNOWN) == NULL);
	ck_assert_str_eq(flz_device_format_name(FLZ_FORMAT_S24_3LE), "S24_3LE");
	ck_assert_str_eq(flz_device_format_name(FLZ_FORMAT_FLOAT_LE), "FLOAT_LE");
}
END_TEST

TCase *engine_case_format(void)
{
	TCase *tc = engine_tcase("engine:format");
	tcase_add_test(tc, format_converters);
	return tc;
}
