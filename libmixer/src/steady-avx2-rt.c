/* SPDX-License-Identifier: MIT */
/*
 * The steady path's block (see render_steady() in mixer-rt.c) in one call
 * with AVX2+FMA, for blocks in which no voice reaches its loop point. Built
 * with -mavx2 -mfma into the mixer's SIMD object and used only when the
 * voice kernels are the AVX2 ones, whose operations it repeats per element:
 * the first voice is a product, each further one a fused multiply-add, then
 * one multiply by the master gain. So its output is bit-identical to the
 * kernel-by-kernel path.
 */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "mixer-internal.h"

/* Row n enables the first n of 8 lanes. */
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

/* One run of 32 samples at offset @p i of mix_region(): the sources summed
 * in four AVX registers, stored plain and/or times master. */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) void
mix_run32(float *scaled, float *plain, const float *const *srcs, const float *gains,
	  uint32_t n_src, size_t at, size_t i, __m256 master)
{
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	if (n_src > 0) {
		const __m256 g = _mm256_set1_ps(gains[0]);
		const float *s = srcs[0] + at + i;
		a0 = _mm256_mul_ps(g, _mm256_loadu_ps(s));
		a1 = _mm256_mul_ps(g, _mm256_loadu_ps(s + 8));
		a2 = _mm256_mul_ps(g, _mm256_loadu_ps(s + 16));
		a3 = _mm256_mul_ps(g, _mm256_loadu_ps(s + 24));
	}
	for (uint32_t v = 1; v < n_src; v++) {
		const __m256 g = _mm256_set1_ps(gains[v]);
		const float *s = srcs[v] + at + i;
		a0 = _mm256_fmadd_ps(g, _mm256_loadu_ps(s), a0);
		a1 = _mm256_fmadd_ps(g, _mm256_loadu_ps(s + 8), a1);
		a2 = _mm256_fmadd_ps(g, _mm256_loadu_ps(s + 16), a2);
		a3 = _mm256_fmadd_ps(g, _mm256_loadu_ps(s + 24), a3);
	}
	if (plain != NULL) {
		_mm256_storeu_ps(plain + i, a0);
		_mm256_storeu_ps(plain + i + 8, a1);
		_mm256_storeu_ps(plain + i + 16, a2);
		_mm256_storeu_ps(plain + i + 24, a3);
	}
	if (scaled != NULL) {
		_mm256_storeu_ps(scaled + i, _mm256_mul_ps(master, a0));
		_mm256_storeu_ps(scaled + i + 8, _mm256_mul_ps(master, a1));
		_mm256_storeu_ps(scaled + i + 16, _mm256_mul_ps(master, a2));
		_mm256_storeu_ps(scaled + i + 24, _mm256_mul_ps(master, a3));
	}
}

/* Sources' samples [at, at + n) summed: master x sum into @p scaled (when
 * not NULL), the plain sum into @p plain (when not NULL). */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) void
mix_region(float *scaled, float *plain, const float *const *srcs, const float *gains,
	   uint32_t n_src, size_t at, size_t n, __m256 master)
{
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		mix_run32(scaled, plain, srcs, gains, n_src, at, i, master);
	}
	for (; i < n; i += 8) {
		const size_t left = n - i;
		const __m256i m = _mm256_loadu_si256(
			(const __m256i *)tail_masks[left < 8 ? left : 0]);
		const bool whole = left >= 8;
		__m256 a = _mm256_setzero_ps();
		for (uint32_t v = 0; v < n_src; v++) {
			const float *s = srcs[v] + at + i;
			const __m256 x = whole ? _mm256_loadu_ps(s) : _mm256_maskload_ps(s, m);
			const __m256 g = _mm256_set1_ps(gains[v]);
			a = v == 0 ? _mm256_mul_ps(g, x) : _mm256_fmadd_ps(g, x, a);
		}
		if (whole) {
			if (plain != NULL)
				_mm256_storeu_ps(plain + i, a);
			if (scaled != NULL)
				_mm256_storeu_ps(scaled + i, _mm256_mul_ps(master, a));
		} else {
			if (plain != NULL)
				_mm256_maskstore_ps(plain + i, m, a);
			if (scaled != NULL)
				_mm256_maskstore_ps(scaled + i, m, _mm256_mul_ps(master, a));
		}
	}
}

_Static_assert(FLZ_MIXER_LOOKAHEAD % 32 == 0, "history regions are whole 32-sample runs");

/* mix_region() for a whole number of 32-sample runs (n % 32 == 0): the
 * history regions, which are LOOKAHEAD x n_channels samples long. */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) void
mix_region32(float *scaled, float *plain, const float *const *srcs, const float *gains,
	     uint32_t n_src, size_t at, size_t n, __m256 master)
{
	for (size_t i = 0; i < n; i += 32)
		mix_run32(scaled, plain, srcs, gains, n_src, at, i, master);
}

/* The whole block; inlined twice so the one-voice case (n_src a constant 1)
 * loses its loops over the voices. The history regions are LOOKAHEAD x
 * n_channels samples, a multiple of 32, so only the direct part has a tail. */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) void
steady_block(float *out, const float *prev, float *next, size_t n_samples, size_t delay_samples,
	     const float *const *srcs, size_t at, const float *gains, uint32_t n_src,
	     float master_lin)
{
	const __m256 master = _mm256_set1_ps(master_lin);
	/* out[0 .. delay) = master x the previous block's history. */
	for (size_t i = 0; i < delay_samples; i += 32) {
		const __m256 p0 = _mm256_loadu_ps(prev + i), p1 = _mm256_loadu_ps(prev + i + 8);
		const __m256 p2 = _mm256_loadu_ps(prev + i + 16);
		const __m256 p3 = _mm256_loadu_ps(prev + i + 24);
		_mm256_storeu_ps(out + i, _mm256_mul_ps(master, p0));
		_mm256_storeu_ps(out + i + 8, _mm256_mul_ps(master, p1));
		_mm256_storeu_ps(out + i + 16, _mm256_mul_ps(master, p2));
		_mm256_storeu_ps(out + i + 24, _mm256_mul_ps(master, p3));
	}
	/* The block's source samples: straight to the output, then to both the
	 * output and the history, then to the history only. */
	const size_t direct = n_samples - 2 * delay_samples;
	if (direct > 0)
		mix_region(out + delay_samples, NULL, srcs, gains, n_src, at, direct, master);
	mix_region32(out + n_samples - delay_samples, next, srcs, gains, n_src, at + direct,
		     delay_samples, master);
	mix_region32(NULL, next + delay_samples, srcs, gains, n_src, at + direct + delay_samples,
		     delay_samples, master);
}

FLZ_RT FLZ_HOT void flz_mixer_steady_avx2(float *out, const float *prev, float *next, size_t n_samples,
				  size_t delay_samples, const float *const *srcs, size_t at_samples,
				  const float *gains, uint32_t n_src, float master_lin)
{
	if (n_src == 1)
		steady_block(out, prev, next, n_samples, delay_samples, srcs, at_samples, gains, 1,
			     master_lin);
	else
		steady_block(out, prev, next, n_samples, delay_samples, srcs, at_samples, gains,
			     n_src, master_lin);
}
