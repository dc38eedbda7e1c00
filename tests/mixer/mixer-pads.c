/* SPDX-License-Identifier: MIT */
/*
 * mixer:trigger, mixer:exclusive, mixer:pad-gain, mixer:pad-speed,
 * mixer:loop-region, mixer:pause, mixer:seek, mixer:stage, mixer:pad-args:
 * the per-pad functions of issue 12 and the per-voice stage slot.
 */
#include "mixer-tests.h"

#define RAMP 240 /* the voice ramp, 5 ms at 48 kHz */

/* ---- mixer:trigger ---- */

/* STARTED.frame is the output frame where the voice's first non-zero
 * sample appears, at speed 1 and at a varispeed rate alike: before it the
 * output is exactly 0; there it is the sample's first frame, exactly at
 * rates <= 1 (the interpolator's phase 0 is a unit impulse), non-zero at
 * rates > 1 (the stretched kernel also weighs the next frames). The event
 * carries the trigger's token and slot; a play sends one with token 0. */
START_TEST(test_trigger)
{
	static const double speeds[] = { 1.0, 0.73, 1.9 };
	for (size_t si = 0; si < 3; si++) {
		struct rec r = { 0 };
		struct flz_mixer_config c = mk_config(&r);
		c.speed = speeds[si];
		struct flz_mixer *m = new_mixer_cfg(&c);
		struct flz_sample *s = pattern_sample(3000);
		load(m, 7, s);
		float *out = floats(2000);
		render(m, out, 777, 64);
		struct flz_mixer_trigger t = { .slot = 7, .gain = 1.0f, .token = 42 };
		ck_assert_int_eq(flz_mixer_trigger(m, &t), 1);
		ck_assert_int_eq(r.n_started, 0); /* sent by the render that sounds it */
		render(m, out, 100, 100);
		ck_assert_int_eq(r.n_started, 1);
		ck_assert_int_eq(r.started[0].kind, FLZ_MIXER_EVENT_STARTED);
		ck_assert_uint_eq(r.started[0].token, 42);
		ck_assert_int_eq(r.started[0].slot, 7);
		ck_assert_int_eq(r.started[0].frame, 777);
		if (speeds[si] <= 1.0)
			ck_assert_msg(out[0] == s->data[0] && out[1] == s->data[1], "speed %g: %g",
				      speeds[si], out[0]);
		else
			ck_assert_msg(out[0] > 0.0f && out[1] < 0.0f, "speed %g: %g", speeds[si],
				      out[0]);
		play(m, 7, 0.5f);
		render(m, out, 1, 1);
		ck_assert_int_eq(r.n_started, 2);
		ck_assert_uint_eq(r.started[1].token, 0);
		ck_assert_int_eq(r.started[1].frame, 877);
		ck_assert_int_eq(r.n_events, 0);
		free(out);
		flz_mixer_destroy(m);
	}
}
END_TEST

/* ---- mixer:exclusive ---- */

/* An exclusive trigger fades out every voice (one STOPPED event with the
 * stop token, after the fade) and starts its own in the same output frame:
 * frame i after it is imp[i] + (0.5 + 0.25) x (R - i - 1) / R (1e-6); an
 * exclusive trigger on an empty slot does nothing at all. */
START_TEST(test_exclusive)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	load(m, 0, dc_sample(100, 1.0f));
	load(m, 1, dc_sample(333, 1.0f));
	struct flz_sample *imp = dc_sample(5000, 0.0f);
	imp->data[0] = 0.5f;
	imp->data[1] = -0.25f;
	load(m, 2, imp);
	play(m, 0, 0.5f);
	play(m, 1, 0.25f);
	float *out = floats(1000);
	render(m, out, 300, 128);
	struct flz_mixer_trigger empty = { .slot = 9, .gain = 1.0f, .exclusive = true,
					   .stop_token = 5 };
	ck_assert_int_eq(flz_mixer_trigger(m, &empty), 0);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 2);
	struct flz_mixer_trigger t = { .slot = 2, .gain = 1.0f, .token = 3, .exclusive = true,
				       .stop_token = 8 };
	ck_assert_int_eq(flz_mixer_trigger(m, &t), 1);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 1);
	ck_assert_uint_eq(flz_mixer_voices_fading(m), 2);
	render(m, out, 1000, 100);
	for (uint32_t i = 0; i < 1000; i++)
		for (uint32_t ch = 0; ch < CH; ch++) {
			double fade = i + 1 < RAMP ? 0.75 * (RAMP - i - 1) / RAMP : 0.0;
			double expect = fade + (i == 0 ? imp->data[ch] : 0.0);
			float x = out[i * CH + ch];
			if (expect == 0.0)
				ck_assert_msg(x == 0.0f, "frame %u: %g", i, x);
			else
				ck_assert_msg(fabs(x - expect) <= 1e-6, "frame %u: %g vs %g", i, x,
					      expect);
		}
	ck_assert_int_eq(r.n_events, 1);
	ck_assert_uint_eq(r.events[0].token, 8);
	ck_assert_int_eq(r.events[0].slot, -1);
	/* The first frame without them: the fade's frame R. */
	ck_assert_int_eq(r.events[0].frame, 300 + RAMP - 1);
	ck_assert_int_eq(r.n_started, 3);
	ck_assert_int_eq(r.started[2].frame, 300);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

/* ---- mixer:pad-gain ---- */

/* The pad gain multiplies its voices, glides over 10 ms (480 frames,
 * monotonic), and is exact after the glide: 0.5 x 0.25 of a DC 1.0. It stays
 * for the next trigger, and other pads are untouched. */
START_TEST(test_pad_gain)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	load(m, 0, dc_sample(100, 1.0f));
	load(m, 1, dc_sample(64, 1.0f));
	play(m, 0, 0.5f);
	float *out = floats(2000);
	render(m, out, 100, 100);
	ck_assert_int_eq(flz_mixer_set_pad_gain(m, 0, 0.25f), 0);
	render(m, out, 1000, 77);
	for (uint32_t i = 1; i < 479; i++)
		ck_assert_msg(out[i * CH] <= out[(i - 1) * CH] && out[i * CH] > 0.125f,
			      "glide at %u: %g", i, out[i * CH]);
	for (uint32_t i = 479; i < 1000; i++)
		ck_assert_msg(out[i * CH] == 0.125f && out[i * CH + 1] == 0.125f, "frame %u: %g", i,
			      out[i * CH]);
	/* A new voice of the pad gets it at once; another pad does not. */
	play(m, 0, 1.0f);
	play(m, 1, 0.5f);
	render(m, out, 10, 10);
	for (uint32_t i = 0; i < 10; i++)
		ck_assert_msg(fabsf(out[i * CH] - (0.125f + 0.25f + 0.5f)) <= 1e-6f, "frame %u", i);
	/* Up to +12 dB. */
	ck_assert_int_eq(flz_mixer_set_pad_gain(m, 1, FLZ_PAD_GAIN_MAX_LIN), 0);
	render(m, out, 600, 600);
	ck_assert_msg(fabsf(out[599 * CH] - (0.375f + 0.5f * FLZ_PAD_GAIN_MAX_LIN)) <= 1e-6f, "%g",
		      out[599 * CH]);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

/* ---- mixer:pad-speed ---- */

/* Two pads at different pad speeds (x 0.5 and x 2, global 1.5: rates 0.75
 * and 3) play a 1 kHz sine each at its own pitch: alone, each is the sine
 * at 750 Hz or 3 kHz (< -90 dBc, level within 0.001 dB); together, the mix
 * is their sum (1e-6). */
START_TEST(test_pad_speed)
{
	const double pad_speed[2] = { 0.5, 2.0 };
	const uint32_t skip = 2048, n = 16384;
	float *solo[2], *both = floats(skip + n);
	struct flz_mixer *m[3];
	struct rec r[3];
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 3; i++) {
		struct flz_mixer_config c = mk_config(&r[i]);
		c.speed = 1.5;
		m[i] = new_mixer_cfg(&c);
		for (int p = 0; p < 2; p++) {
			struct flz_sample *s = flz_sample_new(RATE, CH, RATE);
			ck_assert_ptr_nonnull(s);
			flz_test_sine(s->data, RATE, CH, 1000.0, RATE, 0.25, 0.3);
			load(m[i], p, s);
			ck_assert_int_eq(flz_mixer_set_pad_speed(m[i], p, pad_speed[p]), 0);
			if (i == p || i == 2)
				play(m[i], p, 1.0f);
		}
	}
	for (int p = 0; p < 2; p++) {
		solo[p] = floats(skip + n);
		render(m[p], solo[p], skip + n, 512);
		double amp, res, f = 1000.0 * 1.5 * pad_speed[p];
		flz_test_sine_fit(solo[p] + skip * CH, n, CH, f / RATE, &amp, &res);
		printf("mixer:pad-speed pad %d at %.0f Hz: spurious %.1f dBc, level %+.5f dB\n", p, f,
		       res, flz_test_db(amp / 0.25));
		ck_assert_msg(res < -90.0, "pad %d: %g dBc", p, res);
		ck_assert_msg(fabs(flz_test_db(amp / 0.25)) < 0.001, "pad %d level", p);
	}
	render(m[2], both, skip + n, 333);
	for (uint32_t i = 0; i < (skip + n) * CH; i++)
		ck_assert_msg(fabsf(both[i] - (solo[0][i] + solo[1][i])) <= 1e-6f, "sample %u", i);
	ck_assert_int_eq(flz_mixer_set_pad_speed(m[0], 0, 2.01), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_speed(m[0], 0, 0.49), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_speed(m[0], 0, NAN), -EINVAL);
	for (int i = 0; i < 3; i++)
		flz_mixer_destroy(m[i]);
	free(solo[0]);
	free(solo[1]);
	free(both);
}
END_TEST

/* ---- mixer:loop-region ---- */

/* A loop region repeats its frames exactly at rate 1, across block sizes:
 * a trigger starts at its start, and output frame j is s[100 + j % 200]. A
 * voice past a new region's end crossfades to its start (R frames) and
 * then plays the new region exactly. Load resets the region. */
START_TEST(test_loop_region)
{
	static const uint32_t blocks[] = { 1, 7, 64, 199, 512 };
	const uint32_t total = 3000;
	float *out = floats(total);
	for (size_t bi = 0; bi < sizeof(blocks) / sizeof(blocks[0]); bi++) {
		struct rec r = { 0 };
		struct flz_mixer *m = new_mixer(&r);
		struct flz_sample *s = pattern_sample(1000);
		load(m, 0, s);
		ck_assert_int_eq(flz_mixer_set_loop_region(m, 0, 100, 300), 0);
		play(m, 0, 1.0f);
		render(m, out, total, blocks[bi]);
		for (uint32_t j = 0; j < total; j++)
			for (uint32_t ch = 0; ch < CH; ch++)
				ck_assert_msg(out[j * CH + ch] == s->data[(100 + j % 200) * CH + ch],
					      "block %u frame %u", blocks[bi], j);
		flz_mixer_destroy(m);
	}

	/* Moving the region below a playing voice. */
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	struct flz_sample *s = pattern_sample(1000);
	flz_sample_ref(s);
	load(m, 0, s);
	play(m, 0, 1.0f);
	render(m, out, 700, 64);
	ck_assert_int_eq(flz_mixer_set_loop_region(m, 0, 50, 250), 0);
	render(m, out, total, 100);
	for (uint32_t j = 0; j < total; j++) {
		const uint32_t k = j + 1;
		for (uint32_t ch = 0; ch < CH; ch++) {
			double now = s->data[(50 + j % 200) * CH + ch];
			double expect = now;
			if (k < RAMP)
				expect = (double)k / RAMP * now +
					 (double)(RAMP - k) / RAMP * s->data[(700 + j) * CH + ch];
			ck_assert_msg(fabs(out[j * CH + ch] - expect) <= 1e-6, "frame %u", j);
			if (k >= RAMP)
				ck_assert_msg(out[j * CH + ch] == (float)now, "frame %u not exact", j);
		}
	}
	/* The interpolator's taps just after a wrap read the frames the
	 * stream played before it: at rate 0.5 (every tap window reaches 15
	 * frames back), a voice that wrapped from 300 to 0 plays exactly as
	 * before when the region's end then moves to 250, above its position;
	 * and a voice seeked past the region's end (to 900) wraps from the
	 * sample's end, 1000, exactly as one whose region ends there. Twins
	 * compared bit for bit (same arithmetic on the same frames). */
	for (int scene = 0; scene < 2; scene++) {
		struct rec ra = { 0 }, rb = { 0 };
		struct flz_mixer_config ca = mk_config(&ra), cb = mk_config(&rb);
		ca.speed = cb.speed = 0.5;
		struct flz_mixer *a = new_mixer_cfg(&ca), *b = new_mixer_cfg(&cb);
		struct flz_sample *w = pattern_sample(1000);
		flz_sample_ref(w);
		load(a, 0, w);
		load(b, 0, w);
		ck_assert_int_eq(flz_mixer_set_loop_region(a, 0, 0, 300), 0);
		if (scene == 0)
			ck_assert_int_eq(flz_mixer_set_loop_region(b, 0, 0, 300), 0);
		play(a, 0, 1.0f);
		play(b, 0, 1.0f);
		float *oa = floats(2000), *ob = floats(2000);
		uint32_t n;
		if (scene == 0) {
			render(a, oa, 620, 64); /* 310 source frames: 10 past the wrap */
			render(b, ob, 620, 64);
			ck_assert_int_eq(flz_mixer_set_loop_region(a, 0, 0, 250), 0);
			n = 400; /* up to source frame 210 */
		} else {
			render(a, oa, 200, 64);
			render(b, ob, 200, 64);
			ck_assert_int_eq(flz_mixer_seek_slot(a, 0, 900), 1);
			ck_assert_int_eq(flz_mixer_seek_slot(b, 0, 900), 1);
			n = 2 * (100 + 270); /* to 270 after the wrap: taps stay below 300 */
		}
		render(a, oa, n, 100);
		render(b, ob, n, 100);
		for (uint32_t j = 0; j < n * CH; j++)
			ck_assert_msg(oa[j] == ob[j], "scene %d sample %u: %.7f vs %.7f", scene, j,
				      oa[j], ob[j]);
		free(oa);
		free(ob);
		flz_mixer_destroy(a);
		flz_mixer_destroy(b);
	}

	/* end == -1 is the sample's end; reload resets the region. */
	ck_assert_int_eq(flz_mixer_set_loop_region(m, 0, 10, -1), 0);
	ck_assert_int_eq(flz_mixer_stop_all(m, 1), 1);
	render(m, out, 500, 500);
	load(m, 0, s);
	play(m, 0, 1.0f);
	render(m, out, total, 512);
	for (uint32_t j = 0; j < total; j++)
		ck_assert_msg(out[j * CH] == s->data[(j % 1000) * CH], "after load: frame %u", j);
	flz_mixer_destroy(m);
	free(out);
}
END_TEST

/* ---- mixer:pause ---- */

/* Pause fades out over R frames and holds the position after the last
 * sounding frame; the output is then exactly 0. Resume fades back in from
 * that position: frame k of the fade-in is k / R x s[held + k - 1] (1e-6),
 * and from frame R on the output is the sample exactly, continuing. */
START_TEST(test_pause)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	struct flz_sample *s = pattern_sample(10000);
	load(m, 3, s);
	play(m, 3, 1.0f);
	float *out = floats(2000);
	render(m, out, 1000, 128);
	ck_assert_int_eq(flz_mixer_pause_slot(m, 3), 1);
	ck_assert_int_eq(flz_mixer_pause_slot(m, 3), 0); /* already pausing */
	ck_assert_int_eq(flz_mixer_resume_slot(m, 4), 0);
	render(m, out, 800, 100);
	for (uint32_t j = 0; j < 800; j++) {
		const uint32_t k = j + 1;
		double expect = k < RAMP ? (double)(RAMP - k) / RAMP * s->data[(1000 + j) * CH] : 0.0;
		if (expect == 0.0)
			ck_assert_msg(out[j * CH] == 0.0f, "paused frame %u: %g", j, out[j * CH]);
		else
			ck_assert_msg(fabs(out[j * CH] - expect) <= 1e-6, "pause fade frame %u", j);
	}
	/* Paused voices still count among the voices that play. */
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 1);
	const uint32_t held = 1000 + RAMP - 1;
	ck_assert_int_eq(flz_mixer_resume_slot(m, 3), 1);
	ck_assert_int_eq(flz_mixer_resume_slot(m, 3), 0);
	render(m, out, 2000, 333);
	for (uint32_t j = 0; j < 2000; j++) {
		const uint32_t k = j + 1;
		for (uint32_t ch = 0; ch < CH; ch++) {
			const float x = s->data[(held + j) * CH + ch];
			if (k >= RAMP)
				ck_assert_msg(out[j * CH + ch] == x, "resumed frame %u", j);
			else
				ck_assert_msg(fabs(out[j * CH + ch] - (double)k / RAMP * x) <= 1e-6,
					      "fade-in frame %u", j);
		}
	}
	/* Stopping a paused voice: one event, at once (it is silent). */
	ck_assert_int_eq(flz_mixer_pause_slot(m, 3), 1);
	render(m, out, 500, 500);
	ck_assert_int_eq(flz_mixer_stop_slot(m, 3, 9), 1);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 0);
	render(m, out, 1, 1);
	ck_assert_int_eq(r.n_events, 1);
	ck_assert_uint_eq(r.events[0].token, 9);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

/* ---- mixer:seek ---- */

/* A seek crossfades over R frames (frame k: k/R new + (R-k)/R old, 1e-6)
 * and then plays the sample from the target exactly. */
START_TEST(test_seek)
{
	static const uint32_t blocks[] = { 1, 100, 4096 };
	for (size_t bi = 0; bi < 3; bi++) {
		struct rec r = { 0 };
		struct flz_mixer *m = new_mixer(&r);
		struct flz_sample *s = pattern_sample(10000);
		load(m, 0, s);
		play(m, 0, 1.0f);
		float *out = floats(2000);
		render(m, out, 1000, 256);
		ck_assert_int_eq(flz_mixer_seek_slot(m, 0, 5000), 1);
		render(m, out, 2000, blocks[bi]);
		for (uint32_t j = 0; j < 2000; j++) {
			const uint32_t k = j + 1;
			for (uint32_t ch = 0; ch < CH; ch++) {
				const float now = s->data[(5000 + j) * CH + ch];
				if (k >= RAMP) {
					ck_assert_msg(out[j * CH + ch] == now, "block %u frame %u",
						      blocks[bi], j);
				} else {
					double expect = (double)k / RAMP * now +
							(double)(RAMP - k) / RAMP *
								s->data[(1000 + j) * CH + ch];
					ck_assert_msg(fabs(out[j * CH + ch] - expect) <= 1e-6,
						      "crossfade frame %u", j);
				}
			}
		}
		free(out);
		flz_mixer_destroy(m);
	}

	/* A seek while the pause fades: the crossfade ends with the sound, so
	 * the resume fades in from the new position alone (frame k of it is
	 * k / R x s[5000 + 139 + k - 1], 1e-6), with nothing of the old one. */
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	struct flz_sample *s = pattern_sample(10000);
	load(m, 0, s);
	play(m, 0, 1.0f);
	float *out = floats(2000);
	render(m, out, 1000, 256);
	ck_assert_int_eq(flz_mixer_pause_slot(m, 0), 1);
	render(m, out, 100, 100);
	ck_assert_int_eq(flz_mixer_seek_slot(m, 0, 5000), 1);
	render(m, out, 800, 64); /* the fade ends 139 frames on */
	for (uint32_t j = 139; j < 800; j++)
		ck_assert_msg(out[j * CH] == 0.0f, "paused frame %u: %g", j, out[j * CH]);
	ck_assert_int_eq(flz_mixer_resume_slot(m, 0), 1);
	render(m, out, 1000, 128);
	const uint32_t held = 5000 + RAMP - 1 - 100;
	for (uint32_t j = 0; j < 1000; j++) {
		const uint32_t k = j + 1;
		for (uint32_t ch = 0; ch < CH; ch++) {
			const float x = s->data[(held + j) * CH + ch];
			if (k >= RAMP)
				ck_assert_msg(out[j * CH + ch] == x, "resumed frame %u", j);
			else
				ck_assert_msg(fabs(out[j * CH + ch] - (double)k / RAMP * x) <= 1e-6,
					      "fade-in frame %u: %.7f vs %.7f", j, out[j * CH + ch],
					      (double)k / RAMP * x);
		}
	}
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

/* ---- mixer:stage ---- */

/* A stateful test stage: negate and delay by one frame (its state is the
 * previous frame), counting resets. */
struct delay_state {
	float prev[CH];
	int n_resets;
	int n_calls;
};

static void delay_process(void *state, float *frames, uint32_t n_frames, uint32_t n_channels)
{
	struct delay_state *d = state;
	for (uint32_t j = 0; j < n_frames; j++)
		for (uint32_t c = 0; c < n_channels; c++) {
			float x = frames[j * n_channels + c];
			frames[j * n_channels + c] = -d->prev[c];
			d->prev[c] = x;
		}
	d->n_calls++;
}

static void delay_reset(void *state)
{
	struct delay_state *d = state;
	d->prev[0] = d->prev[1] = 0.0f;
	d->n_resets++;
}

static uint32_t delay_latency(const void *state)
{
	(void)state;
	return 1;
}

static const struct flz_mixer_stage_ops delay_ops = {
	.process = delay_process,
	.reset = delay_reset,
	.latency_frames = delay_latency,
	.name = "test-delay",
};

/* Each voice runs its own stage state after its gain: the output is minus
 * the sum of the voices' gained frames one frame late, exactly, across
 * block sizes; a new voice starts from a reset state. */
START_TEST(test_stage)
{
	static struct delay_state states[FLZ_MIXER_VOICE_SLOTS];
	static const uint32_t blocks[] = { 1, 64, 777 };
	for (size_t bi = 0; bi < 3; bi++) {
		memset(states, 0, sizeof(states));
		struct flz_mixer_stage stage = { .ops = &delay_ops };
		for (int i = 0; i < FLZ_MIXER_VOICE_SLOTS; i++)
			stage.states[i] = &states[i];
		struct rec r = { 0 };
		struct flz_mixer_config c = mk_config(&r);
		c.n_stages = 1;
		c.stages = &stage;
		struct flz_mixer *m = new_mixer_cfg(&c);
		struct flz_sample *a = pattern_sample(500), *b = noise_sample(333, 4, 0.5);
		load(m, 0, a);
		load(m, 1, b);
		play(m, 0, 1.0f);
		play(m, 1, 0.5f);
		ck_assert_int_eq(states[0].n_resets + states[1].n_resets, 2);
		const uint32_t total = 2000;
		float *out = floats(total);
		render(m, out, total, blocks[bi]);
		for (uint32_t j = 0; j < total; j++)
			for (uint32_t ch = 0; ch < CH; ch++) {
				float expect = 0.0f;
				if (j > 0)
					expect = -a->data[((j - 1) % 500) * CH + ch] +
						 -(0.5f * b->data[((j - 1) % 333) * CH + ch]);
				ck_assert_msg(out[j * CH + ch] == expect, "block %u frame %u: %g vs %g",
					      blocks[bi], j, out[j * CH + ch], expect);
			}
		ck_assert_int_gt(states[0].n_calls, 0);
		free(out);
		flz_mixer_destroy(m);
	}

	/* A stage without process() is refused. */
	struct delay_state one;
	struct flz_mixer_stage_ops broken = delay_ops;
	broken.process = NULL;
	struct flz_mixer_stage bad = { .ops = &broken };
	for (int i = 0; i < FLZ_MIXER_VOICE_SLOTS; i++)
		bad.states[i] = &one;
	struct rec r = { 0 };
	struct flz_mixer_config c = mk_config(&r);
	c.n_stages = 1;
	c.stages = &bad;
	struct flz_mixer *m = NULL;
	ck_assert_int_eq(flz_mixer_new(&c, &m), -EINVAL);
	ck_assert_ptr_null(m);
	c.n_stages = FLZ_MIXER_MAX_STAGES + 1;
	ck_assert_int_eq(flz_mixer_new(&c, &m), -EINVAL);
}
END_TEST

/* ---- mixer:stage-params ---- */

/* A stage that scales by its one parameter k (default 1) and is idle at
 * k == 1; it counts its calls. */
struct scale_state {
	float k;
	int n_process, n_set;
};

static void scale_process(void *state, float *frames, uint32_t n_frames, uint32_t n_channels)
{
	struct scale_state *s = state;
	for (uint32_t i = 0; i < n_frames * n_channels; i++)
		frames[i] *= s->k;
	s->n_process++;
}

static void scale_reset(void *state)
{
	(void)state; /* no history */
}

static int scale_set(void *state, const float *params, uint32_t n_params)
{
	struct scale_state *s = state;
	if (params != NULL && (n_params != 1 || params[0] < 0.0f))
		return -EINVAL;
	s->k = params != NULL ? params[0] : 1.0f;
	s->n_set++;
	return 0;
}

static bool scale_idle(const void *state)
{
	return ((const struct scale_state *)state)->k == 1.0f;
}

static const struct flz_mixer_stage_ops scale_ops = {
	.process = scale_process,
	.reset = scale_reset,
	.latency_frames = delay_latency,
	.name = "test-scale",
	.set_params = scale_set,
	.idle = scale_idle,
};

/* Pad parameters reach the pad's voices at the next block and later
 * triggers at their start; an idle stage is never called and its voices
 * render bit for bit as in a mixer without stages; bad parameters are
 * refused and change nothing. Frames compared exactly (0 tolerance: a
 * scale by 0.5 and 0.25 is exact in float). */
START_TEST(test_stage_params)
{
	static struct scale_state states[FLZ_MIXER_VOICE_SLOTS];
	static struct delay_state dstates[FLZ_MIXER_VOICE_SLOTS];
	memset(states, 0, sizeof(states));
	struct flz_mixer_stage stages[2] = { { .ops = &scale_ops }, { .ops = &delay_ops } };
	for (int i = 0; i < FLZ_MIXER_VOICE_SLOTS; i++) {
		states[i].k = 7.0f; /* what a previous user might have left */
		stages[0].states[i] = &states[i];
		stages[1].states[i] = &dstates[i];
	}
	struct rec r = { 0 }, r2 = { 0 };
	struct flz_mixer_config c = mk_config(&r);
	c.n_stages = 1;
	c.stages = stages;
	struct flz_mixer *m = new_mixer_cfg(&c), *plain = new_mixer(&r2);
	struct flz_sample *a = pattern_sample(500), *b = noise_sample(333, 4, 0.5);
	flz_sample_ref(a);
	flz_sample_ref(b);
	load(m, 0, a);
	load(m, 1, b);
	load(plain, 0, a);
	load(plain, 1, b);
	play(m, 0, 1.0f);
	play(m, 1, 0.5f);
	play(plain, 0, 1.0f);
	play(plain, 1, 0.5f);
	enum { N = 1024 };
	float *out = floats(N), *ref = floats(N);
	/* Never set: the defaults (k 1), idle, never processed, bit-identical. */
	render(m, out, N, 256);
	render(plain, ref, N, 256);
	ck_assert_mem_eq(out, ref, N * CH * sizeof(float));
	for (int i = 0; i < FLZ_MIXER_VOICE_SLOTS; i++)
		ck_assert_int_eq(states[i].n_process, 0);

	/* Pad 0 at 0.5 from the next block on; pad 1 untouched. */
	const float half = 0.5f;
	ck_assert_int_eq(flz_mixer_set_pad_stage_params(m, 0, 0, &half, 1), 0);
	float *solo0 = floats(N), *solo1 = floats(N);
	struct rec r3 = { 0 }, r4 = { 0 };
	struct flz_mixer *p0 = new_mixer(&r3), *p1 = new_mixer(&r4);
	flz_sample_ref(a);
	flz_sample_ref(b);
	load(p0, 0, a);
	load(p1, 1, b);
	play(p0, 0, 1.0f);
	play(p1, 1, 0.5f);
	render(p0, solo0, N, 256); /* the same first N frames */
	render(p1, solo1, N, 256);
	render(m, out, N, 256);
	render(p0, solo0, N, 256);
	render(p1, solo1, N, 256);
	for (uint32_t i = 0; i < N * CH; i++)
		ck_assert_msg(out[i] == half * solo0[i] + solo1[i], "sample %u: %g vs %g", i, out[i],
			      half * solo0[i] + solo1[i]);

	/* Refused, nothing changes: the next block is as if they never came. */
	const float nan = NAN, two[2] = { 1.0f, 1.0f }, quarter = 0.25f, neg = -1.0f;
	ck_assert_int_eq(flz_mixer_set_pad_stage_params(m, -1, 0, &half, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_stage_params(m, FLZ_NUM_SAMPLES, 0, &half, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_stage_params(m, 0, 1, &half, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_stage_params(m, 0, 0, NULL, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_stage_params(m, 0, 0, &half, 0), -EINVAL);
	ck_assert_int_eq(
		flz_mixer_set_pad_stage_params(m, 0, 0, two, FLZ_MIXER_STAGE_MAX_PARAMS + 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_stage_params(m, 0, 0, &nan, 1), -EINVAL);
	/* Taken by the mixer, refused by the stage: the voice keeps 0.5. */
	ck_assert_int_eq(flz_mixer_set_pad_stage_params(m, 0, 0, &neg, 1), 0);
	render(m, out, N, 256);
	render(p0, solo0, N, 256);
	render(p1, solo1, N, 256);
	for (uint32_t i = 0; i < N * CH; i++)
		ck_assert(out[i] == half * solo0[i] + solo1[i]);

	/* A new voice of pad 0 starts at the pad's parameters (0.25), on a
	 * state that last held another value. */
	ck_assert_int_eq(flz_mixer_set_pad_stage_params(m, 0, 0, &quarter, 1), 0);
	ck_assert_int_eq(flz_mixer_stop_slot(m, 1, 1), 1); /* voices silenced */
	ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 2), 1);
	render(m, out, N, 256); /* the fades end */
	play(m, 0, 1.0f);
	struct rec r5 = { 0 };
	struct flz_mixer *p2 = new_mixer(&r5);
	flz_sample_ref(a);
	load(p2, 0, a);
	play(p2, 0, 1.0f);
	render(m, out, N, 100);
	render(p2, ref, N, 100);
	for (uint32_t i = 0; i < N * CH; i++)
		ck_assert_msg(out[i] == quarter * ref[i], "sample %u: %g vs %g", i, out[i],
			      quarter * ref[i]);
	/* Back to 1: idle again, the voice is plain. */
	const float one = 1.0f;
	ck_assert_int_eq(flz_mixer_set_pad_stage_params(m, 0, 0, &one, 1), 0);
	render(m, out, N, 100);
	render(p2, ref, N, 100);
	ck_assert_mem_eq(out, ref, N * CH * sizeof(float));

	/* A stage without set_params takes none. */
	struct rec r6 = { 0 };
	struct flz_mixer_config c2 = mk_config(&r6);
	c2.n_stages = 2;
	c2.stages = stages;
	struct flz_mixer *m2 = new_mixer_cfg(&c2);
	ck_assert_int_eq(flz_mixer_set_pad_stage_params(m2, 0, 1, &half, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_stage_params(m2, 0, 0, &half, 1), 0);
	flz_mixer_destroy(m2);
	flz_mixer_destroy(m);
	flz_mixer_destroy(plain);
	flz_mixer_destroy(p0);
	flz_mixer_destroy(p1);
	flz_mixer_destroy(p2); /* each load had its reference: the last retire frees */
	free(out);
	free(ref);
	free(solo0);
	free(solo1);
}
END_TEST

/* A transparent test stage: it leaves the frames alone and keeps the
 * first value it saw that was not zero, and its calls. */
struct watch_state {
	float first_seen;
	int n_process;
};

static void watch_process(void *state, float *frames, uint32_t n_frames, uint32_t n_channels)
{
	struct watch_state *w = state;
	for (uint32_t i = 0; i < n_frames * n_channels && w->first_seen == 0.0f; i++)
		w->first_seen = frames[i];
	w->n_process++;
}

static bool watch_transparent(const void *state)
{
	(void)state;
	return true;
}

static const struct flz_mixer_stage_ops watch_ops = {
	.process = watch_process,
	.reset = scale_reset,
	.latency_frames = delay_latency,
	.name = "test-watch",
	.transparent = watch_transparent,
};

/* A transparent stage sees every block of its voice, gained, and the output
 * is bit for bit that of a mixer without stages (0 tolerance), through
 * gain ramps, fades, a seek's crossfade and a non-unit speed. */
START_TEST(test_stage_transparent)
{
	static struct watch_state states[FLZ_MIXER_VOICE_SLOTS];
	memset(states, 0, sizeof(states));
	struct flz_mixer_stage stage = { .ops = &watch_ops };
	for (int i = 0; i < FLZ_MIXER_VOICE_SLOTS; i++)
		stage.states[i] = &states[i];
	struct rec r = { 0 }, r2 = { 0 };
	struct flz_mixer_config c = mk_config(&r);
	c.n_stages = 1;
	c.stages = &stage;
	struct flz_mixer *m = new_mixer_cfg(&c), *plain = new_mixer(&r2);
	struct flz_sample *a = noise_sample(700, 5, 0.5), *b = pattern_sample(333);
	flz_sample_ref(a);
	flz_sample_ref(b);
	struct flz_mixer *both[2] = { m, plain };
	enum { N = 1200 };
	float *out[2] = { floats(N), floats(N) };
	for (int k = 0; k < 2; k++) {
		load(both[k], 0, a);
		load(both[k], 1, b);
		play(both[k], 0, 0.7f);
		play(both[k], 1, 0.3f);
		render(both[k], out[k], N, 100);
		ck_assert_int_eq(flz_mixer_set_pad_gain(both[k], 0, 0.37f), 0);
		ck_assert_int_eq(flz_mixer_set_pad_speed(both[k], 1, 1.5), 0);
		/* A seek's crossfade: the transparent copy reuses its buffer. */
		ck_assert_int_eq(flz_mixer_seek_slot(both[k], 0, 123), 1);
		render(both[k], out[k] + (size_t)N / 2 * CH, N / 2, 64);
	}
	ck_assert_mem_eq(out[0], out[1], (size_t)N * CH * sizeof(float));
	ck_assert_int_eq(flz_mixer_stop_all(m, 1), 2);
	ck_assert_int_eq(flz_mixer_stop_all(plain, 1), 2);
	render(m, out[0], N, 128);
	render(plain, out[1], N, 128);
	ck_assert_mem_eq(out[0], out[1], (size_t)N * CH * sizeof(float));
	/* It saw its voice's frames after the gain (0.7 x the first frame). */
	int n_seen = 0;
	for (int i = 0; i < FLZ_MIXER_VOICE_SLOTS; i++) {
		if (states[i].n_process == 0)
			continue;
		n_seen++;
		ck_assert_int_ge(states[i].n_process, 10);
		ck_assert(a->data[0] != 0.0f && b->data[0] != 0.0f);
		ck_assert(states[i].first_seen == 0.7f * a->data[0] ||
			  states[i].first_seen == 0.3f * b->data[0]);
	}
	ck_assert_int_eq(n_seen, 2);
	flz_mixer_destroy(m);
	flz_mixer_destroy(plain);
	free(out[0]);
	free(out[1]);
}
END_TEST

/* ---- mixer:pad-args ---- */

/* Bad arguments are refused with the documented code and change nothing:
 * the output afterwards equals that of a twin that never got them. */
START_TEST(test_pad_args)
{
	struct rec r = { 0 }, r2 = { 0 };
	struct flz_mixer *m = new_mixer(&r), *twin = new_mixer(&r2);
	struct flz_sample *s = pattern_sample(400);
	flz_sample_ref(s); /* one for each mixer, one kept here */
	flz_sample_ref(s);
	load(m, 0, s);
	load(twin, 0, s);
	play(m, 0, 0.5f);
	play(twin, 0, 0.5f);
	struct flz_mixer_trigger t = { .slot = -1, .gain = 1.0f };
	ck_assert_int_eq(flz_mixer_trigger(m, NULL), -EINVAL);
	ck_assert_int_eq(flz_mixer_trigger(m, &t), -EINVAL);
	t.slot = FLZ_NUM_SAMPLES;
	ck_assert_int_eq(flz_mixer_trigger(m, &t), -EINVAL);
	t.slot = 0;
	t.gain = NAN;
	ck_assert_int_eq(flz_mixer_trigger(m, &t), -EINVAL);
	t.gain = 1.5f;
	ck_assert_int_eq(flz_mixer_trigger(m, &t), -EINVAL);
	ck_assert_int_eq(flz_mixer_pause_slot(m, -1), -EINVAL);
	ck_assert_int_eq(flz_mixer_resume_slot(m, FLZ_NUM_SAMPLES), -EINVAL);
	ck_assert_int_eq(flz_mixer_seek_slot(m, -1, 0), -EINVAL);
	ck_assert_int_eq(flz_mixer_seek_slot(m, 5, 0), -ENOENT);
	ck_assert_int_eq(flz_mixer_seek_slot(m, 0, 400), -EINVAL);
	ck_assert_int_eq(flz_mixer_seek_slot(m, 0, -1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_gain(m, 0, -0.1f), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_gain(m, 0, 4.0f), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_gain(m, 0, NAN), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_gain(m, -1, 1.0f), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_speed(m, FLZ_NUM_SAMPLES, 1.0), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_loop_region(m, 5, 0, -1), -ENOENT);
	ck_assert_int_eq(flz_mixer_set_loop_region(m, -1, 0, -1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_loop_region(m, 0, 10, 10), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_loop_region(m, 0, -1, 10), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_loop_region(m, 0, 0, 401), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_loop_region(m, 0, 400, -1), -EINVAL);
	/* Pausing or resuming a pad that does not play is no error. */
	ck_assert_int_eq(flz_mixer_pause_slot(m, 9), 0);
	ck_assert_int_eq(flz_mixer_resume_slot(m, 9), 0);
	float *out = floats(1000), *ref = floats(1000);
	render(m, out, 1000, 100);
	render(twin, ref, 1000, 100);
	for (uint32_t i = 0; i < 1000 * CH; i++)
		ck_assert_msg(out[i] == ref[i], "changed at frame %u", i / CH);
	ck_assert_int_eq(r.n_started, 1);
	free(out);
	free(ref);
	flz_mixer_destroy(m);
	flz_mixer_destroy(twin);
	flz_sample_unref(s);
}
END_TEST

TCase *mixer_case_trigger(void)
{
	return mixer_tcase("mixer:trigger", test_trigger);
}

TCase *mixer_case_exclusive(void)
{
	return mixer_tcase("mixer:exclusive", test_exclusive);
}

TCase *mixer_case_pad_gain(void)
{
	return mixer_tcase("mixer:pad-gain", test_pad_gain);
}

TCase *mixer_case_pad_speed(void)
{
	return mixer_tcase("mixer:pad-speed", test_pad_speed);
}

TCase *mixer_case_loop_region(void)
{
	return mixer_tcase("mixer:loop-region", test_loop_region);
}

TCase *mixer_case_pause(void)
{
	return mixer_tcase("mixer:pause", test_pause);
}

TCase *mixer_case_seek(void)
{
	return mixer_tcase("mixer:seek", test_seek);
}

TCase *mixer_case_stage(void)
{
	return mixer_tcase("mixer:stage", test_stage);
}

TCase *mixer_case_stage_params(void)
{
	return mixer_tcase("mixer:stage-params", test_stage_params);
}

TCase *mixer_case_stage_transparent(void)
{
	return mixer_tcase("mixer:stage-transparent", test_stage_transparent);
}

TCase *mixer_case_pad_args(void)
{
	return mixer_tcase("mixer:pad-args", test_pad_args);
}
