/* SPDX-License-Identifier: MIT */
/**
 * @file flz/sample.h
 * The decoded sample: immutable interleaved float32 frames, shared between
 * the control side and the audio thread by an atomic reference count.
 *
 * Lifetime: flz_sample_new() returns a sample with one reference, owned by
 * the caller. Whoever holds a reference may read the frames from any thread.
 * The frames are written once, by the creator, before the sample is handed
 * to anyone else, and never change afterwards.
 *
 * The audio thread never frees. The project's mixer takes no references on
 * the audio thread at all: it holds the one reference of each load and hands
 * it back whole to the control side (its retire callback), where
 * flz_sample_unref() drops it. Other audio-thread code that holds
 * references of its own drops them with flz_sample_release_rt(), which
 * refuses to drop the last one and tells the caller to hand the sample back
 * to the control side in the same way.
 */
#ifndef FLZ_SAMPLE_H
#define FLZ_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <flz/atomic.h>
#include <flz/constants.h>
#include <flz/rt.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Alignment of the frame data, enough for any SIMD load. */
#define FLZ_SAMPLE_ALIGN 64

struct flz_sample {
	/** References held; the sample is freed when it drops to zero. */
	flz_atomic_int refcount;
	/** Interleaved channels per frame, 1..FLZ_MAX_CHANNELS. */
	uint32_t n_channels;
	/** The rate the frames are meant to be played at. */
	uint32_t rate_hz;
	/** Frames in @ref data; at least 1. */
	int64_t n_frames;
	/** n_frames * n_channels floats, FLZ_SAMPLE_ALIGN-aligned. */
	float *data;
};

/** A plain, non-owning view of interleaved float frames. */
struct flz_frames {
	const float *data;
	int64_t n_frames;
	uint32_t n_channels;
};

/**
 * Allocate a sample with uninitialised frames and one reference.
 *
 * @param n_frames frames, >= 1
 * @param n_channels 1..FLZ_MAX_CHANNELS
 * @param rate_hz frame rate
 * @return the sample, or NULL on an error
 * Errors (NULL): n_frames < 1, n_channels outside 1..FLZ_MAX_CHANNELS, a size
 * that overflows size_t, or no memory.
 * Thread: control (allocates).
 * Ownership: the caller owns the one reference; flz_sample_unref() drops it.
 */
static inline struct flz_sample *flz_sample_new(int64_t n_frames, uint32_t n_channels,
						uint32_t rate_hz)
{
	if (n_frames < 1 || n_channels < 1 || n_channels > FLZ_MAX_CHANNELS)
		return NULL;
	if ((uint64_t)n_frames > (SIZE_MAX - 2 * FLZ_SAMPLE_ALIGN) / sizeof(float) / n_channels)
		return NULL;
	size_t n_bytes = (size_t)n_frames * n_channels * sizeof(float);
	size_t header = (sizeof(struct flz_sample) + FLZ_SAMPLE_ALIGN - 1) &
			~(size_t)(FLZ_SAMPLE_ALIGN - 1);
	/* One block: header, then the frames, rounded up as aligned_alloc wants. */
	size_t total = (header + n_bytes + FLZ_SAMPLE_ALIGN - 1) & ~(size_t)(FLZ_SAMPLE_ALIGN - 1);
	unsigned char *block = (unsigned char *)aligned_alloc(FLZ_SAMPLE_ALIGN, total);
	if (block == NULL)
		return NULL;
	struct flz_sample *s = (struct flz_sample *)block;
	flz_atomic_init(&s->refcount, 1);
	s->n_channels = n_channels;
	s->rate_hz = rate_hz;
	s->n_frames = n_frames;
	s->data = (float *)(block + header);
	return s;
}

/**
 * Take another reference.
 * Errors: none.
 * Thread: any (rt-safe: one atomic add).
 * Ownership: the caller owns the new reference.
 */
FLZ_RT static inline void flz_sample_ref(struct flz_sample *s)
{
	/* relaxed: the caller already holds a reference, so the object is alive
	 * and its frames were published to this thread when that reference was
	 * handed over; a new reference publishes nothing. */
	flz_atomic_fetch_add(&s->refcount, 1, memory_order_relaxed);
}

/**
 * Drop a reference; free the sample when it was the last.
 * Errors: none (NULL is accepted and ignored).
 * Thread: control (may free).
 * Ownership: the caller's reference is gone; the sample is freed with the last.
 */
static inline void flz_sample_unref(struct flz_sample *s)
{
	if (s == NULL)
		return;
	/* acq_rel: release orders this thread's reads of the frames before the
	 * decrement; acquire on the last decrement makes every other holder's
	 * reads happen before the free. */
	if (flz_atomic_fetch_sub(&s->refcount, 1, memory_order_acq_rel) == 1)
		free(s);
}

/**
 * Drop a reference on the audio thread, unless it is the last one.
 *
 * @return false when the reference was dropped; true when it is the last
 *         reference, which the caller still holds and must pass to the
 *         control side (through a ring) for flz_sample_unref().
 * Errors: none.
 * Thread: rt.
 * Ownership: see the return value.
 */
FLZ_RT static inline bool flz_sample_release_rt(struct flz_sample *s)
{
	/* relaxed load: only a starting value for the CAS loop. */
	int n = flz_atomic_load(&s->refcount, memory_order_relaxed);
	for (;;) {
		if (n == 1) {
			/* acquire fence: n == 1 was read by a relaxed load (or a failed
			 * CAS), which orders nothing. Every other holder dropped its
			 * reference with a release decrement (here, or the acq_rel one in
			 * flz_sample_unref()); the fence makes those decrements, and so
			 * everything their holders did with the sample before them,
			 * happen before what this thread does next as the sole owner:
			 * handing the sample to the control side through a ring, whose
			 * release push then carries that order on to the free. Only this
			 * path pays for it. */
			flz_atomic_thread_fence(memory_order_acquire);
			return true;
		}
		/* release on success: our reads of the frames happen before another
		 * holder's final decrement frees them; relaxed on failure, we retry. */
		if (flz_atomic_cas_weak(&s->refcount, &n, n - 1, memory_order_release,
					memory_order_relaxed))
			return false;
	}
}

/**
 * A view of the sample's frames.
 * @return data, n_frames and n_channels of @p s
 * Errors: none.
 * Thread: any (rt-safe).
 * Ownership: the view owns nothing: valid while the caller holds a reference.
 */
FLZ_RT static inline struct flz_frames flz_sample_frames(const struct flz_sample *s)
{
	struct flz_frames f = { s->data, s->n_frames, s->n_channels };
	return f;
}

#ifdef __cplusplus
}
#endif

#endif /* FLZ_SAMPLE_H */
