/* SPDX-License-Identifier: MIT */
/*
 * mixer:keylock-switch, mixer:keylock-switch-pool, mixer:keylock-rate1,
 * mixer:keylock-servo, mixer:keylock-coast: key lock turned on and off
 * under playing voices (the equal-power switch between the source and the
 * interpolator), a key-locked voice through rate 1, the servo that keeps a
 * key-locked, tempo-locked voice on its lock's position, and its coast
 * through a pause. The sources here are test
 * sources whose output says what they read (a copy at rate 1) or whose
 * consumption is off by a known factor (a biased one), so every check is
 * exact or has a stated bound; Rubber Band's own behaviour under the same
 * code is tested in tests/python/test_key_lock.py.
 */
#include <math.h>

#include "mixer-tests.h"
/* For flz_mixer_voice_shift() and a voice's audible position. */
#include "mixer-internal.h"

#define SW_PREROLL 16
/* The switch: 10 ms at 48 kHz. */
#define SW_FRAMES 480

/* A source that copies its input (so its output is the material at rate 1
 * from where it was started), keeping the pre-roll it read. */
struct tap_src {
	int starts;
	double rate;
	double rate_min, rate_max;
	bool primed;
	float pre[SW_PREROLL * CH];
};

static int64_t tap_start(void *state, double rate)
{
	struct tap_src *s = state;
	s->starts++;
	s->rate = s->rate_min = s->rate_max = rate;
	s->primed = false;
	return SW_PREROLL;
}

static int tap_set_rate(void *state, double rate)
{
	struct tap_src *s = state;
	s->rate = rate;
	s->rate_min = rate < s->rate_min ? rate : s->rate_min;
	s->rate_max = rate > s->rate_max ? rate : s->rate_max;
	return 0;
}

static int tap_render(void *state, flz_mixer_read_fn read, void *ctx, float *out,
		      uint32_t n_frames)
{
	struct tap_src *s = state;
	if (!s->primed) {
		ck_assert_uint_eq(read(ctx, s->pre, SW_PREROLL), SW_PREROLL);
		s->primed = true;
	}
	ck_assert_uint_eq(read(ctx, out, n_frames), n_frames);
	return 0;
}

static const struct flz_mixer_source_ops tap_ops = {
	.start = tap_start,
	.set_rate = tap_set_rate,
	.render = tap_render,
	.name = "tap",
};

/* A mixer at @p speed with @p n tap sources (0: none, the reference). */
/* A config whose n sources are srcs (cleared), at global speed. */
static struct flz_mixer_config tap_config(struct rec *r, struct tap_src *srcs, uint32_t n,
					  double speed)
{
	static void *states[FLZ_MIXER_MAX_SOURCES];
	struct flz_mixer_config c = mk_config(r);
	c.speed = speed;
	if (n > 0) {
		memset(srcs, 0, n * sizeof(*srcs));
		for (uint32_t i = 0; i < n; i++)
			states[i] = &srcs[i];
		c.source_ops = &tap_ops;
		c.n_sources = n;
		c.source_states = states;
	}
	return c;
}

static struct flz_mixer *tap_mixer(struct rec *r, struct tap_src *srcs, uint32_t n, double speed)
{
	struct flz_mixer_config c = tap_config(r, srcs, n, speed);
	return new_mixer_cfg(&c);
}

/* The switch's gains at its frame k (1..SW_FRAMES): the old path's, the new one's. */
static double gain_out(uint32_t k)
{
	return cos(M_PI / 2.0 * k / SW_FRAMES);
}

static double gain_in(uint32_t k)
{
	return sin(M_PI / 2.0 * k / SW_FRAMES);
}

/* ---- mixer:keylock-switch ---- */

/* Mixer a (one tap source) and mixer ref (none) play the same pad at 1.25.
 * Key lock on at frame 1000: over the switch's 480 frames a's output is
 * sin x the tap's + cos x ref's (the interpolator played on), then the
 * tap's alone, which is the material at rate 1 from the voice's position
 * at the switch (1000 x 1.25 = 1250), its pre-roll the 16 frames before
 * that. Key lock off 2000 frames later: cos x the tap's + sin x ref's,
 * then ref's exactly (the interpolator takes over at the audible position
 * the mixer kept, which is where ref is). Block sizes differ between the
 * two mixers (render(a) + render(b) == render(a + b)). Tolerance 1e-6 on
 * values of at most 1 where two paths mix (float gains and products),
 * exact elsewhere. */
START_TEST(test_keylock_switch)
{
	struct rec ra = { 0 }, rr = { 0 };
	struct tap_src src[1];
	struct flz_mixer *a = tap_mixer(&ra, src, 1, 1.25);
	struct flz_mixer *ref = tap_mixer(&rr, NULL, 0, 1.25);
	struct flz_sample *s = pattern_sample(3000);
	load(a, 0, s);
	load(ref, 0, pattern_sample(3000));
	play(a, 0, 1.0f);
	play(ref, 0, 1.0f);
	const uint32_t n = 2000;
	float *ya = floats(n), *yr = floats(n);
	render(a, ya, 1000, 100);
	render(ref, yr, 1000, 1000);
	for (uint32_t i = 0; i < 1000 * CH; i++)
		ck_assert_float_eq(ya[i], yr[i]);

	flz_mixer_set_key_lock(a, true);
	render(a, ya, n, 100);
	render(ref, yr, n, 128);
	ck_assert_int_eq(src[0].starts, 1);
	ck_assert_double_eq_tol(src[0].rate, 1.25, 1e-12);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(a), 1);
	for (uint32_t i = 0; i < SW_PREROLL; i++)
		for (uint32_t c = 0; c < CH; c++)
			ck_assert_float_eq(src[0].pre[i * CH + c], looped(s, 1250 - SW_PREROLL + i, c));
	for (uint32_t j = 0; j < n; j++) {
		for (uint32_t c = 0; c < CH; c++) {
			const double tap = looped(s, 1250 + j, c);
			if (j < SW_FRAMES) {
				const double want = gain_in(j + 1) * tap + gain_out(j + 1) * yr[j * CH + c];
				ck_assert_msg(fabs(ya[j * CH + c] - want) <= 1e-6,
					      "on, frame %u ch %u: %.9g, want %.9g", j, c,
					      ya[j * CH + c], want);
			} else {
				ck_assert_float_eq(ya[j * CH + c], (float)tap);
			}
		}
	}

	flz_mixer_set_key_lock(a, false);
	render(a, ya, n, 100);
	render(ref, yr, n, 128);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(a), 0);
	for (uint32_t j = 0; j < n; j++) {
		for (uint32_t c = 0; c < CH; c++) {
			if (j < SW_FRAMES) {
				const double tap = looped(s, 1250 + n + j, c);
				const double want = gain_out(j + 1) * tap + gain_in(j + 1) * yr[j * CH + c];
				ck_assert_msg(fabs(ya[j * CH + c] - want) <= 1e-6,
					      "off, frame %u ch %u: %.9g, want %.9g", j, c,
					      ya[j * CH + c], want);
			} else {
				ck_assert_float_eq(ya[j * CH + c], yr[j * CH + c]);
			}
		}
	}

	/* Off again within the switch on: it waits for the switch's end, then
	 * switches back; 2000 frames on, a is ref again, exactly. */
	flz_mixer_set_key_lock(a, true);
	render(a, ya, 100, 100);
	render(ref, yr, 100, 100);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(a), 1);
	flz_mixer_set_key_lock(a, false);
	render(a, ya, n, 64);
	render(ref, yr, n, 128);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(a), 0);
	ck_assert_int_eq(src[0].starts, 2);
	for (uint32_t j = 1000; j < n; j++)
		for (uint32_t c = 0; c < CH; c++)
			ck_assert_float_eq(ya[j * CH + c], yr[j * CH + c]);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(a), 0);
	free(ya);
	free(yr);
	flz_mixer_destroy(a);
	flz_mixer_destroy(ref);
}
END_TEST

TCase *mixer_case_keylock_switch(void)
{
	return mixer_tcase("mixer:keylock-switch", test_keylock_switch);
}

/* ---- mixer:keylock-switch-pool ---- */

/* One source, two playing voices: key lock on switches the first (in
 * start order) and counts the second as refused, once (not at every
 * block); the refused one plays on unlocked, exactly as before. A pad's
 * own setting moves only its voices. */
START_TEST(test_keylock_switch_pool)
{
	struct rec ra = { 0 }, rr = { 0 };
	struct tap_src src[1];
	struct flz_mixer *a = tap_mixer(&ra, src, 1, 1.25);
	struct flz_mixer *ref = tap_mixer(&rr, NULL, 0, 1.25);
	struct flz_sample *s = pattern_sample(3000);
	load(a, 0, s);
	load(a, 1, pattern_sample(3000));
	load(ref, 1, pattern_sample(3000));
	play(a, 0, 1.0f);
	play(a, 1, 1.0f);
	play(ref, 1, 1.0f);
	const uint32_t n = 1200;
	float *ya = floats(n), *yr = floats(n);
	render(a, ya, 600, 128);
	render(ref, yr, 600, 128);
	flz_mixer_set_key_lock(a, true);
	render(a, ya, n, 128);
	render(ref, yr, n, 128);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(a), 1);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(a), 1);
	/* Pad 0 went through the tap (from 600 x 1.25 = 750), pad 1 stayed on
	 * the interpolator: after the switch a is their sum. */
	for (uint32_t j = SW_FRAMES; j < n; j++)
		for (uint32_t c = 0; c < CH; c++)
			ck_assert_float_eq_tol(ya[j * CH + c], looped(s, 750 + j, c) + yr[j * CH + c],
					       1e-6f);

	/* Pad 1 on by its own setting: still no source free, counted again;
	 * pad 0 off by its own: it switches back, its voice gives the source
	 * back at the switch's end. */
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(a, 1, 1), 0);
	ck_assert_int_eq(flz_mixer_set_pad_key_lock(a, 0, 0), 0);
	render(a, ya, n, 128);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(a), 2);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(a), 0);
	free(ya);
	free(yr);
	flz_mixer_destroy(a);
	flz_mixer_destroy(ref);
}
END_TEST

TCase *mixer_case_keylock_switch_pool(void)
{
	return mixer_tcase("mixer:keylock-switch-pool", test_keylock_switch_pool);
}

/* ---- mixer:keylock-switch-spread ---- */

/* Key lock turned on under four playing voices with four states free: a
 * switch takes a whole period's priming budget, so the voices switch one
 * per period (128-frame blocks, one period each), none refused; a start's
 * priming in a period leaves no room for a switch in it. */
START_TEST(test_keylock_switch_spread)
{
	struct rec r = { 0 };
	struct tap_src src[4];
	struct flz_mixer_config c = tap_config(&r, src, 4, 1.25);
	c.max_block_frames = 128;
	struct flz_mixer *m = new_mixer_cfg(&c);
	for (int32_t p = 0; p < 4; p++) {
		load(m, p, pattern_sample(3000));
		play(m, p, 0.25f);
	}
	float *y = floats(128);
	render(m, y, 128, 128);
	flz_mixer_set_key_lock(m, true);
	for (uint32_t k = 1; k <= 4; k++) {
		render(m, y, 128, 128);
		ck_assert_uint_eq(flz_mixer_key_locked_voices(m), k);
	}
	render(m, y, 128, 128);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 4);
	ck_assert_uint_eq(flz_mixer_key_lock_refused(m), 0);
	free(y);
	flz_mixer_destroy(m);
}
END_TEST

TCase *mixer_case_keylock_switch_spread(void)
{
	return mixer_tcase("mixer:keylock-switch-spread", test_keylock_switch_spread);
}

/* ---- mixer:keylock-rate1 ---- */

/* A key-locked voice whose speed glides from 1.25 through exactly 1.0
 * (held there) to 0.8 stays on its source all the way: its output is the
 * material at rate 1 frame for frame (the rate-1 plain paths, which would
 * play it from the reader straight, are never taken), and the source got
 * every rate. The same for a tempo-locked voice at ratio 1/1. */
START_TEST(test_keylock_rate1)
{
	struct rec r = { 0 };
	struct tap_src src[1];
	struct flz_mixer *m = tap_mixer(&r, src, 1, 1.25);
	struct flz_sample *s = pattern_sample(3000);
	load(m, 0, s);
	flz_mixer_set_key_lock(m, true);
	play(m, 0, 1.0f);
	const uint32_t n = 12000;
	float *y = floats(n);
	render(m, y, 2000, 128);
	ck_assert_int_eq(flz_mixer_set_speed(m, 1.0), 0);
	render(m, y + 2000 * CH, 4000, 128);
	ck_assert(src[0].rate == 1.0);
	ck_assert_int_eq(flz_mixer_set_speed(m, 0.8), 0);
	render(m, y + 6000 * CH, 6000, 100);
	ck_assert_double_eq_tol(src[0].rate, 0.8, 1e-9);
	ck_assert_double_eq_tol(src[0].rate_min, 0.8, 1e-9);
	ck_assert_double_eq_tol(src[0].rate_max, 1.25, 1e-9);
	for (uint32_t j = 0; j < n; j++)
		for (uint32_t c = 0; c < CH; c++)
			ck_assert_float_eq(y[j * CH + c], looped(s, j, c));
	ck_assert_int_eq(src[0].starts, 1);

	(void)flz_mixer_stop_all(m, 1);
	render(m, y, 1000, 128);
	ck_assert_int_eq(flz_mixer_set_speed(m, 1.0), 0);
	render(m, y, 1000, 128);
	struct flz_mixer_trigger t = { .slot = 0, .gain = 1.0f, .lock_num = 1, .lock_den = 1 };
	ck_assert_int_eq(flz_mixer_trigger(m, &t), 1);
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);
	render(m, y, n, 128);
	ck_assert(src[0].rate == 1.0);
	for (uint32_t j = 0; j < n; j++)
		for (uint32_t c = 0; c < CH; c++)
			ck_assert_float_eq(y[j * CH + c], looped(s, j, c));
	free(y);
	flz_mixer_destroy(m);
}
END_TEST

TCase *mixer_case_keylock_rate1(void)
{
	return mixer_tcase("mixer:keylock-rate1", test_keylock_rate1);
}

/* ---- mixer:keylock-servo ---- */

/* A stretcher stand-in whose consumption is off: it holds LAT frames (read
 * when it primes) and then reads floor(acc) in total, acc growing by
 * n x rate x (1 + bias) per block, so its audible position is what it read
 * minus LAT, and without a servo it would drift by bias x rate per frame. */
#define LAT 2000
struct bias_src {
	double bias;
	double rate;
	double rate_min, rate_max;
	double acc;
	int64_t consumed;
	bool primed;
	float buf[(LAT + 4 * 128 * 2) * CH];
};

static int64_t bias_start(void *state, double rate)
{
	struct bias_src *s = state;
	s->rate = s->rate_min = s->rate_max = rate;
	s->acc = 0.0;
	s->consumed = 0;
	s->primed = false;
	return SW_PREROLL;
}

static int bias_set_rate(void *state, double rate)
{
	struct bias_src *s = state;
	s->rate = rate;
	s->rate_min = rate < s->rate_min ? rate : s->rate_min;
	s->rate_max = rate > s->rate_max ? rate : s->rate_max;
	return 0;
}

static int bias_render(void *state, flz_mixer_read_fn read, void *ctx, float *out,
		       uint32_t n_frames)
{
	struct bias_src *s = state;
	if (!s->primed) {
		(void)read(ctx, s->buf, SW_PREROLL);
		(void)read(ctx, s->buf, LAT);
		s->primed = true;
	}
	s->acc += n_frames * s->rate * (1.0 + s->bias);
	const int64_t k = (int64_t)s->acc - s->consumed;
	ck_assert_int_le(k, 4 * 128 * 2);
	if (k > 0)
		(void)read(ctx, s->buf, (uint32_t)k);
	s->consumed += k;
	memset(out, 0, (size_t)n_frames * CH * sizeof(float));
	return 0;
}

static const struct flz_mixer_source_ops bias_ops = {
	.start = bias_start,
	.set_rate = bias_set_rate,
	.render = bias_render,
	.name = "bias",
};

/* Locked at 64/45 (90 BPM material at 128) for 150 s of blocks of 128,
 * the drift being the audible position minus the lock's, consumed - 64/45
 * x t. The servo takes the mean of what the source holds over its first
 * 0.5 s as its latency, so it keeps the drift where that mean had it:
 * bias x rate x 0.25 s (17.1 frames at +0.1 %, -51.2 at -0.3 %); over the
 * last 60 s it stays within 2 frames of that (the trim takes the bias
 * back: the rate sits at 1 / (1 + bias) of the lock's), and the source's
 * rate never leaves 0.5 % of the lock's. A bias
 * of 1 % is beyond the trim's bound: the rate stays at -0.5 % and the
 * drift grows (the bound holds). */
START_TEST(test_keylock_servo)
{
	static const double biases[] = { 0.001, -0.003, 0.01 };
	for (size_t b = 0; b < sizeof biases / sizeof biases[0]; b++) {
		struct rec r = { 0 };
		static struct bias_src src;
		void *states[1] = { &src };
		memset(&src, 0, sizeof src);
		src.bias = biases[b];
		struct flz_mixer_config c = mk_config(&r);
		c.source_ops = &bias_ops;
		c.n_sources = 1;
		c.source_states = states;
		struct flz_mixer *m = new_mixer_cfg(&c);
		load(m, 0, pattern_sample(128000));
		flz_mixer_set_key_lock(m, true);
		struct flz_mixer_trigger t = { .slot = 0, .gain = 1.0f, .lock_num = 64,
					       .lock_den = 45 };
		ck_assert_int_eq(flz_mixer_trigger(m, &t), 1);
		ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);
		float out[128 * CH];
		const int64_t n_blocks = 150LL * RATE / 128, last = 60LL * RATE / 128;
		double worst = 0.0, drift = 0.0;
		for (int64_t k = 1; k <= n_blocks; k++) {
			ck_assert_int_eq(flz_mixer_render(m, out, 128), 0);
			drift = (double)(src.consumed) - 64.0 / 45.0 * 128.0 * (double)k;
			const double held = biases[b] * 64.0 / 45.0 * RATE * 0.25;
			if (k > n_blocks - last)
				worst = fabs(drift - held) > worst ? fabs(drift - held) : worst;
		}
		const double lock = 64.0 / 45.0;
		ck_assert_msg(src.rate_min >= lock * (1.0 - 0.005 - 1e-9) &&
			      src.rate_max <= lock * (1.0 + 0.005 + 1e-9),
			      "bias %g: rate %.9g..%.9g", biases[b], src.rate_min, src.rate_max);
		if (fabs(biases[b]) < 0.005) {
			ck_assert_msg(worst <= 2.0, "bias %g: drift %.2f frames off the held one",
				      biases[b], worst);
			ck_assert_double_eq_tol(src.rate, lock / (1.0 + biases[b]), lock * 2e-5);
		} else {
			ck_assert_double_eq_tol(src.rate, lock * (1.0 - 0.005), 1e-9);
			/* (0.01 - 0.005) x 1.42 x 48000 frames a second, less the settle. */
			ck_assert_msg(drift > 300.0 * 149.0, "bias %g: drift %.1f", biases[b], drift);
		}
		flz_mixer_destroy(m);
	}
}
END_TEST

TCase *mixer_case_keylock_servo(void)
{
	return mixer_tcase("mixer:keylock-servo", test_keylock_servo);
}

/* ---- mixer:keylock-coast ---- */

/* A key-locked voice triggered tempo-locked at 5/4 from frame 0, paused
 * after 1000 frames (its 5 ms fade renders 239 of the next 1000, then it
 * coasts) and resumed 2000 frames after its start: its lock has moved on
 * to 2000 x 5/4 = 2500, and its source restarts there (a second start,
 * the 16 frames before 2500 as its pre-roll), so from the end of the fade
 * in (240 frames) the output is the material from 2500 + j exactly, in
 * phase with where an unlocked locked voice would be; the same when its
 * lock is turned off while it is paused. A lock's shift moves its reader
 * and its audible position. */
START_TEST(test_keylock_coast)
{
	struct rec r = { 0 };
	struct tap_src src[1];
	struct flz_mixer *m = tap_mixer(&r, src, 1, 1.0);
	struct flz_sample *s = pattern_sample(3000);
	load(m, 0, s);
	flz_mixer_set_key_lock(m, true);
	struct flz_mixer_trigger t = { .slot = 0, .gain = 1.0f, .lock_num = 5, .lock_den = 4 };
	ck_assert_int_eq(flz_mixer_trigger(m, &t), 1);
	const uint32_t n = 1000;
	float *y = floats(n);
	render(m, y, n, 128);
	for (uint32_t j = 0; j < n; j++)
		ck_assert_float_eq(y[j * CH], looped(s, j, 0));
	ck_assert_int_eq(flz_mixer_pause_slot(m, 0), 1);
	render(m, y, n, 100);
	ck_assert_int_eq(flz_mixer_resume_slot(m, 0), 1);
	ck_assert_int_eq(src[0].starts, 2);
	ck_assert_double_eq_tol(src[0].rate, 1.25, 1e-12);
	render(m, y, n, 128);
	for (uint32_t i = 0; i < SW_PREROLL; i++)
		ck_assert_float_eq(src[0].pre[i * CH], looped(s, 2500 - SW_PREROLL + i, 0));
	for (uint32_t j = 240; j < n; j++)
		for (uint32_t c = 0; c < CH; c++)
			ck_assert_float_eq(y[j * CH + c], looped(s, 2500 + j, c));
	ck_assert_uint_eq(flz_mixer_key_locked_voices(m), 1);

	/* A lock's shift (a catch-up out of range) moves a key-locked voice:
	 * its source reads on 100 frames further (the tap has read 1000 since
	 * its restart at 2500), its audible position moves with it. */
	struct flz_mixer_voice *v = &m->voices[m->active[0]];
	const int64_t aud = v->aud.pos_frames;
	flz_mixer_voice_shift(v, (int64_t)100 << 32);
	ck_assert_int_eq(v->aud.pos_frames, aud + 100);
	render(m, y, 100, 100);
	for (uint32_t j = 0; j < 100; j++)
		ck_assert_float_eq(y[j * CH], looped(s, 2500 + n + 100 + j, 0));
	flz_mixer_voice_shift(v, -((int64_t)100 << 32));
	render(m, y, 100, 100);
	for (uint32_t j = 0; j < 100; j++)
		ck_assert_float_eq(y[j * CH], looped(s, 2500 + n + 100 + j, 0));

	/* Paused again at 3200 (4000), coasting to 4200 (5250), and unlocked
	 * while paused: the resume restarts the source where the lock had
	 * coasted to, now at the speed's rate. */
	ck_assert_int_eq(flz_mixer_pause_slot(m, 0), 1);
	render(m, y, n, 100);
	ck_assert_int_eq(flz_mixer_set_pad_lock(m, 0, 0, 0), 1);
	ck_assert_int_eq(flz_mixer_resume_slot(m, 0), 1);
	ck_assert_int_eq(src[0].starts, 3);
	ck_assert(src[0].rate == 1.0);
	render(m, y, n, 128);
	for (uint32_t j = 240; j < n; j++)
		for (uint32_t c = 0; c < CH; c++)
			ck_assert_float_eq(y[j * CH + c], looped(s, 5250 + j, c));
	free(y);
	flz_mixer_destroy(m);
}
END_TEST

TCase *mixer_case_keylock_coast(void)
{
	return mixer_tcase("mixer:keylock-coast", test_keylock_coast);
}
