/* SPDX-License-Identifier: MIT */
/* The switch of meter-switch.c (see there). */
#ifndef FLZ_BENCH_METER_SWITCH_H
#define FLZ_BENCH_METER_SWITCH_H

#include <stdbool.h>

/** True: libmixer's meter read-out runs; false: it does nothing. Thread: the bench's one. */
extern bool flz_bench_meters_on;

#endif
