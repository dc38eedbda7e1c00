/* SPDX-License-Identifier: MIT */
/* voice:stop, voice:gain: the stop ramp and gain ramps. */
#include "voice-tests.h"

/* Stop: with a DC sample of 1.0 and gain g, frame k after the stop
 * (k = 1 .. R-1) is g (R - k) / R (tolerance 1e-6), frame R and everything
 * after is exactly 0.0, and no step between adjacent frames exceeds g / R
 * (tolerance 1e-6). Checked with the stop at several points of a block and
 * with several block sizes. */
START_TEST(test_stop)
{
	const struct flz_voice_kernels *k = suite_kernels();
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
	const struct flz_voice_kernels *k = suite_kernels();
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

TCase *voice_case_stop(void)
{
	return voice_tcase("voice:stop", test_stop);
}

TCase *voice_case_gain(void)
{
	return voice_tcase("voice:gain", test_gain);
}
