/* SPDX-License-Identifier: MIT */
/* AVX2+FMA kernels, built with -mavx2 -mfma into their own object and only
 * called after the control side has checked the CPU (flz_voice_kernels_get).
 * The tail uses masked loads and stores with the same fused multiply-add as
 * the body, so an element's value does not depend on where a block ends. */
#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

/* Lane masks for a tail of 0..7 floats: row n enables the first n lanes. */
static const int32_t tail_masks[8][8] = {
	{ 0, 0, 0, 0, 0, 0, 0, 0 },
	{ -1, 0, 0, 0, 0, 0, 0, 0 },
	{ -1, -1, 0, 0, 0, 0, 0, 0 },
	{ -1, -1, -1, 0, 0, 0, 0, 0 },
	{ -1, -1, -1, -1, 0, 0, 0, 0 },
	{ -1, -1, -1, -1, -1, 0, 0, 0 },
	{ -1, -1, -1, -1, -1, -1, 0, 0 },
	{ -1, -1, -1, -1, -1, -1, -1, 0 },
};

FLZ_RT FLZ_HOT static void add_avx2(float *dst, const float *src, size_t n_samples, float gain)
{
	const __m256 g = _mm256_set1_ps(gain);
	size_t i = 0;
	for (; i + 32 <= n_samples; i += 32) {
		__m256 a0 = _mm256_fmadd_ps(g, _mm256_loadu_ps(src + i), _mm256_loadu_ps(dst + i));
		__m256 a1 = _mm256_fmadd_ps(g, _mm256_loadu_ps(src + i + 8),
					    _mm256_loadu_ps(dst + i + 8));
		__m256 a2 = _mm256_fmadd_ps(g, _mm256_loadu_ps(src + i + 16),
					    _mm256_loadu_ps(dst + i + 16));
		__m256 a3 = _mm256_fmadd_ps(g, _mm256_loadu_ps(src + i + 24),
					    _mm256_loadu_ps(dst + i + 24));
		_mm256_storeu_ps(dst + i, a0);
		_mm256_storeu_ps(dst + i + 8, a1);
		_mm256_storeu_ps(dst + i + 16, a2);
		_mm256_storeu_ps(dst + i + 24, a3);
	}
	for (; i + 8 <= n_samples; i += 8)
		_mm256_storeu_ps(dst + i, _mm256_fmadd_ps(g, _mm256_loadu_ps(src + i),
							  _mm256_loadu_ps(dst + i)));
	if (i < n_samples) {
		__m256i m = _mm256_loadu_si256((const __m256i *)tail_masks[n_samples - i]);
		__m256 s = _mm256_maskload_ps(src + i, m);
		__m256 d = _mm256_maskload_ps(dst + i, m);
		_mm256_maskstore_ps(dst + i, m, _mm256_fmadd_ps(g, s, d));
	}
}

FLZ_RT FLZ_HOT static void copy_avx2(float *dst, const float *src, size_t n_samples, float gain)
{
	const __m256 g = _mm256_set1_ps(gain);
	size_t i = 0;
	for (; i + 32 <= n_samples; i += 32) {
		__m256 a0 = _mm256_mul_ps(g, _mm256_loadu_ps(src + i));
		__m256 a1 = _mm256_mul_ps(g, _mm256_loadu_ps(src + i + 8));
		__m256 a2 = _mm256_mul_ps(g, _mm256_loadu_ps(src + i + 16));
		__m256 a3 = _mm256_mul_ps(g, _mm256_loadu_ps(src + i + 24));
		_mm256_storeu_ps(dst + i, a0);
		_mm256_storeu_ps(dst + i + 8, a1);
		_mm256_storeu_ps(dst + i + 16, a2);
		_mm256_storeu_ps(dst + i + 24, a3);
	}
	for (; i + 8 <= n_samples; i += 8)
		_mm256_storeu_ps(dst + i, _mm256_mul_ps(g, _mm256_loadu_ps(src + i)));
	if (i < n_samples) {
		__m256i m = _mm256_loadu_si256((const __m256i *)tail_masks[n_samples - i]);
		_mm256_maskstore_ps(dst + i, m, _mm256_mul_ps(g, _mm256_maskload_ps(src + i, m)));
	}
}

/* Sources per pass of mix_avx2(). */
#define MIX_GROUP 8

/* One pass of mix_avx2() over sources src[0 .. n_src): the running sum
 * starts from a product (@p first) or from dst, and is stored times scale
 * (@p last) or as it is. A float stored and loaded again is the same value,
 * so passes give the sums of one pass bit for bit. */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) void
mix_pass(float *dst, const float *const *src, const float *gain, uint32_t n_src, size_t n_samples,
	 float scale, bool first, bool last)
{
	const __m256 sc = _mm256_set1_ps(scale);
	size_t i = 0;
	for (; i + 32 <= n_samples; i += 32) {
		__m256 a0, a1, a2, a3;
		uint32_t v = 0;
		if (!first) {
			a0 = _mm256_loadu_ps(dst + i);
			a1 = _mm256_loadu_ps(dst + i + 8);
			a2 = _mm256_loadu_ps(dst + i + 16);
			a3 = _mm256_loadu_ps(dst + i + 24);
		} else if (n_src > 0) {
			const __m256 g = _mm256_set1_ps(gain[0]);
			const float *s = src[0] + i;
			a0 = _mm256_mul_ps(g, _mm256_loadu_ps(s));
			a1 = _mm256_mul_ps(g, _mm256_loadu_ps(s + 8));
			a2 = _mm256_mul_ps(g, _mm256_loadu_ps(s + 16));
			a3 = _mm256_mul_ps(g, _mm256_loadu_ps(s + 24));
			v = 1;
		} else {
			a0 = a1 = a2 = a3 = _mm256_setzero_ps();
		}
		for (; v < n_src; v++) {
			const __m256 g = _mm256_set1_ps(gain[v]);
			const float *s = src[v] + i;
			a0 = _mm256_fmadd_ps(g, _mm256_loadu_ps(s), a0);
			a1 = _mm256_fmadd_ps(g, _mm256_loadu_ps(s + 8), a1);
			a2 = _mm256_fmadd_ps(g, _mm256_loadu_ps(s + 16), a2);
			a3 = _mm256_fmadd_ps(g, _mm256_loadu_ps(s + 24), a3);
		}
		if (last) {
			a0 = _mm256_mul_ps(sc, a0);
			a1 = _mm256_mul_ps(sc, a1);
			a2 = _mm256_mul_ps(sc, a2);
			a3 = _mm256_mul_ps(sc, a3);
		}
		_mm256_storeu_ps(dst + i, a0);
		_mm256_storeu_ps(dst + i + 8, a1);
		_mm256_storeu_ps(dst + i + 16, a2);
		_mm256_storeu_ps(dst + i + 24, a3);
	}
	for (; i < n_samples; i += 8) {
		const size_t left = n_samples - i;
		const __m256i m =
			_mm256_loadu_si256((const __m256i *)tail_masks[left < 8 ? left : 0]);
		const bool whole = left >= 8;
		__m256 a = _mm256_setzero_ps();
		uint32_t v = 0;
		if (!first) {
			a = whole ? _mm256_loadu_ps(dst + i) : _mm256_maskload_ps(dst + i, m);
		} else if (n_src > 0) {
			const __m256 x = whole ? _mm256_loadu_ps(src[0] + i)
					       : _mm256_maskload_ps(src[0] + i, m);
			a = _mm256_mul_ps(_mm256_set1_ps(gain[0]), x);
			v = 1;
		}
		for (; v < n_src; v++) {
			const __m256 x = whole ? _mm256_loadu_ps(src[v] + i)
					       : _mm256_maskload_ps(src[v] + i, m);
			a = _mm256_fmadd_ps(_mm256_set1_ps(gain[v]), x, a);
		}
		if (last)
			a = _mm256_mul_ps(sc, a);
		if (whole)
			_mm256_storeu_ps(dst + i, a);
		else
			_mm256_maskstore_ps(dst + i, m, a);
	}
}

/* The sum of the sources stays in registers over 32 floats at a time, so
 * each source is read once and dst written once per pass instead of once
 * per source. Sources go in passes of MIX_GROUP: a block reads few streams
 * at a time, which the hardware prefetcher follows, where 32 interleaved
 * streams from memory defeat it. Per element the operations are those of
 * copy_avx2() then add_avx2() per source (a product, then one fused
 * multiply-add per further source), so the result is bit-identical. */
FLZ_RT FLZ_HOT static void mix_avx2(float *dst, const float *const *src, const float *gain,
			    uint32_t n_src, size_t n_samples, float scale)
{
	if (n_src <= MIX_GROUP) {
		mix_pass(dst, src, gain, n_src, n_samples, scale, true, true);
		return;
	}
	mix_pass(dst, src, gain, MIX_GROUP, n_samples, scale, true, false);
	uint32_t v = MIX_GROUP;
	for (; n_src - v > MIX_GROUP; v += MIX_GROUP)
		mix_pass(dst, src + v, gain + v, MIX_GROUP, n_samples, scale, false, false);
	mix_pass(dst, src + v, gain + v, n_src - v, n_samples, scale, false, true);
}

/* mix_pass() from dst: per element one fused multiply-add per source, as
 * add_avx2() does, with dst read and written once per group of sources. */
FLZ_RT FLZ_HOT static void mix_add_avx2(float *dst, const float *const *src, const float *gain,
				uint32_t n_src, size_t n_samples)
{
	for (uint32_t v = 0; v < n_src; v += MIX_GROUP) {
		uint32_t k = n_src - v < MIX_GROUP ? n_src - v : MIX_GROUP;
		mix_pass(dst, src + v, gain + v, k, n_samples, 1.0f, false, false);
	}
}

FLZ_RT FLZ_HOT static float peak_avx2(const float *src, size_t n_samples)
{
	const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256 p0 = _mm256_setzero_ps(), p1 = _mm256_setzero_ps();
	size_t i = 0;
	/* max(x, p) returns p when x is NaN: NaN is skipped. */
	for (; i + 16 <= n_samples; i += 16) {
		p0 = _mm256_max_ps(_mm256_and_ps(abs_mask, _mm256_loadu_ps(src + i)), p0);
		p1 = _mm256_max_ps(_mm256_and_ps(abs_mask, _mm256_loadu_ps(src + i + 8)), p1);
	}
	for (; i + 8 <= n_samples; i += 8)
		p0 = _mm256_max_ps(_mm256_and_ps(abs_mask, _mm256_loadu_ps(src + i)), p0);
	if (i < n_samples) {
		__m256i m = _mm256_loadu_si256((const __m256i *)tail_masks[n_samples - i]);
		p1 = _mm256_max_ps(_mm256_and_ps(abs_mask, _mm256_maskload_ps(src + i, m)), p1);
	}
	__m256 p = _mm256_max_ps(p0, p1);
	__m128 q = _mm_max_ps(_mm256_castps256_ps128(p), _mm256_extractf128_ps(p, 1));
	q = _mm_max_ps(q, _mm_movehl_ps(q, q));
	q = _mm_max_ps(q, _mm_shuffle_ps(q, q, 1));
	return _mm_cvtss_f32(q);
}

const struct flz_voice_kernels flz_voice_kernels_avx2_table = {
	.add = add_avx2,
	.copy = copy_avx2,
	.mix = mix_avx2,
	.mix_add = mix_add_avx2,
	.peak = peak_avx2,
	.name = "avx2+fma",
};
