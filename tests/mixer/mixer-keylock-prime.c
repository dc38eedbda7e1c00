/* SPDX-License-Identifier: MIT */
/*
 * mixer:keylock-prime, mixer:keylock-burst, mixer:keylock-cancel: priming
 * within a budget (config.prime_budget_frames, the source's prime_step(),
 * flz_mixer_prepare()), with standbys off (config.standby_off);
 * mixer:keylock-resume: a resume primes within the budget too;
 * mixer:keylock-standby: the standbys. The test source looks ahead as a stretcher does: it
 * reads a pre-roll it discards and LA_AHEAD frames beyond before its first
 * output, in reads of LA_READ frames, and then copies its input LA_AHEAD
 * frames late. So its output is the material at rate 1 from the voice's
 * first frame, and every priming read can be counted against the budget.
 */
#include <math.h>

#include "mixer-tests.h"
#include "mixer-internal.h"

#define LA_PRE 300
#define LA_AHEAD 700
#define LA_READ 100
#define LA_PRIME (LA_PRE + LA_AHEAD)
#define BLOCK 128
#define BUDGET 256

struct la_src {
	int starts;
	uint32_t pre_left;
	/* Frames in fifo: the lookahead read but not yet rendered. */
	uint32_t ahead;
	bool primed;
	/* Its next priming step fails (-EIO), as a stretcher's might. */
	bool fail_prime;
	float fifo[(LA_AHEAD + BLOCK) * CH];
	float scratch[LA_READ * CH];
};

static int64_t la_start(void *state, double rate)
{
	struct la_src *s = state;
	(void)rate;
	s->starts++;
	s->pre_left = LA_PRE;
	s->ahead = 0;
	s->primed = false;
	return LA_PRE;
}

static int la_set_rate(void *state, double rate)
{
	(void)state;
	(void)rate;
	return 0;
}

/* Reads of LA_READ frames while they fit in max_read_frames. */
static int la_prime_step(void *state, flz_mixer_read_fn read, void *ctx, uint32_t max_read_frames)
{
	struct la_src *s = state;
	if (s->fail_prime)
		return -EIO;
	uint32_t done = 0;
	while (!s->primed && done + LA_READ <= max_read_frames) {
		float *dst = s->pre_left > 0 ? s->scratch : s->fifo + (size_t)s->ahead * CH;
		ck_assert_uint_eq(read(ctx, dst, LA_READ), LA_READ);
		if (s->pre_left > 0)
			s->pre_left -= LA_READ;
		else
			s->ahead += LA_READ;
		done += LA_READ;
		s->primed = s->pre_left == 0 && s->ahead == LA_AHEAD;
	}
	return s->primed ? 1 : 0;
}

static int la_render(void *state, flz_mixer_read_fn read, void *ctx, float *out, uint32_t n_frames)
{
	struct la_src *s = state;
	if (!s->primed)
		(void)la_prime_step(state, read, ctx, UINT32_MAX); /* all at once */
	ck_assert_uint_le(n_frames, BLOCK);
	ck_assert_uint_eq(read(ctx, s->fifo + (size_t)s->ahead * CH, n_frames), n_frames);
	memcpy(out, s->fifo, (size_t)n_frames * CH * sizeof(float));
	memmove(s->fifo, s->fifo + (size_t)n_frames * CH, (size_t)LA_AHEAD * CH * sizeof(float));
	return 0;
}

/* With prime_step: budgeted. */
static const struct flz_mixer_source_ops la_ops = {
	.start = la_start,
	.set_rate = la_set_rate,
	.render = la_render,
	.prime_step = la_prime_step,
	.name = "lookahead",
};

/* Without: the same source primes at once in its first render. */
static const struct flz_mixer_source_ops la_ops_at_once = {
	.start = la_start,
	.set_rate = la_set_rate,
	.render = la_render,
	.name = "lookahead-at-once",
};

static struct la_src la_pool[2][FLZ_MIXER_MAX_SOURCES];

static struct flz_mixer *la_mixer_cfg(struct rec *r, int which,
				      const struct flz_mixer_source_ops *ops, uint32_t n,
				      uint32_t budget, bool standby)
{
	static void *states[2][FLZ_MIXER_MAX_SOURCES];
	memset(la_pool[which], 0, sizeof(la_pool[which]));
	for (uint32_t i = 0; i < n; i++)
		states[which][i] = &la_pool[which][i];
	struct flz_mixer_config c = mk_config(r);
	c.max_block_frames = BLOCK;
	c.source_ops = ops;
	c.n_sources = n;
	c.source_states = states[which];
	c.prime_budget_frames = budget;
	c.standby_off = !standby;
	struct flz_mixer *m = new_mixer_cfg(&c);
	flz_mixer_set_key_lock(m, true);
	return m;
}

/* Standbys off: the budget's own cases. */
static struct flz_mixer *la_mixer(struct rec *r, int which, const struct flz_mixer_source_ops *ops,
				  uint32_t n, uint32_t budget)
{
	return la_mixer_cfg(r, which, ops, n, budget, false);
}

/* Render @p n_frames in pieces that end on multiples of BLOCK (the
 * mixer's periods), checking that no period primes more than @p budget
 * input frames; *period_prime accumulates the current period's reads. */
static void render_budgeted(struct flz_mixer *m, float *out, uint32_t n_frames, uint32_t budget,
			    uint64_t *period_prime)
{
	while (n_frames > 0) {
		const int64_t at = flz_mixer_frame(m);
		uint32_t k = BLOCK - (uint32_t)(at % BLOCK);
		if (k > n_frames)
			k = n_frames;
		if (at % BLOCK == 0)
			*period_prime = 0;
		const uint64_t before = flz_mixer_key_lock_prime_frames(m);
		ck_assert_int_eq(flz_mixer_render(m, out, k), 0);
		*period_prime += flz_mixer_key_lock_prime_frames(m) - before;
		ck_assert_msg(*period_prime <= budget, "period at %lld primed %llu > %u",
			      (long long)at, (unsigned long long)*period_prime, budget);
		out += (size_t)k * CH;
		n_frames -= k;
	}
}

/* ---- mixer:keylock-prime ---- */

/*
 * A start due at frame 1300 (inside a period, as an engine splits its
 * block there), prepared at frame 0 and primed BUDGET frames a period at
 * most: it sounds from frame 1300 exactly, the same output bit for bit as
 * the same source primed at once by a voice triggered at 1300 (the test
 * source is exact; a stretcher's output differs only if its steps do,
 * and stretch:prime-step shows they do not). Its STARTED event says 1300,
 * nothing is deferred. Then a start due too soon (frame 1500 + 128, with
 * 1000 frames to prime at 256 a period) is deferred by whole periods: it
 * sounds from the period after its priming ends, from its first frame,
 * and the event and the statistics say so.
 */
START_TEST(test_keylock_prime)
{
	struct rec ra = { 0 }, rb = { 0 };
	struct flz_mixer *a = la_mixer(&ra, 0, &la_ops, 2, BUDGET);
	struct flz_mixer *b = la_mixer(&rb, 1, &la_ops_at_once, 2, BUDGET);
	struct flz_sample *s = pattern_sample(3000);
	flz_sample_ref(s);
	load(a, 0, s);
	load(b, 0, s);
	const uint32_t due = 1300, n = 3000;
	float *xa = floats(n), *xb = floats(n);
	uint64_t pp = 0;

	ck_assert_int_eq(flz_mixer_prepare(a, 0, 7, due), 1);
	ck_assert_uint_eq(flz_mixer_key_lock_prepared(a), 1);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(a), 0);
	render_budgeted(a, xa, due, BUDGET, &pp);
	render(b, xb, due, BLOCK);
	/* 1000 frames at 256 a period (reads of 100: 200 fit) in 5 periods. */
	ck_assert_uint_eq(flz_mixer_key_lock_prime_frames(a), LA_PRIME);
	struct flz_mixer_trigger t = { .slot = 0, .gain = 1.0f, .token = 7, .prepared = true };
	ck_assert_int_eq(flz_mixer_trigger(a, &t), 1);
	t.prepared = false;
	ck_assert_int_eq(flz_mixer_trigger(b, &t), 1);
	ck_assert_uint_eq(flz_mixer_key_lock_prepared(a), 0);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(a), 1);
	render_budgeted(a, xa + (size_t)due * CH, n - due, BUDGET, &pp);
	render(b, xb + (size_t)due * CH, n - due, BLOCK);
	ck_assert_int_eq(la_pool[0][0].starts + la_pool[0][1].starts, 1);
	for (uint32_t j = 0; j < n; j++)
		for (uint32_t c = 0; c < CH; c++) {
			const float want = j < due ? 0.0f : s->data[(j - due) * CH + c];
			ck_assert_msg(xa[j * CH + c] == want && xb[j * CH + c] == want,
				      "frame %u ch %u: %g / %g, want %g", j, c, xa[j * CH + c],
				      xb[j * CH + c], want);
		}
	ck_assert_int_eq(ra.n_started, 1);
	ck_assert_int_eq(rb.n_started, 1);
	ck_assert_int_eq(ra.started[0].frame, due);
	ck_assert_int_eq(rb.started[0].frame, due);
	ck_assert_uint_eq(ra.started[0].token, 7);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred(a), 0);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred_frames(a), 0);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(a), 0);

	/* Due too soon. The first voice stopped and silent (its 5 ms fade
	 * over), from 72 frames into period p0: prepared for 128 frames
	 * later, it primes 200 frames in p0 and 200 in p0 + 1 before its
	 * trigger (which leaves 56 of that period: no read fits), then 200 a
	 * period: primed in p0 + 4, and sounds from that period's start. */
	ck_assert_int_eq(flz_mixer_stop_all(a, 1), 1);
	render_budgeted(a, xa, 4 * BLOCK - (uint32_t)(flz_mixer_frame(a) % BLOCK), BUDGET, &pp);
	const int64_t p0 = flz_mixer_frame(a);
	ck_assert_int_eq(p0 % BLOCK, 0);
	render_budgeted(a, xa, 72, BUDGET, &pp);
	ck_assert_int_eq(flz_mixer_prepare(a, 0, 8, p0 + 200), 1);
	render_budgeted(a, xa, 128, BUDGET, &pp);
	t.token = 8;
	t.prepared = true;
	ck_assert_int_eq(flz_mixer_trigger(a, &t), 1);
	const int64_t trig = flz_mixer_frame(a);
	ck_assert_int_eq(trig, p0 + 200);
	render_budgeted(a, xa, n, BUDGET, &pp);
	const int64_t first = p0 + 4 * BLOCK;
	ck_assert_int_eq(ra.n_started, 2);
	ck_assert_int_eq(ra.started[1].frame, first);
	ck_assert_uint_eq(ra.started[1].token, 8);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred(a), 1);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred_frames(a), (uint64_t)(first - trig));
	ck_assert_uint_eq(flz_mixer_key_lock_prime_frames(a), 2 * LA_PRIME);
	for (int64_t j = 0; j < (int64_t)n; j++) {
		const int64_t f = trig + j;
		for (uint32_t c = 0; c < CH; c++) {
			const float want = f < first ? 0.0f : s->data[(f - first) * CH + c];
			ck_assert_msg(xa[j * CH + c] == want, "deferred: frame %lld ch %u: %g, want %g",
				      (long long)f, c, xa[j * CH + c], want);
		}
	}
	free(xa);
	free(xb);
	flz_mixer_destroy(a);
	flz_mixer_destroy(b);
}
END_TEST

TCase *mixer_case_keylock_prime(void)
{
	return mixer_tcase("mixer:keylock-prime", test_keylock_prime);
}

/* ---- mixer:keylock-burst ---- */

/*
 * _i voices (8, 32) key-locked and triggered at once, each pad a DC level
 * of its own ((slot + 1) / 64: every sum is exact), with a budget of 1000
 * frames a period (each start needs 1000): no period primes more, every
 * voice sounds, in start order one a period, and the output is exactly the
 * sum of each voice's level from the frame its STARTED event reports: the
 * events are honest to the frame. The deferral statistics add up.
 */
START_TEST(test_keylock_burst)
{
	const uint32_t nv = (uint32_t)_i;
	const uint32_t budget = LA_PRIME;
	struct rec r = { 0 };
	struct flz_mixer *m = la_mixer(&r, 0, &la_ops, nv, budget);
	for (uint32_t v = 0; v < nv; v++)
		load(m, (int32_t)v, dc_sample(64, (float)(v + 1) / 64.0f));
	/* Mid-period, as in an engine block split by a scheduled start. */
	float *out = floats((size_t)(nv + 2) * BLOCK);
	ck_assert_int_eq(flz_mixer_render(m, out, 50), 0);
	const int64_t trig = flz_mixer_frame(m);
	for (uint32_t v = 0; v < nv; v++)
		play(m, (int32_t)v, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), nv);
	const uint32_t n = (nv + 2) * BLOCK;
	uint64_t pp = 0;
	render_budgeted(m, out, n, budget, &pp);
	ck_assert_uint_eq(flz_mixer_key_lock_prime_frames(m), (uint64_t)nv * LA_PRIME);
	ck_assert_int_eq(r.n_started, (int)nv);
	uint64_t late = 0, late_frames = 0;
	for (uint32_t v = 0; v < nv; v++) {
		ck_assert_int_eq(r.started[v].slot, (int)v);
		ck_assert_int_ge(r.started[v].frame, trig);
		if (v > 0)
			ck_assert_int_gt(r.started[v].frame, r.started[v - 1].frame);
		if (r.started[v].frame > trig) {
			late++;
			late_frames += (uint64_t)(r.started[v].frame - trig);
		}
	}
	/* One start a period (the budget holds exactly one): the first in
	 * the rest of the trigger's period, each next from the next period's
	 * start. */
	for (uint32_t v = 1; v < nv; v++)
		ck_assert_int_eq(r.started[v].frame, (int64_t)v * BLOCK);
	ck_assert_int_eq(r.started[0].frame, trig);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred(m), late);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred_frames(m), late_frames);
	ck_assert_uint_eq(late, nv - 1);
	for (uint32_t j = 0; j < n; j++) {
		const int64_t f = trig + j;
		float want = 0.0f;
		for (uint32_t v = 0; v < nv; v++)
			if (f >= r.started[v].frame)
				want += (float)(v + 1) / 64.0f;
		for (uint32_t c = 0; c < CH; c++)
			ck_assert_msg(out[j * CH + c] == want, "frame %lld ch %u: %g, want %g",
				      (long long)f, c, out[j * CH + c], want);
	}
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 0);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

TCase *mixer_case_keylock_burst(void)
{
	TCase *tc = tcase_create("mixer:keylock-burst");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_keylock_burst, 8, 9);
	tcase_add_loop_test(tc, test_keylock_burst, FLZ_MIXER_MAX_SOURCES,
			    FLZ_MIXER_MAX_SOURCES + 1);
	return tc;
}

/* ---- mixer:keylock-cancel ---- */

/* Both states of a pool of 2 prepared, then given back by @p cancel; a
 * full pool then takes two key-locked voices, none refused. */
static void cancel_case(int how)
{
	struct rec r = { 0 };
	struct flz_mixer *m = la_mixer(&r, 0, &la_ops, 2, BUDGET);
	load(m, 0, pattern_sample(500));
	load(m, 1, pattern_sample(400));
	float *out = floats(BLOCK);
	ck_assert_int_eq(flz_mixer_prepare(m, 0, 1, 10000), 1);
	ck_assert_int_eq(flz_mixer_prepare(m, 1, 2, 10000), 1);
	/* The pool is held: a third preparation finds nothing free. */
	ck_assert_int_eq(flz_mixer_prepare(m, 0, 3, 10000), 0);
	ck_assert_uint_eq(flz_mixer_key_lock_prepared(m), 2);
	render(m, out, BLOCK, BLOCK);
	struct flz_mixer_trigger t = { .slot = 0, .gain = 1.0f, .token = 9, .exclusive = true };
	switch (how) {
	case 0:
		ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 5), 0);
		ck_assert_uint_eq(flz_mixer_key_lock_prepared(m), 1);
		ck_assert_int_eq(flz_mixer_stop_slot(m, 1, 6), 0);
		break;
	case 1:
		ck_assert_int_eq(flz_mixer_stop_all(m, 5), 0);
		break;
	case 2:
		ck_assert_int_eq(flz_mixer_unload(m, 0, 5), 0);
		ck_assert_uint_eq(flz_mixer_key_lock_prepared(m), 1);
		ck_assert_int_eq(flz_mixer_unload(m, 1, 6), 0);
		/* Both loads retired at once: no preparation kept them. */
		ck_assert_int_eq(r.n_retired, 2);
		load(m, 0, pattern_sample(500));
		load(m, 1, pattern_sample(400));
		break;
	case 3:
		/* An exclusive trigger stops what waits, too; its own voice
		 * then takes a state. */
		ck_assert_int_eq(flz_mixer_trigger(m, &t), 1);
		ck_assert_uint_eq(flz_mixer_key_lock_prepared(m), 0);
		ck_assert_int_eq(flz_mixer_stop_all(m, 6), 1);
		break;
	case 4: {
		/* Triggers that do not take their preparation give it back:
		 * one no longer key-locked, one tempo-locked. */
		ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, 0, 0), 0);
		struct flz_mixer_trigger u = { .slot = 0, .gain = 1.0f, .token = 1, .prepared = true };
		ck_assert_int_eq(flz_mixer_trigger(m, &u), 1);
		ck_assert_uint_eq(flz_mixer_key_lock_prepared(m), 1);
		struct flz_mixer_trigger l = { .slot = 1, .gain = 1.0f, .token = 2, .prepared = true,
					       .lock_num = 1, .lock_den = 1 };
		ck_assert_int_eq(flz_mixer_trigger(m, &l), 1);
		/* The tempo-locked voice took a fresh state, primed at once. */
		ck_assert_uint_eq(flz_mixer_key_lock_prepared(m), 0);
		ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);
		ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, 0, -1), 0);
		ck_assert_int_eq(flz_mixer_stop_all(m, 6), 2);
		break;
	}
	default: {
		/* A slot reloaded while its start waits: the trigger gives the
		 * stale preparation back and starts the source afresh. */
		load(m, 0, pattern_sample(300));
		struct flz_mixer_trigger u = { .slot = 0, .gain = 1.0f, .token = 1, .prepared = true };
		ck_assert_int_eq(r.n_retired, 0); /* the preparation holds it */
		ck_assert_int_eq(flz_mixer_trigger(m, &u), 1);
		ck_assert_int_eq(r.n_retired, 1);
		ck_assert_uint_eq(flz_mixer_key_lock_prepared(m), 1);
		ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);
		ck_assert_int_eq(la_pool[0][0].starts + la_pool[0][1].starts, 3);
		ck_assert_int_eq(flz_mixer_stop_all(m, 6), 1);
		break;
	}
	}
	ck_assert_uint_eq(flz_mixer_key_lock_prepared(m), 0);
	/* Long enough for a sounding voice's stop fade (5 ms) to end. */
	for (int b = 0; b < 8; b++)
		render(m, out, BLOCK, BLOCK);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 0);
	play(m, 0, 1.0f);
	play(m, 1, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 2);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 0);
	free(out);
	flz_mixer_destroy(m);
}

START_TEST(test_keylock_cancel)
{
	cancel_case(_i);
}
END_TEST

/* Bad input: -EINVAL, nothing taken. */
START_TEST(test_keylock_prepare_args)
{
	struct rec r = { 0 };
	struct flz_mixer *m = la_mixer(&r, 0, &la_ops, 1, BUDGET);
	ck_assert_int_eq(flz_mixer_prepare(m, -1, 1, 0), -EINVAL);
	ck_assert_int_eq(flz_mixer_prepare(m, FLZ_NUM_SAMPLES, 1, 0), -EINVAL);
	/* An empty slot, a pad not key-locked: nothing to prepare. */
	ck_assert_int_eq(flz_mixer_prepare(m, 0, 1, 0), 0);
	load(m, 0, pattern_sample(100));
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, 0, 0), 0);
	ck_assert_int_eq(flz_mixer_prepare(m, 0, 1, 0), 0);
	ck_assert_uint_eq(flz_mixer_key_lock_prepared(m), 0);
	ck_assert_int_eq(la_pool[0][0].starts, 0);
	/* The derived budget: 24 x max_block_frames, at least 2048. */
	ck_assert_uint_eq(flz_mixer_get_config(m).prime_budget_frames, BUDGET);
	flz_mixer_destroy(m);
	struct flz_mixer *d = la_mixer(&r, 0, &la_ops, 1, 0);
	ck_assert_uint_eq(flz_mixer_get_config(d).prime_budget_frames, 24 * BLOCK);
	flz_mixer_destroy(d);
}
END_TEST

TCase *mixer_case_keylock_cancel(void)
{
	TCase *tc = mixer_tcase("mixer:keylock-cancel", test_keylock_prepare_args);
	tcase_add_loop_test(tc, test_keylock_cancel, 0, 6);
	return tc;
}

/* ---- mixer:keylock-resume ---- */

/*
 * The resume of a paused key-locked, tempo-locked voice restarts its
 * source where the lock has coasted to (R) and primes it within the
 * budget like a start: from a period's start, 1000 frames at 200 a
 * period, so it stays silent for 4 periods (counted as deferred, no
 * STARTED event of its own) and then plays the looped material from R,
 * fading in over 240 frames, sample for sample. No period primes more
 * than the budget. (A resume whose source primed at once in its first
 * render, as before, sounded from the resume and fails this.) With key
 * lock turned off while it is paused, the resume starts no source and
 * plays unlocked from the coasted position at once. A resume whose
 * priming fails plays unlocked from there too, its state given back and
 * the refusal counted.
 */
START_TEST(test_keylock_resume)
{
	struct rec r = { 0 };
	struct flz_mixer *m = la_mixer(&r, 0, &la_ops, 1, BUDGET);
	struct flz_sample *s = pattern_sample(3000);
	load(m, 0, s);
	struct flz_mixer_trigger t = { .slot = 0, .gain = 1.0f, .token = 3, .lock_num = 1,
				       .lock_den = 1 };
	ck_assert_int_eq(flz_mixer_trigger(m, &t), 1);
	const uint32_t n = 3000;
	float *y = floats(n);
	uint64_t pp = 0;
	render_budgeted(m, y, 20 * BLOCK, BUDGET, &pp);
	ck_assert_int_eq(r.n_started, 1);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);
	ck_assert_int_eq(flz_mixer_pause_slot(m, 0), 1);
	render_budgeted(m, y, 10 * BLOCK, BUDGET, &pp);
	ck_assert_int_eq(flz_mixer_frame(m) % BLOCK, 0);

	const uint64_t deferred = flz_mixer_key_lock_deferred(m);
	const uint64_t deferred_frames = flz_mixer_key_lock_deferred_frames(m);
	const uint64_t primed = flz_mixer_key_lock_prime_frames(m);
	const int64_t at = flz_mixer_frame(m);
	const int64_t resume_pos = m->voices[m->active[0]].aud.pos_frames;
	ck_assert_int_eq(flz_mixer_resume_slot(m, 0), 1);
	ck_assert_int_eq(la_pool[0][0].starts, 2);
	render_budgeted(m, y, n, BUDGET, &pp);
	const int64_t first = at + 4 * BLOCK;
	ck_assert_uint_eq(flz_mixer_key_lock_prime_frames(m), primed + LA_PRIME);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred(m), deferred + 1);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred_frames(m),
			  deferred_frames + (uint64_t)(first - at));
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 0);
	ck_assert_int_eq(r.n_started, 1);
	for (int64_t j = 0; j < (int64_t)n; j++) {
		const int64_t f = at + j;
		for (uint32_t c = 0; c < CH; c++) {
			const int64_t pos = resume_pos + f - first;
			const float want = f < first ? 0.0f : looped(s, pos, c);
			const float got = y[j * CH + c];
			if (f >= first && f < first + 240) {
				/* The fade in: from (near) silence, never above the
				 * material. */
				ck_assert_msg(fabsf(got) <= fabsf(want) * (f == first ? 0.01f : 1.0f),
					      "resume fade: frame %lld ch %u: %g, material %g",
					      (long long)f, c, got, want);
				continue;
			}
			ck_assert_msg(got == want, "resume: frame %lld ch %u: %g, want %g",
				      (long long)f, c, got, want);
		}
	}

	/* Paused again, and key lock turned off meanwhile: the resume
	 * restarts and primes nothing; the voice plays unlocked from where
	 * its lock coasted to, at once. */
	ck_assert_int_eq(flz_mixer_pause_slot(m, 0), 1);
	render_budgeted(m, y, 10 * BLOCK, BUDGET, &pp);
	flz_mixer_set_key_lock(m, false);
	const int64_t at2 = flz_mixer_frame(m);
	const int64_t resume_pos2 = m->voices[m->active[0]].aud.pos_frames;
	ck_assert_int_eq(flz_mixer_resume_slot(m, 0), 1);
	render_budgeted(m, y, n, BUDGET, &pp);
	ck_assert_int_eq(la_pool[0][0].starts, 2);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 0);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred(m), deferred + 1);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 0);
	for (int64_t j = 240; j < (int64_t)n; j++)
		for (uint32_t c = 0; c < CH; c++)
			ck_assert_msg(y[j * CH + c] == looped(s, resume_pos2 + j, c),
				      "unlocked resume: frame %lld ch %u", (long long)(at2 + j), c);

	/* Key lock on again (the voice switches back), paused, and the
	 * resume's priming fails: the voice gives its state back and plays
	 * unlocked from where its lock coasted to, from the resume's block
	 * (the failure came at its first step: not late), refused once. */
	flz_mixer_set_key_lock(m, true);
	render_budgeted(m, y, 20 * BLOCK, BUDGET, &pp);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);
	ck_assert_int_eq(flz_mixer_pause_slot(m, 0), 1);
	render_budgeted(m, y, 10 * BLOCK, BUDGET, &pp);
	const int starts3 = la_pool[0][0].starts;
	const uint64_t deferred3 = flz_mixer_key_lock_deferred(m);
	const int64_t at3 = flz_mixer_frame(m);
	const int64_t resume_pos3 = m->voices[m->active[0]].aud.pos_frames;
	la_pool[0][0].fail_prime = true;
	ck_assert_int_eq(flz_mixer_resume_slot(m, 0), 1);
	ck_assert_int_eq(la_pool[0][0].starts, starts3 + 1);
	render_budgeted(m, y, n, BUDGET, &pp);
	la_pool[0][0].fail_prime = false;
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 0);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 1);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred(m), deferred3);
	ck_assert_int_eq(r.n_started, 1);
	for (int64_t j = 0; j < (int64_t)n; j++)
		for (uint32_t c = 0; c < CH; c++) {
			const float want = looped(s, resume_pos3 + j, c), got = y[j * CH + c];
			if (j < 240)
				ck_assert_msg(fabsf(got) <= fabsf(want), "failed resume's fade: frame %lld",
					      (long long)(at3 + j));
			else
				ck_assert_msg(got == want, "failed resume: frame %lld ch %u: %g, want %g",
					      (long long)(at3 + j), c, got, want);
		}
	/* Its state is free again: a key-locked start takes it. */
	ck_assert_int_eq(flz_mixer_stop_all(m, 9), 1);
	render_budgeted(m, y, 4 * BLOCK, BUDGET, &pp);
	play(m, 0, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 1);
	free(y);
	flz_mixer_destroy(m);
}
END_TEST

TCase *mixer_case_keylock_resume(void)
{
	return mixer_tcase("mixer:keylock-resume", test_keylock_resume);
}

/* ---- mixer:keylock-standby ---- */

static void check_standby(const struct flz_mixer *m, uint32_t n, uint32_t n_primed)
{
	uint32_t primed = 99;
	ck_assert_uint_eq(flz_mixer_key_lock_standby(m, &primed), n);
	ck_assert_uint_eq(primed, n_primed);
}

/* Frames [from, from + n) of @p out equal @p s from its frame @p at on
 * (0 before @p at, which may be negative: the voice began before). */
static void check_plays(const float *out, int64_t from, uint32_t n, const struct flz_sample *s,
			int64_t at)
{
	for (uint32_t j = 0; j < n; j++) {
		const int64_t f = from + j;
		for (uint32_t c = 0; c < CH; c++) {
			const float want = f < at ? 0.0f : s->data[(size_t)(f - at) * CH + c];
			ck_assert_msg(out[j * CH + c] == want, "frame %lld ch %u: %g, want %g",
				      (long long)f, c, out[j * CH + c], want);
		}
	}
}

/* How many standbys @p slot has (the mixer's own list). */
static uint32_t standbys_of(const struct flz_mixer *m, int32_t slot)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->n_prepared; i++)
		n += m->prepared[i].standby && m->prepared[i].v.slot == slot;
	return n;
}

/*
 * A pool of 2 with a budget of 256 a period (200 read): the free states
 * become standbys of the key-locked pads 0 and 1 after the first render,
 * primed one after the other within the budget (5 periods each). An
 * immediate play mid-period then sounds from its trigger frame, bit for
 * bit its sample, nothing deferred or started again. A retrigger of the
 * same pad (no standby of its own, none free) takes the other pad's
 * standby and primes as without standbys: deferred, not refused. Stops
 * make the standbys again; a reload, a loop region, key lock off and an
 * unload give a standby back (its sample retired with it); a scheduled
 * start of the pad takes its standby as its preparation.
 */
START_TEST(test_keylock_standby)
{
	struct rec r = { 0 };
	struct flz_mixer *m = la_mixer_cfg(&r, 0, &la_ops, 2, BUDGET, true);
	struct flz_sample *s0 = pattern_sample(3000), *s1 = pattern_sample(2500);
	load(m, 0, s0);
	load(m, 1, s1);
	const uint32_t n = 14 * BLOCK;
	float *out = floats(n);
	uint64_t pp = 0;
	check_standby(m, 0, 0);
	render_budgeted(m, out, 12 * BLOCK, BUDGET, &pp);
	check_standby(m, 2, 2);
	ck_assert_uint_eq(flz_mixer_key_lock_prime_frames(m), 2 * LA_PRIME);
	ck_assert_uint_eq(flz_mixer_key_lock_prepared(m), 0);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 0);
	ck_assert_int_eq(la_pool[0][0].starts + la_pool[0][1].starts, 2);

	render_budgeted(m, out, 50, BUDGET, &pp);
	const int64_t trig = flz_mixer_frame(m);
	play(m, 1, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);
	check_standby(m, 1, 1);
	render_budgeted(m, out, n, BUDGET, &pp);
	check_plays(out, trig, n, s1, trig);
	ck_assert_int_eq(r.n_started, 1);
	ck_assert_int_eq(r.started[0].frame, trig);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred(m), 0);
	ck_assert_uint_eq(flz_mixer_key_lock_prime_frames(m), 2 * LA_PRIME);
	ck_assert_int_eq(la_pool[0][0].starts + la_pool[0][1].starts, 2);

	/* A retrigger: pad 0's standby goes to it, primed afresh, deferred. */
	play(m, 1, 1.0f);
	check_standby(m, 0, 0);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 2);
	/* The two standbys' priming only (those made since prime later). */
	ck_assert_uint_eq(flz_mixer_key_lock_prime_frames(m), 2 * LA_PRIME);
	render_budgeted(m, out, n, BUDGET, &pp);
	ck_assert_int_eq(r.n_started, 2);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred(m), 1);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 0);
	ck_assert_uint_eq(flz_mixer_key_lock_prime_frames(m), 3 * LA_PRIME);

	/* Stopped, faded: both states standbys again, pad 0's first. */
	ck_assert_int_eq(flz_mixer_stop_all(m, 3), 2);
	render_budgeted(m, out, n, BUDGET, &pp);
	render_budgeted(m, out, n, BUDGET, &pp);
	check_standby(m, 2, 2);

	/* A reload of pad 0: its standby and the old load go at the next
	 * render, a new standby comes after it. */
	struct flz_sample *s2 = pattern_sample(2000);
	const int retired = r.n_retired;
	load(m, 0, s2);
	render_budgeted(m, out, BLOCK, BUDGET, &pp);
	ck_assert_int_eq(r.n_retired, retired + 1);
	check_standby(m, 2, 1);
	render_budgeted(m, out, 6 * BLOCK, BUDGET, &pp);
	check_standby(m, 2, 2);
	/* Pad 1: a loop region, then key lock off, then on again. */
	ck_assert_int_eq(flz_mixer_set_loop_region(m, 1, 100, -1), 0);
	render_budgeted(m, out, 6 * BLOCK, BUDGET, &pp);
	check_standby(m, 2, 2);
	const int64_t trig2 = flz_mixer_frame(m);
	play(m, 1, 1.0f);
	render_budgeted(m, out, BLOCK, BUDGET, &pp);
	/* From the loop start, at once. */
	check_plays(out, trig2, BLOCK, s1, trig2 - 100);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred(m), 1);
	ck_assert_int_eq(flz_mixer_stop_all(m, 4), 1);
	render_budgeted(m, out, n, BUDGET, &pp);
	check_standby(m, 2, 2);
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, 1, 0), 0);
	render_budgeted(m, out, BLOCK, BUDGET, &pp);
	/* Pad 1's state free: pad 0's second standby (not primed yet). */
	check_standby(m, 2, 1);
	ck_assert_uint_eq(standbys_of(m, 0), 2);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 0);
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(m, 1, -1), 0);
	render_budgeted(m, out, 6 * BLOCK, BUDGET, &pp);
	/* Pad 1's first standby before pad 0's second: one each again. */
	check_standby(m, 2, 2);
	ck_assert_uint_eq(standbys_of(m, 0), 1);
	ck_assert_uint_eq(standbys_of(m, 1), 1);

	/* A scheduled start of pad 0 takes its standby, primed already. */
	const uint64_t starts = (uint64_t)(la_pool[0][0].starts + la_pool[0][1].starts);
	ck_assert_int_eq(flz_mixer_prepare(m, 0, 7, flz_mixer_frame(m) + 300), 1);
	ck_assert_uint_eq(flz_mixer_key_lock_prepared(m), 1);
	check_standby(m, 1, 1);
	ck_assert_uint_eq((uint64_t)(la_pool[0][0].starts + la_pool[0][1].starts), starts);
	ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 5), 0);
	ck_assert_uint_eq(flz_mixer_key_lock_prepared(m), 0);

	/* An unload gives its standby back at once, and the load with it. */
	render_budgeted(m, out, 6 * BLOCK, BUDGET, &pp);
	check_standby(m, 2, 2);
	const int retired2 = r.n_retired;
	ck_assert_int_eq(flz_mixer_unload(m, 1, 6), 0);
	check_standby(m, 1, 1);
	ck_assert_int_eq(r.n_retired, retired2 + 1);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 0);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

/*
 * Key lock turned on under four playing voices with a pool of 6: the
 * switches take a period's budget each and come one a period as without
 * standbys (no standby is made or primed while a voice waits to switch);
 * then the two states left become standbys of pads 0 and 1.
 */
START_TEST(test_keylock_standby_switch)
{
	struct rec r = { 0 };
	struct flz_mixer *m = la_mixer_cfg(&r, 0, &la_ops, 6, BUDGET, true);
	flz_mixer_set_key_lock(m, false);
	for (int32_t p = 0; p < 4; p++) {
		load(m, p, pattern_sample(3000));
		play(m, p, 0.25f);
	}
	float *y = floats(BLOCK);
	uint64_t pp = 0;
	render_budgeted(m, y, BLOCK, BUDGET, &pp);
	check_standby(m, 0, 0);
	flz_mixer_set_key_lock(m, true);
	for (uint32_t k = 1; k <= 4; k++) {
		render_budgeted(m, y, BLOCK, BUDGET, &pp);
		ck_assert_uint_eq(flz_mixer_key_locked_voices(m), k);
	}
	for (int b = 0; b < 12; b++)
		render_budgeted(m, y, BLOCK, BUDGET, &pp);
	check_standby(m, 2, 2);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 4);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 0);
	free(y);
	flz_mixer_destroy(m);
}
END_TEST

/*
 * A retrigger: with states free, a key-locked pad has two standbys, so a
 * second play of it right after the first (in the next block) sounds from its trigger frame too, taking
 * the second standby, nothing deferred or started afresh: the output is
 * the sum of the plays, bit for bit. Without the second standby it would
 * prime a fresh state first and sound periods late (deferred).
 */
START_TEST(test_keylock_standby_retrigger)
{
	struct rec r = { 0 };
	struct flz_mixer *m = la_mixer_cfg(&r, 0, &la_ops, 4, BUDGET, true);
	struct flz_sample *s0 = pattern_sample(3000);
	load(m, 0, s0);
	const uint32_t n = 4 * BLOCK;
	float *out = floats(12 * BLOCK);
	uint64_t pp = 0;
	render_budgeted(m, out, 12 * BLOCK, BUDGET, &pp);
	check_standby(m, 2, 2);
	ck_assert_uint_eq(standbys_of(m, 0), 2);
	render_budgeted(m, out, 50, BUDGET, &pp);
	const int64_t t1 = flz_mixer_frame(m);
	play(m, 0, 1.0f);
	render_budgeted(m, out, BLOCK - 50, BUDGET, &pp);
	check_plays(out, t1, BLOCK - 50, s0, t1);
	const int64_t t2 = flz_mixer_frame(m);
	play(m, 0, 1.0f);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 2);
	/* The two standbys' priming only (those made since prime later). */
	ck_assert_uint_eq(flz_mixer_key_lock_prime_frames(m), 2 * LA_PRIME);
	render_budgeted(m, out, n, BUDGET, &pp);
	for (uint32_t j = 0; j < n; j++) {
		const int64_t f = t2 + j;
		for (uint32_t c = 0; c < CH; c++) {
			const float want = s0->data[(size_t)(f - t1) * CH + c] +
					   s0->data[(size_t)(f - t2) * CH + c];
			ck_assert_msg(out[j * CH + c] == want, "frame %lld ch %u: %g, want %g",
				      (long long)f, c, out[j * CH + c], want);
		}
	}
	ck_assert_int_eq(r.n_started, 2);
	ck_assert_int_eq(r.started[0].frame, t1);
	ck_assert_int_eq(r.started[1].frame, t2);
	ck_assert_uint_eq(flz_mixer_key_lock_deferred(m), 0);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 0);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

TCase *mixer_case_keylock_standby(void)
{
	TCase *tc = mixer_tcase("mixer:keylock-standby", test_keylock_standby);
	tcase_add_test(tc, test_keylock_standby_switch);
	tcase_add_test(tc, test_keylock_standby_retrigger);
	return tc;
}
