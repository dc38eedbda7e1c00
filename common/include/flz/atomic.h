/* SPDX-License-Identifier: MIT */
/**
 * @file flz/atomic.h
 * C11 atomics spelled so that the public headers compile as C and as C++.
 *
 * In C these are <stdatomic.h>; in C++ the same operations from <atomic>
 * (std::atomic<T> has the same size and representation as the C type on
 * every platform the project supports).
 */
#ifndef FLZ_ATOMIC_H
#define FLZ_ATOMIC_H

#ifdef __cplusplus
#include <atomic>
#include <cstddef>
typedef std::atomic<int> flz_atomic_int;
typedef std::atomic<std::size_t> flz_atomic_size;
#define FLZ_ATOMIC_NS std::
#define FLZ_ALIGNAS(n) alignas(n)
#else
#include <stdatomic.h>
#include <stddef.h>
typedef atomic_int flz_atomic_int;
typedef atomic_size_t flz_atomic_size;
#define FLZ_ATOMIC_NS
#define FLZ_ALIGNAS(n) _Alignas(n)
#endif

#define flz_atomic_init(obj, v) FLZ_ATOMIC_NS atomic_init(obj, v)
#define flz_atomic_load(obj, order) FLZ_ATOMIC_NS atomic_load_explicit(obj, FLZ_ATOMIC_NS order)
#define flz_atomic_store(obj, v, order) \
	FLZ_ATOMIC_NS atomic_store_explicit(obj, v, FLZ_ATOMIC_NS order)
#define flz_atomic_fetch_add(obj, v, order) \
	FLZ_ATOMIC_NS atomic_fetch_add_explicit(obj, v, FLZ_ATOMIC_NS order)
#define flz_atomic_fetch_sub(obj, v, order) \
	FLZ_ATOMIC_NS atomic_fetch_sub_explicit(obj, v, FLZ_ATOMIC_NS order)
#define flz_atomic_cas_weak(obj, expected, desired, success, failure)                  \
	FLZ_ATOMIC_NS atomic_compare_exchange_weak_explicit(obj, expected, desired,   \
							    FLZ_ATOMIC_NS success,    \
							    FLZ_ATOMIC_NS failure)
#define flz_atomic_thread_fence(order) FLZ_ATOMIC_NS atomic_thread_fence(FLZ_ATOMIC_NS order)

#endif /* FLZ_ATOMIC_H */
