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
 * Never idle: the filters run for every voice, bypassed or not, so that
 * they are warm whenever a pad's EQ moves (libeq's choice, docs/design.md
 * "EQ"). Skipping a bypassed voice's filters and starting them from zero
 * when its EQ moves was measured: against warm filters the output differs
 * by up to -25 dB of the signal's peak over the first 2 ms of the bypass
 * crossfade (tones of 40..8000 Hz), a thump that a DJ touching a knob
 * would hear. Bypassed, the stage is transparent instead: its filters run on
 * a copy, and the voice mixes exactly as without EQ (the output's bits are
 * kept, not the cost).
 */
#include <errno.h>

#include <flz/eq.h>

#include "engine-private.h"

static void eq_process(void *state, float *frames, uint32_t n_frames, uint32_t n_channels)
{
	(void)n_channels; /* the EQ was made for the mixer's channels */
	/* Fails only for NULL frames with n_frames > 0, which the mixer never
	 * passes. */
	int err = flz_eq_process(state, frames, n_frames);
	(void)err;
}

static void eq_reset(void *state)
{
	flz_eq_reset(state);
}

static uint32_t eq_latency(const void *state)
{
	return flz_eq_latency_frames(state);
}

static int eq_set_params(void *state, const float *params, uint32_t n_params)
{
	struct flz_eq *eq = state;
	double gain_db[FLZ_EQ_N_BANDS] = { 0.0, 0.0, 0.0 };
	if (params != NULL) {
		if (n_params != FLZ_EQ_N_BANDS)
			return -EINVAL;
		for (uint32_t b = 0; b < FLZ_EQ_N_BANDS; b++)
			gain_db[b] = params[b];
	}
	return flz_eq_set_gains(eq, gain_db);
}

/* Bypassed at the start of a block, bypassed through it: parameters change
 * only between blocks (the mixer hands them over before it asks). */
static bool eq_transparent(const void *state)
{
	return flz_eq_bypassed(state);
}

const struct flz_mixer_stage_ops flz_engine_eq_stage_ops = {
	.process = eq_process,
	.reset = eq_reset,
	.latency_frames = eq_latency,
	.name = "eq",
	.set_params = eq_set_params,
	.transparent = eq_transparent,
};
