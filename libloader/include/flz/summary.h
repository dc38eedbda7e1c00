/* SPDX-License-Identifier: MIT */
/**
 * @file flz/summary.h
 * A waveform summary of a sample: a pyramid of min/max pairs of the sample's
 * mono mix (per frame: the channels summed in order, times 1 / channels, as
 * the loader's N-to-mono map computes it). Level 0 holds one pair per
 * FLZ_SUMMARY_BLOCK_FRAMES (16) frames, each next level one pair per
 * FLZ_SUMMARY_LEVEL_BRANCH (16) pairs of the level below (blocks of 16, 256,
 * 4096, ... frames), up to a level of one pair.
 *
 * Beside the pairs it keeps, for every pair above level 0, the fold of its
 * group of 16 up to it and from it to the group's end (a prefix and a
 * suffix), and for every level-0 pair the same within its run of 256 pairs
 * (4096 frames, a jump group), when level 0 has more than 256 pairs.
 *
 * A query over any frame range and any width reads, per column, fewer than
 * FLZ_SUMMARY_BLOCK_FRAMES frames of the sample at each of its ends (the
 * parts that do not fill a block); then for a column within one jump group
 * and the next, fewer than FLZ_SUMMARY_LEVEL_BRANCH level-0 pairs at each
 * end, each end's within one run of 16 pairs (two cache lines), and for a
 * longer one a jump prefix and suffix; and above, one prefix and one suffix
 * per level, up to 16 pairs at the top: its cost grows with the width and
 * the logarithm of the length, not with the span, and the result is exact
 * (equal to a scan of every frame of each column).
 *
 * Memory per 16 frames: 8 bytes at level 0, 8/15 for the levels above,
 * 16/15 for their prefixes and suffixes and 16 for the jump prefixes and
 * suffixes, 25.6 bytes in all (1.6 bytes a frame): 1/5 of a stereo float
 * sample, 2/5 of a mono one. Plus a fixed header of about 1 KiB, up to 15
 * pairs of padding per level (three times above level 0: the pairs, the
 * prefixes, the suffixes) and up to 255 in each jump array
 * (flz_summary_bytes()). Samples of at most 4096 frames have no jump
 * groups (9.6 bytes per 16 frames before padding).
 *
 * The summary is immutable once built and keeps no pointer into the sample:
 * a query is given the sample's frames again (a reference the caller holds).
 * Nothing here runs on the audio thread.
 */
#ifndef FLZ_SUMMARY_H
#define FLZ_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include <flz/error.h>
#include <flz/sample.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Frames per level-0 pair. */
#define FLZ_SUMMARY_BLOCK_FRAMES 16
/** log2 of FLZ_SUMMARY_LEVEL_BRANCH. */
#define FLZ_SUMMARY_LEVEL_SHIFT 4
/** Pairs of a level per pair of the level above. */
#define FLZ_SUMMARY_LEVEL_BRANCH (1 << FLZ_SUMMARY_LEVEL_SHIFT)
/** Most columns one query may ask for. */
#define FLZ_SUMMARY_MAX_WIDTH (1u << 20)

struct flz_summary;

/**
 * Build the summary of interleaved frames (one pass over them).
 * @param frames n_frames >= 1, n_channels 1..FLZ_MAX_CHANNELS, finite values
 * @param[out] out the new summary; untouched on failure
 * @return 0 or a negative errno
 * Errors: -EINVAL a bad view or out NULL; -ENOMEM.
 * Thread: control (allocates).
 * Ownership: free it with flz_summary_free(); @p frames stay the caller's.
 */
FLZ_WARN_UNUSED int flz_summary_new(struct flz_frames frames, struct flz_summary **out);

/**
 * Free a summary.
 * @param summary the summary, or NULL (nothing happens)
 * Errors: none.
 * Thread: control.
 * Ownership: the summary is gone.
 */
void flz_summary_free(struct flz_summary *summary);

/**
 * Bytes the summary holds (its header, pairs, prefixes and suffixes), to
 * state its cost.
 * @return the size in bytes; 0 for NULL
 * Errors: none.
 * Thread: any.
 * Ownership: reads only.
 */
size_t flz_summary_bytes(const struct flz_summary *summary);

/**
 * Min and max of the mono mix per column over the frames [start, end).
 * Column i (0 <= i < width) covers [start + i * span / width,
 * start + (i + 1) * span / width) in integer division, span = end - start;
 * a column left empty (width > span) covers the one frame at its start.
 *
 * @param frames the frames the summary was built from (same length and
 *        channels, else -EINVAL)
 * @param start 0 <= start < end
 * @param end start < end <= n_frames
 * @param width 1..FLZ_SUMMARY_MAX_WIDTH
 * @param[out] out 2 * width floats: min then max of each column
 * @return 0 or a negative errno
 * Errors: -EINVAL NULL summary or out, frames that do not match, a bad range
 *         or width; @p out is untouched then.
 * Thread: any that holds a reference to the sample (reads only).
 * Ownership: @p out is the caller's.
 */
FLZ_WARN_UNUSED int flz_summary_query(const struct flz_summary *summary, struct flz_frames frames,
				      int64_t start, int64_t end, uint32_t width, float *out);

#ifdef __cplusplus
}
#endif

#endif /* FLZ_SUMMARY_H */
