/* SPDX-License-Identifier: MIT */
/* voice:ramp-frames, voice:render, voice:loop, voice:rewind: rendering, loop wrap and rewind. */
#include "voice-tests.h"

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
	const struct flz_voice_kernels *k = suite_kernels();
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
	const struct flz_voice_kernels *k = suite_kernels();
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
	const struct flz_voice_kernels *k = suite_kernels();
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

TCase *voice_case_ramp_frames(void)
{
	return voice_tcase("voice:ramp-frames", test_ramp_frames);
}

TCase *voice_case_render(void)
{
	return voice_tcase("voice:render", test_render_add);
}

TCase *voice_case_loop(void)
{
	return voice_tcase("voice:loop", test_loop);
}

TCase *voice_case_rewind(void)
{
	return voice_tcase("voice:rewind", test_rewind);
}
