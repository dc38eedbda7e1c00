/* SPDX-License-Identifier: MIT */
/**
 * @file flz/pages.h
 * Memory for the audio thread: whole pages of its own, written once when
 * allocated.
 *
 * Every buffer the audio thread reads or writes is allocated this way
 * rather than with malloc(), for three reasons:
 *  - Written here, on the control side, each page is mapped before the
 *    audio thread first touches it: no page fault in a period. (calloc()
 *    does not do that: it may hand out fresh zero pages that the kernel
 *    maps only on the first write.)
 *  - The pages belong to this buffer alone, so locking it (mlock) neither
 *    locks a neighbour's allocation, nor does unlocking it (munlock) unlock
 *    pages another buffer locked: mlock does not count, and heap blocks
 *    share pages. Unmapping drops the lock with the pages.
 *  - The pages are fresh, so a test can tell a buffer that was not written
 *    (mincore() reports it not resident) from one that was, whatever the
 *    heap did before.
 * The cost is up to a page of slack per buffer.
 *
 * Internal to the project's libraries (libmixer, the engine), which build
 * with _GNU_SOURCE for MAP_ANONYMOUS: not installed, not part of any public
 * header. (A public header that included it would not compile in a
 * strict -std=c11 program.)
 */
#ifndef FLZ_PAGES_H
#define FLZ_PAGES_H

#include <stddef.h>
#include <string.h>

#include <sys/mman.h>

/* LeakSanitizer looks for pointers in the heap, stacks and globals, not in
 * mappings of one's own: a sample or a name reachable only through these
 * pages would be reported as leaked. Such pages are registered as roots. */
#if defined(__SANITIZE_ADDRESS__)
#define FLZ_PAGES_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLZ_PAGES_LSAN 1
#endif
#endif
#ifdef FLZ_PAGES_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Map @p n_bytes (rounded up to whole pages) of private anonymous memory
 * and write every page of it (to zero).
 * @return page-aligned zeroed memory, or NULL on an error
 * Errors (NULL): @p n_bytes is 0; the mapping fails (no memory, a mapping
 * limit).
 * Thread: control (maps and writes memory).
 * Ownership: the caller frees it with flz_pages_free() and the same @p n_bytes.
 */
static inline void *flz_pages_alloc(size_t n_bytes)
{
	if (n_bytes == 0)
		return NULL;
	void *p = mmap(NULL, n_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* A write, not a read: a read would map the shared zero page and the
	 * first store would still fault (copy on write). */
	memset(p, 0, n_bytes);
#ifdef FLZ_PAGES_LSAN
	__lsan_register_root_region(p, n_bytes);
#endif
	return p;
}

/**
 * Unmap memory from flz_pages_alloc() (which unlocks it too).
 * @param n_bytes the size it was allocated with
 * Errors: none (NULL is accepted and ignored).
 * Thread: control.
 * Ownership: the memory is gone.
 */
static inline void flz_pages_free(void *p, size_t n_bytes)
{
	if (p == NULL)
		return;
#ifdef FLZ_PAGES_LSAN
	__lsan_unregister_root_region(p, n_bytes);
#endif
	munmap(p, n_bytes);
}

#ifdef __cplusplus
}
#endif

#endif /* FLZ_PAGES_H */
