/* SPDX-License-Identifier: MIT */
/* The reference the mixer benchmark measures against: the most direct C mix
 * loop, built with -O3 -march=native. It zeroes the block, then adds each
 * voice's samples times its gain, wrapping at the end of the sample. */
#include <stdint.h>
#include <string.h>

#include "reference.h"

void flz_bench_reference_render(struct flz_bench_ref_voice *voices, unsigned n_voices,
				float *out, uint32_t n_frames, uint32_t n_channels)
{
	memset(out, 0, (size_t)n_frames * n_channels * sizeof(float));
	for (unsigned v = 0; v < n_voices; v++) {
		struct flz_bench_ref_voice *voice = &voices[v];
		uint32_t done = 0;
		while (done < n_frames) {
			int64_t left = voice->n_frames - voice->pos;
			uint32_t n = (uint32_t)((int64_t)(n_frames - done) < left ? (n_frames - done) : left);
			const float *in = voice->data + voice->pos * n_channels;
			float *o = out + (size_t)done * n_channels;
			float g = voice->gain;
			for (uint32_t i = 0; i < n * n_channels; i++)
				o[i] += g * in[i];
			done += n;
			voice->pos += n;
			if (voice->pos == voice->n_frames)
				voice->pos = 0;
		}
	}
}
