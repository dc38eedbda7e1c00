/* SPDX-License-Identifier: MIT */
/* Generic C kernels. Plain loops the compiler vectorises for the baseline
 * instruction set; no FMA contraction differences between the body and the
 * tail of a loop, because each element is computed by the same expression. */
#include <math.h>
#include <stddef.h>

#include "kernels.h"

FLZ_RT FLZ_HOT static void add_generic(float *restrict dst, const float *restrict src, size_t n_samples,
			       float gain)
{
	for (size_t i = 0; i < n_samples; i++)
		dst[i] += gain * src[i];
}

FLZ_RT FLZ_HOT static void copy_generic(float *restrict dst, const float *restrict src, size_t n_samples,
				float gain)
{
	for (size_t i = 0; i < n_samples; i++)
		dst[i] = gain * src[i];
}

/* Sums are built in a small block on the stack, one source after another,
 * so each element sees the same operations in the same order as
 * copy_generic() followed by add_generic() per source. */
#define MIX_CHUNK 64

FLZ_RT FLZ_HOT static void mix_generic(float *restrict dst, const float *const *src, const float *gain,
			       uint32_t n_src, size_t n_samples, float scale)
{
	float acc[MIX_CHUNK];
	for (size_t i0 = 0; i0 < n_samples; i0 += MIX_CHUNK) {
		const size_t n = n_samples - i0 < MIX_CHUNK ? n_samples - i0 : MIX_CHUNK;
		if (n_src == 0) {
			for (size_t i = 0; i < n; i++)
				acc[i] = 0.0f;
		} else {
			const float *restrict s = src[0] + i0;
			const float g = gain[0];
			for (size_t i = 0; i < n; i++)
				acc[i] = g * s[i];
		}
		for (uint32_t v = 1; v < n_src; v++) {
			const float *restrict s = src[v] + i0;
			const float g = gain[v];
			for (size_t i = 0; i < n; i++)
				acc[i] += g * s[i];
		}
		for (size_t i = 0; i < n; i++)
			dst[i0 + i] = scale * acc[i];
	}
}

FLZ_RT FLZ_HOT static float peak_generic(const float *restrict src, size_t n_samples)
{
	float p = 0.0f;
	for (size_t i = 0; i < n_samples; i++) {
		float a = src[i] < 0.0f ? -src[i] : src[i];
		p = a > p ? a : p;
	}
	return p;
}

FLZ_RT FLZ_HOT static void peak_frames_generic(const float *restrict src, size_t n_frames,
					       uint32_t n_channels, float *peaks)
{
	for (uint32_t c = 0; c < n_channels; c++) {
		float p = peaks[c];
		for (size_t f = 0; f < n_frames; f++) {
			float a = fabsf(src[f * n_channels + c]);
			p = a > p ? a : p;
		}
		peaks[c] = p;
	}
}

/* One source after another, each exactly add_generic()'s operation (into
 * zeros for the first with overwrite). */
FLZ_RT FLZ_HOT static void mix_add_generic(float *restrict dst, const float *const *src,
					   const float *gain, uint32_t n_src, size_t n_samples,
					   bool overwrite, float *src_peak)
{
	if (overwrite) {
		for (size_t i = 0; i < n_samples; i++)
			dst[i] = 0.0f;
	}
	for (uint32_t v = 0; v < n_src; v++) {
		add_generic(dst, src[v], n_samples, gain[v]);
		if (src_peak != NULL)
			src_peak[v] = peak_generic(src[v], n_samples);
	}
}

/* The three steps mix_out() stands for, one after the other. */
FLZ_RT FLZ_HOT static void mix_out_generic(float *restrict dst, const float *const *src,
					   const float *gain, uint32_t n_src, size_t n_frames,
					   uint32_t n_channels, float scale, float *src_peak,
					   float *out_peaks)
{
	const size_t n = n_frames * n_channels;
	mix_add_generic(dst, src, gain, n_src, n, true, src_peak);
	if (scale != 1.0f)
		for (size_t i = 0; i < n; i++)
			dst[i] = scale * dst[i];
	peak_frames_generic(dst, n_frames, n_channels, out_peaks);
}

const struct flz_voice_kernels flz_voice_kernels_generic_table = {
	.add = add_generic,
	.copy = copy_generic,
	.mix = mix_generic,
	.mix_add = mix_add_generic,
	.peak = peak_generic,
	.peak_frames = peak_frames_generic,
	.mix_out = mix_out_generic,
	.name = "generic",
};

FLZ_RT FLZ_HOT void flz_voice_kernel_ramp(float *dst, const float *src, uint32_t n_frames,
				  uint32_t n_channels, float start_lin, float step_lin, uint32_t k0,
				  bool overwrite)
{
	/* The gain of each frame comes from its index in the ramp, not from a
	 * running sum, so a ramp split across blocks is bit-identical. */
	if (n_channels == 2) {
		for (uint32_t f = 0; f < n_frames; f++) {
			float g = start_lin + step_lin * (float)(k0 + f);
			if (overwrite) {
				dst[2 * f] = g * src[2 * f];
				dst[2 * f + 1] = g * src[2 * f + 1];
			} else {
				dst[2 * f] += g * src[2 * f];
				dst[2 * f + 1] += g * src[2 * f + 1];
			}
		}
		return;
	}
	for (uint32_t f = 0; f < n_frames; f++) {
		float g = start_lin + step_lin * (float)(k0 + f);
		float *d = dst + (size_t)f * n_channels;
		const float *s = src + (size_t)f * n_channels;
		for (uint32_t c = 0; c < n_channels; c++) {
			if (overwrite)
				d[c] = g * s[c];
			else
				d[c] += g * s[c];
		}
	}
}
