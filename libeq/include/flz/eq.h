/* SPDX-License-Identifier: MIT */
/**
 * @file flz/eq.h
 * libeq: the per-voice 3-band DJ isolator (issue 14).
 *
 * Structure: two 4th-order Linkwitz-Riley crossovers (each a cascade of two
 * identical 2nd-order Butterworth sections, bilinear with the frequency
 * prewarped), at FLZ_EQ_CROSSOVER_LOW_HZ and FLZ_EQ_CROSSOVER_HIGH_HZ, as a
 * tree: the input splits at 250 Hz into low and rest, the rest splits at
 * 4 kHz into mid and high. The low band passes a 2nd-order allpass equal to
 * the 4 kHz crossover's sum, so the three bands have the same phase as the
 * sum of the upper split and add up to the product of the two crossovers'
 * allpasses: at gains (0, 0, 0) the filter bank is an allpass (flat
 * magnitude; only the phase turns, mostly near the crossovers).
 *
 * Gains: each band -60..+6 dB; -60 dB is a kill (gain exactly 0). A change
 * glides linearly in amplitude over the glide (config glide_frames), every
 * frame's gain computed from its index within the glide, so how the frames
 * are split into calls never changes the output. A change during a glide
 * starts a new glide from the gains reached.
 *
 * Exact bypass (config exact_bypass, the default): once the gains have
 * settled at (0, 0, 0), the output crossfades (over the same glide length)
 * from the filter bank to the input and then IS the input, bit for bit; any
 * other gain fades the filter bank back in while the gains glide. The filters
 * keep running while bypassed, so their state is warm and leaving the bypass
 * is as smooth as entering it; the cost is that a bypassed voice costs what a
 * filtering one does (see docs/design.md, "EQ", for the figures). Because
 * filter bank and input differ in phase, a tone near a crossover dips in
 * level during the crossfade (at 250 Hz and 4 kHz the bank turns the phase
 * by 180 degrees, so the midpoint of the fade cancels it); the fade is
 * smooth, never a step. With exact_bypass false the bank always runs: the
 * switch that lets it be measured.
 *
 * State: per channel the nine biquad sections' memories (double), plus the
 * glide and crossfade positions. It is the voice's: start (and steal) call
 * flz_eq_reset(); a loop wrap or seek is the voice's business and does not
 * touch the EQ (the filters run on through the discontinuity as they would
 * on any signal).
 *
 * Denormals: the library does not rely on FTZ/DAZ. Each section adds
 * FLZ_EQ_DENORMAL_OFFSET to its input, so in silence its memory settles at
 * a small normal value instead of decaying into the subnormal range; the
 * output carries it as a DC offset below 1e-17 (about -340 dBFS), and none
 * at all while bypassed or with every band killed.
 *
 * Latency: 0 frames (no lookahead; the phase turn is not a delay).
 *
 * Non-finite input (NaN, infinity) poisons the memories until
 * flz_eq_reset(), as in any recursive filter; the engine's samples are
 * finite (the loader replaces such values, docs/design.md "Bad sample
 * values").
 *
 * Errors: every function that takes an argument out of range returns
 * -EINVAL and changes nothing.
 *
 * Thread: struct flz_eq is plain caller storage used by one thread at a
 * time. flz_eq_init() computes the coefficients (control side); the
 * functions under the banner are FLZ_RT: no allocation, lock or I/O.
 */
#ifndef FLZ_EQ_H
#define FLZ_EQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flz/error.h>
#include <flz/rt.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Crossover frequencies, Hz. */
#define FLZ_EQ_CROSSOVER_LOW_HZ 250.0
#define FLZ_EQ_CROSSOVER_HIGH_HZ 4000.0
/** The upper crossover never exceeds this fraction of rate_hz: below 8889 Hz
 * (8 kHz: 3600 Hz) it moves down, since 4 kHz would be at or past Nyquist. */
#define FLZ_EQ_CROSSOVER_HIGH_MAX_NYQ 0.45
/** Band gain range, dB; FLZ_EQ_GAIN_DB_MIN is a kill (gain 0). */
#define FLZ_EQ_GAIN_DB_MIN (-60.0)
#define FLZ_EQ_GAIN_DB_MAX 6.0
/** Sample rates and channel counts accepted. */
#define FLZ_EQ_RATE_HZ_MIN 8000u
#define FLZ_EQ_RATE_HZ_MAX 192000u
#define FLZ_EQ_CHANNELS_MAX 8u
/** Default glide, ms (glide_frames 0 in the config). */
#define FLZ_EQ_GLIDE_MS_DEFAULT 10u
/** Longest glide, frames (one second at the highest rate). */
#define FLZ_EQ_GLIDE_FRAMES_MAX 192000u
/** The constant each section adds to its input (see Denormals above). */
#define FLZ_EQ_DENORMAL_OFFSET 1e-20

/** Bands, in the order of every gain triple. */
enum flz_eq_band {
	FLZ_EQ_BAND_LOW = 0,
	FLZ_EQ_BAND_MID = 1,
	FLZ_EQ_BAND_HIGH = 2,
};
#define FLZ_EQ_N_BANDS 3

/** Sections per channel: 2 + 2 at 250 Hz, 2 + 2 at 4 kHz, the low band's allpass. */
#define FLZ_EQ_N_SECTIONS 9

/** A biquad's coefficients, normalised (a0 = 1). Private. */
struct flz_eq_biquad {
	double b0, b1, b2, a1, a2;
};

/** Configuration (flz_eq_config_init() for the defaults). */
struct flz_eq_config {
	/** Sample rate, FLZ_EQ_RATE_HZ_MIN..MAX. Default 48000. */
	uint32_t rate_hz;
	/** Interleaved channels, 1..FLZ_EQ_CHANNELS_MAX. Default 2. */
	uint32_t n_channels;
	/** Glide and bypass crossfade length, 1..FLZ_EQ_GLIDE_FRAMES_MAX;
	 * 0 (the default) means FLZ_EQ_GLIDE_MS_DEFAULT at rate_hz. */
	uint32_t glide_frames;
	/** Whether (0, 0, 0) becomes the exact bypass. Default true. */
	bool exact_bypass;
	/** Starting gains, dB (low, mid, high). Default 0, 0, 0. */
	double gain_db[FLZ_EQ_N_BANDS];
};

/**
 * One voice's EQ. Fields are private: use the functions.
 * Lifetime: caller storage (one per voice), flz_eq_init() fills it; nothing
 * to free. Copying an initialised struct copies the state.
 */
struct flz_eq {
	uint32_t rate_hz;
	uint32_t n_channels;
	uint32_t glide_frames;
	/* 0 or 1; a uint32_t so that the structure has no padding (every
	 * byte defined: two states compare with memcmp()). */
	uint32_t exact_bypass;
	/* Sections: 0, 1 low-pass 250 Hz; 2, 3 high-pass 250 Hz; 4, 5
	 * low-pass 4 kHz; 6, 7 high-pass 4 kHz; 8 the 4 kHz allpass. */
	struct flz_eq_biquad coef[FLZ_EQ_N_SECTIONS];
	/* Touched by the audio thread only. */
	/* Gains in linear amplitude: the glide runs from start to target;
	 * glide_pos frames of it are done (== glide_frames: settled at target). */
	double gain_start[FLZ_EQ_N_BANDS];
	double gain_target[FLZ_EQ_N_BANDS];
	double gain_now[FLZ_EQ_N_BANDS];
	uint32_t glide_pos;
	/* Filter bank's share of the output, wet_k / glide_frames (0: bypassed). */
	uint32_t wet_k;
	/* Target gains in dB, as set (what reset jumps to). */
	double gain_db[FLZ_EQ_N_BANDS];
	/* Per channel, per section: transposed direct form II memories. */
	double mem[FLZ_EQ_CHANNELS_MAX][FLZ_EQ_N_SECTIONS][2];
};

/**
 * The defaults: 48 kHz, stereo, 10 ms glide, exact bypass on, gains 0 dB.
 * @return the configuration by value.
 * Errors: none.
 * Thread: any.
 * Ownership: none.
 */
struct flz_eq_config flz_eq_config_init(void);

/**
 * Check @p config, compute the coefficients and start the EQ clean at the
 * configured gains (no glide; bypassed if they are 0, 0, 0 and exact_bypass).
 * @param eq caller storage, written only on success.
 * @param config the configuration.
 * @return 0 or a negative errno.
 * Errors: -EINVAL: @p eq or @p config NULL, rate_hz or n_channels out of
 * range, glide_frames above FLZ_EQ_GLIDE_FRAMES_MAX, a gain out of range or
 * NaN.
 * Thread: control (it evaluates tan() and pow(); do it before the audio
 * thread needs the state).
 * Ownership: nothing allocated; @p eq needs no deinit.
 */
FLZ_WARN_UNUSED int flz_eq_init(struct flz_eq *eq, const struct flz_eq_config *config);

/* ------------------------------------------------------------------ */
/* Audio thread                                                        */
/* ------------------------------------------------------------------ */

/**
 * Set the three band gains: a glide from the gains reached to these starts
 * at the next frame processed.
 * @param eq an initialised EQ.
 * @param gain_db low, mid, high in dB, each FLZ_EQ_GAIN_DB_MIN..MAX;
 *        FLZ_EQ_GAIN_DB_MIN is a kill (gain 0).
 * @return 0 or a negative errno.
 * Errors: -EINVAL: @p eq or @p gain_db NULL, a gain out of range or NaN
 * (nothing changes).
 * Thread: rt (the thread that processes @p eq).
 * Ownership: @p gain_db is read during the call only.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_eq_set_gains(struct flz_eq *eq, const double gain_db[FLZ_EQ_N_BANDS]);

/**
 * Start clean, as a fresh flz_eq_init() with the current target gains
 * would: filter memories cleared, the glide and crossfade complete. Its
 * output from here on is bit-identical to such a fresh state's.
 * @param eq an initialised EQ.
 * Errors: none.
 * Thread: rt.
 * Ownership: none.
 */
FLZ_RT void flz_eq_reset(struct flz_eq *eq);

/**
 * Filter @p n_frames interleaved frames (n_channels from the config) in
 * place. Bypassed, the samples are not written at all.
 * @param eq an initialised EQ.
 * @param frames n_frames x n_channels floats; may be NULL if n_frames is 0.
 * @param n_frames any count.
 * @return 0 or a negative errno.
 * Errors: -EINVAL: @p eq NULL, or @p frames NULL with n_frames > 0
 * (nothing changes).
 * Thread: rt.
 * Ownership: @p frames stays the caller's.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_eq_process(struct flz_eq *eq, float *frames, size_t n_frames);

/**
 * The EQ's latency: always 0 frames (IIR sections, no lookahead).
 * @param eq an initialised EQ (for the stage interface; not read).
 * @return 0.
 * Errors: none.
 * Thread: any.
 * Ownership: none.
 */
FLZ_RT uint32_t flz_eq_latency_frames(const struct flz_eq *eq);

/**
 * Whether the output is the input bit for bit right now (the exact bypass
 * reached: gains settled at 0, 0, 0 and the crossfade done).
 * @param eq an initialised EQ.
 * @return true when bypassed.
 * Errors: none.
 * Thread: rt (or any thread while no other uses @p eq).
 * Ownership: none.
 */
FLZ_RT bool flz_eq_bypassed(const struct flz_eq *eq);

#ifdef __cplusplus
}
#endif

#endif /* FLZ_EQ_H */
