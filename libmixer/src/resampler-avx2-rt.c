/* SPDX-License-Identifier: MIT */
/* The interpolator for stereo with AVX2+FMA, four taps (eight floats of
 * frames) at a time, from the doubled rows. Built with -mavx2 -mfma; called
 * only after the control side has checked the CPU. Same kernel and
 * coefficients as the generic version; the sums are formed in a different
 * order, so results agree to float rounding (about 1e-7), not bit for bit. */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "resampler.h"


/* Taps from the doubled rows (h2 + a x dh2, each tap twice: one float per
 * float of interleaved stereo frames): per eight floats one fused
 * multiply-add for the coefficients and one onto the data, with no shuffle,
 * into four independent sums, so that no chain of dependent additions sets
 * the pace. @p n_floats = 4 x side; the last 4 of them when n_floats is not
 * a multiple of 8 (odd side) go through a 4-wide step, so that no frame past
 * the readable ones is loaded. */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) __m128
dot_doubled(const float *h2, const float *dh2, float a, const float *x, int32_t n_floats)
{
	const __m256 av = _mm256_set1_ps(a);
	__m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
			  _mm256_setzero_ps() };
	int32_t i = 0, k = 0;
	for (; i + 8 <= n_floats; i += 8, k++) {
		const __m256 c =
			_mm256_fmadd_ps(av, _mm256_loadu_ps(dh2 + i), _mm256_loadu_ps(h2 + i));
		acc[k & 3] = _mm256_fmadd_ps(c, _mm256_loadu_ps(x + i), acc[k & 3]);
	}
	const __m256 sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
	__m128 s4 = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
	if (i < n_floats) {
		const __m128 c = _mm_fmadd_ps(_mm256_castps256_ps128(av), _mm_loadu_ps(dh2 + i),
					      _mm_loadu_ps(h2 + i));
		s4 = _mm_fmadd_ps(c, _mm_loadu_ps(x + i), s4);
	}
	/* Lanes alternate left, right: fold to one pair. */
	return _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
}

/* One stereo frame with @p side taps each side in @p mode (sp's, passed
 * apart so that a caller can make them constants); inlined into both entry
 * points below, so a frame gets the same operations whichever of them
 * computes it. */
FLZ_RT FLZ_HOT static inline __attribute__((always_inline)) void
frame_stereo_k(const struct flz_resampler *r, const struct flz_resampler_speed *sp,
	       int32_t side, enum flz_resampler_mode mode, const float *center, uint32_t frac,
	       float gain_lin, float *out)
{
	const int32_t n_taps = 2 * side;
	const float *x = center + (int32_t)(1 - side) * 2;
	__m128 s2;

	if (mode != FLZ_RESAMPLER_PER_TAP) {
		/* One doubled row and its difference to the next, contiguous. */
		const float *h2, *dh2;
		float a;
		if (mode == FLZ_RESAMPLER_ONE_ROW) {
			a = flz_resampler_row2(r, sp, frac, &h2, &dh2);
		} else {
			int32_t step;
			a = flz_resampler_row(r, sp, frac, &h2, &dh2, &step);
		}
		s2 = dot_doubled(h2, dh2, a, x, 2 * n_taps);
	} else {
		/* Stretched kernel (rate > 1): each tap has its own table
		 * position (only to build the stretched tables, and for tests).
		 * The coefficients are looked up one by one, doubled, into a row
		 * padded with zeros to whole groups of eight floats. */
		float c[4 * FLZ_RESAMPLER_MAX_SIDE_TAPS + 8] __attribute__((aligned(32)));
		int32_t u = flz_resampler_first_u(sp, frac);
		for (int32_t i = 0; i < n_taps; i++, u -= sp->step_u)
			c[2 * i] = c[2 * i + 1] = flz_resampler_kernel_at(r, u);
		static const float zeros[4 * FLZ_RESAMPLER_MAX_SIDE_TAPS + 8];
		s2 = dot_doubled(c, zeros, 0.0f, x, 2 * n_taps);
	}
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
	frame_stereo_k(r, sp, sp->side, sp->mode, center, frac, gain_lin, out);
}

FLZ_RT FLZ_HOT void flz_resampler_run_stereo_avx2(const struct flz_resampler *r,
					  const struct flz_resampler_speed *sp, const float *src,
					  int64_t base, const int64_t *pos, const uint32_t *frac,
					  uint32_t n_channels, uint32_t n_frames, float gain_lin,
					  float *out)
{
	(void)n_channels; /* always 2 */
	if (sp->mode == FLZ_RESAMPLER_ONE_ROW) {
		/* Rates <= 1: 32 taps, known here, so the taps' loop unrolls with
		 * no partial group. */
		for (uint32_t j = 0; j < n_frames; j++)
			frame_stereo_k(r, sp, FLZ_RESAMPLER_HALF_TAPS, FLZ_RESAMPLER_ONE_ROW,
				       src + (size_t)(pos[j] - base) * 2, frac[j], gain_lin,
				       out + (size_t)j * 2);
		return;
	}
	if (sp->mode == FLZ_RESAMPLER_STRETCH_TABLE) {
		/* The stretched tables' sides (ceil(16 x 2^(k/6)), resampler.c), as
		 * constants for the same reason; another side takes the loop below,
		 * with the same values. */
#define FLZ_STRETCH_RUN(n_side)                                                                  \
	case n_side:                                                                             \
		for (uint32_t j = 0; j < n_frames; j++)                                          \
			frame_stereo_k(r, sp, n_side, FLZ_RESAMPLER_STRETCH_TABLE,               \
				       src + (size_t)(pos[j] - base) * 2, frac[j], gain_lin,     \
				       out + (size_t)j * 2);                                     \
		return;
		switch (sp->side) {
			FLZ_STRETCH_RUN(18)
			FLZ_STRETCH_RUN(21)
			FLZ_STRETCH_RUN(23)
			FLZ_STRETCH_RUN(26)
			FLZ_STRETCH_RUN(29)
			FLZ_STRETCH_RUN(32)
			FLZ_STRETCH_RUN(36)
			FLZ_STRETCH_RUN(41)
			FLZ_STRETCH_RUN(46)
			FLZ_STRETCH_RUN(51)
			FLZ_STRETCH_RUN(58)
			FLZ_STRETCH_RUN(64)
		default:
			break;
		}
#undef FLZ_STRETCH_RUN
	}
	for (uint32_t j = 0; j < n_frames; j++)
		frame_stereo_k(r, sp, sp->side, sp->mode, src + (size_t)(pos[j] - base) * 2,
			       frac[j], gain_lin, out + (size_t)j * 2);
}
