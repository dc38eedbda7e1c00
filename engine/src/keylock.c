/* SPDX-License-Identifier: MIT */
/*
 * Key lock's processors, control side: made at start, before the audio
 * thread runs, and destroyed after it ended. Compiled only with the
 * stretch feature (see keylock-rt.c).
 */
#include <flz/stretch.h>

#include "engine-private.h"

int flz_engine_key_lock_create(void **states, uint32_t n, uint32_t rate_hz, uint32_t n_channels,
			       uint32_t max_block_frames)
{
	struct flz_stretch_config c = flz_stretch_config_init();
	c.rate_hz = rate_hz;
	c.n_channels = n_channels;
	c.max_block_frames = max_block_frames;
	for (uint32_t i = 0; i < n; i++) {
		/* flz_stretch_new() allocates everything and runs silence through
		 * at the extreme rates, so every page is written before the audio
		 * thread touches it. */
		struct flz_stretch *st = NULL;
		int err = flz_stretch_new(&c, &st);
		if (err < 0) {
			flz_engine_key_lock_destroy(states, i);
			return err;
		}
		states[i] = st;
	}
	return 0;
}

void flz_engine_key_lock_destroy(void **states, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		flz_stretch_destroy(states[i]);
		states[i] = NULL;
	}
}
