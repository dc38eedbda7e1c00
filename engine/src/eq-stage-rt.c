/* SPDX-License-Identifier: MIT */
/*
 * The per-pad EQ as a stage of libmixer's voice chain (struct
 * flz_mixer_stage_ops over libeq's struct flz_eq, one per voice struct).
 * Thread: rt, all of it (called by the mixer on the audio thread).
 *
 * Parameters: three floats, the low, mid and high band gains in dB
 * (checked by flz_engine_set_pad_eq() on the control side; libeq refuses
 * anything else again).
 *
 * Idle until touched: a voice whose pad's EQ is neutral when it starts
 * does not run the filters (the stage is idle, and the voice takes the
 * paths of a voice without EQ, the plain gain-and-add at rate 1 included),
 * for as long as the pad stays neutral. A voice that starts at other gains
 * runs them from its first frame, as a fresh EQ would. A change that
 * reaches an idle voice wakes it: its filters start from zero and run at
 * the exact bypass (the stage transparent: run on a copy, the output still
 * the voice's own bits) for FLZ_ENGINE_EQ_WARM_MS, and only then does the
 * glide to the new gains begin, from filters that have forgotten their
 * cold start. Woken, a voice's filters run until the voice ends. Waking
 * cold filters straight into the glide was measured: against warm ones the
 * output differs by up to -25 dB of the signal's peak over the first 2 ms
 * of the crossfade (tones of 40..8000 Hz), a thump a DJ touching a knob
 * would hear; after the warm-up the two agree within the tolerance of
 * engine:eq-idle (docs/design.md "EQ").
 */
#include <errno.h>

#include <flz/eq.h>

#include "engine-private.h"

/* Gains in range for libeq (the control side checked them already). */
static bool gains_ok(const double gain_db[FLZ_EQ_N_BANDS])
{
	for (uint32_t b = 0; b < FLZ_EQ_N_BANDS; b++)
		if (!(gain_db[b] >= FLZ_EQ_GAIN_DB_MIN && gain_db[b] <= FLZ_EQ_GAIN_DB_MAX))
			return false;
	return true;
}

static bool gains_neutral(const double gain_db[FLZ_EQ_N_BANDS])
{
	for (uint32_t b = 0; b < FLZ_EQ_N_BANDS; b++)
		if (gain_db[b] != 0.0)
			return false;
	return true;
}

/* Gains checked by gains_ok(): libeq takes them. */
static void set_checked_gains(struct flz_eq *eq, const double gain_db[FLZ_EQ_N_BANDS])
{
	int err = flz_eq_set_gains(eq, gain_db);
	(void)err;
}

static void eq_process(void *state, float *frames, uint32_t n_frames, uint32_t n_channels)
{
	struct flz_engine_eq_voice *ev = state;
	(void)n_channels; /* the EQ was made for the mixer's channels */
	/* Fails only for NULL frames with n_frames > 0, which the mixer never
	 * passes. */
	int err = flz_eq_process(&ev->eq, frames, n_frames);
	(void)err;
	if (ev->warm_left == 0)
		return;
	/* Warm: the glide starts with the next block (the chain's mode is
	 * chosen per block, so this block stays transparent to its end). */
	ev->warm_left = n_frames >= ev->warm_left ? 0 : ev->warm_left - n_frames;
	if (ev->warm_left == 0)
		set_checked_gains(&ev->eq, ev->pending_db);
}

/* A voice starts (after set_params() gave it its pad's gains): clean
 * filters at those gains, running unless they are neutral. */
static void eq_reset(void *state)
{
	struct flz_engine_eq_voice *ev = state;
	if (ev->warm_left > 0)
		set_checked_gains(&ev->eq, ev->pending_db);
	ev->warm_left = 0;
	flz_eq_reset(&ev->eq);
	ev->running = ev->always_warm || !gains_neutral(ev->eq.gain_db);
}

static uint32_t eq_latency(const void *state)
{
	const struct flz_engine_eq_voice *ev = state;
	return flz_eq_latency_frames(&ev->eq);
}

static int eq_set_params(void *state, const float *params, uint32_t n_params)
{
	struct flz_engine_eq_voice *ev = state;
	double gain_db[FLZ_EQ_N_BANDS] = { 0.0, 0.0, 0.0 };
	if (params != NULL) {
		if (n_params != FLZ_EQ_N_BANDS)
			return -EINVAL;
		for (uint32_t b = 0; b < FLZ_EQ_N_BANDS; b++)
			gain_db[b] = params[b];
	}
	if (!gains_ok(gain_db))
		return -EINVAL;
	if (ev->warm_left > 0) { /* warming up: the latest gains wait */
		for (uint32_t b = 0; b < FLZ_EQ_N_BANDS; b++)
			ev->pending_db[b] = gain_db[b];
		return 0;
	}
	if (ev->running || gains_neutral(gain_db))
		return flz_eq_set_gains(&ev->eq, gain_db);
	/* Wake an idle voice's filters: from zero, at the exact bypass, for
	 * the warm-up; the gains wait. (At a voice's start reset() follows at
	 * once and applies them without a warm-up.) */
	for (uint32_t b = 0; b < FLZ_EQ_N_BANDS; b++)
		ev->pending_db[b] = gain_db[b];
	static const double neutral[FLZ_EQ_N_BANDS] = { 0.0, 0.0, 0.0 };
	set_checked_gains(&ev->eq, neutral);
	flz_eq_reset(&ev->eq);
	ev->warm_left = ev->warm_frames > 0 ? ev->warm_frames : 1;
	ev->running = true;
	return 0;
}

static bool eq_idle(const void *state)
{
	const struct flz_engine_eq_voice *ev = state;
	return !ev->running;
}

/* Bypassed at the start of a block, bypassed through it: parameters change
 * only between blocks (the mixer hands them over before it asks), and a
 * warm-up's end applies its gains after the block. */
static bool eq_transparent(const void *state)
{
	const struct flz_engine_eq_voice *ev = state;
	return flz_eq_bypassed(&ev->eq);
}

const struct flz_mixer_stage_ops flz_engine_eq_stage_ops = {
	.process = eq_process,
	.reset = eq_reset,
	.latency_frames = eq_latency,
	.name = "eq",
	.set_params = eq_set_params,
	.idle = eq_idle,
	.transparent = eq_transparent,
};
