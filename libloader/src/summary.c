/* SPDX-License-Identifier: MIT */
/*
 * The waveform pyramid (flz/summary.h). Levels are stored one after another
 * in one array of (min, max) pairs; level k has ceil(n_frames / (64 << k))
 * pairs, the last of each level possibly covering a short block.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flz/summary.h>

/* Enough levels for any int64 frame count. */
#define MAX_LEVELS 64

struct flz_summary {
	int64_t n_frames;
	uint32_t n_channels;
	uint32_t n_levels;
	/* Pairs per level and where each level starts in pairs. */
	int64_t n_blocks[MAX_LEVELS];
	int64_t offset[MAX_LEVELS];
	int64_t n_pairs;
	/* 2 * n_pairs floats: min, max. */
	float *pairs;
};

/* The mono mix of one frame, in the loader's N-to-mono order (sum, then
 * scale), so that a summary of a stereo sample equals the min/max of the
 * mono sample the same file would load as. */
static inline float mono(const float *frame, uint32_t n_channels, float scale)
{
	if (n_channels == 1)
		return frame[0];
	float sum = 0.0f;
	for (uint32_t c = 0; c < n_channels; c++)
		sum += frame[c];
	return sum * scale;
}

static bool view_valid(struct flz_frames f)
{
	return f.data != NULL && f.n_frames >= 1 && f.n_channels >= 1 &&
	       f.n_channels <= FLZ_MAX_CHANNELS;
}

int flz_summary_new(struct flz_frames frames, struct flz_summary **out)
{
	if (out == NULL || !view_valid(frames))
		return -EINVAL;
	struct flz_summary *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->n_frames = frames.n_frames;
	s->n_channels = frames.n_channels;
	int64_t n = (frames.n_frames + FLZ_SUMMARY_BLOCK_FRAMES - 1) / FLZ_SUMMARY_BLOCK_FRAMES;
	int64_t total = 0;
	uint32_t k = 0;
	for (;;) {
		s->n_blocks[k] = n;
		s->offset[k] = total;
		total += n;
		k++;
		if (n == 1)
			break;
		n = (n + 1) / 2;
	}
	s->n_levels = k;
	s->n_pairs = total;
	s->pairs = malloc((size_t)total * 2 * sizeof(float));
	if (s->pairs == NULL) {
		free(s);
		return -ENOMEM;
	}

	const uint32_t n_ch = frames.n_channels;
	const float scale = 1.0f / (float)n_ch;
	float *level0 = s->pairs;
	for (int64_t b = 0; b < s->n_blocks[0]; b++) {
		int64_t first = b * FLZ_SUMMARY_BLOCK_FRAMES;
		int64_t last = first + FLZ_SUMMARY_BLOCK_FRAMES;
		if (last > frames.n_frames)
			last = frames.n_frames;
		float lo = INFINITY, hi = -INFINITY;
		for (int64_t i = first; i < last; i++) {
			float v = mono(frames.data + (size_t)i * n_ch, n_ch, scale);
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
		level0[2 * b] = lo;
		level0[2 * b + 1] = hi;
	}
	for (uint32_t level = 1; level < s->n_levels; level++) {
		const float *below = s->pairs + 2 * s->offset[level - 1];
		float *here = s->pairs + 2 * s->offset[level];
		int64_t n_below = s->n_blocks[level - 1];
		for (int64_t b = 0; b < s->n_blocks[level]; b++) {
			float lo = below[4 * b], hi = below[4 * b + 1];
			if (2 * b + 1 < n_below) {
				lo = fminf(lo, below[4 * b + 2]);
				hi = fmaxf(hi, below[4 * b + 3]);
			}
			here[2 * b] = lo;
			here[2 * b + 1] = hi;
		}
	}
	*out = s;
	return 0;
}

void flz_summary_free(struct flz_summary *summary)
{
	if (summary == NULL)
		return;
	free(summary->pairs);
	free(summary);
}

size_t flz_summary_bytes(const struct flz_summary *summary)
{
	if (summary == NULL)
		return 0;
	return sizeof(*summary) + (size_t)summary->n_pairs * 2 * sizeof(float);
}

/* Exact min/max of frames [a, b), a < b: the ends that do not fill a level-0
 * block from the frames, the aligned middle from the fewest pyramid pairs
 * (two per level at most, as in a segment tree walked bottom-up). */
static void range_min_max(const struct flz_summary *s, const float *data, int64_t a, int64_t b,
			  float *lo_out, float *hi_out)
{
	const uint32_t n_ch = s->n_channels;
	const float scale = 1.0f / (float)n_ch;
	float lo = INFINITY, hi = -INFINITY;
	while (a < b && a % FLZ_SUMMARY_BLOCK_FRAMES != 0) {
		float v = mono(data + (size_t)a * n_ch, n_ch, scale);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		a++;
	}
	/* The last block may be short: ending at n_frames fills it. */
	while (b > a && b % FLZ_SUMMARY_BLOCK_FRAMES != 0 && b != s->n_frames) {
		b--;
		float v = mono(data + (size_t)b * n_ch, n_ch, scale);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	if (a < b) {
		int64_t first = a / FLZ_SUMMARY_BLOCK_FRAMES;
		int64_t limit = (b + FLZ_SUMMARY_BLOCK_FRAMES - 1) / FLZ_SUMMARY_BLOCK_FRAMES;
		for (uint32_t level = 0; first < limit; level++) {
			const float *pairs = s->pairs + 2 * s->offset[level];
			if (first & 1) {
				lo = fminf(lo, pairs[2 * first]);
				hi = fmaxf(hi, pairs[2 * first + 1]);
				first++;
			}
			/* first is even now, so an odd limit is above it. */
			if (limit & 1) {
				limit--;
				lo = fminf(lo, pairs[2 * limit]);
				hi = fmaxf(hi, pairs[2 * limit + 1]);
			}
			first /= 2;
			limit /= 2;
		}
	}
	*lo_out = lo;
	*hi_out = hi;
}

/* floor(i * span / width) without forming i * span, which may overflow:
 * the remainder's product stays below width^2 <= 2^40. */
static int64_t column_offset(int64_t i, int64_t span, int64_t width)
{
	return i * (span / width) + i * (span % width) / width;
}

int flz_summary_query(const struct flz_summary *summary, struct flz_frames frames, int64_t start,
		      int64_t end, uint32_t width, float *out)
{
	if (summary == NULL || out == NULL || !view_valid(frames) ||
	    frames.n_frames != summary->n_frames || frames.n_channels != summary->n_channels ||
	    start < 0 || end > summary->n_frames || start >= end || width < 1 ||
	    width > FLZ_SUMMARY_MAX_WIDTH)
		return -EINVAL;
	const int64_t span = end - start;
	for (uint32_t i = 0; i < width; i++) {
		int64_t a = start + column_offset(i, span, width);
		int64_t b = start + column_offset(i + 1, span, width);
		if (b <= a)
			b = a + 1;
		range_min_max(summary, frames.data, a, b, &out[2 * i], &out[2 * i + 1]);
	}
	return 0;
}
