/* SPDX-License-Identifier: MIT */
/* The interpolator for stereo with AVX2+FMA, eight taps at a time. Built
 * with -mavx2 -mfma; called only after the control side has checked the
 * CPU. Same tables and coefficients as the generic version; the sums are
 * formed in a different order, so results agree to float rounding (about
 * 1e-7), not bit for bit. */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "resampler.h"

/*
 * The sums of one stereo frame from @p n_taps taps (a multiple of 4) of a
 * table row, as eight floats (left, right, left, ...) still to be folded:
 * per group of eight taps one fused multiply-add makes the coefficients
 * (h + a x dh), two in-lane unpacks double them (the row's order makes
 * the low unpack taps 0..3 and the high one taps 4..7, each twice, one
 * float per float of interleaved stereo frames), and two fused multiply-
 * adds take them onto eight frames, into two sums. A last group of four
 * taps (n_taps not a multiple of 8) uses the low unpack only, so that no
 * frame past the readable ones is loaded.
 */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) __m256
frame_sums(const float *row, float a, int32_t n_taps, const float *x)
{
	const __m256 av = _mm256_set1_ps(a);
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	int32_t i = 0;
#pragma GCC unroll 16
	for (; i + 8 <= n_taps; i += 8, row += 2 * FLZ_RESAMPLER_GROUP, x += 16) {
		const __m256 c = _mm256_fmadd_ps(av, _mm256_load_ps(row + 8), _mm256_load_ps(row));
		acc0 = _mm256_fmadd_ps(_mm256_unpacklo_ps(c, c), _mm256_loadu_ps(x), acc0);
		acc1 = _mm256_fmadd_ps(_mm256_unpackhi_ps(c, c), _mm256_loadu_ps(x + 8), acc1);
	}
	if (i < n_taps) {
		const __m256 c = _mm256_fmadd_ps(av, _mm256_load_ps(row + 8), _mm256_load_ps(row));
		acc1 = _mm256_fmadd_ps(_mm256_unpacklo_ps(c, c), _mm256_loadu_ps(x), acc1);
	}
	return _mm256_add_ps(acc0, acc1);
}

/* The row of fraction @p frac (rows of @p row_floats floats) and the
 * position *a between it and the next: flz_resampler_row(). */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) const float *
row_at(const float *rows, size_t row_floats, uint32_t frac, float *a)
{
	*a = (float)(frac & ((1u << FLZ_RESAMPLER_ROW_FRAC_BITS) - 1)) *
	     (1.0f / (float)(1u << FLZ_RESAMPLER_ROW_FRAC_BITS));
	return rows + (size_t)(frac >> FLZ_RESAMPLER_ROW_FRAC_BITS) * row_floats;
}

/* Fold one frame's sums to its left and right (lanes 0 and 1), times the
 * gain: lanes 0..3 plus lanes 4..7, then the pairs. The pair fold in the
 * run below does the same additions for each of its frames. */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) __m128 fold(__m256 sum, __m128 g)
{
	const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
	return _mm_mul_ps(_mm_add_ps(s4, _mm_movehl_ps(s4, s4)), g);
}

FLZ_RT FLZ_HOT void flz_resampler_frame_stereo_avx2(const struct flz_resampler *r,
					    const struct flz_resampler_speed *sp,
					    const float *center, uint32_t n_channels,
					    uint32_t frac, float gain_lin, float *out)
{
	(void)r;
	(void)n_channels; /* always 2 */
	float a;
	const float *row = row_at(sp->table->rows, 2 * (size_t)sp->table->stride, frac, &a);
	const __m256 sum = frame_sums(row, a, 2 * sp->side, center + (int32_t)(1 - sp->side) * 2);
	_mm_storel_pi((__m64 *)out, fold(sum, _mm_set1_ps(gain_lin)));
}

/* How far past its tap window a run prefetches the source: 1 KiB (128
 * stereo frames, 32-128 output frames at rates 1-4), found by measurement
 * (docs/performance.md): 64 floats is too late for the 10-second samples of
 * the bench, 1024 no better. */
#define PREFETCH_FLOATS 256

/*
 * The run for @p n_taps taps a frame: a constant when the switch below
 * inlines it for one table's size, so that the taps' loop is unrolled
 * (about 10% faster in the mixer bench than the loop; docs/performance.md). The operations and
 * their order do not depend on it: the values are those of
 * flz_resampler_frame_stereo_avx2() either way.
 */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) void
run_taps(int32_t n_taps, const struct flz_resampler_speed *sp, const float *src, int64_t base,
	 const int64_t *pos, const uint32_t *frac, uint32_t n_frames, float gain_lin, float *out)
{
	const float *rows = sp->table->rows;
	const size_t row_floats = 2 * (size_t)sp->table->stride;
	const float *x0 = src + (1 - sp->side - base) * 2;
	const __m128 g = _mm_set1_ps(gain_lin);
	uint32_t j = 0;
	for (; j + 2 <= n_frames; j += 2) {
		/* The sample is read once, front to back, by up to 32 voices at
		 * a time: ask for the line PREFETCH_FLOATS past the window's end
		 * now, so that it is in L1 when the taps reach it (one line per
		 * two frames covers rates up to 4). A prefetch never faults, so
		 * one past the end of the sample or window costs nothing. */
		_mm_prefetch((const char *)(x0 + pos[j] * 2 + n_taps * 2 + PREFETCH_FLOATS),
			     _MM_HINT_T0);
		float a0, a1;
		const float *row0 = row_at(rows, row_floats, frac[j], &a0);
		const float *row1 = row_at(rows, row_floats, frac[j + 1], &a1);
		const __m256 s0 = frame_sums(row0, a0, n_taps, x0 + pos[j] * 2);
		const __m256 s1 = frame_sums(row1, a1, n_taps, x0 + pos[j + 1] * 2);
		/* Two frames folded together: [s0 low | s1 low] + [s0 high |
		 * s1 high] holds each frame's lanes 0..3 + 4..7 in its own half,
		 * then (l, r) + (l', r') of both: fold()'s additions. */
		const __m256 z = _mm256_add_ps(_mm256_permute2f128_ps(s0, s1, 0x20),
					       _mm256_permute2f128_ps(s0, s1, 0x31));
		const __m128 lo = _mm256_castps256_ps128(z), hi = _mm256_extractf128_ps(z, 1);
		const __m128 lr = _mm_add_ps(_mm_movelh_ps(lo, hi), _mm_movehl_ps(hi, lo));
		_mm_storeu_ps(out + (size_t)j * 2, _mm_mul_ps(lr, g));
	}
	if (j < n_frames) {
		float a0;
		const float *row0 = row_at(rows, row_floats, frac[j], &a0);
		const __m256 s0 = frame_sums(row0, a0, n_taps, x0 + pos[j] * 2);
		_mm_storel_pi((__m64 *)(out + (size_t)j * 2), fold(s0, g));
	}
}

FLZ_RT FLZ_HOT void flz_resampler_run_stereo_avx2(const struct flz_resampler *r,
					  const struct flz_resampler_speed *sp, const float *src,
					  int64_t base, const int64_t *pos, const uint32_t *frac,
					  uint32_t n_channels, uint32_t n_frames, float gain_lin,
					  float *out)
{
	(void)r;
	(void)n_channels; /* always 2 */
	/* The taps of resampler.c's tables (2 x side: the base one, then the
	 * stretches 2^(k/6), k = 1 .. 12); any other count takes the loop. */
	switch (2 * sp->side) {
#define FLZ_RUN_TAPS(n)                                                          \
	case n:                                                                   \
		run_taps(n, sp, src, base, pos, frac, n_frames, gain_lin, out);   \
		return;
		FLZ_RUN_TAPS(20)
		FLZ_RUN_TAPS(32)
		FLZ_RUN_TAPS(36)
		FLZ_RUN_TAPS(40)
		FLZ_RUN_TAPS(44)
		FLZ_RUN_TAPS(48)
		FLZ_RUN_TAPS(52)
		FLZ_RUN_TAPS(60)
		FLZ_RUN_TAPS(68)
		FLZ_RUN_TAPS(76)
		FLZ_RUN_TAPS(84)
		FLZ_RUN_TAPS(96)
		FLZ_RUN_TAPS(104)
#undef FLZ_RUN_TAPS
	default:
		run_taps(2 * sp->side, sp, src, base, pos, frac, n_frames, gain_lin, out);
	}
}
