/* SPDX-License-Identifier: MIT */
/*
 * mixer:keylock, mixer:keylock-pool, mixer:keylock-args: the per-voice
 * source interface that key lock plugs into (struct flz_mixer_source_ops),
 * with a test source that copies what it reads at rate 1. So a key-locked
 * voice's output must be its material at rate 1, frame for frame, whatever
 * the speed: that shows the reader (position, loop wraps, pre-roll) and
 * the pool, independently of any stretcher (tests/stretch and the engine's
 * tests cover Rubber Band's pitch and start).
 */
#include "mixer-tests.h"

#define PREROLL 5

/* A copying source with a start delay of its own: after start() it reads
 * and discards the pre-roll, then copies its input. */
struct copy_src {
	int starts;
	double start_rate;
	double rate;
	int rate_calls;
	bool primed;
	/* Whether every pre-roll frame read was silence. */
	bool preroll_silent;
	float buf[PREROLL * CH];
};

static int64_t copy_start(void *state, double rate)
{
	struct copy_src *s = state;
	s->starts++;
	s->start_rate = s->rate = rate;
	s->primed = false;
	return PREROLL;
}

static int copy_set_rate(void *state, double rate)
{
	struct copy_src *s = state;
	s->rate = rate;
	s->rate_calls++;
	return 0;
}

static int copy_render(void *state, flz_mixer_read_fn read, void *ctx, float *out,
		       uint32_t n_frames)
{
	struct copy_src *s = state;
	if (!s->primed) {
		ck_assert_uint_eq(read(ctx, s->buf, PREROLL), PREROLL);
		s->preroll_silent = true;
		for (int i = 0; i < PREROLL * CH; i++)
			s->preroll_silent = s->preroll_silent && s->buf[i] == 0.0f;
		s->primed = true;
	}
	ck_assert_uint_eq(read(ctx, out, n_frames), n_frames);
	return 0;
}

static const struct flz_mixer_source_ops copy_ops = {
	.start = copy_start,
	.set_rate = copy_set_rate,
	.render = copy_render,
	.name = "copy",
};

static struct flz_mixer *keylock_mixer(struct rec *r, struct copy_src *srcs, uint32_t n,
				       double speed)
{
	static void *states[FLZ_MIXER_MAX_SOURCES];
	memset(srcs, 0, n * sizeof(*srcs));
	for (uint32_t i = 0; i < n; i++)
		states[i] = &srcs[i];
	struct flz_mixer_config c = mk_config(r);
	c.speed = speed;
	c.source_ops = &copy_ops;
	c.n_sources = n;
	c.source_states = states;
	return new_mixer_cfg(&c);
}

/* Frame j of the output equals the pattern's frame (j mod n) exactly. */
static void assert_looped(const float *out, uint32_t n_out, const struct flz_sample *s)
{
	for (uint32_t j = 0; j < n_out; j++)
		for (uint32_t c = 0; c < CH; c++)
			ck_assert_msg(out[j * CH + c] == s->data[(j % s->n_frames) * CH + c],
				      "frame %u ch %u: %g, want %g", j, c, out[j * CH + c],
				      s->data[(j % s->n_frames) * CH + c]);
}

/* ---- mixer:keylock ---- */

/* At speed 1.25 a key-locked voice plays its material at rate 1 (through
 * the source) from its first frame on, across loop wraps and any blocks;
 * the source got the voice's rate; the pre-roll it read was silence. */
START_TEST(test_keylock)
{
	struct rec r = { 0 };
	struct copy_src srcs[2];
	struct flz_mixer *m = keylock_mixer(&r, srcs, 2, 1.25);
	struct flz_sample *s = pattern_sample(300);
	load(m, 0, s);
	flz_mixer_set_key_lock(m, true);
	play(m, 0, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);
	const uint32_t n = 1000;
	float *out = floats(n);
	/* Blocks of 128 then odd sizes: the reader's chunks land anywhere. */
	render(m, out, 512, 128);
	render(m, out + 512 * CH, n - 512, 37);
	assert_looped(out, n, s);
	ck_assert_int_eq(srcs[0].starts + srcs[1].starts, 1);
	struct copy_src *used = srcs[0].starts ? &srcs[0] : &srcs[1];
	ck_assert(used->preroll_silent);
	ck_assert_double_eq(used->start_rate, 1.25);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 0);

	/* The pad speed moves the source's rate (the block's last frame's:
	 * global x pad, 1.25 x 1.5 on the 32.32 grid) after its glide. */
	ck_assert_int_eq(flz_mixer_set_pad_speed(m, 0, 1.5), 0);
	render(m, out, n, 128);
	ck_assert_double_eq_tol(used->rate, 1.875, 1e-9);
	ck_assert_int_gt(used->rate_calls, 0);

	/* The pad's own setting overrides the global one: off here, so a new
	 * voice of pad 0 does not take a source. */
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, 0, 0), 0);
	play(m, 0, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);
	ck_assert_int_eq(srcs[0].starts + srcs[1].starts, 1);
	/* And on with the global setting off. */
	flz_mixer_set_key_lock(m, false);
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, 0, 1), 0);
	play(m, 0, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 2);
	/* Following the global setting (off): none. */
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, 0, -1), 0);
	play(m, 0, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 2);

	/* A voice that ends gives its source back. */
	(void)flz_mixer_stop_all(m, 1);
	render(m, out, 1000, 128);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 0);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 0);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

TCase *mixer_case_keylock(void)
{
	return mixer_tcase("mixer:keylock", test_keylock);
}

/* ---- mixer:keylock-pool ---- */

/* Two sources: the third key-locked start plays through the interpolator
 * and is counted; a source given back serves the next start. */
START_TEST(test_keylock_pool)
{
	struct rec r = { 0 };
	struct copy_src srcs[2];
	struct flz_mixer *m = keylock_mixer(&r, srcs, 2, 1.0);
	struct flz_sample *s = pattern_sample(300);
	load(m, 0, s);
	load(m, 1, pattern_sample(300));
	load(m, 2, pattern_sample(300));
	flz_mixer_set_key_lock(m, true);
	play(m, 0, 1.0f);
	play(m, 1, 1.0f);
	play(m, 2, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 2);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 1);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 3);
	/* All three play their material (the refused one unlocked, at rate 1):
	 * three equal patterns sum to three times one, exactly (x + x + x in
	 * floats is 3x rounded once; compare within 1 ulp of that). */
	float *out = floats(600);
	render(m, out, 600, 128);
	for (uint32_t j = 0; j < 600; j++)
		ck_assert_float_eq_tol(out[j * CH], 3.0f * s->data[(j % 300) * CH], 1e-6f);

	ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 1), 1);
	render(m, out, 600, 128);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);
	play(m, 0, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 2);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 1);

	/* A tempo-locked voice takes a source too (its servo keeps it on the
	 * lock's position: mixer:keylock-servo). */
	(void)flz_mixer_stop_all(m, 2);
	render(m, out, 600, 128);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 0);
	struct flz_mixer_trigger t = { .slot = 0, .gain = 1.0f, .lock_num = 5, .lock_den = 4 };
	ck_assert_int_eq(flz_mixer_trigger(m, &t), 1);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);
	ck_assert_double_eq_tol(srcs[0].start_rate + srcs[1].start_rate, 1.25 + 1.0, 1e-9);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 1);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

TCase *mixer_case_keylock_pool(void)
{
	return mixer_tcase("mixer:keylock-pool", test_keylock_pool);
}

/* ---- mixer:keylock-args ---- */

/* A mixer without a source counts every key-locked start; bad arguments
 * and incomplete configurations are refused. */
START_TEST(test_keylock_args)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	load(m, 0, pattern_sample(300));
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, -1, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, FLZ_NUM_SAMPLES, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, 0, 2), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, 0, -2), -EINVAL);
	play(m, 0, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 0);
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, 0, 1), 0);
	play(m, 0, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 1);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 0);
	flz_mixer_destroy(m);

	struct copy_src src;
	void *states[FLZ_MIXER_MAX_SOURCES + 1] = { &src };
	struct flz_mixer *bad = NULL;
	struct flz_mixer_config c = mk_config(&r);
	c.n_sources = 1; /* without ops */
	c.source_states = states;
	ck_assert_int_eq(flz_mixer_new(&c, &bad), -EINVAL);
	c.source_ops = &copy_ops;
	c.n_sources = FLZ_MIXER_MAX_SOURCES + 1;
	ck_assert_int_eq(flz_mixer_new(&c, &bad), -EINVAL);
	c.n_sources = 2; /* states[1] is NULL */
	ck_assert_int_eq(flz_mixer_new(&c, &bad), -EINVAL);
	struct flz_mixer_source_ops no_render = copy_ops;
	no_render.render = NULL;
	c.source_ops = &no_render;
	c.n_sources = 1;
	ck_assert_int_eq(flz_mixer_new(&c, &bad), -EINVAL);
	ck_assert_ptr_null(bad);
}
END_TEST

/* ---- mixer:keylock-relock ---- */

/* A key-locked voice whose pad is tempo-locked while it plays (5/4) keeps
 * its source: the source's rate becomes the ratio, the output stays the
 * material at rate 1 frame for frame (nothing crossfades an interpolated
 * read into it), through a relock (a glide and catch-up that would shift
 * an unlocked voice) and the unlock. */
START_TEST(test_keylock_relock)
{
	struct rec r = { 0 };
	struct copy_src srcs[1];
	struct flz_mixer *m = keylock_mixer(&r, srcs, 1, 1.0);
	struct flz_sample *s = pattern_sample(300);
	load(m, 0, s);
	flz_mixer_set_key_lock(m, true);
	play(m, 0, 1.0f);
	/* Each phase outlasts the lock's 20 ms glide and its catch-up (4
	 * glides at least, see lock-rt.c), whose rates the source follows;
	 * all of it lies inside the servo's settle time (no trim yet). */
	const uint32_t n = 3 * 6000 + 100;
	float *out = floats(n);
	render(m, out, 100, 64);
	ck_assert_int_eq(flz_mixer_set_pad_lock(m, 0, 5, 4), 1);
	render(m, out + 100 * CH, 6000, 64);
	ck_assert_double_eq_tol(srcs[0].rate, 1.25, 1e-9);
	ck_assert_int_eq(flz_mixer_set_pad_lock(m, 0, 3, 2), 1);
	render(m, out + 6100 * CH, 6000, 128);
	ck_assert_double_eq_tol(srcs[0].rate, 1.5, 1e-9);
	ck_assert_int_eq(flz_mixer_set_pad_lock(m, 0, 0, 0), 1);
	render(m, out + 12100 * CH, 6000, 100);
	ck_assert_double_eq_tol(srcs[0].rate, 1.0, 1e-9);
	assert_looped(out, n, s);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);

	/* Paused while locked, it coasts as an unlocked locked voice does:
	 * mixer:keylock-coast. */
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

TCase *mixer_case_keylock_relock(void)
{
	return mixer_tcase("mixer:keylock-relock", test_keylock_relock);
}

TCase *mixer_case_keylock_args(void)
{
	return mixer_tcase("mixer:keylock-args", test_keylock_args);
}
