/* SPDX-License-Identifier: MIT */
#ifndef FLZ_BENCH_REFERENCE_H
#define FLZ_BENCH_REFERENCE_H
#include <stdint.h>

struct flz_bench_ref_voice {
	const float *data;
	int64_t n_frames;
	int64_t pos;
	float gain;
};

void flz_bench_reference_render(struct flz_bench_ref_voice *voices, unsigned n_voices,
				float *out, uint32_t n_frames, uint32_t n_channels);
#endif
