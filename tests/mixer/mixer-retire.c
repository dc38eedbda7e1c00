/* SPDX-License-Identifier: MIT */
/* mixer:retire, mixer:retire-shared: every load retired exactly once. */
#include "mixer-tests.h"

/* ---- mixer:retire ---- */

/* A replaced or unloaded sample reaches the retire callback exactly once,
 * and only once no voice plays it; destroy frees the rest without it. */
START_TEST(test_retire)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	const uint32_t ramp = 240;
	float *out = floats(4000);
	struct flz_sample *a = dc_sample(100, 0.5f), *b = dc_sample(100, 0.25f);
	load(m, 0, a);
	play(m, 0, 1.0f);
	render(m, out, 1000, 256);
	load(m, 0, b); /* replace: the voice keeps playing a */
	ck_assert_int_eq(r.n_retired, 0);
	render(m, out, 2000, 256);
	ck_assert_int_eq(r.n_retired, 0);
	/* a is still heard: 0.5 exactly (b would give 0.25). */
	ck_assert_float_eq(out[1999 * CH], 0.5f);
	play(m, 0, 1.0f); /* plays b */
	ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 5), 2);
	/* The mixer renders its voices ahead of the output (the fade starts
	 * at the next output frame, inside that look-ahead), so a is retired
	 * during the render call that renders the fade's last frame: not by
	 * the stop itself, and at the latest with output frame R - 1. */
	ck_assert_int_eq(r.n_retired, 0);
	render(m, out, ramp - 1, 1);
	ck_assert_int_eq(r.n_retired, 1);
	ck_assert_ptr_eq(r.retired[0], a);
	render(m, out, 1000, 100);
	ck_assert_int_eq(r.n_retired, 1); /* b stays in its slot */
	ck_assert_int_eq(flz_mixer_unload(m, 0, 6), 0); /* nothing playing */
	ck_assert_int_eq(r.n_retired, 2);
	ck_assert_ptr_eq(r.retired[1], b);

	/* Unload with a voice playing: retired once the voice is silent. */
	struct flz_sample *c = noise_sample(1000, 5, 0.3);
	load(m, 3, c);
	play(m, 3, 0.7f);
	render(m, out, 50, 50);
	ck_assert_int_eq(flz_mixer_unload(m, 3, 7), 1);
	ck_assert_int_eq(r.n_retired, 2);
	render(m, out, 1, 1);
	ck_assert_int_eq(r.n_retired, 2);
	render(m, out, ramp - 2, 1);
	ck_assert_int_eq(r.n_retired, 3);
	ck_assert_ptr_eq(r.retired[2], c);

	/* Loading the same sample again into its own slot: each load hands
	 * over a reference, and the first one comes back at once (nothing
	 * plays it), while the second keeps the sample alive. */
	struct flz_sample *d = noise_sample(500, 6, 0.3);
	load(m, 4, d);
	flz_sample_ref(d);
	load(m, 4, d);
	ck_assert_int_eq(r.n_retired, 4);
	ck_assert_ptr_eq(r.retired[3], d);
	ck_assert_int_eq(r.refs_at_retire[3], 2);
	ck_assert_int_eq(atomic_load(&d->refcount), 1);
	play(m, 4, 1.0f);
	render(m, out, 4000, 4000);
	/* Destroy drops the one reference it still holds itself. */
	flz_mixer_destroy(m);
	ck_assert_int_eq(r.n_retired, 4);
	free(out);
}
END_TEST

/* Whether any of the first n_frames frames is NaN, and the largest |value|
 * from frame 64 on: the output still carries up to 32 + 1 frames of a fade
 * whose source the mixer rendered before it retired the sample. */
static bool any_nan(const float *out, uint32_t n_frames, double *peak)
{
	bool nan = false;
	*peak = 0.0;
	for (size_t i = 0; i < (size_t)n_frames * CH; i++) {
		nan = nan || isnan(out[i]);
		if (i >= 64 * CH)
			*peak = fmax(*peak, fabs(out[i]));
	}
	return nan;
}

/* Render one frame at a time until @p n_want samples were retired (at most
 * max_frames); returns the frames rendered. Checks every frame is a number. */
static uint32_t render_until_retired(struct flz_mixer *m, struct rec *r, int n_want,
				     uint32_t max_frames)
{
	float frame[CH];
	uint32_t n = 0;
	while (r->n_retired < n_want && n < max_frames) {
		ck_assert_int_eq(flz_mixer_render(m, frame, 1), 0);
		ck_assert(!isnan(frame[0]) && !isnan(frame[1]));
		n++;
	}
	return n;
}

/*
 * A caller that keeps its own reference to a loaded sample: retire still
 * comes exactly once per load, only once no voice plays it (the retire
 * callback fills the frames with NaN, so any later read would show in the
 * output), and with the caller's reference intact. Replace, unload, a stop
 * after an unload of one of two slots holding the sample, and stealing.
 */
START_TEST(test_retire_shared)
{
	struct rec r = { .poison_at_refs = 2 };
	struct flz_mixer *m = new_mixer(&r);
	const uint32_t ramp = 240;
	float *out = floats(2000);
	double peak;

	/* Replace: the voice keeps the old load alive until its fade ends. */
	struct flz_sample *a = dc_sample(100, 0.5f);
	flz_sample_ref(a); /* the test's own */
	load(m, 0, a);
	play(m, 0, 1.0f);
	render(m, out, 500, 128);
	load(m, 0, dc_sample(100, 0.25f));
	render(m, out, 1000, 128);
	ck_assert_int_eq(r.n_retired, 0);
	ck_assert_float_eq(out[999 * CH], 0.5f); /* still a */
	ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 1), 1);
	uint32_t n = render_until_retired(m, &r, 1, 4 * ramp);
	ck_assert_int_eq(r.n_retired, 1);
	/* Not before the fade was rendered (it ends ramp source frames after
	 * the stop, the look-ahead of 32 being rendered ahead). */
	ck_assert_uint_ge(n, ramp - 32 - 1);
	ck_assert_ptr_eq(r.retired[0], a);
	ck_assert_int_eq(r.refs_at_retire[0], 2);
	ck_assert_int_eq(atomic_load(&a->refcount), 1);
	render(m, out, 2000, 128);
	ck_assert(!any_nan(out, 2000, &peak));
	ck_assert_double_eq(peak, 0.0); /* the voice is gone, nothing else plays */
	ck_assert_int_eq(r.n_retired, 1); /* the new sample stays in slot 0 */

	/* Unload while two voices play it: one retire, after both have gone. */
	struct flz_sample *c = noise_sample(1000, 7, 0.3);
	flz_sample_ref(c);
	load(m, 3, c);
	play(m, 3, 0.5f);
	render(m, out, 77, 77);
	play(m, 3, 0.5f);
	render(m, out, 50, 50);
	ck_assert_int_eq(flz_mixer_unload(m, 3, 2), 2);
	ck_assert_int_eq(r.n_retired, 1);
	n = render_until_retired(m, &r, 2, 4 * ramp);
	ck_assert_int_eq(r.n_retired, 2);
	ck_assert_uint_ge(n, ramp - 32 - 1);
	ck_assert_ptr_eq(r.retired[1], c);
	ck_assert_int_eq(r.refs_at_retire[1], 2);
	render(m, out, 2000, 128);
	ck_assert(!any_nan(out, 2000, &peak));
	ck_assert_double_eq(peak, 0.0);

	/* One sample in two slots (two loads), both playing: unload one, then
	 * the other, and stop everything while the second fades. Each load
	 * comes back once, after its voice: the first while slot 6 still holds
	 * the sample (test + slot 6 + the retired one = 3 references, so not
	 * poisoned), the second after its fade (the stop finds nothing to stop
	 * and changes nothing). */
	struct flz_sample *e = noise_sample(700, 8, 0.3);
	flz_sample_ref(e);
	flz_sample_ref(e);
	load(m, 5, e);
	load(m, 6, e);
	play(m, 5, 0.5f);
	play(m, 6, 0.5f);
	render(m, out, 300, 128);
	ck_assert_int_eq(flz_mixer_unload(m, 5, 3), 1);
	n = render_until_retired(m, &r, 3, 4 * ramp);
	ck_assert_int_eq(r.n_retired, 3);
	ck_assert_uint_ge(n, ramp - 32 - 1);
	ck_assert_ptr_eq(r.retired[2], e);
	ck_assert_int_eq(r.refs_at_retire[2], 3);
	render(m, out, 1000, 128);
	ck_assert_int_eq(r.n_retired, 3);
	ck_assert(!any_nan(out, 1000, &peak));
	ck_assert_double_gt(peak, 0.0); /* slot 6 still sounds */
	ck_assert_int_eq(flz_mixer_unload(m, 6, 4), 1);
	render(m, out, 10, 10);
	ck_assert_int_eq(flz_mixer_stop_all(m, 5), 0);
	ck_assert_int_eq(flz_mixer_stop_slot(m, 6, 6), 0);
	ck_assert_int_eq(r.n_retired, 3);
	n = render_until_retired(m, &r, 4, 4 * ramp);
	ck_assert_int_eq(r.n_retired, 4);
	ck_assert_uint_ge(n, ramp - 32 - 1 - 10);
	ck_assert_ptr_eq(r.retired[3], e);
	ck_assert_int_eq(r.refs_at_retire[3], 2);
	ck_assert_int_eq(atomic_load(&e->refcount), 1);
	render(m, out, 1000, 128);
	ck_assert(!any_nan(out, 1000, &peak));
	ck_assert_double_eq(peak, 0.0);

	/* Steal: every voice plays s, its slot is replaced, and new voices
	 * steal (and, beyond the fade slots, cut) all of them. */
	struct flz_sample *st = dc_sample(64, 0.01f);
	flz_sample_ref(st);
	load(m, 10, st);
	for (int i = 0; i < FLZ_MAX_VOICES; i++)
		play(m, 10, 1.0f);
	render(m, out, 100, 100);
	load(m, 10, dc_sample(64, 0.02f));
	int before = r.n_retired;
	for (int i = 0; i < FLZ_MAX_VOICES + 1; i++)
		play(m, 10, 1.0f);
	ck_assert_int_eq(r.n_retired, before);
	n = render_until_retired(m, &r, before + 1, 4 * ramp);
	ck_assert_int_eq(r.n_retired, before + 1);
	ck_assert_ptr_eq(r.retired[before], st);
	ck_assert_int_eq(r.refs_at_retire[before], 2);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), FLZ_MAX_VOICES);
	render(m, out, 1000, 128);
	ck_assert(!any_nan(out, 1000, &peak));
	/* Only the 32 new voices at 0.02 remain. */
	ck_assert_msg(fabs(out[999 * CH] - 32 * 0.02) <= 1e-5, "%g", out[999 * CH]);
	ck_assert_int_eq(r.n_retired, before + 1);

	/* Destroy drops what it holds without retire; the test's references stay. */
	flz_mixer_destroy(m);
	ck_assert_int_eq(r.n_retired, before + 1);
	ck_assert_int_eq(atomic_load(&a->refcount), 1);
	ck_assert_int_eq(atomic_load(&c->refcount), 1);
	ck_assert_int_eq(atomic_load(&e->refcount), 1);
	ck_assert_int_eq(atomic_load(&st->refcount), 1);
	flz_sample_unref(a);
	flz_sample_unref(c);
	flz_sample_unref(e);
	flz_sample_unref(st);
	free(out);
}
END_TEST

TCase *mixer_case_retire(void)
{
	return mixer_tcase("mixer:retire", test_retire);
}

TCase *mixer_case_retire_shared(void)
{
	return mixer_tcase("mixer:retire-shared", test_retire_shared);
}
