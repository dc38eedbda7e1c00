/* SPDX-License-Identifier: MIT */
/**
 * @file flz/voice.h
 * libvoice: one voice playing one sample in a loop, and the block kernels
 * (add, copy, mix, mix_add, peak) chosen once from explicit CPU flags.
 *
 * libmixer runs its own per-voice chain (varispeed reader, gain, stages,
 * meter: see flz/mixer.h) and takes from here the kernels, the CPU flags and
 * flz_voice_ramp_frames(); struct flz_voice stays the simple rate-1 voice
 * for other hosts and for the kernels' tests.
 *
 * A voice knows which slot and sample it plays, its read position, its gain
 * and whether it is stopping. flz_voice_render() adds `gain * sample` into an
 * interleaved float block, frame for frame (the sample is already at the
 * block's rate and channel count). At the end of the sample it continues at
 * frame 0 in the same block: no gap and no repeated frame.
 *
 * Ramps. Gain changes and stops are linear per frame over ramp_frames frames
 * (the owner chooses it; libmixer uses 5 ms = 240 frames at 48 kHz). Five
 * milliseconds is long enough that the step between adjacent frames (at most
 * gain / ramp_frames, -47.6 dB of full scale for 240 frames) does not click,
 * and short enough that a stop still sounds immediate and the voice frees
 * its place quickly. Frame k of a ramp (k = 1 .. ramp_frames) gets
 * `start + (target - start) * k / ramp_frames`, computed from k, not
 * accumulated, so a ramp is identical however the frames are split into
 * blocks; frame ramp_frames gets exactly `target`. A stop ramps to exactly
 * 0.0: the frame ramp_frames after the stop is the first silent one, and from
 * then on flz_voice_is_silent() is true and the voice renders nothing.
 *
 * A start is immediate, at full gain, with no fade-in: a pad looper's trigger
 * must land on the sample's first frame exactly (sample-accurate), and a
 * sample's own attack is what the user wants to hear. A sample that does not
 * start at zero clicks by its own content, not by the voice.
 *
 * A voice does not own its sample reference: the owner (libmixer) takes and
 * drops references around flz_voice_start() and the end of the voice.
 *
 * Thread: a voice is caller storage used by one thread at a time. The
 * functions below the banner are FLZ_RT (they never allocate, lock, or do
 * I/O) and live in src/voice-rt.c and src/kernels*-rt.c.
 */
#ifndef FLZ_VOICE_H
#define FLZ_VOICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flz/constants.h>
#include <flz/rt.h>
#include <flz/sample.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The block kernels, chosen once by flz_voice_kernels_get(). All work on
 * contiguous floats (interleaved frames are just floats here). Results are
 * the same for an element whether it falls in the middle or at the end of a
 * call, so the split of a block never changes the output.
 */
struct flz_voice_kernels {
	/** dst[i] += gain * src[i] for i < n_samples. Thread: rt. */
	void (*add)(float *dst, const float *src, size_t n_samples, float gain);
	/** dst[i] = gain * src[i] for i < n_samples. Thread: rt. */
	void (*copy)(float *dst, const float *src, size_t n_samples, float gain);
	/**
	 * Sum several sources into dst, then scale:
	 * dst[i] = scale * (gain[0] * src[0][i] + gain[1] * src[1][i] + ...)
	 * for i < n_samples. The sum is formed in source order with exactly
	 * the operations of copy() for src[0] followed by add() for each
	 * further source, rounded to float after each step, so it is
	 * bit-identical to that sequence; the result is then multiplied by
	 * scale (1.0f leaves it unchanged). With n_src == 0, dst gets zeros.
	 * dst is written once per element; it must not overlap a source.
	 * Thread: rt.
	 */
	void (*mix)(float *dst, const float *const *src, const float *gain, uint32_t n_src,
		    size_t n_samples, float scale);
	/**
	 * Sum several sources into dst:
	 * dst[i] (+)= gain[0] * src[0][i] + gain[1] * src[1][i] + ...
	 * Without @p overwrite dst's values are added to, with exactly the
	 * operations of add() per source in source order; with it dst's old
	 * values are ignored, as if it were zeros (add() per source into a
	 * cleared dst: a product of -0 comes out +0, as there). Bit-identical
	 * to those sequences either way. dst is read and written once per pass over
	 * a group of sources (the AVX2 kernel takes up to eight sources a pass,
	 * the portable one one source a pass, after zeroing dst with
	 * overwrite), not once in all. With @p src_peak (n_src
	 * floats, may be NULL) src_peak[v] receives max |src[v][i]| (NaN
	 * skipped; 0 for none), found while the sources are read anyway. dst
	 * must not overlap a source. Thread: rt.
	 */
	void (*mix_add)(float *dst, const float *const *src, const float *gain, uint32_t n_src,
			size_t n_samples, bool overwrite, float *src_peak);
	/** max |src[i]| for i < n_samples (0 for none; NaN is skipped). Thread: rt. */
	float (*peak)(const float *src, size_t n_samples);
	/** Per channel of @p n_frames interleaved frames of @p n_channels
	 *  (1..FLZ_MAX_CHANNELS): peaks[c] = max(peaks[c], max |src[f x
	 *  n_channels + c]|) (NaN skipped). Thread: rt. */
	void (*peak_frames)(const float *src, size_t n_frames, uint32_t n_channels, float *peaks);
	/**
	 * A whole output block from @p n_src sources: bit for bit
	 * mix_add(dst, src, gain, n_src, n_frames x n_channels, true,
	 * src_peak), then dst[i] = scale * dst[i] for every element when
	 * @p scale is not 1, then peak_frames(dst, n_frames, n_channels,
	 * out_peaks). The AVX2 kernel does a single source (gain and scale
	 * not 0; 1, 2, 4 or 8 channels) in one pass that reads it once and
	 * finds the output's peaks from the source's own per channel (exact:
	 * with round to nearest, rounding is monotonic and symmetric, so the
	 * largest |scale x (gain x x)| is |scale| x (|gain| x the largest
	 * |x|), each product rounded); other blocks take the three steps.
	 * src_peak (n_src floats) is required; dst must not overlap a
	 * source. Thread: rt.
	 */
	void (*mix_out)(float *dst, const float *const *src, const float *gain, uint32_t n_src,
			size_t n_frames, uint32_t n_channels, float scale, float *src_peak,
			float *out_peaks);
	/** "avx2+fma" or "generic". */
	const char *name;
};

/** One voice. Fields are read-only for everyone but the voice functions. */
struct flz_voice {
	/** The sample played (not owned here), NULL when idle. */
	struct flz_sample *sample;
	/** The slot it was started from, or -1. */
	int32_t slot;
	/** Next frame of the sample to render, 0 .. n_frames-1. */
	int64_t pos_frames;
	/** Gain now (at the last rendered frame), and where the ramp goes. */
	float gain_lin;
	float target_gain_lin;
	/** Ramp: gain at its start, step per frame, frames of it done. */
	float ramp_start_lin;
	float ramp_step_lin;
	uint32_t ramp_done_frames;
	/** A ramp is in progress. */
	bool ramping;
	/** Frames per ramp, >= 1. */
	uint32_t ramp_frames;
	/** Fading to silence after flz_voice_stop(). */
	bool stopping;
	/** Stopping and already at exact zero: renders nothing more. */
	bool silent;
};

/** Instruction sets a kernel table may use (flz_cpu_detect(), cpu_flags). */
#define FLZ_CPU_AVX2 (1u << 0)
#define FLZ_CPU_FMA (1u << 1)

/**
 * The instruction sets of this CPU that this build has kernels for.
 *
 * @return FLZ_CPU_* bits (0 on CPUs or builds without them)
 * Errors: none.
 * Thread: any.
 * Ownership: nothing is allocated.
 */
uint32_t flz_cpu_detect(void);

/**
 * The kernels for explicit instruction sets: AVX2+FMA when @p cpu_flags has
 * both and this build has them, else generic C. The library never looks at
 * the environment; a test that wants the portable code passes 0.
 *
 * @return a static table; never NULL
 * Errors: none.
 * Thread: any.
 * Ownership: static; never freed.
 */
const struct flz_voice_kernels *flz_voice_kernels_for(uint32_t cpu_flags);

/**
 * flz_voice_kernels_for(flz_cpu_detect()).
 *
 * @return a static table; never NULL
 * Errors: none.
 * Thread: any.
 * Ownership: static; never freed.
 */
const struct flz_voice_kernels *flz_voice_kernels_get(void);

/**
 * The generic C kernels (for tests comparing the variants).
 *
 * @return a static table; never NULL
 * Errors: none.
 * Thread: any.
 * Ownership: static; never freed.
 */
const struct flz_voice_kernels *flz_voice_kernels_generic(void);

/**
 * The AVX2+FMA kernels.
 *
 * @return a static table, or NULL when the build or the CPU lacks them
 * Errors: none (NULL is the answer "not here", not a failure).
 * Thread: any.
 * Ownership: static; never freed.
 */
const struct flz_voice_kernels *flz_voice_kernels_avx2(void);

/**
 * Frames of a ramp of @p ramp_ms at @p rate_hz, rounded, at least 1.
 *
 * @return the frame count: 1 for a zero, negative or NaN ramp_ms, at most
 *         UINT32_MAX / 2
 * Errors: none.
 * Thread: any.
 * Ownership: nothing is allocated.
 */
uint32_t flz_voice_ramp_frames(float ramp_ms, uint32_t rate_hz);

/**
 * Make @p voice idle.
 *
 * @param ramp_frames frames per gain/stop ramp; 0 is taken as 1
 * Errors: none.
 * Thread: any (touches only the voice).
 * Ownership: caller storage; no deinit is needed.
 */
void flz_voice_init(struct flz_voice *voice, uint32_t ramp_frames);

/* ======================================================================
 * Audio-thread functions (FLZ_RT), in src/voice-rt.c.
 * ====================================================================== */

/**
 * Start playing @p sample from its first frame at @p gain_lin, at once.
 *
 * @param slot recorded for the owner; not interpreted
 * @param sample at least one frame; the caller keeps it alive while the voice plays
 * @param gain_lin 0..1 (not checked here; the owner validates)
 * Errors: none (the owner validates every argument).
 * Thread: rt.
 * Ownership: the voice borrows the sample; no reference is taken.
 */
FLZ_RT void flz_voice_start(struct flz_voice *voice, int32_t slot, struct flz_sample *sample,
			    float gain_lin);

/**
 * Glide to a new gain over ramp_frames frames, starting from the gain now.
 * Ignored while stopping.
 *
 * Errors: none (the owner validates @p gain_lin).
 * Thread: rt.
 * Ownership: touches only the voice.
 */
FLZ_RT void flz_voice_set_gain(struct flz_voice *voice, float gain_lin);

/**
 * Fade to exact silence over ramp_frames frames.
 *
 * @return true when the voice was playing and is now stopping; false when it
 *         was idle or already stopping (nothing changes)
 * Errors: none.
 * Thread: rt.
 * Ownership: the sample stays borrowed until the owner ends the voice.
 */
FLZ_RT bool flz_voice_stop(struct flz_voice *voice);

/**
 * Render @p n_frames frames into @p out (interleaved, the sample's channel
 * count): add `gain * sample` into it, or, with @p overwrite, store it. With
 * @p overwrite only the returned number of frames is written; the caller
 * clears the rest.
 *
 * @param kernels from flz_voice_kernels_get()
 * @param out n_frames * n_channels floats
 * @return frames the voice rendered before going silent (n_frames while it
 *         sounds; fewer in the block where a stop reaches zero; 0 when idle)
 * Errors: none.
 * Thread: rt.
 * Ownership: @p out is the caller's; nothing is allocated.
 */
FLZ_RT uint32_t flz_voice_render(struct flz_voice *voice, const struct flz_voice_kernels *kernels,
				 float *out, uint32_t n_frames, bool overwrite);

/**
 * Whether the voice plays nothing: idle, or stopped and faded to exact zero.
 *
 * Errors: none.
 * Thread: rt.
 * Ownership: reads only the voice.
 */
FLZ_RT static inline bool flz_voice_is_silent(const struct flz_voice *voice)
{
	return voice->sample == NULL || voice->silent;
}

/**
 * Whether the voice sounds at a constant gain: not idle, not ramping, not
 * silent. Its next frames are then gain_lin times the sample's frames from
 * pos_frames on (looping), which an owner may mix itself with the mix
 * kernel and then account with flz_voice_advance().
 *
 * Errors: none.
 * Thread: rt.
 * Ownership: reads only the voice.
 */
FLZ_RT static inline bool flz_voice_is_steady(const struct flz_voice *voice)
{
	return voice->sample != NULL && !voice->ramping && !voice->silent;
}

/**
 * Account @p n_frames frames of a steady voice rendered by its owner: the
 * position moves on exactly as flz_voice_render() would move it.
 *
 * @param n_frames at most the frames left before the loop point
 *        (sample->n_frames - pos_frames)
 * Errors: none (the precondition is the caller's).
 * Thread: rt.
 * Ownership: touches only the voice.
 */
FLZ_RT static inline void flz_voice_advance(struct flz_voice *voice, uint32_t n_frames)
{
	voice->pos_frames += n_frames;
	if (voice->pos_frames == voice->sample->n_frames)
		voice->pos_frames = 0;
}

/**
 * Move a voice back by @p n_frames frames, so that it renders those frames
 * again exactly as before: its position moves back (looping backwards
 * through the sample), and a ramp in progress moves back by as many of its
 * frames. For an owner that renders voices ahead of its output and must
 * take frames back (libmixer renders nothing ahead and does not use it).
 *
 * Precondition: the last @p n_frames frames were rendered at one constant
 * gain, or all of them within the ramp now in progress
 * (ramp_done_frames >= n_frames); a ramp that ended within them is not
 * restored.
 *
 * Errors: none (the precondition is the caller's).
 * Thread: rt.
 * Ownership: touches only the voice.
 */
FLZ_RT static inline void flz_voice_rewind(struct flz_voice *voice, uint32_t n_frames)
{
	const int64_t len = voice->sample->n_frames;
	int64_t pos = voice->pos_frames - (int64_t)n_frames % len;
	if (pos < 0)
		pos += len;
	voice->pos_frames = pos;
	if (voice->ramping) {
		voice->ramp_done_frames -= n_frames;
		voice->gain_lin =
			voice->ramp_start_lin + voice->ramp_step_lin * (float)voice->ramp_done_frames;
	}
}

/**
 * The ramp kernel: frame f (f < n_frames) gets gain start + step * (k0 + f),
 * added into (or, with @p overwrite, stored to) dst.
 *
 * @param dst, src n_frames * n_channels floats each
 * Errors: none.
 * Thread: rt.
 * Ownership: both buffers are the caller's; nothing is allocated.
 */
FLZ_RT void flz_voice_kernel_ramp(float *dst, const float *src, uint32_t n_frames,
				  uint32_t n_channels, float start_lin, float step_lin, uint32_t k0,
				  bool overwrite);

#ifdef __cplusplus
}
#endif

#endif /* FLZ_VOICE_H */
