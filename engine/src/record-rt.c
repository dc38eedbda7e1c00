/* SPDX-License-Identifier: MIT */
/*
 * The frame writer's producer side (record.h): runs on the audio thread,
 * or on the caller of flz_engine_render(). A copy into the ring and two
 * atomic counters: no allocation, no lock, no I/O, never a wait.
 */
#include <string.h>

#include "engine-private.h"
#include "record.h"

FLZ_RT FLZ_HOT void flz_frame_writer_push_rt(struct flz_frame_writer *w, const float *frames,
					     uint32_t n_frames)
{
	/* relaxed: only this thread writes head. */
	uint64_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
	/* acquire: the writer has finished reading the frames it released. */
	uint64_t tail = atomic_load_explicit(&w->tail, memory_order_acquire);
	if (w->capacity - (head - tail) < n_frames) {
		/* relaxed: a statistic; only this thread writes it. */
		atomic_fetch_add_explicit(&w->dropped_frames, n_frames, memory_order_relaxed);
		return;
	}
	uint32_t at = (uint32_t)(head & (w->capacity - 1));
	uint32_t first = w->capacity - at < n_frames ? w->capacity - at : n_frames;
	size_t ch = w->n_channels;
	memcpy(w->frames + (size_t)at * ch, frames, sizeof(float) * first * ch);
	if (w->clamp)
		flz_format_clamp_float_rt(w->frames + (size_t)at * ch, (size_t)first * ch);
	if (first < n_frames) {
		memcpy(w->frames, frames + (size_t)first * ch,
		       sizeof(float) * (n_frames - first) * ch);
		if (w->clamp)
			flz_format_clamp_float_rt(w->frames, (size_t)(n_frames - first) * ch);
	}
	/* release: the frames are written before the writer sees them counted. */
	atomic_store_explicit(&w->head, head + n_frames, memory_order_release);
}
