/* SPDX-License-Identifier: MIT */
/* libtransport internals: 128-bit integer helpers and the tempo units. */
#ifndef FLZ_TRANSPORT_INTERNAL_H
#define FLZ_TRANSPORT_INTERNAL_H

#include <stdint.h>

#include <flz/transport.h>

/* GCC and clang have 128-bit integers on every 64-bit target; __extension__
 * keeps -Wpedantic quiet about them. */
__extension__ typedef __int128 flz_i128;
__extension__ typedef unsigned __int128 flz_u128;

/* A frame in 32.32 fixed point is frames x 2^32. */
#define FLZ_FP_ONE ((flz_i128)1 << 32)
/* Micro-BPM per BPM. */
#define FLZ_BPM_SCALE 1000000

/* floor(a / b) and ceil(a / b) for b > 0: C's division truncates toward zero. */
static inline flz_i128 flz_floor_div(flz_i128 a, flz_i128 b)
{
	flz_i128 q = a / b;
	return (a % b != 0 && a < 0) ? q - 1 : q;
}

static inline flz_i128 flz_ceil_div(flz_i128 a, flz_i128 b)
{
	flz_i128 q = a / b;
	return (a % b != 0 && a > 0) ? q + 1 : q;
}

/* round(bpm x 10^6), or 0 when bpm is outside the range or not finite (the
 * comparison is false for NaN). One multiply and a truncation: no libm. */
static inline uint64_t flz_bpm_to_micro(double bpm)
{
	if (!(bpm >= FLZ_TRANSPORT_BPM_MIN && bpm <= FLZ_TRANSPORT_BPM_MAX))
		return 0;
	return (uint64_t)(bpm * (double)FLZ_BPM_SCALE + 0.5);
}

#endif /* FLZ_TRANSPORT_INTERNAL_H */
