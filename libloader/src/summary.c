/* SPDX-License-Identifier: MIT */
/*
 * The waveform pyramid (flz/summary.h). Levels are stored one after another
 * in one array of (min, max) pairs; level 0 has ceil(n_frames /
 * FLZ_SUMMARY_BLOCK_FRAMES) pairs, each next level one per LEVEL_BRANCH
 * pairs of the level below (the last of each level possibly covering
 * fewer), up to a level of one pair. Each level starts on a multiple of
 * LEVEL_BRANCH pairs (a group) and the array on a cache line, so that a
 * group is whole cache lines (two, at 16 pairs of 8 bytes) and a column's
 * end reads one group per level; the pairs between a level's end and its
 * next group are (+inf, -inf). After them, for the levels above level 0,
 * each pair's prefix and suffix within its group, and for level 0 (when it
 * has more than one jump group of JUMP pairs) each pair's prefix and suffix
 * within its jump group: one pair then stands for a column end's part of a
 * group, and a long column's ends skip levels 0 and 1 at once.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flz/summary.h>

/* Enough levels for any int64 frame count (at most 64 / LEVEL_SHIFT + 1). */
#define MAX_LEVELS 64

#define LEVEL_SHIFT FLZ_SUMMARY_LEVEL_SHIFT
#define LEVEL_BRANCH ((int64_t)1 << LEVEL_SHIFT)
#define GROUP_MASK (LEVEL_BRANCH - 1)
#define BLOCK ((int64_t)FLZ_SUMMARY_BLOCK_FRAMES)
/* Level 0's jump groups: LEVEL_BRANCH^2 pairs (4096 frames), whose ends are
 * level 2's block edges. */
#define JUMP_SHIFT (2 * LEVEL_SHIFT)
#define JUMP ((int64_t)1 << JUMP_SHIFT)
#define JUMP_MASK (JUMP - 1)
#define LINE_BYTES 64

struct flz_summary {
	int64_t n_frames;
	uint32_t n_channels;
	uint32_t n_levels;
	/* Pairs per level and where each level starts in pairs (a multiple of
	 * LEVEL_BRANCH). */
	int64_t n_blocks[MAX_LEVELS];
	int64_t offset[MAX_LEVELS];
	/* Pairs allocated: every level's, rounded up to whole groups. */
	int64_t n_pairs;
	/* 2 * n_pairs floats: min, max. */
	float *pairs;
	/* Levels 1 and up (pairs offset[1] .. n_pairs, at pre and suf from
	 * 0): the fold of each pair's group from its start up to the pair,
	 * and from the pair to the group's end. */
	float *pre, *suf;
	/* Level 0 by jump groups (n_jump pairs, a multiple of JUMP): the fold
	 * of each pair's jump group up to it, and from it to the group's end. */
	int64_t n_jump;
	float *jump_pre, *jump_suf;
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

/* Fold the mono mix of frames [first, last) into *lo and *hi. */
static inline void frames_min_max(const float *data, uint32_t n_ch, int64_t first, int64_t last,
				  float *lo_io, float *hi_io)
{
	const float scale = 1.0f / (float)n_ch;
	float lo = *lo_io, hi = *hi_io;
	for (int64_t i = first; i < last; i++) {
		float v = mono(data + (size_t)i * n_ch, n_ch, scale);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	*lo_io = lo;
	*hi_io = hi;
}

/* Fold pairs k0 <= k < k1 of the group at @p group (0 <= k0 <= k1 <=
 * LEVEL_BRANCH) into *lo and *hi: two of each accumulator, so that
 * consecutive pairs do not wait for each other. */
static inline void group_min_max(const float *group, int64_t k0, int64_t k1, float *lo_io,
				 float *hi_io)
{
	float lo0 = *lo_io, hi0 = *hi_io, lo1 = lo0, hi1 = hi0;
	int64_t k = k0;
	for (; k + 1 < k1; k += 2) {
		float a = group[2 * k], b = group[2 * k + 1];
		float c = group[2 * k + 2], d = group[2 * k + 3];
		lo0 = a < lo0 ? a : lo0;
		hi0 = b > hi0 ? b : hi0;
		lo1 = c < lo1 ? c : lo1;
		hi1 = d > hi1 ? d : hi1;
	}
	if (k < k1) {
		lo0 = group[2 * k] < lo0 ? group[2 * k] : lo0;
		hi0 = group[2 * k + 1] > hi0 ? group[2 * k + 1] : hi0;
	}
	*lo_io = lo1 < lo0 ? lo1 : lo0;
	*hi_io = hi1 > hi0 ? hi1 : hi0;
}

/* Fold the pair at @p pair into *lo and *hi. */
static inline void fold(const float *pair, float *lo_io, float *hi_io)
{
	*lo_io = pair[0] < *lo_io ? pair[0] : *lo_io;
	*hi_io = pair[1] > *hi_io ? pair[1] : *hi_io;
}

/* Each group of @p n_group pairs (n_pairs of them, a multiple of n_group,
 * the first n_valid read from @p pairs, the rest folding nothing): the fold
 * from the group's start up to each pair into @p pre, from the pair to the
 * group's end into @p suf. */
static void prefixes_suffixes(const float *pairs, int64_t n_valid, int64_t n_pairs,
			      int64_t n_group, float *pre, float *suf)
{
	for (int64_t g = 0; g < n_pairs; g += n_group) {
		float lo = INFINITY, hi = -INFINITY;
		for (int64_t i = g; i < g + n_group; i++) {
			if (i < n_valid)
				fold(pairs + 2 * i, &lo, &hi);
			pre[2 * i] = lo;
			pre[2 * i + 1] = hi;
		}
		lo = INFINITY;
		hi = -INFINITY;
		for (int64_t i = g + n_group - 1; i >= g; i--) {
			if (i < n_valid)
				fold(pairs + 2 * i, &lo, &hi);
			suf[2 * i] = lo;
			suf[2 * i + 1] = hi;
		}
	}
}

/* Pairs of the levels above level 0 (their prefixes and suffixes too). */
static int64_t upper_pairs(const struct flz_summary *s)
{
	return s->n_levels > 1 ? s->n_pairs - s->offset[1] : 0;
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
	int64_t n = (frames.n_frames + BLOCK - 1) / BLOCK;
	int64_t total = 0;
	uint32_t k = 0;
	for (;;) {
		s->n_blocks[k] = n;
		s->offset[k] = total;
		total += (n + GROUP_MASK) & ~GROUP_MASK;
		k++;
		if (n == 1)
			break;
		n = (n + GROUP_MASK) >> LEVEL_SHIFT;
	}
	s->n_levels = k;
	s->n_pairs = total;
	const int64_t n_up = upper_pairs(s);
	/* Only a level 0 of more than one jump group has a range that leaves
	 * one. */
	s->n_jump = s->n_blocks[0] > JUMP ? (s->n_blocks[0] + JUMP_MASK) & ~JUMP_MASK : 0;
	/* One block: the pairs, the upper levels' prefixes and suffixes, level
	 * 0's by jump groups. Each a multiple of LEVEL_BRANCH pairs, two cache
	 * lines. */
	int64_t n_all = total + 2 * n_up + 2 * s->n_jump;
	s->pairs = aligned_alloc(LINE_BYTES, (size_t)n_all * 2 * sizeof(float));
	if (s->pairs == NULL) {
		free(s);
		return -ENOMEM;
	}
	s->pre = s->pairs + 2 * total;
	s->suf = s->pre + 2 * n_up;
	s->jump_pre = s->suf + 2 * n_up;
	s->jump_suf = s->jump_pre + 2 * s->n_jump;
	for (int64_t i = 0; i < total; i++) {
		s->pairs[2 * i] = INFINITY;
		s->pairs[2 * i + 1] = -INFINITY;
	}

	float *level0 = s->pairs;
	for (int64_t b = 0; b < s->n_blocks[0]; b++) {
		int64_t first = b * BLOCK;
		int64_t last = first + BLOCK < frames.n_frames ? first + BLOCK : frames.n_frames;
		float lo = INFINITY, hi = -INFINITY;
		frames_min_max(frames.data, frames.n_channels, first, last, &lo, &hi);
		level0[2 * b] = lo;
		level0[2 * b + 1] = hi;
	}
	for (uint32_t level = 1; level < s->n_levels; level++) {
		const float *below = s->pairs + 2 * s->offset[level - 1];
		float *here = s->pairs + 2 * s->offset[level];
		for (int64_t b = 0; b < s->n_blocks[level]; b++) {
			/* A whole group: the pairs past the level's end fold
			 * nothing. */
			float lo = INFINITY, hi = -INFINITY;
			group_min_max(below + 2 * (b << LEVEL_SHIFT), 0, LEVEL_BRANCH, &lo, &hi);
			here[2 * b] = lo;
			here[2 * b + 1] = hi;
		}
	}
	/* The padding folds nothing: (+inf, -inf) past each level's end, and
	 * past level 0's in its last jump group. */
	if (n_up > 0)
		prefixes_suffixes(s->pairs + 2 * s->offset[1], n_up, n_up, LEVEL_BRANCH, s->pre,
				  s->suf);
	if (s->n_jump > 0)
		prefixes_suffixes(level0, s->n_blocks[0], s->n_jump, JUMP, s->jump_pre,
				  s->jump_suf);
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
	return sizeof(*summary) + (size_t)(summary->n_pairs + 2 * upper_pairs(summary) +
					   2 * summary->n_jump) * 2 * sizeof(float);
}

/*
 * Fold pairs [first, limit) of @p level (nothing when first >= limit) into
 * *lo and *hi, bottom-up: at each level the pairs from first to the end of
 * its group and from the start of limit's group (each within one group;
 * above level 0 a prefix or suffix, one pair), and between them whole
 * pairs of the level above. A range that ends at the level's end counts as
 * aligned there at every level: the last pair of each level covers that
 * level's last pairs.
 */
static void levels_min_max(const struct flz_summary *s, uint32_t level, int64_t first,
			   int64_t limit, float *lo, float *hi)
{
	for (; first < limit; level++) {
		const float *pairs = s->pairs + 2 * s->offset[level];
		int64_t group = first & ~GROUP_MASK;
		int64_t last_group = limit & ~GROUP_MASK;
		bool at_end = limit == s->n_blocks[level];
		bool one_group = limit - group <= LEVEL_BRANCH || level + 1 == s->n_levels;
		if (level == 0) {
			/* Level 0 keeps no prefixes or suffixes within its groups
			 * of 16 (only within jump groups): its pairs. */
			if (one_group) {
				group_min_max(pairs + 2 * group, first - group, limit - group, lo, hi);
				break;
			}
			if ((first & GROUP_MASK) != 0)
				group_min_max(pairs + 2 * group, first - group, LEVEL_BRANCH, lo, hi);
			if (!at_end)
				group_min_max(pairs + 2 * last_group, 0, limit - last_group, lo, hi);
		} else {
			int64_t up = s->offset[level] - s->offset[1];
			const float *pre = s->pre + 2 * up, *suf = s->suf + 2 * up;
			if (one_group) {
				/* A prefix when it starts the group, a suffix when it
				 * ends it (or the level: the padding folds nothing),
				 * else the pairs (the top level is one pair). */
				if (first == group)
					fold(pre + 2 * (limit - 1), lo, hi);
				else if (at_end || limit - group == LEVEL_BRANCH)
					fold(suf + 2 * first, lo, hi);
				else
					group_min_max(pairs + 2 * group, first - group, limit - group,
						      lo, hi);
				break;
			}
			if ((first & GROUP_MASK) != 0)
				fold(suf + 2 * first, lo, hi);
			if (!at_end && limit != last_group)
				fold(pre + 2 * (limit - 1), lo, hi);
		}
		first = (first + GROUP_MASK) >> LEVEL_SHIFT;
		limit = at_end ? (limit + GROUP_MASK) >> LEVEL_SHIFT : limit >> LEVEL_SHIFT;
	}
}

/*
 * Exact min/max of frames [a, b), a < b. The ends that do not fill a
 * level-0 block come from the frames (fewer than FLZ_SUMMARY_BLOCK_FRAMES
 * at each; a range inside one block entirely), the rest from the pyramid:
 * levels_min_max() from level 0 when its level-0 pairs lie within one jump
 * group, else a jump suffix and prefix (one pair each) and
 * levels_min_max() from level 2 for the jump groups between.
 */
static void range_min_max(const struct flz_summary *s, const float *data, int64_t a, int64_t b,
			  float *lo_out, float *hi_out)
{
	float lo = INFINITY, hi = -INFINITY;
	int64_t head = (a + BLOCK - 1) / BLOCK * BLOCK;
	if (head >= b) {
		frames_min_max(data, s->n_channels, a, b, &lo, &hi);
		*lo_out = lo;
		*hi_out = hi;
		return;
	}
	int64_t tail = b == s->n_frames ? b : b / BLOCK * BLOCK;
	frames_min_max(data, s->n_channels, a, head, &lo, &hi);
	frames_min_max(data, s->n_channels, tail, b, &lo, &hi);
	/* Pairs [first, limit) of level 0: first * BLOCK is head, the end
	 * tail (rounded up: the last pair, when tail is the sample's end). */
	int64_t first = head / BLOCK;
	int64_t limit = (tail + BLOCK - 1) / BLOCK;
	if (limit - (first & ~JUMP_MASK) > JUMP) {
		/* Beyond first's jump group: its suffix and the prefix before
		 * limit (unless limit starts its group or is the level's end),
		 * then the whole jump groups between, from level 2 on (there is
		 * one: level 0 has more than JUMP pairs). */
		bool at_end = limit == s->n_blocks[0];
		if ((first & JUMP_MASK) != 0)
			fold(s->jump_suf + 2 * first, &lo, &hi);
		if (!at_end && (limit & JUMP_MASK) != 0)
			fold(s->jump_pre + 2 * (limit - 1), &lo, &hi);
		first = (first + JUMP_MASK) >> JUMP_SHIFT;
		limit = at_end ? (limit + JUMP_MASK) >> JUMP_SHIFT : limit >> JUMP_SHIFT;
		levels_min_max(s, 2, first, limit, &lo, &hi);
	} else {
		levels_min_max(s, 0, first, limit, &lo, &hi);
	}
	*lo_out = lo;
	*hi_out = hi;
}

/* Columns ahead of the one being read whose ends are prefetched. */
#define PREFETCH_COLUMNS 8

/* The columns' edges in turn: column i starts at start + floor(i * span /
 * width), kept as a quotient step and a remainder (no division and no
 * product that could overflow per column). */
struct columns {
	int64_t next, step, rem, rem_step, width;
};

static inline struct columns columns_init(int64_t start, int64_t span, int64_t width)
{
	return (struct columns){ .next = start, .step = span / width, .rem = 0,
				 .rem_step = span % width, .width = width };
}

/* The next column: [*a, *b), *b at least *a + 1 (a column left empty when
 * width > span covers the one frame at its start). */
static inline void columns_next(struct columns *c, int64_t *a, int64_t *b)
{
	*a = c->next;
	c->next += c->step;
	c->rem += c->rem_step;
	if (c->rem >= c->width) {
		c->rem -= c->width;
		c->next++;
	}
	*b = c->next > *a ? c->next : *a + 1;
}

int flz_summary_query(const struct flz_summary *summary, struct flz_frames frames, int64_t start,
		      int64_t end, uint32_t width, float *out)
{
	if (summary == NULL || out == NULL || !view_valid(frames) ||
	    frames.n_frames != summary->n_frames || frames.n_channels != summary->n_channels ||
	    start < 0 || end > summary->n_frames || start >= end || width < 1 ||
	    width > FLZ_SUMMARY_MAX_WIDTH)
		return -EINVAL;
	struct columns c = columns_init(start, end - start, width);
	struct columns ahead = c;
	int64_t a, b;
	for (uint32_t i = 0; i < PREFETCH_COLUMNS && i < width; i++)
		columns_next(&ahead, &a, &b);
	for (uint32_t i = 0; i < width; i++) {
		if (i + PREFETCH_COLUMNS < width) {
			/* Ask for the cache lines the end of a column ahead reads:
			 * its block's frames and its level-0 jump prefix and suffix
			 * (prefetching the upper levels' too made the query slower:
			 * they stay cached). The ends of long columns lie far
			 * apart, and the loads of one column alone would leave the
			 * processor waiting on each. (Here, not in a function: GCC
			 * drops a call that only prefetches as having no effect.) */
			columns_next(&ahead, &a, &b);
			const char *line = (const char *)(frames.data + (size_t)(a & ~(BLOCK - 1)) *
								       frames.n_channels);
			__builtin_prefetch(line);
			__builtin_prefetch(line + LINE_BYTES);
			if (summary->n_jump > 0) {
				int64_t pair = a / BLOCK;
				__builtin_prefetch(summary->jump_pre + 2 * pair);
				__builtin_prefetch(summary->jump_suf + 2 * pair);
			}
		}
		columns_next(&c, &a, &b);
		range_min_max(summary, frames.data, a, b, &out[2 * i], &out[2 * i + 1]);
	}
	return 0;
}
