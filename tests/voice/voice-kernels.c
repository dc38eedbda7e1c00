/* SPDX-License-Identifier: MIT */
/* voice:sizes, voice:kernels, voice:mix: frame counts and the kernel table. */
#include "voice-tests.h"

/* Render with 0, 1, an odd count and the largest block: the content is the
 * sample times the gain, exactly; nothing beyond the block is written. */
START_TEST(test_sizes)
{
	const struct flz_voice_kernels *k = suite_kernels();
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
 * promises the same operations in the same order), and mix_add() equals
 * add() of each source into dst (into a cleared dst, when it overwrites)
 * and finds each source's peak() exactly, for 0-3, 5, 8, 9, 16, 17 and 33 sources
 * (the AVX2 kernels sum eight at a time), lengths 0..100 and a large one,
 * sources at odd offsets; neither writes past the end. */
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
				/* mix_add(): add() per source into dst as it is, or into a
				 * cleared dst with overwrite; each source's peak is peak()'s.
				 * Compared with memcmp, so the sign of a zero counts too. */
				for (int ow = 0; ow < 2; ow++) {
					float peaks[MAX_SRC];
					flz_test_noise(dst, big + 8, 1.0, 11);
					memcpy(ref, dst, (big + 8) * sizeof(float));
					if (ow)
						memset(ref, 0, n * sizeof(float));
					for (uint32_t v = 0; v < n_src; v++)
						k->add(ref, src[v], n, gain[v]);
					k->mix_add(dst, src, gain, n_src, n, ow, peaks);
					for (size_t i = 0; i < n + 8; i++)
						ck_assert_msg(memcmp(&dst[i], &ref[i], sizeof(float)) == 0,
							      "%s mix_add %d sources %u n %zu at %zu", k->name,
							      ow, n_src, n, i);
					for (uint32_t v = 0; v < n_src; v++)
						ck_assert_msg(peaks[v] == k->peak(src[v], n),
							      "%s mix_add peak %u n %zu", k->name, v, n);
				}
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

/* mix_out() equals mix_add() with overwrite, then dst times the scale
 * (when not 1), then peak_frames() of dst, bit for bit (memcmp, so the sign
 * of a zero counts), src_peak equal to peak() of each source, for 0, 1, 2,
 * 3, 8 and 9 sources, 1, 2, 3, 4 and 8 channels, 0..40 frames and a large
 * count, scales 1, 0.37 and 0, a single source's gain also 0 and negative,
 * on noise and on noise with NaN, infinities, -0 and a subnormal in it
 * (the single-source AVX2 pass derives the output's peaks from the
 * source's: these are what would break it); nothing past the end is
 * written, and a channel's earlier peak above the block's stays. */
START_TEST(test_mix_out)
{
	const struct flz_voice_kernels *variants[2] = { flz_voice_kernels_generic(),
							flz_voice_kernels_avx2() };
	enum { MAX_SRC = 9, MAX_CH = 8 };
	const size_t big = 1031;
	const size_t len = big * MAX_CH + 8;
	float *pool = alloc_floats(MAX_SRC * len);
	float *dst = alloc_floats(big * MAX_CH + 8);
	float *ref = alloc_floats(big * MAX_CH + 8);
	const float *src[MAX_SRC];
	float gain[MAX_SRC];
	static const uint32_t counts[] = { 0, 1, 2, 3, 8, 9 };
	static const uint32_t channels[] = { 1, 2, 3, 4, 8 };
	static const float scales[] = { 1.0f, 0.37f, 0.0f };
	static const float one_gains[] = { 0.6f, 0.0f, -0.45f };
	for (int vi = 0; vi < 2; vi++) {
		const struct flz_voice_kernels *k = variants[vi];
		if (k == NULL)
			continue; /* no AVX2 on this CPU or build */
		for (int special = 0; special < 2; special++) {
			flz_test_noise(pool, MAX_SRC * len, 1.0, 23);
			if (special) {
				for (int v = 0; v < MAX_SRC; v++) {
					float *x = pool + (size_t)v * len;
					x[3 + v] = NAN;
					x[20 + v] = v % 2 ? -INFINITY : INFINITY;
					x[5] = -0.0f;
					x[11] = 1e-40f;
					x[big * 2 - 7] = NAN;
				}
			}
			for (int v = 0; v < MAX_SRC; v++) {
				src[v] = pool + (size_t)v * len + (size_t)(v % 3);
				gain[v] = 0.05f + 0.9f * (float)v / MAX_SRC;
			}
			for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++)
			for (size_t chi = 0; chi < sizeof channels / sizeof channels[0]; chi++)
			for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++)
			for (size_t gi = 0; gi < (counts[ci] == 1 ? 3u : 1u); gi++) {
				const uint32_t n_src = counts[ci], ch = channels[chi];
				const float scale = scales[si];
				if (n_src == 1)
					gain[0] = one_gains[gi];
				for (size_t nf = 0; nf <= big; nf = nf == 40 ? big : nf + 1) {
					const size_t n = nf * ch;
					float peaks[MAX_SRC], out_pk[MAX_CH], want_pk[MAX_CH];
					for (uint32_t c = 0; c < ch; c++)
						out_pk[c] = want_pk[c] = c == 1 ? 1e30f : 0.0f;
					flz_test_noise(dst, n + 8, 1.0, 11);
					memcpy(ref, dst, (n + 8) * sizeof(float));
					memset(ref, 0, n * sizeof(float));
					for (uint32_t v = 0; v < n_src; v++)
						k->add(ref, src[v], n, gain[v]);
					if (scale != 1.0f)
						for (size_t i = 0; i < n; i++)
							ref[i] = scale * ref[i];
					k->peak_frames(ref, nf, ch, want_pk);
					k->mix_out(dst, src, gain, n_src, nf, ch, scale, peaks, out_pk);
					/* One memcmp (cheap under valgrind); the place on failure. */
					if (memcmp(dst, ref, (n + 8) * sizeof(float)) != 0) {
						size_t i = 0;
						while (memcmp(&dst[i], &ref[i], sizeof(float)) == 0)
							i++;
						ck_abort_msg("%s mix_out %u sources %u ch n %zu at %zu",
							     k->name, n_src, ch, nf, i);
					}
					for (uint32_t v = 0; v < n_src; v++)
						ck_assert_msg(peaks[v] == k->peak(src[v], n),
							      "%s mix_out peak %u of %u n %zu", k->name,
							      v, n_src, nf);
					for (uint32_t c = 0; c < ch; c++)
						ck_assert_msg(memcmp(&out_pk[c], &want_pk[c],
								     sizeof(float)) == 0,
							      "%s mix_out %u sources ch %u/%u n %zu scale %g gain %g: %g vs %g",
							      k->name, n_src, c, ch, nf, (double)scale,
							      (double)gain[0], (double)out_pk[c],
							      (double)want_pk[c]);
					if (nf == big)
						break;
				}
			}
		}
	}
	free(pool);
	free(dst);
	free(ref);
}
END_TEST

/* peak() is the largest |x| exactly (it only compares), at every position
 * and length 0..100 and a large one, skips NaN, and reads nothing past the
 * end (a huge value there would show). */
START_TEST(test_peak)
{
	const struct flz_voice_kernels *variants[2] = { flz_voice_kernels_generic(),
							flz_voice_kernels_avx2() };
	const size_t big = 4099;
	float *x = alloc_floats(big + 8);
	for (int vi = 0; vi < 2; vi++) {
		const struct flz_voice_kernels *k = variants[vi];
		if (k == NULL)
			continue;
		for (size_t n = 0; n <= 101; n = n == 100 ? big : n + 1) {
			flz_test_noise(x, big + 8, 0.5, 13);
			x[n] = 1e30f; /* past the end */
			ck_assert_msg(k->peak(x, 0) == 0.0f, "%s empty", k->name);
			for (size_t at = 0; at < n; at += (n > 200 ? 97 : 1)) {
				const float keep = x[at];
				x[at] = at % 2 ? -0.75f : 0.75f;
				if (n > 1)
					x[(at + 1) % n] = NAN;
				ck_assert_msg(k->peak(x, n) == 0.75f, "%s n %zu at %zu: %g", k->name, n,
					      at, k->peak(x, n));
				x[at] = keep;
				flz_test_noise(x, n, 0.5, 13);
			}
			if (n == big)
				break;
		}
	}
	free(x);
}
END_TEST

/* peak_frames() gives each channel's max |x| of interleaved frames, folded
 * into what peaks[] held, for 1, 2, 3 and 8 channels and 0..70 frames and
 * a large count (every tail of the stereo vectors), skipping NaN and
 * reading nothing past the end; equal to a scalar max per channel. */
START_TEST(test_peak_frames)
{
	const struct flz_voice_kernels *variants[2] = { flz_voice_kernels_generic(),
							flz_voice_kernels_avx2() };
	static const uint32_t channels[] = { 1, 2, 3, 8 };
	const size_t big = 2051;
	float *x = alloc_floats(big * 8 + 8);
	for (int vi = 0; vi < 2; vi++) {
		const struct flz_voice_kernels *k = variants[vi];
		if (k == NULL)
			continue;
		for (size_t ci = 0; ci < sizeof channels / sizeof channels[0]; ci++) {
			const uint32_t ch = channels[ci];
			for (size_t n = 0; n <= big; n = n == 70 ? big : n + 1) {
				flz_test_noise(x, big * 8 + 8, 0.5, 17 + (uint32_t)n);
				x[n * ch] = 1e30f; /* past the end */
				if (n > 2)
					x[ch + ch / 2] = NAN;
				float want[8], got[8];
				for (uint32_t c = 0; c < ch; c++) {
					/* A channel's own spike, and one channel whose
					 * earlier peak (0.9) stays. */
					if (n > 0)
						x[((c * 7) % n) * ch + c] = c % 2 ? -0.6f - 0.01f * c
										  : 0.6f + 0.01f * c;
					want[c] = got[c] = c == 1 ? 0.9f : 0.0f;
					for (size_t f = 0; f < n; f++) {
						float a = fabsf(x[f * ch + c]);
						want[c] = a > want[c] ? a : want[c];
					}
				}
				k->peak_frames(x, n, ch, got);
				for (uint32_t c = 0; c < ch; c++)
					ck_assert_msg(got[c] == want[c], "%s ch %u/%u n %zu: %g vs %g",
						      k->name, c, ch, n, got[c], want[c]);
				if (n == big)
					break;
			}
		}
	}
	free(x);
}
END_TEST

TCase *voice_case_peak(void)
{
	return voice_tcase("voice:peak", test_peak);
}

TCase *voice_case_peak_frames(void)
{
	return voice_tcase("voice:peak-frames", test_peak_frames);
}

TCase *voice_case_sizes(void)
{
	return voice_tcase("voice:sizes", test_sizes);
}

TCase *voice_case_kernels(void)
{
	return voice_tcase("voice:kernels", test_kernels);
}

TCase *voice_case_mix(void)
{
	return voice_tcase("voice:mix", test_mix);
}

TCase *voice_case_mix_out(void)
{
	return voice_tcase("voice:mix-out", test_mix_out);
}
