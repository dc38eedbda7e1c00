/* SPDX-License-Identifier: MIT */
/*
 * Key lock's processors, control side: made at start, before the audio
 * thread runs, and destroyed after it ended. Compiled only with the
 * stretch feature (see keylock-rt.c).
 */
#include <pthread.h>

#include <flz/constants.h>
#include <flz/stretch.h>

#include "engine-private.h"

/*
 * Processors outlive the engine start that made them: a stop hands them to
 * this process-wide cache, and the next start with the same rate, channels
 * and block size takes them back instead of making new ones (making one
 * costs about 22 ms: it allocates and runs silence through at the extreme
 * rates). A processor is made clean at every voice start
 * (flz_stretch_reset()), so one that served before is as good as a new one.
 * At most FLZ_MAX_VOICES are kept, for the process's life; the rest are
 * destroyed. Control side only, under the cache's mutex.
 */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct flz_stretch *st;
	uint32_t rate_hz, n_channels, max_block_frames;
} cache[FLZ_MAX_VOICES];
static uint32_t n_cached;

/* A cached processor made for these properties, or NULL. */
static struct flz_stretch *cache_take(const struct flz_stretch_config *c)
{
	struct flz_stretch *st = NULL;
	pthread_mutex_lock(&cache_lock);
	for (uint32_t i = n_cached; i-- > 0;) {
		if (cache[i].rate_hz == c->rate_hz && cache[i].n_channels == c->n_channels &&
		    cache[i].max_block_frames == c->max_block_frames) {
			st = cache[i].st;
			cache[i] = cache[--n_cached];
			break;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return st;
}

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
		 * thread touches it; a cached one has been through that. */
		struct flz_stretch *st = cache_take(&c);
		if (st == NULL) {
			int err = flz_stretch_new(&c, &st);
			if (err < 0) {
				flz_engine_key_lock_destroy(states, i, rate_hz, n_channels,
							    max_block_frames);
				return err;
			}
		}
		states[i] = st;
	}
	return 0;
}

void flz_engine_key_lock_destroy(void **states, uint32_t n, uint32_t rate_hz,
				 uint32_t n_channels, uint32_t max_block_frames)
{
	for (uint32_t i = 0; i < n; i++) {
		struct flz_stretch *st = states[i];
		states[i] = NULL;
		if (st == NULL)
			continue;
		pthread_mutex_lock(&cache_lock);
		const bool kept = n_cached < FLZ_MAX_VOICES;
		if (kept)
			cache[n_cached++] = (__typeof__(cache[0])){ st, rate_hz, n_channels,
								    max_block_frames };
		pthread_mutex_unlock(&cache_lock);
		if (!kept)
			flz_stretch_destroy(st);
	}
}
