/* SPDX-License-Identifier: MIT */
/**
 * @file flz/transport.h
 * libtransport: the transport's grid arithmetic, tempo-locked positions, and
 * the schedule of pending starts.
 *
 * Everything here is exact integer arithmetic with 128-bit intermediates;
 * no quantity is ever advanced by adding a step to itself, so nothing
 * accumulates an error however long the transport runs.
 *
 * Tempo: a bpm value (FLZ_TRANSPORT_BPM_MIN..MAX) is held as an integer
 * number of micro-BPM, round(bpm x 10^6). Frames per beat are then the exact
 * rational rate_hz x 60 x 10^6 / bpm_micro; a grid step of s beats (a
 * rational too, see enum flz_quantize) is s times that.
 *
 * Downbeat: held in 32.32 fixed point (frames x 2^32), because a tempo change
 * that keeps the position within the bar (flz_transport_set_bpm()) moves the
 * downbeat to a point between frames in general (a whole-frame downbeat
 * would shift the bar phase by up to half a frame at each change, and the
 * shifts would add up). flz_transport_anchor() and flz_transport_init() put
 * it on a whole frame; the API's downbeat_frame is the rounded value,
 * flz_transport_downbeat_frame().
 *
 * Grid: the k-th grid frame of a mode is
 *     floor(downbeat + k x frames_per_step + 1/2)
 * (round half up), computed from k directly; k may be negative (the grid
 * runs on before the downbeat). With a whole-frame downbeat this is
 * downbeat + round(k x frames_per_step), the API's formula.
 *
 * Frames: every frame argument lies in -FLZ_TRANSPORT_FRAME_MAX ..
 * FLZ_TRANSPORT_FRAME_MAX (2^53 frames: 740 years at 384 kHz), and the
 * downbeat within FLZ_TRANSPORT_DOWNBEAT_MAX; the bounds keep every
 * intermediate inside 128 bits.
 *
 * Errors: every function that takes an argument out of range returns
 * -EINVAL and changes nothing.
 *
 * Thread: the structures are plain caller storage used by one thread at a
 * time (the audio thread in an engine, which receives changes through its
 * command ring). Functions under the banner are FLZ_RT: no allocation, lock,
 * I/O or floating-point accumulation.
 */
#ifndef FLZ_TRANSPORT_H
#define FLZ_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flz/constants.h>
#include <flz/error.h>
#include <flz/rt.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Tempo range, in beats per minute (master and pad tempo alike). */
#define FLZ_TRANSPORT_BPM_MIN 20.0
#define FLZ_TRANSPORT_BPM_MAX 300.0
/** Default master tempo. */
#define FLZ_TRANSPORT_BPM_DEFAULT 120.0
/** Beats per bar range, and the default. */
#define FLZ_TRANSPORT_BEATS_PER_BAR_MIN 1
#define FLZ_TRANSPORT_BEATS_PER_BAR_MAX 16
#define FLZ_TRANSPORT_BEATS_PER_BAR_DEFAULT 4
/** Largest |frame| any function accepts: 2^53. */
#define FLZ_TRANSPORT_FRAME_MAX ((int64_t)1 << 53)
/** Largest |downbeat| a tempo change may move the downbeat to: 2^56 frames. */
#define FLZ_TRANSPORT_DOWNBEAT_MAX ((int64_t)1 << 56)
/** Tempo-lock ratio range (master / pad, after folding), as the varispeed's. */
#define FLZ_TRANSPORT_RATIO_MIN 0.25
#define FLZ_TRANSPORT_RATIO_MAX 4.0
/** Pending starts a schedule holds. */
#define FLZ_SCHEDULE_CAPACITY 256

/**
 * Quantisation modes. A grid step is 4 / denominator beats (a beat being a
 * quarter note): "1/64" = 1/16 beat, "1/32" = 1/8, "1/16" = 1/4, "1/8" = 1/2,
 * "1/4" = 1 beat, "1/2" = 2 beats; "bar" is beats_per_bar beats. "off" has
 * no grid: its next grid frame is the frame itself. The numbers are ABI.
 */
enum flz_quantize {
	FLZ_QUANTIZE_OFF = 0,
	FLZ_QUANTIZE_1_64 = 1,
	FLZ_QUANTIZE_1_32 = 2,
	FLZ_QUANTIZE_1_16 = 3,
	FLZ_QUANTIZE_1_8 = 4,
	FLZ_QUANTIZE_1_4 = 5,
	FLZ_QUANTIZE_1_2 = 6,
	FLZ_QUANTIZE_BAR = 7,
};
/** Number of modes (one past the last). */
#define FLZ_QUANTIZE_N_MODES 8

/**
 * The transport. Fields are private: read them through the functions.
 * Lifetime: caller storage, flz_transport_init() fills it; nothing to free.
 */
struct flz_transport {
	uint32_t rate_hz;
	uint32_t beats_per_bar;
	/* Tempo in micro-BPM: round(bpm x 10^6). */
	uint64_t bpm_micro;
	/* Downbeat = downbeat_whole + downbeat_frac / 2^32 frames. */
	int64_t downbeat_whole;
	uint32_t downbeat_frac;
	/* Zero. Spelled out so that the structure has no padding: every byte
	 * is defined and two transports compare with memcmp(). */
	uint32_t reserved;
};

/** A position on the transport (flz_transport_position()). */
struct flz_transport_position {
	/** Bar, counted from 0 at the downbeat; negative before it. */
	int64_t bar;
	/** Beat within the bar, 0 <= beat < beats_per_bar. */
	double beat;
};

/**
 * A tempo-lock ratio: master_bpm / pad_bpm after folding, as the exact
 * rational num / den (micro-BPM, the pad's doubled or halved) and rounded to
 * the mixer's voice rate format.
 */
struct flz_transport_lock {
	/** Numerator: master micro-BPM (doubled when the pad's was halved). */
	uint64_t num;
	/** Denominator: pad micro-BPM (doubled when folded up). */
	uint64_t den;
	/** round(num x 2^32 / den): the 32.32 position increment per output frame. */
	uint64_t inc_fp;
};

/**
 * A tempo-locked voice's anchor: at output frame @ref frame0 it was at
 * sample position @ref pos0_fp and from there advances num / den sample
 * frames per output frame; it plays on to @ref loop_end, then loops
 * [loop_start, loop_end).
 */
struct flz_transport_locked {
	int64_t frame0;
	/** Sample position at frame0, 32.32 fixed point, < loop_end x 2^32. */
	uint64_t pos0_fp;
	struct flz_transport_lock lock;
	/** Loop region in sample frames, 0 <= loop_start < loop_end <= 2^31 - 1. */
	int64_t loop_start;
	int64_t loop_end;
};

/** A pending start. */
struct flz_schedule_entry {
	/** Output frame at which it is due. */
	int64_t frame;
	/** Order among entries of the same frame (lower first): the command's
	 *  sequence number. */
	uint64_t seq;
	/** The slot (pad) to start, 0..FLZ_NUM_SAMPLES-1. */
	int32_t slot;
	/** Linear gain the voice starts with. */
	float gain;
	/** The caller's token, carried through unchanged. */
	uint32_t token;
	/** The caller's flags, carried through unchanged. */
	uint32_t flags;
};

/**
 * The schedule: a bounded set of pending starts kept as a binary min-heap on
 * (frame, seq). Fields are private. Lifetime: caller storage (about 8 KiB),
 * flz_schedule_init() fills it; nothing to free.
 */
struct flz_schedule {
	uint32_t n_entries;
	/* Zero; the padding before heap[], spelled out (as in flz_transport). */
	uint32_t reserved;
	struct flz_schedule_entry heap[FLZ_SCHEDULE_CAPACITY];
};

/**
 * Set up a transport: @p rate_hz, 120 BPM, 4 beats per bar, downbeat at
 * frame 0.
 *
 * @param t the transport's storage
 * @param rate_hz output rate, FLZ_RATE_MIN_HZ..FLZ_RATE_MAX_HZ
 * @return 0, or a negative errno
 * Errors: -EINVAL t is NULL or rate_hz out of range (*t is then untouched).
 * Thread: any (fills caller storage).
 * Ownership: the caller owns *t; nothing to free.
 */
FLZ_WARN_UNUSED int flz_transport_init(struct flz_transport *t, uint32_t rate_hz);

/**
 * Parse a quantisation mode name ("off", "1/64", "1/32", "1/16", "1/8",
 * "1/4", "1/2", "bar"; exact spelling).
 *
 * @param name the name
 * @param[out] out the mode
 * @return 0, or a negative errno
 * Errors: -EINVAL name or out is NULL, or name is not a mode (*out untouched).
 * Thread: any.
 * Ownership: none.
 */
FLZ_WARN_UNUSED int flz_quantize_parse(const char *name, enum flz_quantize *out);

/**
 * The name of a mode, as flz_quantize_parse() reads it.
 *
 * @param mode the mode
 * @return a static string, or NULL when @p mode is not a mode
 * Errors: none (NULL for an unknown mode).
 * Thread: any.
 * Ownership: the string is static.
 */
const char *flz_quantize_name(enum flz_quantize mode);

/**
 * The tempo-lock ratio of a pad at @p pad_bpm under a master at
 * @p master_bpm: master / pad, with the pad's tempo doubled or halved until
 * the ratio lies within FLZ_TRANSPORT_RATIO_MIN..MAX (both inclusive).
 * Both tempos are rounded to micro-BPM first, as the transport does.
 *
 * @param master_bpm the master tempo, FLZ_TRANSPORT_BPM_MIN..MAX
 * @param pad_bpm the pad's tempo, same range
 * @param[out] out the ratio
 * @return 0, or a negative errno
 * Errors: -EINVAL a tempo out of range or not finite, or out is NULL
 *         (*out untouched).
 * Thread: any; FLZ_RT (no allocation, no libm).
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_transport_lock_ratio(double master_bpm, double pad_bpm,
						   struct flz_transport_lock *out);

/* ---------------------------------------------------------------------------
 * Audio-thread functions (FLZ_RT). None allocates, locks, does I/O or
 * accumulates a floating-point value.
 * ------------------------------------------------------------------------- */

/**
 * The tempo in BPM: the micro-BPM value the transport holds, / 10^6.
 *
 * @param t the transport
 * @return beats per minute
 * Errors: none.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT double flz_transport_bpm(const struct flz_transport *t);

/**
 * Beats per bar.
 *
 * @param t the transport
 * @return 1..16
 * Errors: none.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT uint32_t flz_transport_beats_per_bar(const struct flz_transport *t);

/**
 * The downbeat, rounded half up to a whole frame. After a tempo change it
 * may lie between frames; the grid is exact relative to the unrounded value
 * (flz_transport_downbeat_exact()).
 *
 * @param t the transport
 * @return the downbeat frame
 * Errors: none.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT int64_t flz_transport_downbeat_frame(const struct flz_transport *t);

/**
 * The downbeat exactly: downbeat = *whole + *frac / 2^32 frames.
 *
 * @param t the transport
 * @param[out] whole the whole frames (floor of the downbeat)
 * @param[out] frac the fraction, in units of 2^-32 frame
 * Errors: none.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT void flz_transport_downbeat_exact(const struct flz_transport *t, int64_t *whole,
					 uint32_t *frac);

/**
 * Set the tempo at output frame @p frame, keeping the position there: bar
 * and beat at @p frame are the same before and after (the downbeat moves,
 * to within 2^-32 frame).
 *
 * @param t the transport
 * @param frame where the change takes effect
 * @param bpm the new tempo, FLZ_TRANSPORT_BPM_MIN..MAX
 * @return 0, or a negative errno
 * Errors: -EINVAL bpm out of range or not finite, frame out of range, or the
 *         downbeat would move beyond FLZ_TRANSPORT_DOWNBEAT_MAX (nothing
 *         changes).
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_transport_set_bpm(struct flz_transport *t, int64_t frame, double bpm);

/**
 * Set the beats per bar. The downbeat stays where it is, so bars are
 * counted from it with the new length.
 *
 * @param t the transport
 * @param beats_per_bar 1..16
 * @return 0, or a negative errno
 * Errors: -EINVAL beats_per_bar out of range (nothing changes).
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_transport_set_beats_per_bar(struct flz_transport *t,
							   uint32_t beats_per_bar);

/**
 * Make @p frame a downbeat (bar 0, beat 0).
 *
 * @param t the transport
 * @param frame the new downbeat
 * @return 0, or a negative errno
 * Errors: -EINVAL frame out of range (nothing changes).
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_transport_anchor(struct flz_transport *t, int64_t frame);

/**
 * The first grid frame of @p mode at or after @p frame (the frame itself for
 * FLZ_QUANTIZE_OFF).
 *
 * @param t the transport
 * @param mode the grid
 * @param frame the earliest frame acceptable
 * @param[out] out the grid frame, >= frame (for @p frame near
 *        FLZ_TRANSPORT_FRAME_MAX it may lie up to one step beyond it)
 * @return 0, or a negative errno
 * Errors: -EINVAL mode not a mode, frame out of range, or out is NULL.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_transport_next_grid_frame(const struct flz_transport *t,
							 enum flz_quantize mode, int64_t frame,
							 int64_t *out);

/**
 * The k-th grid frame of @p mode: floor(downbeat + k x frames_per_step + 1/2),
 * from k directly.
 *
 * @param t the transport
 * @param mode the grid (not FLZ_QUANTIZE_OFF)
 * @param k the grid index; 0 is the downbeat, negative before it
 * @param[out] out the frame
 * @return 0, or a negative errno
 * Errors: -EINVAL mode is OFF or not a mode, the frame would be out of
 *         range, or out is NULL.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_transport_grid_frame(const struct flz_transport *t,
						    enum flz_quantize mode, int64_t k, int64_t *out);

/**
 * The position at @p frame: bar (floor of beats since the downbeat / beats
 * per bar) and beat within the bar. Exact up to the final conversion of the
 * beat to double.
 *
 * @param t the transport
 * @param frame the frame
 * @param[out] out the position
 * @return 0, or a negative errno
 * Errors: -EINVAL frame out of range or out is NULL.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_transport_position(const struct flz_transport *t, int64_t frame,
						  struct flz_transport_position *out);

/**
 * Anchor a tempo-locked voice: it is at @p pos0_fp at output frame
 * @p frame0, advancing by @p lock, looping [loop_start, loop_end).
 *
 * @param[out] l the anchor's storage
 * @param frame0 the output frame of the anchor
 * @param pos0_fp the sample position there, 32.32, 0 <= pos0_fp < loop_end x 2^32
 *        (it may lie before loop_start: the voice plays into the region)
 * @param lock the ratio (flz_transport_lock_ratio())
 * @param loop_start first frame of the loop
 * @param loop_end one past its last frame, loop_start < loop_end <= 2^31 - 1
 * @return 0, or a negative errno
 * Errors: -EINVAL any argument out of range, a lock with num or den 0 or
 *         beyond 2^31, or l or lock NULL (*l untouched).
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_transport_locked_init(struct flz_transport_locked *l,
						     int64_t frame0, uint64_t pos0_fp,
						     const struct flz_transport_lock *lock,
						     int64_t loop_start, int64_t loop_end);

/**
 * Anchor a tempo-locked voice started at @p frame0 in phase with the
 * transport: as if it had been playing since the downbeat of the bar that
 * holds @p frame0 (the bar's exact, unrounded start), from sample position
 * @p pad_downbeat_fp there. So the pad's downbeat lies on the transport's bar
 * downbeats (to within 2^-32 frame), whichever frame of the bar it starts
 * on; started on a bar's grid frame, it starts at @p pad_downbeat_fp give or
 * take the half frame that grid frame was rounded by.
 *
 * @param[out] l the anchor's storage
 * @param t the transport
 * @param frame0 the output frame the voice starts on
 * @param pad_downbeat_fp the sample position of the pad's downbeat, 32.32,
 *        < loop_end x 2^32
 * @param lock the ratio (flz_transport_lock_ratio() of the transport's tempo)
 * @param loop_start first frame of the loop
 * @param loop_end one past its last frame
 * @return 0, or a negative errno
 * Errors: -EINVAL as flz_transport_locked_init(), or t NULL (*l untouched).
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_transport_locked_start(struct flz_transport_locked *l,
						      const struct flz_transport *t, int64_t frame0,
						      uint64_t pad_downbeat_fp,
						      const struct flz_transport_lock *lock,
						      int64_t loop_start, int64_t loop_end);

/**
 * The locked voice's sample position at output frame @p frame, 32.32:
 * pos0 + floor((frame - frame0) x num x 2^32 / den), wrapped into the loop
 * once it reached loop_end. A pure function of the frame, exact (no
 * error grows with the distance from frame0). Stepping by lock.inc_fp
 * instead departs from it by up to n x 2^-33 + 2^-32 frames after n steps
 * (the increment is rounded), so a renderer that steps within a block
 * takes each block's first position from here.
 *
 * @param l the anchor
 * @param frame the output frame, frame0 <= frame <= frame0 + 2^53
 * @param[out] out the position
 * @return 0, or a negative errno
 * Errors: -EINVAL frame before frame0 or too far after it, or out NULL.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_transport_locked_position(const struct flz_transport_locked *l,
							 int64_t frame, uint64_t *out);

/**
 * Change a locked voice's ratio at output frame @p frame without a jump:
 * the anchor moves to (frame, position at frame) and takes @p lock, so the
 * position at @p frame is the same before and after, and the loop region
 * is kept.
 *
 * @param l the anchor
 * @param frame the frame of the change, >= frame0
 * @param lock the new ratio
 * @return 0, or a negative errno
 * Errors: -EINVAL as flz_transport_locked_position() or a bad lock (nothing
 *         changes).
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_transport_locked_reanchor(struct flz_transport_locked *l,
							 int64_t frame,
							 const struct flz_transport_lock *lock);

/**
 * Empty the schedule.
 *
 * @param s the schedule's storage
 * Errors: none.
 * Thread: rt (touches only *s).
 * Ownership: the caller owns *s.
 */
FLZ_RT void flz_schedule_init(struct flz_schedule *s);

/**
 * Entries pending.
 *
 * @param s the schedule
 * @return 0..FLZ_SCHEDULE_CAPACITY
 * Errors: none.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT uint32_t flz_schedule_count(const struct flz_schedule *s);

/**
 * Add a pending start. O(log n).
 *
 * @param s the schedule
 * @param entry the start; copied
 * @return 0, or a negative errno
 * Errors: -EAGAIN the schedule holds FLZ_SCHEDULE_CAPACITY entries (the
 *         engine reports QueueFullError); -EINVAL entry NULL or its slot out
 *         of 0..FLZ_NUM_SAMPLES-1 or frame out of range. Nothing changes.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_schedule_insert(struct flz_schedule *s,
					       const struct flz_schedule_entry *entry);

/**
 * Remove and return the earliest entry, in (frame, seq) order, if it is due
 * before @p before_frame (its frame < before_frame). O(log n).
 *
 * @param s the schedule
 * @param before_frame one past the last frame that counts as due
 * @param[out] out the entry taken
 * @return true when an entry was taken, false when none is due (*out untouched)
 * Errors: none.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT bool flz_schedule_take(struct flz_schedule *s, int64_t before_frame,
			      struct flz_schedule_entry *out);

/**
 * The earliest pending frame.
 *
 * @param s the schedule
 * @param[out] out its frame
 * @return true when the schedule is not empty (else *out untouched)
 * Errors: none.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT bool flz_schedule_earliest(const struct flz_schedule *s, int64_t *out);

/**
 * Remove every entry for @p slot. O(n).
 *
 * @param s the schedule
 * @param slot the slot, 0..FLZ_NUM_SAMPLES-1
 * @return the number removed, or a negative errno
 * Errors: -EINVAL slot out of range (nothing changes).
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int64_t flz_schedule_cancel_slot(struct flz_schedule *s, int32_t slot);

/**
 * Remove every entry.
 *
 * @param s the schedule
 * @return the number removed
 * Errors: none.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT int64_t flz_schedule_cancel_all(struct flz_schedule *s);

#ifdef __cplusplus
}
#endif

#endif /* FLZ_TRANSPORT_H */
