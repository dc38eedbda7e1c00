/* SPDX-License-Identifier: MIT */
/*
 * libvoice tests. Every comparison is sample by sample; the tolerance is
 * stated at each check. Gains are applied with one float multiply (or one
 * fused multiply-add), so most results are compared exactly.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flz/voice.h>

#include "flz-test.h"

/* A sample of n_frames x n_channels; value(frame, channel) from a pattern
 * that makes every frame distinct, so a gap or a repeat shows. */
static struct flz_sample *pattern_sample(int64_t n_frames, uint32_t n_channels)
{
	struct flz_sample *s = flz_sample_new(n_frames, n_channels, 48000);
	ck_assert_ptr_nonnull(s);
	for (int64_t f = 0; f < n_frames; f++)
		for (uint32_t c = 0; c < n_channels; c++)
			s->data[f * n_channels + c] =
				(float)((double)(f + 1) / (double)(n_frames + 1)) * (c % 2 ? -1.0f : 1.0f);
	return s;
}

static struct flz_sample *dc_sample(int64_t n_frames, uint32_t n_channels, float value)
{
	struct flz_sample *s = flz_sample_new(n_frames, n_channels, 48000);
	ck_assert_ptr_nonnull(s);
	for (int64_t i = 0; i < n_frames * n_channels; i++)
		s->data[i] = value;
	return s;
}

static float *alloc_floats(size_t n)
{
	float *p = calloc(n ? n : 1, sizeof(float));
	ck_assert_ptr_nonnull(p);
	return p;
}

START_TEST(test_ramp_frames)
{
	/* 5 ms at 48 kHz is the documented 240 frames. */
	ck_assert_uint_eq(flz_voice_ramp_frames(5.0f, 48000), 240);
	ck_assert_uint_eq(flz_voice_ramp_frames(5.0f, 44100), 221); /* 220.5 rounds up */
	ck_assert_uint_eq(flz_voice_ramp_frames(0.0f, 48000), 1);
	ck_assert_uint_eq(flz_voice_ramp_frames(NAN, 48000), 1);
}
END_TEST

/* Adding: out = prefill + gain * sample, exactly (one multiply-add). */
START_TEST(test_render_add)
{
	const struct flz_voice_kernels *k = flz_voice_kernels_get();
	const uint32_t ch = 2, n = 300;
	struct flz_sample *s = pattern_sample(1000, ch);
	float *out = alloc_floats(n * ch);
	flz_test_noise(out, n * ch, 0.5, 7);
	float *ref = alloc_floats(n * ch);
	const float g = 0.625f; /* a power-of-two fraction: g * x is exact */
	for (uint32_t i = 0; i < n * ch; i++)
		ref[i] = out[i] + g * s->data[i];
	struct flz_voice v;
	flz_voice_init(&v, 240);
	flz_voice_start(&v, 3, s, g);
	ck_assert_int_eq(v.slot, 3);
	ck_assert_uint_eq(flz_voice_render(&v, k, out, n, false), n);
	/* Tolerance: 1 ulp of the sum (FMA vs separate multiply and add). */
	size_t at;
	double d = flz_test_max_diff(out, ref, n * ch, &at);
	ck_assert_msg(d <= 1.2e-7, "add differs by %g at %zu", d, at);
	ck_assert_int_eq(v.pos_frames, n);

	/* Overwrite mode stores gain * sample, whatever was there. */
	flz_voice_start(&v, 3, s, g);
	flz_test_noise(out, n * ch, 0.5, 9);
	ck_assert_uint_eq(flz_voice_render(&v, k, out, n, true), n);
	for (uint32_t i = 0; i < n * ch; i++)
		ck_assert_float_eq(out[i], g * s->data[i]);
	free(out);
	free(ref);
	flz_sample_unref(s);
}
END_TEST

/* Looping: across many loop lengths and block sizes, frame i of the output
 * is frame i mod len of the sample, exactly: no gap, no doubled frame. */
START_TEST(test_loop)
{
	const struct flz_voice_kernels *k = flz_voice_kernels_get();
	static const int64_t lens[] = { 1, 2, 3, 7, 8, 63, 64, 65, 127, 480, 1001 };
	static const uint32_t blocks[] = { 1, 2, 3, 5, 7, 64, 113, 128, 512, 1024 };
	const uint32_t ch = 2, total = 3000;
	float *out = alloc_floats(total * ch);
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		struct flz_sample *s = pattern_sample(lens[li], ch);
		for (size_t bi = 0; bi < sizeof(blocks) / sizeof(blocks[0]); bi++) {
			struct flz_voice v;
			flz_voice_init(&v, 240);
			flz_voice_start(&v, 0, s, 1.0f);
			memset(out, 0, total * ch * sizeof(float));
			uint32_t done = 0;
			while (done < total) {
				uint32_t n = total - done < blocks[bi] ? total - done : blocks[bi];
				ck_assert_uint_eq(flz_voice_render(&v, k, out + done * ch, n, false), n);
				done += n;
			}
			for (uint32_t i = 0; i < total; i++)
				for (uint32_t c = 0; c < ch; c++)
					ck_assert_msg(out[i * ch + c] ==
							      s->data[(i % lens[li]) * ch + c],
						      "len %lld block %u frame %u",
						      (long long)lens[li], blocks[bi], i);
		}
		flz_sample_unref(s);
	}
	free(out);
}
END_TEST

/* Rewind: after rendering some frames, rewinding n (even past the loop
 * point, and by more than the sample's length) makes the voice render the
 * frames it rendered n frames ago again, exactly; also inside a stop's fade. */
START_TEST(test_rewind)
{
	const struct flz_voice_kernels *k = flz_voice_kernels_get();
	static const int64_t lens[] = { 1, 2, 3, 31, 64, 1001 };
	static const uint32_t backs[] = { 0, 1, 2, 3, 31, 32, 33, 64, 65, 1000 };
	const uint32_t ch = 2, ahead = 1100, total = 1200;
	float *ref = alloc_floats(total * ch);
	float *out = alloc_floats(total * ch);
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		struct flz_sample *s = pattern_sample(lens[li], ch);
		for (size_t bi = 0; bi < sizeof(backs) / sizeof(backs[0]); bi++) {
			const uint32_t back = backs[bi];
			struct flz_voice v;
			flz_voice_init(&v, 240);
			flz_voice_start(&v, 0, s, 0.5f);
			ck_assert_uint_eq(flz_voice_render(&v, k, ref, total, true), total);
			flz_voice_start(&v, 0, s, 0.5f);
			ck_assert_uint_eq(flz_voice_render(&v, k, out, ahead, true), ahead);
			flz_voice_rewind(&v, back);
			ck_assert(v.pos_frames >= 0 && v.pos_frames < lens[li]);
			const uint32_t from = ahead - back, n = total - from;
			ck_assert_uint_eq(flz_voice_render(&v, k, out, n, true), n);
			for (uint32_t i = 0; i < n * ch; i++)
				ck_assert_msg(out[i] == ref[from * ch + i], "len %lld back %u sample %u",
					      (long long)lens[li], back, i);
		}
		flz_sample_unref(s);
	}
	/* Within a stop's fade: the fade's frames come again, and it still
	 * ends on the same frame. */
	struct flz_sample *s = pattern_sample(37, ch);
	for (size_t bi = 0; bi < sizeof(backs) / sizeof(backs[0]) && backs[bi] <= 100; bi++) {
		const uint32_t back = backs[bi];
		struct flz_voice v;
		flz_voice_init(&v, 240);
		flz_voice_start(&v, 0, s, 0.5f);
		ck_assert_uint_eq(flz_voice_render(&v, k, ref, 50, true), 50);
		flz_voice_stop(&v);
		ck_assert_uint_eq(flz_voice_render(&v, k, ref + 50 * ch, 400, true), 239);
		flz_voice_start(&v, 0, s, 0.5f);
		ck_assert_uint_eq(flz_voice_render(&v, k, out, 50, true), 50);
		flz_voice_stop(&v);
		ck_assert_uint_eq(flz_voice_render(&v, k, out, 100, true), 100);
		flz_voice_rewind(&v, back);
		const uint32_t from = 150 - back;
		ck_assert_uint_eq(flz_voice_render(&v, k, out, 400, true), 289 - from);
		ck_assert(flz_voice_is_silent(&v));
		for (uint32_t i = 0; i < (289 - from) * ch; i++)
			ck_assert_msg(out[i] == ref[from * ch + i], "fade back %u sample %u", back, i);
	}
	flz_sample_unref(s);
	free(out);
	free(ref);
}
END_TEST

/* Stop: with a DC sample of 1.0 and gain g, frame k after the stop
 * (k = 1 .. R-1) is g (R - k) / R (tolerance 1e-6), frame R and everything
 * after is exactly 0.0, and no step between adjacent frames exceeds g / R
 * (tolerance 1e-6). Checked with the stop at several points of a block and
 * with several block sizes. */
START_TEST(test_stop)
{
	const struct flz_voice_kernels *k = flz_voice_kernels_get();
	const uint32_t ramp = 240, ch = 2;
	const float g = 0.8f;
	static const uint32_t blocks[] = { 1, 3, 64, 97, 240, 241, 1024 };
	struct flz_sample *s = dc_sample(100, ch, 1.0f);
	const uint32_t before = 150, total = before + 600;
	float *out = alloc_floats(total * ch);
	for (size_t bi = 0; bi < sizeof(blocks) / sizeof(blocks[0]); bi++) {
		struct flz_voice v;
		flz_voice_init(&v, ramp);
		flz_voice_start(&v, 1, s, g);
		memset(out, 0, total * ch * sizeof(float));
		uint32_t done = 0;
		uint32_t rendered_total = 0;
		bool stopped = false;
		while (done < total) {
			uint32_t n = blocks[bi];
			if (!stopped && done + n > before)
				n = before - done;
			if (done + n > total)
				n = total - done;
			if (!stopped && done == before) {
				ck_assert(flz_voice_stop(&v));
				ck_assert(!flz_voice_stop(&v)); /* already stopping */
				stopped = true;
				continue;
			}
			rendered_total += flz_voice_render(&v, k, out + done * ch, n, false);
			done += n;
		}
		ck_assert(flz_voice_is_silent(&v));
		/* The voice rendered up to the last non-zero frame of the ramp. */
		ck_assert_uint_eq(rendered_total, before + ramp - 1);
		for (uint32_t i = 0; i < total; i++) {
			double expect;
			if (i < before)
				expect = g;
			else if (i - before + 1 < ramp)
				expect = g * (double)(ramp - (i - before + 1)) / ramp;
			else
				expect = 0.0;
			for (uint32_t c = 0; c < ch; c++) {
				float x = out[i * ch + c];
				if (expect == 0.0)
					ck_assert_msg(x == 0.0f, "block %u frame %u not exactly 0: %g",
						      blocks[bi], i, x);
				else
					ck_assert_msg(fabs(x - expect) <= 1e-6,
						      "block %u frame %u: %g, expected %g", blocks[bi],
						      i, x, expect);
				if (i > 0)
					ck_assert_msg(fabs(x - out[(i - 1) * ch + c]) <=
							      g / ramp + 1e-6,
						      "step too large at %u", i);
			}
		}
		/* A silent voice renders nothing more. */
		ck_assert_uint_eq(flz_voice_render(&v, k, out, 10, false), 0);
	}
	free(out);
	flz_sample_unref(s);
}
END_TEST

/* A gain change glides linearly over the ramp and then holds the target
 * exactly; the same whether rendered in one call or frame by frame
 * (bit-identical). */
START_TEST(test_gain)
{
	const struct flz_voice_kernels *k = flz_voice_kernels_get();
	const uint32_t ramp = 100, ch = 1, total = 400;
	struct flz_sample *s = dc_sample(37, ch, 1.0f);
	float *a = alloc_floats(total);
	float *b = alloc_floats(total);
	for (int split = 0; split < 2; split++) {
		float *out = split ? b : a;
		struct flz_voice v;
		flz_voice_init(&v, ramp);
		flz_voice_start(&v, 0, s, 0.2f);
		ck_assert_uint_eq(flz_voice_render(&v, k, out, 50, true), 50);
		flz_voice_set_gain(&v, 0.9f);
		if (split) {
			for (uint32_t i = 50; i < total; i++)
				ck_assert_uint_eq(flz_voice_render(&v, k, out + i, 1, true), 1);
		} else {
			ck_assert_uint_eq(flz_voice_render(&v, k, out + 50, total - 50, true),
					  total - 50);
		}
	}
	for (uint32_t i = 0; i < total; i++) {
		double expect = i < 50 ? 0.2 : i - 49 < ramp ? 0.2 + 0.7 * (double)(i - 49) / ramp : 0.9;
		ck_assert_msg(fabs(a[i] - expect) <= 1e-6, "frame %u: %g vs %g", i, a[i], expect);
		ck_assert_msg(a[i] == b[i], "split differs at %u", i);
	}
	ck_assert_float_eq(a[total - 1], 0.9f);
	free(a);
	free(b);
	flz_sample_unref(s);
}
END_TEST

/* Render with 0, 1, an odd count and the largest block: the content is the
 * sample times the gain, exactly; nothing beyond the block is written. */
START_TEST(test_sizes)
{
	const struct flz_voice_kernels *k = flz_voice_kernels_get();
	static const uint32_t sizes[] = { 0, 1, 37, FLZ_MAX_BLOCK_FRAMES };
	const uint32_t ch = 2;
	struct flz_sample *s = pattern_sample(5000, ch);
	for (size_t si = 0; si < 4; si++) {
		uint32_t n = sizes[si];
		float *out = alloc_floats((n + 4) * ch);
		for (uint32_t i = 0; i < (n + 4) * ch; i++)
			out[i] = 7.0f;
		struct flz_voice v;
		flz_voice_init(&v, 240);
		flz_voice_start(&v, 0, s, 0.5f);
		ck_assert_uint_eq(flz_voice_render(&v, k, out, n, true), n);
		for (uint32_t i = 0; i < n; i++)
			for (uint32_t c = 0; c < ch; c++)
				ck_assert_float_eq(out[i * ch + c],
						   0.5f * s->data[(i % 5000) * ch + c]);
		for (uint32_t i = n * ch; i < (n + 4) * ch; i++)
			ck_assert_float_eq(out[i], 7.0f);
		ck_assert_int_eq(v.pos_frames, n % 5000);
		free(out);
	}
	/* An idle voice renders nothing. */
	struct flz_voice idle;
	flz_voice_init(&idle, 240);
	float x = 3.0f;
	ck_assert_uint_eq(flz_voice_render(&idle, k, &x, 1, true), 0);
	ck_assert_float_eq(x, 3.0f);
	ck_assert(flz_voice_is_silent(&idle));
	ck_assert(!flz_voice_stop(&idle));
	flz_sample_unref(s);
}
END_TEST

/* The generic and AVX2 kernels agree for every length 0..100 and a large
 * one (tolerance: 1 ulp of the result, from FMA rounding once), and never
 * write past the end. */
START_TEST(test_kernels)
{
	const struct flz_voice_kernels *gen = flz_voice_kernels_generic();
	const struct flz_voice_kernels *avx = flz_voice_kernels_avx2();
	ck_assert_ptr_nonnull(gen);
	ck_assert_ptr_nonnull(flz_voice_kernels_get());
	const struct flz_voice_kernels *variants[2] = { gen, avx };
	const size_t big = 4099;
	float *src = alloc_floats(big);
	float *dst0 = alloc_floats(big + 8);
	float *ref = alloc_floats(big + 8);
	flz_test_noise(src, big, 1.0, 3);
	for (int vi = 0; vi < 2; vi++) {
		const struct flz_voice_kernels *k = variants[vi];
		if (k == NULL)
			continue; /* this CPU or build has no AVX2: nothing to compare */
		for (size_t n = 0; n <= 101; n = n == 100 ? big : n + 1) {
			for (int op = 0; op < 2; op++) {
				flz_test_noise(dst0, big + 8, 1.0, 11);
				memcpy(ref, dst0, (big + 8) * sizeof(float));
				for (size_t i = 0; i < n; i++)
					ref[i] = op ? 0.3f * src[i] : (float)(ref[i] + 0.3 * (double)src[i]);
				if (op)
					k->copy(dst0, src, n, 0.3f);
				else
					k->add(dst0, src, n, 0.3f);
				for (size_t i = 0; i < n; i++)
					ck_assert_msg(fabsf(dst0[i] - ref[i]) <= 2.4e-7f,
						      "%s op %d n %zu at %zu", k->name, op, n, i);
				for (size_t i = n; i < n + 8; i++)
					ck_assert_msg(dst0[i] == ref[i], "%s wrote past %zu", k->name, n);
			}
			if (n == big)
				break;
		}
	}
	free(src);
	free(dst0);
	free(ref);
}
END_TEST

/* ---- voice:mix ---- */

/* mix() equals copy() of the first source followed by add() of each further
 * one, then a multiply by the scale, bit for bit (tolerance 0: the kernel
 * promises the same operations in the same order), for 0-3, 5, 8, 9, 16, 17
 * and 33 sources (the AVX2 kernel sums eight at a time), lengths 0..100 and
 * a large one, sources at odd offsets; it writes nothing past the end. */
START_TEST(test_mix)
{
	const struct flz_voice_kernels *variants[2] = { flz_voice_kernels_generic(),
							flz_voice_kernels_avx2() };
	enum { MAX_SRC = 33 };
	const size_t big = 4099;
	float *pool = alloc_floats(MAX_SRC * (big + 3));
	float *dst = alloc_floats(big + 8);
	float *ref = alloc_floats(big + 8);
	flz_test_noise(pool, MAX_SRC * (big + 3), 1.0, 5);
	const float *src[MAX_SRC];
	float gain[MAX_SRC];
	for (int v = 0; v < MAX_SRC; v++) {
		src[v] = pool + (size_t)v * (big + 3) + (size_t)(v % 3);
		gain[v] = 0.05f + 0.9f * (float)v / MAX_SRC;
	}
	const uint32_t counts[] = { 0, 1, 2, 3, 5, 8, 9, 16, 17, MAX_SRC };
	const float scales[] = { 1.0f, 0.37f };
	for (int vi = 0; vi < 2; vi++) {
		const struct flz_voice_kernels *k = variants[vi];
		if (k == NULL)
			continue; /* no AVX2 on this CPU or build */
		for (size_t ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
			const uint32_t n_src = counts[ci];
			for (size_t n = 0; n <= 101; n = n == 100 ? big : n + 1) {
				for (int si = 0; si < 2; si++) {
					flz_test_noise(dst, big + 8, 1.0, 7);
					memcpy(ref, dst, (big + 8) * sizeof(float));
					if (n_src == 0)
						memset(ref, 0, n * sizeof(float));
					else
						k->copy(ref, src[0], n, gain[0]);
					for (uint32_t v = 1; v < n_src; v++)
						k->add(ref, src[v], n, gain[v]);
					for (size_t i = 0; i < n; i++)
						ref[i] = scales[si] * ref[i];
					k->mix(dst, src, gain, n_src, n, scales[si]);
					for (size_t i = 0; i < n + 8; i++)
						ck_assert_msg(dst[i] == ref[i], "%s sources %u n %zu at %zu",
							      k->name, n_src, n, i);
				}
				if (n == big)
					break;
			}
		}
	}
	free(pool);
	free(dst);
	free(ref);
}
END_TEST

static Suite *voice_suite(void)
{
	Suite *s = suite_create("voice");
	struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
		{ "voice:ramp-frames", test_ramp_frames },
		{ "voice:render", test_render_add },
		{ "voice:loop", test_loop },
		{ "voice:rewind", test_rewind },
		{ "voice:stop", test_stop },
		{ "voice:gain", test_gain },
		{ "voice:sizes", test_sizes },
		{ "voice:kernels", test_kernels },
		{ "voice:mix", test_mix },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_test(tc, cases[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return flz_test_run_tap(voice_suite());
}
