/* SPDX-License-Identifier: MIT */
/**
 * @file denormals.h
 * Flush-to-zero for the audio thread: the one place that knows how each
 * architecture spells it, chosen at compile time, so render code has none.
 *
 * A subnormal float (|x| < 2^-126, about 1.2e-38) reaches the tail of every
 * fade, decay and filter; on many x86 cores an operation that takes or
 * produces one runs tens to hundreds of times slower (a microcode assist),
 * enough to miss a deadline with a few voices of such tails. With FTZ,
 * results that would be subnormal are 0; with DAZ, subnormal inputs read
 * as 0. Results of normal-range operands that are themselves normal are
 * rounded exactly as before (IEEE 754 is unchanged there), so the only
 * difference FTZ/DAZ can make to the output is a value below 1.2e-38
 * becoming 0: far below any tolerance and below the smallest step of any
 * device format. Hence the offline path (tests rendering on their own
 * thread, compared bit for bit with libmixer) does not set it.
 */
#ifndef FLZ_ENGINE_DENORMALS_H
#define FLZ_ENGINE_DENORMALS_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
/* MXCSR: FTZ is bit 15, DAZ bit 6. */
#define FLZ_FP_FLUSH_BITS ((1u << 15) | (1u << 6))
static inline uint32_t flz_fp_mode_get(void)
{
	return _mm_getcsr();
}
static inline void flz_fp_mode_set(uint32_t mode)
{
	_mm_setcsr(mode);
}
#elif defined(__aarch64__)
/* FPCR: FZ is bit 24 (it covers inputs and results). */
#define FLZ_FP_FLUSH_BITS (1u << 24)
static inline uint32_t flz_fp_mode_get(void)
{
	uint64_t fpcr;
	__asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
	return (uint32_t)fpcr;
}
static inline void flz_fp_mode_set(uint32_t mode)
{
	uint64_t fpcr = mode;
	__asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
}
#else
/* No known switch: subnormals are computed as the hardware does. */
#define FLZ_FP_FLUSH_BITS 0u
static inline uint32_t flz_fp_mode_get(void)
{
	return 0;
}
static inline void flz_fp_mode_set(uint32_t mode)
{
	(void)mode;
}
#endif

/**
 * Turn flushing of subnormals on (or off) for the calling thread; the mode
 * is per thread. Returns the mode now in force (FLZ_FP_FLUSH_BITS set in it
 * when flushing is on).
 * Thread: rt (a register write, no system call).
 */
static inline uint32_t flz_fp_flush_denormals(bool on)
{
	uint32_t mode = flz_fp_mode_get();
	mode = on ? (mode | FLZ_FP_FLUSH_BITS) : (mode & ~(uint32_t)FLZ_FP_FLUSH_BITS);
	flz_fp_mode_set(mode);
	return flz_fp_mode_get();
}

#endif /* FLZ_ENGINE_DENORMALS_H */
