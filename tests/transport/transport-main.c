/* SPDX-License-Identifier: MIT */
/* test-transport: the shared reference arithmetic, the suite in its order, and main(). */
#include "transport-tests.h"

struct flz_transport make_transport(uint32_t rate_hz, double bpm, int64_t downbeat)
{
	struct flz_transport t;
	ck_assert_int_eq(flz_transport_init(&t, rate_hz), 0);
	ck_assert_int_eq(flz_transport_set_bpm(&t, 0, bpm), 0);
	ck_assert_int_eq(flz_transport_anchor(&t, downbeat), 0);
	return t;
}

void ref_step_beats(enum flz_quantize mode, uint32_t beats_per_bar, uint64_t *num, uint64_t *den)
{
	/* "1/N" is 4 / N beats. */
	static const uint64_t denominators[] = { 0, 64, 32, 16, 8, 4, 2 };
	if (mode == FLZ_QUANTIZE_BAR) {
		*num = beats_per_bar;
		*den = 1;
	} else {
		ck_assert(mode > FLZ_QUANTIZE_OFF && mode < FLZ_QUANTIZE_BAR);
		*num = 4;
		*den = denominators[mode];
	}
}

int64_t ref_grid_frame(uint32_t rate_hz, uint64_t bpm_micro, uint64_t num, uint64_t den,
		       int64_t downbeat, int64_t k)
{
	/* step = num x rate x 60 x 10^6 / (den x bpm_micro) frames. */
	uint64_t step_num = num * rate_hz * 60u * 1000000u;
	uint64_t step_den = den * bpm_micro;
	long double top = (long double)k * (long double)step_num;
	if (!(fabsl(top) < 0x1p64L))
		ck_abort_msg("reference numerator too large");
	return downbeat + (int64_t)floorl(top / (long double)step_den + 0.5L);
}

uint64_t test_rand(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

TCase *transport_tcase(const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);
	tcase_add_test(tc, test);
	return tc;
}

static Suite *transport_suite(void)
{
	Suite *s = suite_create("transport");
	TCase *(*const cases[])(void) = {
		transport_case_modes,
		transport_case_grid_next,
		transport_case_grid_kth,
		transport_case_position,
		transport_case_tempo,
		transport_case_anchor,
		transport_case_bad_input,
		transport_case_lock_ratio,
		transport_case_locked_wrap,
		transport_case_locked_drift,
		transport_case_locked_start,
		transport_case_locked_bad_input,
		transport_case_schedule_order,
		transport_case_schedule_full,
		transport_case_schedule_cancel,
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		suite_add_tcase(s, cases[i]());
	return s;
}

int main(void)
{
	return flz_test_run_tap(transport_suite());
}
