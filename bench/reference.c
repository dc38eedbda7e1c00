/* SPDX-License-Identifier: MIT */
/*
 * The reference the mixer benchmark measures against: the plain C mix loop a
 * careful user would write, built with -O3 -march=native. Voices are mixed
 * four per pass over the output block, so the block is loaded and stored once
 * per four voices rather than once per voice; the first pass stores instead
 * of adding, so the block needs no clearing. A pass runs in stretches in
 * which none of its voices reaches the end of its sample; a voice at its
 * end continues at frame 0.
 */
#include <stdint.h>
#include <string.h>

#include "reference.h"

#define PER_PASS 4

/* Frames until the first of the pass's voices reaches its end, at most @p n. */
static uint32_t stretch(const struct flz_bench_ref_voice *v, unsigned k, uint32_t n)
{
	for (unsigned j = 0; j < k; j++) {
		int64_t left = v[j].n_frames - v[j].pos;
		if (left < (int64_t)n)
			n = (uint32_t)left;
	}
	return n;
}

static void advance(struct flz_bench_ref_voice *v, unsigned k, uint32_t n)
{
	for (unsigned j = 0; j < k; j++) {
		v[j].pos += n;
		if (v[j].pos == v[j].n_frames)
			v[j].pos = 0;
	}
}

/* One pass of k (1..4) voices over @p n_frames; @p store for the first pass. */
static void pass(struct flz_bench_ref_voice *v, unsigned k, float *out, uint32_t n_frames,
		 uint32_t n_channels, int store)
{
	uint32_t done = 0;
	while (done < n_frames) {
		uint32_t n = stretch(v, k, n_frames - done);
		size_t ns = (size_t)n * n_channels;
		float *restrict o = out + (size_t)done * n_channels;
		const float *restrict a = v[0].data + v[0].pos * n_channels;
		const float *restrict b = k > 1 ? v[1].data + v[1].pos * n_channels : a;
		const float *restrict c = k > 2 ? v[2].data + v[2].pos * n_channels : a;
		const float *restrict d = k > 3 ? v[3].data + v[3].pos * n_channels : a;
		float ga = v[0].gain, gb = k > 1 ? v[1].gain : 0.0f, gc = k > 2 ? v[2].gain : 0.0f,
		      gd = k > 3 ? v[3].gain : 0.0f;
		if (k == 4) {
			if (store)
				for (size_t i = 0; i < ns; i++)
					o[i] = ga * a[i] + gb * b[i] + gc * c[i] + gd * d[i];
			else
				for (size_t i = 0; i < ns; i++)
					o[i] += ga * a[i] + gb * b[i] + gc * c[i] + gd * d[i];
		} else if (k == 3) {
			if (store)
				for (size_t i = 0; i < ns; i++)
					o[i] = ga * a[i] + gb * b[i] + gc * c[i];
			else
				for (size_t i = 0; i < ns; i++)
					o[i] += ga * a[i] + gb * b[i] + gc * c[i];
		} else if (k == 2) {
			if (store)
				for (size_t i = 0; i < ns; i++)
					o[i] = ga * a[i] + gb * b[i];
			else
				for (size_t i = 0; i < ns; i++)
					o[i] += ga * a[i] + gb * b[i];
		} else {
			if (store)
				for (size_t i = 0; i < ns; i++)
					o[i] = ga * a[i];
			else
				for (size_t i = 0; i < ns; i++)
					o[i] += ga * a[i];
		}
		advance(v, k, n);
		done += n;
	}
}

void flz_bench_reference_render(struct flz_bench_ref_voice *voices, unsigned n_voices,
				float *out, uint32_t n_frames, uint32_t n_channels)
{
	if (n_voices == 0) {
		memset(out, 0, (size_t)n_frames * n_channels * sizeof(float));
		return;
	}
	for (unsigned v = 0; v < n_voices; v += PER_PASS) {
		unsigned k = n_voices - v < PER_PASS ? n_voices - v : PER_PASS;
		pass(voices + v, k, out, n_frames, n_channels, v == 0);
	}
}
