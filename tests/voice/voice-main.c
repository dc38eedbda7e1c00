/* SPDX-License-Identifier: MIT */
/* test-voice: the shared fixture, the suite in its order, and main(). */
#include "voice-tests.h"

/* A sample of n_frames x n_channels; value(frame, channel) from a pattern
 * that makes every frame distinct, so a gap or a repeat shows. */
struct flz_sample *pattern_sample(int64_t n_frames, uint32_t n_channels)
{
	struct flz_sample *s = flz_sample_new(n_frames, n_channels, 48000);
	ck_assert_ptr_nonnull(s);
	for (int64_t f = 0; f < n_frames; f++)
		for (uint32_t c = 0; c < n_channels; c++)
			s->data[f * n_channels + c] =
				(float)((double)(f + 1) / (double)(n_frames + 1)) * (c % 2 ? -1.0f : 1.0f);
	return s;
}

struct flz_sample *dc_sample(int64_t n_frames, uint32_t n_channels, float value)
{
	struct flz_sample *s = flz_sample_new(n_frames, n_channels, 48000);
	ck_assert_ptr_nonnull(s);
	for (int64_t i = 0; i < n_frames * n_channels; i++)
		s->data[i] = value;
	return s;
}

float *alloc_floats(size_t n)
{
	float *p = calloc(n ? n : 1, sizeof(float));
	ck_assert_ptr_nonnull(p);
	return p;
}

TCase *voice_tcase(const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);
	tcase_add_test(tc, test);
	return tc;
}

static Suite *voice_suite(void)
{
	Suite *s = suite_create("voice");
	TCase *(*const cases[])(void) = {
		voice_case_ramp_frames,
		voice_case_render,
		voice_case_loop,
		voice_case_rewind,
		voice_case_stop,
		voice_case_gain,
		voice_case_sizes,
		voice_case_kernels,
		voice_case_mix,
		voice_case_mix_out,
		voice_case_peak,
		voice_case_peak_frames,
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		suite_add_tcase(s, cases[i]());
	return s;
}

int main(void)
{
	return flz_test_run_tap(voice_suite());
}
