/* SPDX-License-Identifier: MIT */
/*
 * libvoice tests. Every comparison is sample by sample; the tolerance is
 * stated at each check. Gains are applied with one float multiply (or one
 * fused multiply-add), so most results are compared exactly.
 */
#ifndef VOICE_TESTS_H
#define VOICE_TESTS_H

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flz/voice.h>

#include "flz-test.h"

/* The kernels the suite tests: the CPU's, or the portable ones when the
 * run asks for them (flz_test_force_generic()). */
static inline const struct flz_voice_kernels *suite_kernels(void)
{
	return flz_voice_kernels_for(flz_test_force_generic() ? 0 : flz_cpu_detect());
}

/* Fixture helpers (voice-main.c). */
struct flz_sample *pattern_sample(int64_t n_frames, uint32_t n_channels);
struct flz_sample *dc_sample(int64_t n_frames, uint32_t n_channels, float value);
float *alloc_floats(size_t n);

/* One Check case: created as every case of the suite is (voice-main.c). */
TCase *voice_tcase(const char *name, const TTest *test);

/* The cases, one per function, each defined in the file of its topic. */
TCase *voice_case_ramp_frames(void);
TCase *voice_case_render(void);
TCase *voice_case_loop(void);
TCase *voice_case_rewind(void);
TCase *voice_case_stop(void);
TCase *voice_case_gain(void);
TCase *voice_case_sizes(void);
TCase *voice_case_kernels(void);
TCase *voice_case_mix(void);
TCase *voice_case_mix_out(void);
TCase *voice_case_peak(void);
TCase *voice_case_peak_frames(void);

#endif /* VOICE_TESTS_H */
