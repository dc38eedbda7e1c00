/* SPDX-License-Identifier: MIT */
/**
 * @file flz/ring.h
 * A lock-free single-producer / single-consumer ring of fixed-size messages.
 *
 * Exactly one thread pushes and exactly one thread pops at any time; callers
 * with several producer threads serialise them on their own side (the
 * engine does it with a mutex on the control side, never on the audio side).
 * Push and pop are wait-free: they never block, never allocate, and are safe
 * on the audio thread.
 *
 * The storage is the caller's: flz_ring_init() takes a buffer of
 * capacity * elem_size bytes, capacity a power of two. The ring holds exactly
 * @c capacity messages.
 */
#ifndef FLZ_RING_H
#define FLZ_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <flz/atomic.h>
#include <flz/rt.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FLZ_CACHE_LINE 64

struct flz_ring {
	/* Producer-owned line: the write counter, and the producer's cached copy
	 * of the read counter (so a push reads the consumer's line only when the
	 * ring looks full). */
	FLZ_ALIGNAS(FLZ_CACHE_LINE) flz_atomic_size write_count;
	size_t producer_read_cache;
	/* Consumer-owned line. */
	FLZ_ALIGNAS(FLZ_CACHE_LINE) flz_atomic_size read_count;
	size_t consumer_write_cache;
	/* Read-only after init. */
	FLZ_ALIGNAS(FLZ_CACHE_LINE) unsigned char *storage;
	size_t elem_size;
	size_t capacity;
	size_t mask;
};

/**
 * Initialise a ring over caller storage.
 *
 * @param ring caller storage for the ring
 * @param storage capacity * elem_size bytes, alive as long as the ring
 * @param elem_size bytes per message, > 0
 * @param capacity messages, a power of two
 * @return 0, or an error
 * Errors: -EINVAL: capacity is not a power of two, or elem_size is 0.
 * Thread: control, before either side uses the ring.
 * Ownership: @p ring and @p storage stay the caller's; the ring keeps a
 * pointer to @p storage, which must outlive it. Nothing to deinit.
 */
static inline int flz_ring_init(struct flz_ring *ring, void *storage, size_t elem_size,
				size_t capacity)
{
	if (elem_size == 0 || capacity == 0 || (capacity & (capacity - 1)) != 0 || storage == NULL)
		return -22; /* -EINVAL without pulling errno.h into every user */
	flz_atomic_init(&ring->write_count, (size_t)0);
	flz_atomic_init(&ring->read_count, (size_t)0);
	ring->producer_read_cache = 0;
	ring->consumer_write_cache = 0;
	ring->storage = (unsigned char *)storage;
	ring->elem_size = elem_size;
	ring->capacity = capacity;
	ring->mask = capacity - 1;
	return 0;
}

/**
 * Append one message.
 * @param elem elem_size bytes, copied into the ring
 * @return true when queued, false when the ring is full (nothing written)
 * Errors: none besides a full ring (the false return).
 * Thread: the one producer; rt-safe.
 * Ownership: the bytes are copied; @p elem stays the caller's. A message
 * that carries a pointer hands over whatever that pointer owns.
 */
FLZ_RT static inline bool flz_ring_push(struct flz_ring *ring, const void *elem)
{
	/* relaxed: only the producer writes write_count. */
	size_t w = flz_atomic_load(&ring->write_count, memory_order_relaxed);
	if (w - ring->producer_read_cache >= ring->capacity) {
		/* acquire: pairs with the consumer's release store of read_count, so
		 * the consumer has finished reading a slot before we overwrite it. */
		ring->producer_read_cache =
			flz_atomic_load(&ring->read_count, memory_order_acquire);
		if (w - ring->producer_read_cache >= ring->capacity)
			return false;
	}
	memcpy(ring->storage + (w & ring->mask) * ring->elem_size, elem, ring->elem_size);
	/* release: the message bytes become visible before the new count. */
	flz_atomic_store(&ring->write_count, w + 1, memory_order_release);
	return true;
}

/**
 * Remove the oldest message.
 * @param elem elem_size bytes of caller storage
 * @return true when a message was copied to @p elem, false when the ring is empty
 * Errors: none besides an empty ring (the false return).
 * Thread: the one consumer; rt-safe.
 * Ownership: the message (and what a pointer in it owns) is now the caller's.
 */
FLZ_RT static inline bool flz_ring_pop(struct flz_ring *ring, void *elem)
{
	/* relaxed: only the consumer writes read_count. */
	size_t r = flz_atomic_load(&ring->read_count, memory_order_relaxed);
	if (r == ring->consumer_write_cache) {
		/* acquire: pairs with the producer's release store, so the message
		 * bytes are visible before we read them. */
		ring->consumer_write_cache =
			flz_atomic_load(&ring->write_count, memory_order_acquire);
		if (r == ring->consumer_write_cache)
			return false;
	}
	memcpy(elem, ring->storage + (r & ring->mask) * ring->elem_size, ring->elem_size);
	/* release: our read of the slot is done before the producer may reuse it. */
	flz_atomic_store(&ring->read_count, r + 1, memory_order_release);
	return true;
}

/**
 * Messages queued now (a snapshot).
 * @return 0..capacity
 * Errors: none.
 * Thread: any; exact only on the consumer side (others see a value that may
 * be stale by the time it is used).
 * Ownership: nothing changes hands.
 */
static inline size_t flz_ring_count(struct flz_ring *ring)
{
	/* acquire on both: a consistent-enough snapshot for reporting; the
	 * difference never exceeds capacity because read_count <= write_count. */
	size_t r = flz_atomic_load(&ring->read_count, memory_order_acquire);
	size_t w = flz_atomic_load(&ring->write_count, memory_order_acquire);
	return w - r;
}

#ifdef __cplusplus
}
#endif

#endif /* FLZ_RING_H */
