/* SPDX-License-Identifier: MIT */
/*
 * Key lock as libmixer's per-voice source (struct flz_mixer_source_ops)
 * over libstretch's processors (flz/stretch.h), one per key-locked voice,
 * made by keylock.c before the audio thread starts. Compiled only with the
 * stretch feature: the build then links Rubber Band and is GPL-2.0-or-later
 * as a whole (README, "License").
 * Thread: rt, all of it (called by the mixer on the audio thread).
 *
 * The mixer's reader and libstretch's have the same type (interleaved
 * frames in, frames written out), so the voice's reader goes to the
 * stretcher as it is. start() resets the processor at the voice's rate and
 * returns its pre-roll: the reader yields that much silence (the voice's
 * stream before its first frame); prime_step() primes in steps within the
 * mixer's budget, never reading past it (a step whose next read does not
 * fit reads nothing), so the first rendered frame is the voice's first
 * frame (docs/design.md "Key lock", "Priming within a budget").
 */
#include <flz/stretch.h>

#include "engine-private.h"

_Static_assert(sizeof(flz_mixer_read_fn) == sizeof(flz_stretch_read_fn),
	       "the mixer's reader is libstretch's");

static int64_t key_lock_start(void *state, double rate)
{
	int err = flz_stretch_reset(state, rate);
	if (err < 0)
		return err;
	return flz_stretch_preroll_frames(state);
}

static int key_lock_set_rate(void *state, double rate)
{
	return flz_stretch_set_rate(state, rate);
}

static int key_lock_render(void *state, flz_mixer_read_fn read, void *read_ctx, float *out,
			   uint32_t n_frames)
{
	return flz_stretch_render(state, read, read_ctx, out, n_frames);
}

static int key_lock_prime_step(void *state, flz_mixer_read_fn read, void *read_ctx,
			       uint32_t max_read_frames)
{
	const int64_t next = flz_stretch_prime_read_frames(state);
	if (next < 0)
		return (int)next;
	if (next > (int64_t)max_read_frames)
		return 0;
	return flz_stretch_prime_step(state, read, read_ctx, max_read_frames);
}

const struct flz_mixer_source_ops flz_engine_key_lock_ops = {
	.start = key_lock_start,
	.set_rate = key_lock_set_rate,
	.render = key_lock_render,
	.prime_step = key_lock_prime_step,
	.name = "key-lock",
};
