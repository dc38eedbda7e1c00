/* SPDX-License-Identifier: MIT */
/*
 * libtransport tests. Every grid frame is compared with a reference that
 * does not use the library's arithmetic: one long double division of exact
 * integers (see ref_grid_frame()), with 0 frames tolerance; positions are
 * compared within the tolerance stated at each check.
 */
#ifndef TRANSPORT_TESTS_H
#define TRANSPORT_TESTS_H

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flz/transport.h>

#include "flz-test.h"

/* A transport at rate_hz and bpm with its downbeat at frame downbeat. */
struct flz_transport make_transport(uint32_t rate_hz, double bpm, int64_t downbeat);

/* Steps in beats of a mode as num / den (4 / denominator; bar = bpb). */
void ref_step_beats(enum flz_quantize mode, uint32_t beats_per_bar, uint64_t *num, uint64_t *den);

/*
 * The k-th grid frame, downbeat + floor(k x step + 1/2) with step =
 * num x rate x 60 / (den x bpm), bpm = bpm_micro / 10^6: the numerator and
 * denominator are exact integers (below 2^64, so exact as long double, whose
 * mantissa has 64 bits) and one division rounds correctly. A quotient that
 * is exactly x.5 is exact too; any other lies at least 1 / (den x bpm_micro)
 * (> 10^-10) from x.5, far beyond the division's error (~10^-11 at an hour
 * of frames), so the rounding is exact.
 */
int64_t ref_grid_frame(uint32_t rate_hz, uint64_t bpm_micro, uint64_t num, uint64_t den,
		       int64_t downbeat, int64_t k);

/* Deterministic pseudo-random 64-bit values (xorshift64). */
uint64_t test_rand(uint64_t *state);

/* One Check case, as every case of the suite is made (transport-main.c). */
TCase *transport_tcase(const char *name, const TTest *test);

TCase *transport_case_modes(void);
TCase *transport_case_grid_next(void);
TCase *transport_case_grid_kth(void);
TCase *transport_case_position(void);
TCase *transport_case_tempo(void);
TCase *transport_case_anchor(void);
TCase *transport_case_bad_input(void);
TCase *transport_case_lock_ratio(void);
TCase *transport_case_locked_wrap(void);
TCase *transport_case_locked_drift(void);
TCase *transport_case_locked_start(void);
TCase *transport_case_locked_bad_input(void);
TCase *transport_case_schedule_order(void);
TCase *transport_case_schedule_full(void);
TCase *transport_case_schedule_cancel(void);

#endif /* TRANSPORT_TESTS_H */
