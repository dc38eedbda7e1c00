/* SPDX-License-Identifier: MIT */
/*
 * What the load pool (loadpool.c) needs of the engine's internals: the
 * per-slot generations that keep an overtaken asynchronous load from being
 * published. Thread: control (never flz-audio).
 */
#ifndef FLZ_ENGINE_LOADPOOL_H
#define FLZ_ENGINE_LOADPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flz/engine.h>

/* What flz_engine_load_pcm() converts; NULL for files and memory. */
struct pcm_source {
	const void *data;
	enum flz_pcm_format format;
	int64_t n_frames;
	uint32_t n_channels;
	uint32_t rate_hz;
};

/* Asked under the engine's lock, after the generation check and right
 * before the publish: 0 lets it go on, a negative errno refuses (the load
 * then fails with it, why "cancelled"). It must not block nor allocate. */
struct load_gate {
	int (*allow)(void *ctx);
	void *ctx;
	/* The loader's progress (flz_loader_set_progress()), during the decode,
	 * without the engine's lock; may be NULL. */
	flz_loader_progress_fn progress;
};

/* Bump @p slot's generation (under the engine's lock) and return it: the
 * claim of an asynchronous load. @p slot must be valid. */
uint64_t flz_engine_claim_slot_(struct flz_engine *engine, int32_t slot);

/* As flz_engine_load_file()/_memory()/_pcm() (exactly one of path, data,
 * pcm), publishing only while @p slot is still at @p gen: else -ECANCELED,
 * @p why saying "superseded", and nothing is published. On success
 * *duration_s (may be NULL) is the sample's length in seconds. */
int flz_engine_load_claimed_(struct flz_engine *engine, int32_t slot, uint64_t gen,
			     const char *path, const void *data, size_t n_bytes,
			     const struct pcm_source *pcm, const struct load_gate *gate,
			     double *duration_s, char *why, size_t why_size);


#endif
