/* SPDX-License-Identifier: MIT */
/* The interpolator for stereo with AVX2+FMA, eight taps at a time. Built
 * with -mavx2 -mfma; called only after the control side has checked the
 * CPU. Same kernel and tables as the generic version; the sums are formed in
 * a different order, so results agree to float rounding (about 1e-7), not
 * bit for bit. */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "resampler.h"


/* Add the coefficient group c (taps i .. i+7) times the stereo frames at x
 * into the accumulators; @p n_left taps of the group are valid (<= 8), the
 * frames of the others are not read. */
FLZ_RT FLZ_HOT static inline void mac_group(__m256 c, const float *x, int32_t n_left, __m256 *acc0,
				    __m256 *acc1)
{
	const __m256i dup_lo = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
	const __m256i dup_hi = _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7);
	__m256 x0, x1;
	if (n_left >= 8) {
		x0 = _mm256_loadu_ps(x);
		x1 = _mm256_loadu_ps(x + 8);
	} else {
		const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
		__m256i n_floats = _mm256_set1_epi32(2 * n_left);
		x0 = _mm256_maskload_ps(x, _mm256_cmpgt_epi32(n_floats, lane));
		x1 = _mm256_maskload_ps(
			x + 8, _mm256_cmpgt_epi32(n_floats, _mm256_add_epi32(lane, _mm256_set1_epi32(8))));
	}
	*acc0 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(c, dup_lo), x0, *acc0);
	*acc1 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(c, dup_hi), x1, *acc1);
}

/* One stereo frame; inlined into both entry points below, so a frame gets
 * the same operations whichever of them computes it. */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) void
frame_stereo(const struct flz_resampler *r, const struct flz_resampler_speed *sp,
	     const float *center, uint32_t frac, float gain_lin, float *out)
{
	const int32_t side = sp->side;
	const int32_t n_taps = 2 * side;
	const float *x = center + (int32_t)(1 - side) * 2;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();

	if (sp->mode != FLZ_RESAMPLER_PER_TAP) {
		/* One row and its difference to the next, contiguous: no gathers.
		 * Rows are zero-padded to whole groups of eight. */
		const float *h, *dh;
		const float a = flz_resampler_row(r, sp, frac, &h, &dh);
		const __m256 av = _mm256_set1_ps(a);
		for (int32_t i = 0; i < n_taps; i += 8) {
			__m256 c = _mm256_fmadd_ps(av, _mm256_loadu_ps(dh + i), _mm256_loadu_ps(h + i));
			mac_group(c, x + 2 * i, n_taps - i, &acc0, &acc1);
		}
	} else {
		/* Stretched kernel (rate > 1): each tap has its own table
		 * position. The coefficients are looked up one by one into a row
		 * padded with zeros to whole groups of eight: on the CPUs this runs
		 * on, scalar loads beat AVX2 gathers (on AMD Zen 2 by about 1.4x,
		 * measured), and the sums stay the vector ones. */
		float c[2 * FLZ_RESAMPLER_MAX_SIDE_TAPS + 8] __attribute__((aligned(32)));
		int32_t u = flz_resampler_first_u(sp, frac);
		for (int32_t i = 0; i < n_taps; i++, u -= sp->step_u)
			c[i] = flz_resampler_kernel_at(r, u);
		for (int32_t i = n_taps; i < ((n_taps + 7) & ~7); i++)
			c[i] = 0.0f;
		for (int32_t i = 0; i < n_taps; i += 8)
			mac_group(_mm256_load_ps(c + i), x + 2 * i, n_taps - i, &acc0, &acc1);
	}
	/* Lanes alternate left, right: fold to one pair. */
	__m256 acc = _mm256_add_ps(acc0, acc1);
	__m128 s4 = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
	__m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
	const float scale = gain_lin * sp->norm;
	out[0] = _mm_cvtss_f32(s2) * scale;
	out[1] = _mm_cvtss_f32(_mm_shuffle_ps(s2, s2, 1)) * scale;
}

FLZ_RT FLZ_HOT void flz_resampler_frame_stereo_avx2(const struct flz_resampler *r,
					    const struct flz_resampler_speed *sp,
					    const float *center, uint32_t n_channels,
					    uint32_t frac, float gain_lin, float *out)
{
	(void)n_channels; /* always 2 */
	frame_stereo(r, sp, center, frac, gain_lin, out);
}

FLZ_RT FLZ_HOT void flz_resampler_run_stereo_avx2(const struct flz_resampler *r,
					  const struct flz_resampler_speed *sp, const float *src,
					  int64_t base, const int64_t *pos, const uint32_t *frac,
					  uint32_t n_channels, uint32_t n_frames, float gain_lin,
					  float *out)
{
	(void)n_channels; /* always 2 */
	for (uint32_t j = 0; j < n_frames; j++)
		frame_stereo(r, sp, src + (size_t)(pos[j] - base) * 2, frac[j], gain_lin,
			     out + (size_t)j * 2);
}
