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
 * A query over any frame range and any width reads, per column, fewer than
 * FLZ_SUMMARY_BLOCK_FRAMES frames of the sample at each of its ends (the
 * parts that do not fill a block) and fewer than FLZ_SUMMARY_LEVEL_BRANCH
 * pairs at each end per level, each end's within one run of 16 pairs (two
 * cache lines): its cost grows with the width and the logarithm of the
 * length, not with the span, and the result is exact (equal to a scan of
 * every frame of each column).
 *
 * Memory: 8 bytes per block at level 0, under 8.6 bytes per 16 frames in all
 * (0.53 bytes a frame): 1/15 of a stereo float sample, 2/15 of a mono one,
 * plus a fixed header of about 1 KiB and at most 15 pairs of padding per
 * level (flz_summary_bytes()).
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
 * Bytes the summary holds (its header and pairs), to state its cost.
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
