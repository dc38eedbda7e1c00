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

/* One step of mix_add_pass() over 8 floats at i under lane mask @p m
 * (all lanes in the body, the valid ones in the tail). */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) void
mix_add_step8(float *dst, const float *const *src, const float *gain, uint32_t n_src, size_t i,
	      bool first, __m256i m, bool whole, __m256 *pk)
{
	const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256 a;
	uint32_t v = 0;
	if (!first) {
		a = whole ? _mm256_loadu_ps(dst + i) : _mm256_maskload_ps(dst + i, m);
	} else if (n_src > 0) {
		/* From zeros: add_avx2()'s operation into a cleared block. */
		const __m256 x = whole ? _mm256_loadu_ps(src[0] + i) : _mm256_maskload_ps(src[0] + i, m);
		a = _mm256_fmadd_ps(_mm256_set1_ps(gain[0]), x, _mm256_setzero_ps());
		/* max() returns its second operand for a NaN: NaN is skipped. */
		pk[0] = _mm256_max_ps(_mm256_and_ps(abs_mask, x), pk[0]);
		v = 1;
	} else {
		a = _mm256_setzero_ps();
	}
	for (; v < n_src; v++) {
		const __m256 x = whole ? _mm256_loadu_ps(src[v] + i) : _mm256_maskload_ps(src[v] + i, m);
		a = _mm256_fmadd_ps(_mm256_set1_ps(gain[v]), x, a);
		pk[v] = _mm256_max_ps(_mm256_and_ps(abs_mask, x), pk[v]);
	}
	if (whole)
		_mm256_storeu_ps(dst + i, a);
	else
		_mm256_maskstore_ps(dst + i, m, a);
}

/* One pass of mix_add_avx2() over up to MIX_GROUP sources: the sum starts
 * from zeros (@p first) or from dst, then one fused multiply-add per source
 * (add_avx2()'s), so passes give the values of one sequence bit for bit. Each source's |x| maximum is kept on the
 * way. The body has no masks; only the tail's last 8 floats use them. */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) void
mix_add_pass(float *dst, const float *const *src, const float *gain, uint32_t n_src,
	     size_t n_samples, bool first, float *src_peak)
{
	__m256 pk[MIX_GROUP];
	for (uint32_t v = 0; v < MIX_GROUP; v++)
		pk[v] = _mm256_setzero_ps();
	const __m256i all = _mm256_set1_epi32(-1);
	const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	size_t i = 0;
	/* 32 floats a step: four independent sums, so the fused multiply-adds
	 * of one source overlap instead of waiting on each other. */
	for (; i + 32 <= n_samples; i += 32) {
		__m256 a0, a1, a2, a3;
		if (first) {
			a0 = a1 = a2 = a3 = _mm256_setzero_ps();
		} else {
			a0 = _mm256_loadu_ps(dst + i);
			a1 = _mm256_loadu_ps(dst + i + 8);
			a2 = _mm256_loadu_ps(dst + i + 16);
			a3 = _mm256_loadu_ps(dst + i + 24);
		}
		for (uint32_t v = 0; v < n_src; v++) {
			const __m256 g = _mm256_set1_ps(gain[v]);
			const float *x = src[v] + i;
			const __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8);
			const __m256 x2 = _mm256_loadu_ps(x + 16), x3 = _mm256_loadu_ps(x + 24);
			a0 = _mm256_fmadd_ps(g, x0, a0);
			a1 = _mm256_fmadd_ps(g, x1, a1);
			a2 = _mm256_fmadd_ps(g, x2, a2);
			a3 = _mm256_fmadd_ps(g, x3, a3);
			/* Nested so that a NaN (max() returns its second operand
			 * then) is skipped and everything else kept. */
			__m256 p = _mm256_max_ps(_mm256_and_ps(abs_mask, x3), pk[v]);
			p = _mm256_max_ps(_mm256_and_ps(abs_mask, x2), p);
			p = _mm256_max_ps(_mm256_and_ps(abs_mask, x1), p);
			pk[v] = _mm256_max_ps(_mm256_and_ps(abs_mask, x0), p);
		}
		_mm256_storeu_ps(dst + i, a0);
		_mm256_storeu_ps(dst + i + 8, a1);
		_mm256_storeu_ps(dst + i + 16, a2);
		_mm256_storeu_ps(dst + i + 24, a3);
	}
	for (; i + 8 <= n_samples; i += 8)
		mix_add_step8(dst, src, gain, n_src, i, first, all, true, pk);
	if (i < n_samples) {
		const __m256i m = _mm256_loadu_si256((const __m256i *)tail_masks[n_samples - i]);
		mix_add_step8(dst, src, gain, n_src, i, first, m, false, pk);
	}
	if (src_peak == NULL)
		return;
	for (uint32_t v = 0; v < n_src; v++) {
		__m128 q = _mm_max_ps(_mm256_castps256_ps128(pk[v]), _mm256_extractf128_ps(pk[v], 1));
		q = _mm_max_ps(q, _mm_movehl_ps(q, q));
		q = _mm_max_ps(q, _mm_shuffle_ps(q, q, 1));
		src_peak[v] = _mm_cvtss_f32(q);
	}
}

/* mix_add_avx2() for one source, 32 floats a step with the source's
 * pointer and gain in registers: add_avx2()'s operation per element (into
 * zeros with overwrite), so the same values. */
FLZ_RT FLZ_HOT static void mix_add_one_avx2(float *dst, const float *src, float gain,
				    size_t n_samples, bool overwrite, float *src_peak)
{
	const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	const __m256 g = _mm256_set1_ps(gain);
	__m256 p0 = _mm256_setzero_ps(), p1 = p0, p2 = p0, p3 = p0;
	size_t i = 0;
	for (; i + 32 <= n_samples; i += 32) {
		const __m256 x0 = _mm256_loadu_ps(src + i), x1 = _mm256_loadu_ps(src + i + 8);
		const __m256 x2 = _mm256_loadu_ps(src + i + 16), x3 = _mm256_loadu_ps(src + i + 24);
		if (overwrite) {
			/* From zeros: add_avx2()'s operation into a cleared block. */
			const __m256 z = _mm256_setzero_ps();
			_mm256_storeu_ps(dst + i, _mm256_fmadd_ps(g, x0, z));
			_mm256_storeu_ps(dst + i + 8, _mm256_fmadd_ps(g, x1, z));
			_mm256_storeu_ps(dst + i + 16, _mm256_fmadd_ps(g, x2, z));
			_mm256_storeu_ps(dst + i + 24, _mm256_fmadd_ps(g, x3, z));
		} else {
			_mm256_storeu_ps(dst + i, _mm256_fmadd_ps(g, x0, _mm256_loadu_ps(dst + i)));
			_mm256_storeu_ps(dst + i + 8,
					 _mm256_fmadd_ps(g, x1, _mm256_loadu_ps(dst + i + 8)));
			_mm256_storeu_ps(dst + i + 16,
					 _mm256_fmadd_ps(g, x2, _mm256_loadu_ps(dst + i + 16)));
			_mm256_storeu_ps(dst + i + 24,
					 _mm256_fmadd_ps(g, x3, _mm256_loadu_ps(dst + i + 24)));
		}
		/* max() returns its second operand for a NaN: NaN is skipped. */
		p0 = _mm256_max_ps(_mm256_and_ps(abs_mask, x0), p0);
		p1 = _mm256_max_ps(_mm256_and_ps(abs_mask, x1), p1);
		p2 = _mm256_max_ps(_mm256_and_ps(abs_mask, x2), p2);
		p3 = _mm256_max_ps(_mm256_and_ps(abs_mask, x3), p3);
	}
	for (; i < n_samples; i += 8) {
		const size_t left = n_samples - i;
		const __m256i m = left >= 8 ? _mm256_set1_epi32(-1)
					    : _mm256_loadu_si256((const __m256i *)tail_masks[left]);
		const __m256 x = _mm256_maskload_ps(src + i, m);
		const __m256 y = _mm256_fmadd_ps(g, x, overwrite ? _mm256_setzero_ps()
							       : _mm256_maskload_ps(dst + i, m));
		_mm256_maskstore_ps(dst + i, m, y);
		p0 = _mm256_max_ps(_mm256_and_ps(abs_mask, x), p0);
	}
	if (src_peak == NULL)
		return;
	__m256 p = _mm256_max_ps(_mm256_max_ps(p0, p1), _mm256_max_ps(p2, p3));
	__m128 q = _mm_max_ps(_mm256_castps256_ps128(p), _mm256_extractf128_ps(p, 1));
	q = _mm_max_ps(q, _mm_movehl_ps(q, q));
	q = _mm_max_ps(q, _mm_shuffle_ps(q, q, 1));
	src_peak[0] = _mm_cvtss_f32(q);
}

FLZ_RT FLZ_HOT static void mix_add_avx2(float *dst, const float *const *src, const float *gain,
				uint32_t n_src, size_t n_samples, bool overwrite, float *src_peak)
{
	if (n_src == 1) {
		mix_add_one_avx2(dst, src[0], gain[0], n_samples, overwrite, src_peak);
		return;
	}
	if (n_src == 0) {
		if (overwrite)
			mix_add_pass(dst, src, gain, 0, n_samples, true, NULL);
		return;
	}
	for (uint32_t v = 0; v < n_src; v += MIX_GROUP) {
		uint32_t k = n_src - v < MIX_GROUP ? n_src - v : MIX_GROUP;
		mix_add_pass(dst, src + v, gain + v, k, n_samples, overwrite && v == 0,
			     src_peak != NULL ? src_peak + v : NULL);
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

/* Stereo: four frames per vector, left in the even lanes, right in the odd
 * ones; mono through peak_avx2(); other channel counts through the portable
 * kernel (the same values: a max of absolute values is exact). */
FLZ_RT FLZ_HOT static void peak_frames_avx2(const float *src, size_t n_frames, uint32_t n_channels,
					   float *peaks)
{
	if (n_channels == 1) {
		float p = peak_avx2(src, n_frames);
		peaks[0] = p > peaks[0] ? p : peaks[0];
		return;
	}
	if (n_channels != 2) {
		flz_voice_kernels_generic_table.peak_frames(src, n_frames, n_channels, peaks);
		return;
	}
	const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256 p0 = _mm256_setzero_ps(), p1 = _mm256_setzero_ps();
	const size_t n = n_frames * 2;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		p0 = _mm256_max_ps(_mm256_and_ps(abs_mask, _mm256_loadu_ps(src + i)), p0);
		p1 = _mm256_max_ps(_mm256_and_ps(abs_mask, _mm256_loadu_ps(src + i + 8)), p1);
	}
	for (; i + 8 <= n; i += 8)
		p0 = _mm256_max_ps(_mm256_and_ps(abs_mask, _mm256_loadu_ps(src + i)), p0);
	if (i < n) { /* an even count: the tail keeps the lanes' channels */
		__m256i m = _mm256_loadu_si256((const __m256i *)tail_masks[n - i]);
		p1 = _mm256_max_ps(_mm256_and_ps(abs_mask, _mm256_maskload_ps(src + i, m)), p1);
	}
	__m256 p = _mm256_max_ps(p0, p1);
	/* Lanes 0 2 4 6 are left, 1 3 5 7 right: fold the halves, then the pairs. */
	__m128 q = _mm_max_ps(_mm256_castps256_ps128(p), _mm256_extractf128_ps(p, 1));
	q = _mm_max_ps(q, _mm_movehl_ps(q, q)); /* lanes 0: L, 1: R */
	const float left = _mm_cvtss_f32(q);
	const float right = _mm_cvtss_f32(_mm_shuffle_ps(q, q, 1));
	peaks[0] = left > peaks[0] ? left : peaks[0];
	peaks[1] = right > peaks[1] ? right : peaks[1];
}

/* ---- mix_out(): the output block's sum, scale and peaks ---- */

/* Per channel, the largest of the lanes of @p p (which holds no NaN) that
 * hold it: vectors start at multiples of eight floats, so with
 * 8 % n_channels == 0 lane l holds channel l % n_channels. Folded with
 * shuffles; @p chan has room for 8. */
FLZ_RT FLZ_HOT static inline void lane_channels(__m256 p, uint32_t n_channels, float *chan)
{
	if (n_channels == 8) {
		_mm256_storeu_ps(chan, p);
		return;
	}
	/* Lanes l and l + 4 hold the same channel for 1, 2 and 4 channels. */
	__m128 q = _mm_max_ps(_mm256_castps256_ps128(p), _mm256_extractf128_ps(p, 1));
	if (n_channels <= 2) /* lanes l and l + 2 too */
		q = _mm_max_ps(q, _mm_movehl_ps(q, q));
	if (n_channels == 1) /* and all four */
		q = _mm_max_ps(q, _mm_shuffle_ps(q, q, 1));
	float lane[4];
	_mm_storeu_ps(lane, q);
	for (uint32_t c = 0; c < n_channels; c++)
		chan[c] = lane[c];
}

/*
 * One source: y = scale x (gain x x + 0) (add_avx2()'s operation into
 * zeros, then the scale) 32 floats a step, with the per-lane maximum of
 * |x| alone (NaN skipped: max() returns its second operand then). The
 * output's maxima follow from it: with round to nearest, |fl(a x b)| =
 * fl(|a| x |b|) and rounding is monotonic, so the largest |y| of a channel
 * is fl(|scale| x fl(|gain| x the channel's largest |x|)); a NaN x gives a
 * NaN y, skipped in both, an infinite x an infinite y (which a gain or
 * scale of 0 would make NaN: the caller excludes those).
 */
FLZ_RT FLZ_HOT static void mix_out_one_avx2(float *dst, const float *src, float gain, size_t n,
					    uint32_t n_channels, float scale, float *src_peak,
					    float *out_peaks)
{
	const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	const __m256 g = _mm256_set1_ps(gain), sc = _mm256_set1_ps(scale);
	const __m256 z = _mm256_setzero_ps();
	const bool scaled = scale != 1.0f;
	__m256 p0 = z, p1 = z, p2 = z, p3 = z;
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		const __m256 x0 = _mm256_loadu_ps(src + i), x1 = _mm256_loadu_ps(src + i + 8);
		const __m256 x2 = _mm256_loadu_ps(src + i + 16), x3 = _mm256_loadu_ps(src + i + 24);
		__m256 y0 = _mm256_fmadd_ps(g, x0, z), y1 = _mm256_fmadd_ps(g, x1, z);
		__m256 y2 = _mm256_fmadd_ps(g, x2, z), y3 = _mm256_fmadd_ps(g, x3, z);
		if (scaled) {
			y0 = _mm256_mul_ps(sc, y0);
			y1 = _mm256_mul_ps(sc, y1);
			y2 = _mm256_mul_ps(sc, y2);
			y3 = _mm256_mul_ps(sc, y3);
		}
		_mm256_storeu_ps(dst + i, y0);
		_mm256_storeu_ps(dst + i + 8, y1);
		_mm256_storeu_ps(dst + i + 16, y2);
		_mm256_storeu_ps(dst + i + 24, y3);
		p0 = _mm256_max_ps(_mm256_and_ps(abs_mask, x0), p0);
		p1 = _mm256_max_ps(_mm256_and_ps(abs_mask, x1), p1);
		p2 = _mm256_max_ps(_mm256_and_ps(abs_mask, x2), p2);
		p3 = _mm256_max_ps(_mm256_and_ps(abs_mask, x3), p3);
	}
	for (; i < n; i += 8) {
		const size_t left = n - i;
		const __m256i m = left >= 8 ? _mm256_set1_epi32(-1)
					    : _mm256_loadu_si256((const __m256i *)tail_masks[left]);
		const __m256 x = _mm256_maskload_ps(src + i, m);
		__m256 y = _mm256_fmadd_ps(g, x, z);
		if (scaled)
			y = _mm256_mul_ps(sc, y);
		_mm256_maskstore_ps(dst + i, m, y);
		/* The masked-off lanes are zeros, which change no maximum. */
		p0 = _mm256_max_ps(_mm256_and_ps(abs_mask, x), p0);
	}
	/* No NaN in p0..p3: their order does not matter. */
	const __m256 p = _mm256_max_ps(_mm256_max_ps(p0, p1), _mm256_max_ps(p2, p3));
	if (n_channels == 2) {
		/* The same steps in two lanes (left, right), without the scalar
		 * loop: maxps(a, b) is a > b ? a : b, as the loop's. */
		__m128 q = _mm_max_ps(_mm256_castps256_ps128(p), _mm256_extractf128_ps(p, 1));
		q = _mm_max_ps(q, _mm_movehl_ps(q, q));
		const __m128 abs4 = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
		__m128 y = _mm_mul_ps(_mm_and_ps(abs4, _mm_set1_ps(gain)), q);
		if (scaled)
			y = _mm_mul_ps(_mm_and_ps(abs4, _mm_set1_ps(scale)), y);
		/* loadlps/storelps: two floats, no alignment beyond a float's
		 * (a double load of them would need 8 bytes). */
		const __m128 old = _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)out_peaks);
		_mm_storel_pi((__m64 *)out_peaks, _mm_max_ps(y, old));
		const float left = _mm_cvtss_f32(q), right = _mm_cvtss_f32(_mm_shuffle_ps(q, q, 1));
		src_peak[0] = right > left ? right : left;
		return;
	}
	float chan[8];
	lane_channels(p, n_channels, chan);
	const float ga = gain < 0.0f ? -gain : gain, sa = scale < 0.0f ? -scale : scale;
	float top = 0.0f;
	for (uint32_t c = 0; c < n_channels; c++) {
		top = chan[c] > top ? chan[c] : top;
		float y = ga * chan[c];
		if (scaled)
			y = sa * y;
		out_peaks[c] = y > out_peaks[c] ? y : out_peaks[c];
	}
	src_peak[0] = top;
}

/* One source: the pass above. More: mix_add_avx2() (eight sources a pass),
 * the scale in place (copy_avx2()'s multiply) and peak_frames_avx2(). */
FLZ_RT FLZ_HOT static void mix_out_avx2(float *dst, const float *const *src, const float *gain,
					uint32_t n_src, size_t n_frames, uint32_t n_channels,
					float scale, float *src_peak, float *out_peaks)
{
	const size_t n = n_frames * n_channels;
	if (n_src == 1 && 8 % n_channels == 0 && gain[0] != 0.0f && scale != 0.0f) {
		mix_out_one_avx2(dst, src[0], gain[0], n, n_channels, scale, src_peak, out_peaks);
		return;
	}
	mix_add_avx2(dst, src, gain, n_src, n, true, src_peak);
	if (scale != 1.0f)
		copy_avx2(dst, dst, n, scale);
	peak_frames_avx2(dst, n_frames, n_channels, out_peaks);
}

const struct flz_voice_kernels flz_voice_kernels_avx2_table = {
	.add = add_avx2,
	.copy = copy_avx2,
	.mix = mix_avx2,
	.mix_add = mix_add_avx2,
	.peak = peak_avx2,
	.peak_frames = peak_frames_avx2,
	.mix_out = mix_out_avx2,
	.name = "avx2+fma",
};
