/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file flz/stretch.h
 * libstretch: key lock's time stretcher, one processor per key-locked voice
 * (issue 14), on Rubber Band Library (GPL-2.0-or-later; see README
 * "License": a build with libstretch is GPL-2.0-or-later as a whole).
 *
 * A processor plays material at a rate (0.25..4.0, the voice's speed) with
 * its pitch unchanged: Rubber Band in real-time mode, time ratio 1 / rate,
 * pitch scale 1. It PULLS its input: flz_stretch_render() asks the voice's
 * reader (a flz_stretch_read_fn) for as many interleaved frames as the
 * stretcher needs, so over time the input consumed per output frame is the
 * rate.
 *
 * State: Rubber Band's analysis/synthesis buffers (a few thousand frames per
 * channel, filled with the frames last read) and this library's planar
 * scratch, all allocated by flz_stretch_new(), which also runs silence
 * through the stretcher at the extreme rates so that every buffer it touches
 * lazily is allocated and paged in before the audio thread starts. What the
 * voice does to it: start and steal call flz_stretch_reset() (clean state,
 * new rate) and then, before the first audible block, flz_stretch_prime();
 * a loop wrap or a seek inside the material is the reader's business (the
 * stretcher just reads on); a stop is the end of the voice.
 *
 * Start compensation: the stretcher delays its output. After
 * flz_stretch_reset() the first flz_stretch_preroll_frames() frames it reads
 * are the pre-roll, the material BEFORE the voice's start (the reader is
 * positioned that far before the start and yields zeros before frame 0 of
 * the sample); flz_stretch_prime() then processes and discards the
 * stretcher's start delay, so the next rendered frame is the start frame.
 * Priming processes a few thousand frames at once (more than one block's
 * time: docs/design.md "Key lock"), so while a quantised start waits the
 * engine steps it, flz_stretch_prime_step() once per block; an immediate
 * start primes in its first block (flz_stretch_render() primes by itself
 * if it was not done).
 *
 * Engines: FLZ_STRETCH_ENGINE_FASTER (Rubber Band's R2) and
 * FLZ_STRETCH_ENGINE_FINER (R3). The default is FASTER, 3 to 5 times
 * cheaper; FINER is smoother through rate changes on pure tones but its
 * reset is not exact (docs/design.md "Key lock" has the figures of
 * bench/stretch-bench.c and tests/stretch).
 *
 * Errors: every function that takes an argument out of range returns
 * -EINVAL and changes nothing.
 *
 * Thread: a processor is used by one thread at a time. new/destroy are
 * control-side; the functions under the banner are FLZ_RT (no allocation,
 * lock or I/O: tests/stretch's stretch:rtcheck case counts none under the
 * run-time interposer, for both engines, stereo at 48 kHz, through start,
 * prime, render, rate changes and resets).
 */
#ifndef FLZ_STRETCH_H
#define FLZ_STRETCH_H

#include <stdint.h>

#include <flz/error.h>
#include <flz/rt.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Accepted rate range (the voice's speed), same as the voice's. */
#define FLZ_STRETCH_RATE_MIN 0.25
#define FLZ_STRETCH_RATE_MAX 4.0
/** Channels a processor may have. */
#define FLZ_STRETCH_MAX_CHANNELS 8

/** Rubber Band's engine. */
enum flz_stretch_engine {
	/** R2: phase vocoder with transient detection; cheap. The default. */
	FLZ_STRETCH_ENGINE_FASTER = 0,
	/** R3: higher quality, several times the cost. */
	FLZ_STRETCH_ENGINE_FINER = 1,
};

/** A processor's fixed properties. */
struct flz_stretch_config {
	/** Sample rate, Hz (8000..384000). Default 48000. */
	uint32_t rate_hz;
	/** Interleaved channels, 1..FLZ_STRETCH_MAX_CHANNELS. Default 2. */
	uint32_t n_channels;
	/** Most frames one flz_stretch_render() call produces (1..8192).
	 * Default 1024. */
	uint32_t max_block_frames;
	/** Default FLZ_STRETCH_ENGINE_FASTER. */
	enum flz_stretch_engine engine;
};

/**
 * The voice's reader, called from inside flz_stretch_render() and
 * flz_stretch_prime() on their thread (so it is rt code itself).
 * @param ctx the cb_ctx given to the call
 * @param dst n_frames interleaved frames (n_channels each) to fill
 * @param n_frames frames wanted, 1..flz_stretch_max_read_frames()
 * @return frames written, 0..n_frames: fewer means the material ended; the
 * processor treats the rest as silence (and keeps asking on later calls).
 */
typedef uint32_t (*flz_stretch_read_fn)(void *ctx, float *dst, uint32_t n_frames);

/** A key-locked processor; opaque. Ownership: flz_stretch_new() /
 * flz_stretch_destroy(). */
struct flz_stretch;

/**
 * The defaults (48 kHz, stereo, 1024-frame blocks, FASTER).
 * @return the config by value
 * Errors: none. Thread: any. Ownership: none.
 */
struct flz_stretch_config flz_stretch_config_init(void);

/**
 * Create a processor: Rubber Band in real-time mode, single-threaded, with
 * every buffer allocated and warmed (silence run through at rates 0.25, 1.0
 * and 4.0), then reset to rate 1.0 and not primed.
 * @param config the properties (copied)
 * @param out the new processor; untouched on error
 * @return 0, or an error
 * Errors: -EINVAL a NULL argument or a field out of range; -ENOMEM no memory.
 * Thread: control (allocates; a pool of them is made before the audio thread
 * starts).
 * Ownership: the caller owns *out and frees it with flz_stretch_destroy().
 */
FLZ_WARN_UNUSED int flz_stretch_new(const struct flz_stretch_config *config,
				    struct flz_stretch **out);

/**
 * Free a processor. NULL is ignored.
 * @param st the processor
 * Errors: none. Thread: control, once no thread renders with it.
 * Ownership: st is invalid afterwards.
 */
void flz_stretch_destroy(struct flz_stretch *st);

/**
 * Most frames one read callback is asked for (the size of the input chunk
 * this library hands to Rubber Band, which it was told as its maximum
 * process size).
 * @param st the processor
 * @return frames, or -EINVAL for NULL
 * Errors: -EINVAL st NULL. Thread: any. Ownership: none.
 */
FLZ_WARN_UNUSED int64_t flz_stretch_max_read_frames(const struct flz_stretch *st);

/* ---- audio thread ------------------------------------------------------- */

/**
 * Start over for a new voice: clear every buffer, take the rate, and
 * compute the pre-roll and the start delay for it. Not yet primed.
 * @param st the processor
 * @param rate the voice's rate, FLZ_STRETCH_RATE_MIN..MAX
 * @return 0, or -EINVAL (st unchanged)
 * Errors: -EINVAL st NULL, rate out of range or not finite.
 * Thread: rt. Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_stretch_reset(struct flz_stretch *st, double rate);

/**
 * The pre-roll: how many input frames before the voice's start the
 * processor reads first after flz_stretch_reset(); the reader begins at
 * start - this (zeros before the sample's frame 0).
 * @param st the processor
 * @return frames (0 once priming has read them), or -EINVAL for NULL
 * Errors: -EINVAL st NULL. Thread: rt. Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int64_t flz_stretch_preroll_frames(const struct flz_stretch *st);

/**
 * The stretcher's start delay in output frames for the rate given at the
 * last reset (what flz_stretch_prime() discards).
 * @param st the processor
 * @return frames, or -EINVAL for NULL
 * Errors: -EINVAL st NULL. Thread: rt. Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int64_t flz_stretch_latency_frames(const struct flz_stretch *st);

/**
 * Prime after a reset: read the pre-roll and as much of the material as it
 * takes to produce the start delay's output, which is discarded. Afterwards
 * the next rendered frame is the start frame. A second call, or a call
 * after rendering, does nothing.
 * @param st the processor
 * @param read the reader; cb_ctx its context
 * @return 0, or -EINVAL
 * Errors: -EINVAL st or read NULL.
 * Thread: rt. Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_stretch_prime(struct flz_stretch *st, flz_stretch_read_fn read,
					     void *cb_ctx);

/**
 * Prime in steps, for a start that waits (quantised): each call reads at
 * most max_read_frames input frames, except that its first read is made
 * whatever its size (a read the stretcher asks for is not split, and so
 * every call progresses: a step may read up to one
 * flz_stretch_max_read_frames() when max_read_frames is smaller; a caller
 * that must not exceed its budget asks flz_stretch_prime_read_frames()
 * first), and does the processing they cause, so the work spreads over the
 * blocks before the start instead of landing in one (figures in
 * docs/design.md "Key lock"). The result is the same, bit for bit, as one
 * flz_stretch_prime().
 * @param st the processor
 * @param read the reader; cb_ctx its context
 * @param max_read_frames the step's budget, >= 1
 * @return 1 primed (also when it already was), 0 more steps needed, or
 * -EINVAL
 * Errors: -EINVAL st or read NULL, max_read_frames 0.
 * Thread: rt. Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_stretch_prime_step(struct flz_stretch *st,
						  flz_stretch_read_fn read, void *cb_ctx,
						  uint32_t max_read_frames);

/**
 * The input frames the next read of flz_stretch_prime_step() will take
 * (after flz_stretch_reset() or a step that returned 0): what the
 * stretcher asks for, at most one chunk, at most the pre-roll left. A
 * caller with a strict budget steps only when it fits (R2 asks for at most
 * the 1024-frame pre-roll at once at 48 kHz, R3 2048; measured figures in
 * docs/design.md "Key lock").
 * @param st the processor
 * @return the frames, 0 when primed, or -EINVAL
 * Errors: -EINVAL st NULL.
 * Thread: rt. Ownership: none.
 */
FLZ_RT int64_t flz_stretch_prime_read_frames(const struct flz_stretch *st);

/**
 * Change the rate of a running processor; the stretcher moves to it
 * smoothly (no reset, no gap).
 * @param st the processor
 * @param rate FLZ_STRETCH_RATE_MIN..MAX
 * @return 0, or -EINVAL (st unchanged)
 * Errors: -EINVAL st NULL, rate out of range or not finite.
 * Thread: rt. Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_stretch_set_rate(struct flz_stretch *st, double rate);

/**
 * Produce n_frames interleaved output frames, pulling input through read.
 * Primes first if flz_stretch_prime() was not called since the reset.
 * @param st the processor
 * @param read the reader; cb_ctx its context
 * @param out n_frames * n_channels floats, overwritten
 * @param n_frames 0..max_block_frames
 * @return 0, or -EINVAL (nothing read or written)
 * Errors: -EINVAL st, read or out NULL (out may be NULL when n_frames is
 * 0), n_frames above max_block_frames.
 * Thread: rt. Ownership: out stays the caller's.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_stretch_render(struct flz_stretch *st, flz_stretch_read_fn read,
					      void *cb_ctx, float *out, uint32_t n_frames);

/**
 * Input frames read from the material since the last reset (the pre-roll
 * not counted; silence the processor added after the material ended not
 * counted either): the voice's position, for the time-runs-at-the-rate
 * bookkeeping and the tests.
 * @param st the processor
 * @return frames, or -EINVAL for NULL
 * Errors: -EINVAL st NULL. Thread: rt. Ownership: none.
 */
FLZ_RT FLZ_WARN_UNUSED int64_t flz_stretch_frames_read(const struct flz_stretch *st);

#ifdef __cplusplus
}
#endif

#endif /* FLZ_STRETCH_H */
