/* SPDX-License-Identifier: MIT */
/**
 * @file flz/rt.h
 * Marks for code that runs on the audio (real-time) thread.
 *
 * A function declared FLZ_RT may be called from the audio thread. It never
 * allocates or frees memory, never takes a lock, never does file or console
 * I/O, never sleeps or waits on another thread. Such functions live in
 * `*-rt.c` files, and the `rt-symbols` test inspects those objects' undefined
 * symbols to keep it that way.
 *
 * FLZ_RT is that contract and nothing else: it expands to nothing, so that
 * marking a function changes no generated code and a compiler hint never
 * passes for a promise. FLZ_HOT (GCC's and clang's `hot`: optimised harder,
 * placed with the other hot code) is an optimisation choice, made where a
 * function is defined; libvoice's and libmixer's `*-rt.c` definitions carry
 * both, and so do the engine's that run every block (the core's drain and
 * render, the converters, each backend's loop and wait, and the thread body
 * that loop is inlined into), but not those that run once per start, per
 * command or on an error path.
 */
#ifndef FLZ_RT_H
#define FLZ_RT_H

#ifdef __cplusplus
extern "C" {
#endif

/** Callable from the audio thread (see above); a mark, expands to nothing. */
#define FLZ_RT

#if defined(__GNUC__) || defined(__clang__)
#define FLZ_HOT __attribute__((hot))
#define FLZ_WARN_UNUSED __attribute__((warn_unused_result))
#define FLZ_LIKELY(x) __builtin_expect(!!(x), 1)
#define FLZ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define FLZ_HOT
#define FLZ_WARN_UNUSED
#define FLZ_LIKELY(x) (x)
#define FLZ_UNLIKELY(x) (x)
#endif

#ifdef __cplusplus
}
#endif

#endif /* FLZ_RT_H */
