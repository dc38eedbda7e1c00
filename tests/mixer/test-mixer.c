/* SPDX-License-Identifier: MIT */
/*
 * libmixer tests. Every check compares content sample by sample with what
 * it must be; each tolerance is stated where it is used. Retired samples are
 * freed inside the retire callback, as a control side would, so under
 * valgrind any later read of them is reported.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flz/mixer.h>

#include "flz-test.h"

#define RATE 48000
#define CH 2
#define MAX_REC 512

/* ---- Fixture: a mixer with recording callbacks ---- */

struct rec {
	const struct flz_sample *retired[MAX_REC];
	/* The sample's reference count when it arrived (the callback's one included). */
	int refs_at_retire[MAX_REC];
	int n_retired;
	struct flz_mixer_event events[MAX_REC];
	int n_events;
	/* When a sample arrives with this many references (the test's own and
	 * the retired one), fill its frames with NaN: the mixer must never read
	 * a retired load's frames again, and a NaN would show in the output. */
	int poison_at_refs;
};

static void on_retire(void *userdata, struct flz_sample *s)
{
	struct rec *r = userdata;
	ck_assert_int_lt(r->n_retired, MAX_REC);
	int refs = atomic_load(&s->refcount);
	/* The callback receives one reference: the one the load handed over. */
	ck_assert_int_ge(refs, 1);
	if (r->poison_at_refs > 0 && refs == r->poison_at_refs)
		for (int64_t i = 0; i < s->n_frames * s->n_channels; i++)
			s->data[i] = NAN;
	r->refs_at_retire[r->n_retired] = refs;
	r->retired[r->n_retired++] = s;
	flz_sample_unref(s);
}

static void on_event(void *userdata, const struct flz_mixer_event *ev)
{
	struct rec *r = userdata;
	ck_assert_int_lt(r->n_events, MAX_REC);
	r->events[r->n_events++] = *ev;
}

static struct flz_mixer_config mk_config(struct rec *r)
{
	struct flz_mixer_config c = flz_mixer_config_init();
	c.retire = on_retire;
	c.event = on_event;
	c.userdata = r;
	return c;
}

static struct flz_mixer *new_mixer_cfg(const struct flz_mixer_config *c)
{
	struct flz_mixer *m = NULL;
	ck_assert_int_eq(flz_mixer_new(c, &m), 0);
	ck_assert_ptr_nonnull(m);
	return m;
}

static struct flz_mixer *new_mixer(struct rec *r)
{
	struct flz_mixer_config c = mk_config(r);
	return new_mixer_cfg(&c);
}

static struct flz_sample *noise_sample(int64_t n_frames, uint32_t seed, double amp)
{
	struct flz_sample *s = flz_sample_new(n_frames, CH, RATE);
	ck_assert_ptr_nonnull(s);
	flz_test_noise(s->data, (size_t)n_frames * CH, amp, seed);
	return s;
}

static struct flz_sample *dc_sample(int64_t n_frames, float value)
{
	struct flz_sample *s = flz_sample_new(n_frames, CH, RATE);
	ck_assert_ptr_nonnull(s);
	for (int64_t i = 0; i < n_frames * CH; i++)
		s->data[i] = value;
	return s;
}

/* Every frame distinct, so a gap or a repeated frame shows. */
static struct flz_sample *pattern_sample(int64_t n_frames)
{
	struct flz_sample *s = flz_sample_new(n_frames, CH, RATE);
	ck_assert_ptr_nonnull(s);
	for (int64_t f = 0; f < n_frames; f++) {
		s->data[f * CH] = (float)(f + 1) / (float)(n_frames + 1);
		s->data[f * CH + 1] = -(float)(f + 1) / (float)(n_frames + 1);
	}
	return s;
}

static void load(struct flz_mixer *m, int32_t slot, struct flz_sample *s)
{
	ck_assert_int_eq(flz_mixer_load(m, slot, s), 0);
}

static void play(struct flz_mixer *m, int32_t slot, float gain)
{
	ck_assert_int_eq(flz_mixer_play(m, slot, gain), 1);
}

static void render(struct flz_mixer *m, float *out, uint32_t n_frames, uint32_t block)
{
	for (uint32_t done = 0; done < n_frames;) {
		uint32_t n = n_frames - done < block ? n_frames - done : block;
		ck_assert_int_eq(flz_mixer_render(m, out + (size_t)done * CH, n), 0);
		done += n;
	}
}

static float *floats(size_t n_frames)
{
	float *p = calloc(n_frames * CH + 1, sizeof(float));
	ck_assert_ptr_nonnull(p);
	return p;
}

/* ---- mixer:config ---- */

START_TEST(test_config)
{
	struct flz_mixer_config d = flz_mixer_config_init();
	ck_assert_uint_eq(d.rate_hz, 48000);
	ck_assert_uint_eq(d.n_channels, 2);
	ck_assert_uint_eq(d.max_block_frames, 4096);
	ck_assert_float_eq(d.voice_ramp_ms, 5.0f);
	ck_assert_float_eq(d.master_ramp_ms, 10.0f);
	ck_assert_float_eq(d.speed_ramp_ms, 20.0f);
	ck_assert_float_eq(d.master_gain, 1.0f);
	ck_assert(d.speed == 1.0);
	ck_assert(d.retire == NULL);

	struct rec r = { 0 };
	struct flz_mixer *m = (struct flz_mixer *)&r; /* must stay untouched */
	/* No retire callback. */
	ck_assert_int_eq(flz_mixer_new(&d, &m), -EINVAL);
	ck_assert_ptr_eq(m, (struct flz_mixer *)&r);
	ck_assert_int_eq(flz_mixer_new(NULL, &m), -EINVAL);

	struct flz_mixer_config bad[16];
	int n_bad = 0;
	for (int i = 0; i < 14; i++)
		bad[i] = mk_config(&r);
	bad[n_bad++].rate_hz = FLZ_RATE_MIN_HZ - 1;
	bad[n_bad++].rate_hz = FLZ_RATE_MAX_HZ + 1;
	bad[n_bad++].n_channels = 0;
	bad[n_bad++].n_channels = FLZ_MAX_CHANNELS + 1;
	bad[n_bad++].max_block_frames = 0;
	bad[n_bad++].max_block_frames = FLZ_MAX_BLOCK_FRAMES + 1;
	bad[n_bad++].voice_ramp_ms = -1.0f;
	bad[n_bad++].master_ramp_ms = NAN;
	bad[n_bad++].speed_ramp_ms = INFINITY;
	bad[n_bad++].master_gain = 1.5f;
	bad[n_bad++].master_gain = NAN;
	bad[n_bad++].speed = 0.25;
	bad[n_bad++].speed = 2.5;
	bad[n_bad++].speed = NAN;
	for (int i = 0; i < n_bad; i++) {
		m = (struct flz_mixer *)&r;
		ck_assert_msg(flz_mixer_new(&bad[i], &m) == -EINVAL, "bad config %d accepted", i);
		ck_assert_ptr_eq(m, (struct flz_mixer *)&r);
	}

	struct flz_mixer_config c = mk_config(&r);
	c.n_channels = 1;
	c.rate_hz = 44100;
	m = new_mixer_cfg(&c);
	struct flz_mixer_config got = flz_mixer_get_config(m);
	ck_assert_uint_eq(got.n_channels, 1);
	ck_assert_uint_eq(got.rate_hz, 44100);
	/* Commands take effect at the next output frame: no delay. */
	ck_assert_uint_eq(flz_mixer_latency_frames(m), 0);
	ck_assert_int_eq(flz_mixer_frame(m), 0);
	flz_mixer_destroy(m);
	flz_mixer_destroy(NULL);
}
END_TEST

/* ---- mixer:latency ---- */

/* An impulse at the sample's first frame appears at output frame
 * latency_frames exactly, with its value unchanged, and nothing before. */
START_TEST(test_latency)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	const uint32_t lat = flz_mixer_latency_frames(m);
	struct flz_sample *s = dc_sample(2000, 0.0f);
	s->data[0] = 1.0f;
	s->data[1] = -0.5f;
	load(m, 7, s);
	play(m, 7, 1.0f);
	float *out = floats(1000);
	render(m, out, 1000, 1000);
	for (uint32_t i = 0; i < 1000; i++) {
		float l = i == lat ? 1.0f : 0.0f, rr = i == lat ? -0.5f : 0.0f;
		ck_assert_msg(out[i * CH] == l && out[i * CH + 1] == rr, "frame %u", i);
	}
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

/* ---- mixer:immediate ---- */

/* Commands in the middle of playback take effect at the next output frame,
 * whichever render path ran before (64- and 100-frame blocks take the
 * steady path, its cached form or, where a loop point falls inside a block
 * and with the generic kernels, its general code; 7 and 1 the fast path
 * without it), and
 * however many voices play: a play's first frame is the next output frame,
 * and a stop's fade starts there. A DC voice at 0.5 plays; then one
 * command batch plays an impulse at 0.25 and stops the DC voice. Output
 * frame i after the batch is 0.25 x impulse[i] + 0.5 x (R - i - 1) / R
 * (fade frames 1 .. R - 1, then 0), tolerance 1e-6 (the stop subtracts
 * the DC voice from the rendered sum: one float rounding); where that is 0
 * the output must be exactly 0. In the second round a third voice at 0.125
 * keeps playing underneath. */
START_TEST(test_immediate)
{
	static const uint32_t blocks[] = { 64, 100, 7, 1 };
	const uint32_t ramp = 240, before = 1000, after = 600;
	float *out = floats(before + after);
	for (int extra = 0; extra < 2; extra++) {
		for (size_t bi = 0; bi < sizeof(blocks) / sizeof(blocks[0]); bi++) {
			struct rec r = { 0 };
			struct flz_mixer *m = new_mixer(&r);
			load(m, 0, dc_sample(333, 1.0f));
			struct flz_sample *imp = dc_sample(5000, 0.0f);
			imp->data[0] = 1.0f;
			imp->data[1] = -0.5f;
			imp->data[2] = 0.75f;
			imp->data[3] = 0.25f;
			load(m, 1, imp);
			load(m, 2, dc_sample(100, 1.0f));
			play(m, 0, 0.5f);
			if (extra)
				play(m, 2, 0.125f);
			render(m, out, before, blocks[bi]);
			const double under = extra ? 0.125 : 0.0;
			for (uint32_t i = 0; i < before * CH; i++)
				ck_assert_msg(out[i] == (float)(0.5 + under), "before: sample %u", i);
			play(m, 1, 0.25f);
			ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 9), 1);
			render(m, out, after, blocks[bi]);
			for (uint32_t i = 0; i < after; i++)
				for (uint32_t ch = 0; ch < CH; ch++) {
					double fade = i + 1 < ramp ? 0.5 * (ramp - i - 1) / ramp : 0.0;
					double impulse = i < 2 ? 0.25 * imp->data[i * CH + ch] : 0.0;
					double expect = impulse + fade + under;
					float x = out[i * CH + ch];
					if (expect == 0.0)
						ck_assert_msg(x == 0.0f, "block %u frame %u: %g", blocks[bi], i, x);
					else
						ck_assert_msg(fabs(x - expect) <= 1e-6,
							      "block %u extra %d frame %u ch %u: %.8f vs %.8f",
							      blocks[bi], extra, i, ch, x, expect);
				}
			ck_assert_int_eq(r.n_events, 1);
			flz_mixer_destroy(m);
		}
	}

	/* At another speed (0.73, after its glide), an impulse played between
	 * blocks starts at the first source frame the output has not passed,
	 * less than 1 / 0.73 output frames later: it peaks (> 0.5) in one of
	 * the first two output frames after the command, at any phase. */
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	struct flz_sample *imp = dc_sample(5000, 0.0f);
	imp->data[0] = imp->data[1] = 1.0f;
	load(m, 1, imp);
	ck_assert_int_eq(flz_mixer_set_speed(m, 0.73), 0);
	for (int round = 0; round < 12; round++) {
		render(m, out, 997, 64);
		play(m, 1, 1.0f);
		render(m, out, 100, 64);
		uint32_t peak = 0;
		for (uint32_t i = 1; i < 100; i++)
			if (fabsf(out[i * CH]) > fabsf(out[peak * CH]))
				peak = i;
		ck_assert_msg(peak <= 1 && out[peak * CH] > 0.5f, "round %d: peak at %u (%g)", round,
			      peak, out[peak * CH]);
		ck_assert_int_eq(flz_mixer_stop_all(m, 1), 1);
	}
	flz_mixer_destroy(m);
	free(out);
}
END_TEST

/* ---- mixer:gain ---- */

/* The mix equals the sum of each voice times its gain times the master
 * gain, sample by sample (tolerance 1e-6: float rounding of a sum of three
 * terms below 0.5), delayed by the constant latency; then a master change
 * glides linearly over master_ramp_ms and holds exactly. */
START_TEST(test_gain)
{
	struct rec r = { 0 };
	struct flz_mixer_config c = mk_config(&r);
	c.master_gain = 0.75f;
	struct flz_mixer *m = new_mixer_cfg(&c);
	const uint32_t lat = flz_mixer_latency_frames(m);
	const int64_t lens[3] = { 1000, 777, 50 };
	const float gains[3] = { 0.9f, 0.4f, 1.0f };
	struct flz_sample *s[3];
	for (int v = 0; v < 3; v++) {
		s[v] = noise_sample(lens[v], (uint32_t)v + 1, 0.5);
		flz_sample_ref(s[v]); /* keep one to compute the expectation */
		load(m, v, s[v]);
		play(m, v, gains[v]);
	}
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 3);
	const uint32_t n1 = 3000, n2 = 2000, ramp = 480; /* 10 ms at 48 kHz */
	float *out = floats(n1 + n2);
	render(m, out, n1, 128);
	ck_assert_int_eq(flz_mixer_set_master_gain(m, 0.25f), 0);
	render(m, out + n1 * CH, n2, 100);
	for (uint32_t i = 0; i < n1 + n2; i++) {
		double master;
		if (i < n1)
			master = 0.75;
		else if (i - n1 + 1 < ramp)
			master = 0.75 + (0.25 - 0.75) * (double)(i - n1 + 1) / ramp;
		else
			master = 0.25;
		for (uint32_t ch = 0; ch < CH; ch++) {
			double sum = 0.0;
			if (i >= lat)
				for (int v = 0; v < 3; v++)
					sum += gains[v] * s[v]->data[((i - lat) % lens[v]) * CH + ch];
			double expect = master * sum;
			ck_assert_msg(fabs(out[i * CH + ch] - expect) <= 1e-6, "frame %u: %g vs %g",
				      i, out[i * CH + ch], expect);
		}
	}
	free(out);
	flz_mixer_destroy(m);
	for (int v = 0; v < 3; v++)
		flz_sample_unref(s[v]);
	ck_assert_int_eq(r.n_retired, 0);
}
END_TEST

/* ---- mixer:loop ---- */

/* A looping voice wraps exactly, through the whole mixer, across loop
 * lengths and block sizes (exact comparison: gain 1 copies the value). */
START_TEST(test_loop)
{
	static const int64_t lens[] = { 1, 2, 3, 31, 64, 65, 1001 };
	static const uint32_t blocks[] = { 1, 7, 64, 113, 512, 4096 };
	const uint32_t total = 5000;
	float *out = floats(total);
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		for (size_t bi = 0; bi < sizeof(blocks) / sizeof(blocks[0]); bi++) {
			struct rec r = { 0 };
			struct flz_mixer *m = new_mixer(&r);
			const uint32_t lat = flz_mixer_latency_frames(m);
			struct flz_sample *s = pattern_sample(lens[li]);
			flz_sample_ref(s);
			load(m, 0, s);
			play(m, 0, 1.0f);
			render(m, out, total, blocks[bi]);
			for (uint32_t i = 0; i < total; i++)
				for (uint32_t ch = 0; ch < CH; ch++) {
					float expect = i < lat ? 0.0f
							       : s->data[((i - lat) % lens[li]) * CH + ch];
					ck_assert_msg(out[i * CH + ch] == expect,
						      "len %lld block %u frame %u",
						      (long long)lens[li], blocks[bi], i);
				}
			flz_mixer_destroy(m);
			flz_sample_unref(s);
		}
	}
	free(out);
}
END_TEST

/* ---- mixer:stop ---- */

/* A stop fades over the 5 ms voice ramp (R = 240 frames) to exact zero:
 * frame k of the fade is 0.8 (R - k) / R (tolerance 1e-6), frame R and
 * later are exactly 0, no step between adjacent frames exceeds 0.8 / R
 * (+1e-6), and one Stopped event arrives, only after the output has played
 * the last non-zero frame. */
START_TEST(test_stop)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	const uint32_t lat = flz_mixer_latency_frames(m), ramp = 240;
	const float g = 0.8f;
	load(m, 4, dc_sample(333, 1.0f));
	play(m, 4, g);
	const uint32_t before = 500, total = before + lat + ramp + 400;
	float *out = floats(total);
	render(m, out, before, 100);
	ck_assert_int_eq(flz_mixer_stop_slot(m, 4, 77), 1);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 0);
	ck_assert_uint_eq(flz_mixer_voices_fading(m), 1);
	const uint32_t first_fade = before + lat; /* output frame of fade frame k = 1 */
	const uint32_t last_nonzero = first_fade + ramp - 2;
	int64_t arrived_after = -1;
	for (uint32_t done = before; done < total;) {
		uint32_t n = total - done < 64 ? total - done : 64;
		ck_assert_int_eq(flz_mixer_render(m, out + done * CH, n), 0);
		done += n;
		if (r.n_events > 0 && arrived_after < 0)
			arrived_after = done;
	}
	for (uint32_t i = lat; i < total; i++) {
		double expect;
		if (i < first_fade)
			expect = g;
		else if (i <= last_nonzero)
			expect = g * (double)(ramp - (i - first_fade + 1)) / ramp;
		else
			expect = 0.0;
		for (uint32_t ch = 0; ch < CH; ch++) {
			float x = out[i * CH + ch];
			if (expect == 0.0)
				ck_assert_msg(x == 0.0f, "frame %u not exactly zero: %g", i, x);
			else
				ck_assert_msg(fabs(x - expect) <= 1e-6, "frame %u: %g vs %g", i, x,
					      expect);
			if (i > lat)
				ck_assert_msg(fabs(x - out[(i - 1) * CH + ch]) <= g / ramp + 1e-6,
					      "step at %u", i);
		}
	}
	ck_assert_int_eq(r.n_events, 1);
	ck_assert_int_eq(r.events[0].kind, FLZ_MIXER_EVENT_STOPPED);
	ck_assert_uint_eq(r.events[0].token, 77);
	ck_assert_int_eq(r.events[0].slot, 4);
	/* Reported at or after the last non-zero output frame, within the
	 * interpolator's reach (32 frames) of it, and sent only once that
	 * frame had been rendered. */
	ck_assert_int_ge(r.events[0].frame, last_nonzero);
	ck_assert_int_le(r.events[0].frame, last_nonzero + 32);
	ck_assert_int_gt(arrived_after, r.events[0].frame);
	ck_assert_uint_eq(flz_mixer_voices_fading(m), 0);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

/* ---- mixer:events ---- */

/* One Stopped event per stop command that silenced at least one voice, in
 * command order, none for commands that silenced nothing. */
START_TEST(test_events)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	float *out = floats(2000);
	load(m, 0, noise_sample(100, 1, 0.1));
	load(m, 1, noise_sample(100, 2, 0.1));
	/* Nothing plays: nothing to stop. */
	ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 1), 0);
	ck_assert_int_eq(flz_mixer_stop_all(m, 2), 0);
	ck_assert_int_eq(flz_mixer_unload(m, 5, 3), 0); /* empty slot */
	render(m, out, 2000, 256);
	ck_assert_int_eq(r.n_events, 0);

	play(m, 0, 0.5f);
	play(m, 0, 0.5f);
	play(m, 1, 0.5f);
	ck_assert_int_eq(flz_mixer_play(m, 9, 0.5f), 0); /* empty slot: ignored */
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 3);
	render(m, out, 100, 100);
	ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 10), 2);
	ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 11), 0); /* already fading */
	ck_assert_int_eq(flz_mixer_stop_all(m, 12), 1);      /* only slot 1's voice */
	ck_assert_int_eq(flz_mixer_stop_all(m, 13), 0);
	render(m, out, 2000, 256);
	ck_assert_int_eq(r.n_events, 2);
	ck_assert_uint_eq(r.events[0].token, 10);
	ck_assert_int_eq(r.events[0].slot, 0);
	ck_assert_uint_eq(r.events[1].token, 12);
	ck_assert_int_eq(r.events[1].slot, -1);
	ck_assert_int_le(r.events[0].frame, r.events[1].frame);

	/* Unload stops the slot's voices: one event. */
	play(m, 1, 0.5f);
	ck_assert_int_eq(flz_mixer_unload(m, 1, 20), 1);
	ck_assert_int_eq(flz_mixer_play(m, 1, 0.5f), 0); /* now empty */
	render(m, out, 2000, 333);
	ck_assert_int_eq(r.n_events, 3);
	ck_assert_uint_eq(r.events[2].token, 20);
	ck_assert_int_eq(r.events[2].slot, 1);
	ck_assert_int_eq(r.n_retired, 1);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

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

/* ---- mixer:steal ---- */

/* Beyond MAX_VOICES, the earliest-started playing voice is stolen: it fades
 * without an event, and later stops of its slot find nothing to stop. */
START_TEST(test_steal)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	float *out = floats(2000);
	for (int i = 0; i < 40; i++)
		load(m, i, dc_sample(64, 1.0f));
	for (int i = 0; i < FLZ_MAX_VOICES; i++)
		play(m, i, 0.01f);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), FLZ_MAX_VOICES);
	render(m, out, 100, 100);
	play(m, 32, 0.01f);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), FLZ_MAX_VOICES);
	ck_assert_uint_eq(flz_mixer_voices_fading(m), 1);
	ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 1), 0); /* stolen */
	ck_assert_int_eq(flz_mixer_stop_slot(m, 1, 2), 1);
	play(m, 33, 0.01f); /* 31 were playing: nothing stolen */
	ck_assert_uint_eq(flz_mixer_voices_playing(m), FLZ_MAX_VOICES);
	play(m, 34, 0.01f); /* slot 1 is fading, so slot 2's voice goes */
	ck_assert_int_eq(flz_mixer_stop_slot(m, 2, 3), 0);
	ck_assert_int_eq(flz_mixer_stop_slot(m, 3, 4), 1);
	render(m, out, 2000, 512);
	ck_assert_int_eq(r.n_events, 2);
	ck_assert_uint_eq(r.events[0].token, 2);
	ck_assert_uint_eq(r.events[1].token, 4);
	/* 31 voices remain at 0.01 each: slots 4..31 and 32..34. */
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 31);
	ck_assert_uint_eq(flz_mixer_voices_fading(m), 0);
	double expect = 31 * 0.01;
	ck_assert_msg(fabs(out[1999 * CH] - expect) <= 1e-6, "%g", out[1999 * CH]);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

/* When the fade slots are full too, the fading voice closest to silence is
 * cut. Gains are distinct, so the first output frame tells exactly which
 * voices sound: the 32 new ones at full gain and every fading one except
 * the quietest at (R - 1) / R of its gain (tolerance 1e-5). */
START_TEST(test_steal_cut)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	const uint32_t lat = flz_mixer_latency_frames(m), ramp = 240;
	for (int i = 0; i < 65; i++)
		load(m, i, dc_sample(64, 1.0f));
	/* Slot i plays at gain (i + 1) / 256. */
	for (int i = 0; i < 64; i++)
		play(m, i, (float)(i + 1) / 256.0f);
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 32);
	ck_assert_uint_eq(flz_mixer_voices_fading(m), 32);
	play(m, 64, 65.0f / 256.0f); /* steals slot 32's voice; cuts slot 0's */
	ck_assert_uint_eq(flz_mixer_voices_playing(m), 32);
	ck_assert_uint_eq(flz_mixer_voices_fading(m), 32);
	float *out = floats(lat + 1);
	render(m, out, lat + 1, 4096);
	double expect = 0.0;
	for (int i = 33; i <= 64; i++)
		expect += (i + 1) / 256.0;
	for (int i = 1; i <= 32; i++)
		expect += (i + 1) / 256.0 * (ramp - 1) / ramp;
	ck_assert_msg(fabs(out[lat * CH] - expect) <= 1e-5, "%.7f vs %.7f", out[lat * CH], expect);
	ck_assert_int_eq(r.n_events, 0);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

/* ---- mixer:split ---- */

enum op { OP_PLAY, OP_STOP, OP_STOP_ALL, OP_SPEED, OP_MASTER, OP_UNLOAD };
struct cmd {
	uint32_t frame;
	enum op op;
	int32_t slot;
	double value;
};

static const struct cmd schedule[] = {
	{ 0, OP_PLAY, 0, 0.7 },       { 0, OP_PLAY, 1, 0.5 },      { 700, OP_PLAY, 2, 0.9 },
	{ 1000, OP_SPEED, 0, 1.37 },  { 1000, OP_MASTER, 0, 0.6 }, { 1500, OP_STOP, 0, 0 },
	{ 2500, OP_PLAY, 0, 0.3 },    { 3000, OP_SPEED, 0, 0.73 }, { 3001, OP_PLAY, 1, 1.0 },
	{ 4500, OP_SPEED, 0, 2.0 },   { 5200, OP_UNLOAD, 2, 0 },   { 6000, OP_SPEED, 0, 1.0 },
	{ 6000, OP_MASTER, 0, 1.0 },  { 7000, OP_STOP_ALL, 0, 0 },
};
#define SPLIT_TOTAL 9000

/* Render the schedule with the given block pattern (cycled), splitting
 * blocks at command frames. */
static void run_schedule(float *out, struct rec *r, const uint32_t *blocks, size_t n_blocks)
{
	struct flz_mixer *m = new_mixer(r);
	load(m, 0, noise_sample(3000, 1, 0.3));
	load(m, 1, noise_sample(1234, 2, 0.3));
	load(m, 2, noise_sample(99, 3, 0.3));
	size_t next = 0, bi = 0;
	uint32_t pos = 0;
	const size_t n_cmds = sizeof(schedule) / sizeof(schedule[0]);
	while (pos < SPLIT_TOTAL) {
		while (next < n_cmds && schedule[next].frame == pos) {
			const struct cmd *c = &schedule[next++];
			switch (c->op) {
			case OP_PLAY:
				play(m, c->slot, (float)c->value);
				break;
			case OP_STOP:
				ck_assert_int_ge(flz_mixer_stop_slot(m, c->slot, (uint32_t)next), 0);
				break;
			case OP_STOP_ALL:
				ck_assert_int_ge(flz_mixer_stop_all(m, (uint32_t)next), 0);
				break;
			case OP_UNLOAD:
				ck_assert_int_ge(flz_mixer_unload(m, c->slot, (uint32_t)next), 0);
				break;
			case OP_SPEED:
				ck_assert_int_eq(flz_mixer_set_speed(m, c->value), 0);
				break;
			case OP_MASTER:
				ck_assert_int_eq(flz_mixer_set_master_gain(m, (float)c->value), 0);
				break;
			}
		}
		uint32_t n = blocks[bi++ % n_blocks];
		uint32_t limit = next < n_cmds ? schedule[next].frame : SPLIT_TOTAL;
		if (pos + n > limit)
			n = limit - pos;
		ck_assert_int_eq(flz_mixer_render(m, out + (size_t)pos * CH, n), 0);
		pos += n;
	}
	flz_mixer_destroy(m);
}

/* render(n) in one call equals render in many smaller calls, bit for bit,
 * through speed and master glides, stops, unloads and events. */
START_TEST(test_split)
{
	static const uint32_t whole[] = { 4096 };
	static const uint32_t ones[] = { 1 };
	static const uint32_t odd[] = { 7, 64, 1, 333, 2, 4096, 5, 128, 13 };
	uint32_t random_blocks[97];
	uint32_t x = 12345;
	for (int i = 0; i < 97; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		random_blocks[i] = 1 + x % 700;
	}
	const uint32_t *patterns[] = { ones, odd, random_blocks };
	const size_t lens[] = { 1, 9, 97 };
	float *ref = floats(SPLIT_TOTAL), *out = floats(SPLIT_TOTAL);
	struct rec r_ref = { 0 };
	run_schedule(ref, &r_ref, whole, 1);
	ck_assert_int_eq(r_ref.n_events, 3); /* stop, unload, stop all */
	ck_assert_int_eq(r_ref.n_retired, 1); /* the unloaded sample */
	for (int p = 0; p < 3; p++) {
		struct rec r = { 0 };
		memset(out, 0, SPLIT_TOTAL * CH * sizeof(float));
		run_schedule(out, &r, patterns[p], lens[p]);
		for (size_t i = 0; i < SPLIT_TOTAL * CH; i++)
			ck_assert_msg(out[i] == ref[i], "pattern %d differs at frame %zu", p, i / CH);
		ck_assert_int_eq(r.n_events, r_ref.n_events);
		for (int e = 0; e < r.n_events; e++) {
			ck_assert_uint_eq(r.events[e].token, r_ref.events[e].token);
			ck_assert_int_eq(r.events[e].slot, r_ref.events[e].slot);
			ck_assert_int_eq(r.events[e].frame, r_ref.events[e].frame);
		}
	}
	free(ref);
	free(out);
}
END_TEST

/* ---- mixer:sizes ---- */

/* render() with 0, 1, an odd count and the maximum number of frames: the
 * content is the delayed sample exactly at speed 1, and block-invariant at
 * speed 1.37; one frame more than the maximum is refused and writes nothing. */
START_TEST(test_sizes)
{
	static const uint32_t max_blocks[] = { 4096, FLZ_MAX_BLOCK_FRAMES };
	for (int mi = 0; mi < 2; mi++) {
		const uint32_t max = max_blocks[mi];
		const uint32_t sizes[] = { 0, 1, 37, max };
		const uint32_t total = 1 + 37 + max;
		for (int sp = 0; sp < 2; sp++) {
			struct rec r = { 0 }, r2 = { 0 };
			struct flz_mixer_config c = mk_config(&r);
			c.max_block_frames = max;
			c.speed = sp ? 1.37 : 1.0;
			struct flz_mixer *m = new_mixer_cfg(&c);
			c.userdata = &r2;
			struct flz_mixer *twin = new_mixer_cfg(&c);
			const uint32_t lat = flz_mixer_latency_frames(m);
			struct flz_sample *s = pattern_sample(5000);
			flz_sample_ref(s);
			flz_sample_ref(s);
			load(m, 0, s);
			load(twin, 0, s);
			play(m, 0, 1.0f);
			play(twin, 0, 1.0f);
			float *out = floats(total + 1), *ref = floats(total + 1);
			uint32_t done = 0;
			for (int si = 0; si < 4; si++) {
				out[(done + sizes[si]) * CH] = 42.0f; /* guard */
				ck_assert_int_eq(flz_mixer_render(m, out + done * CH, sizes[si]), 0);
				ck_assert_float_eq(out[(done + sizes[si]) * CH], 42.0f);
				done += sizes[si];
				ck_assert_int_eq(flz_mixer_frame(m), done);
			}
			float probe = 42.0f;
			ck_assert_int_eq(flz_mixer_render(m, &probe, max + 1), -EINVAL);
			ck_assert_float_eq(probe, 42.0f);
			ck_assert_int_eq(flz_mixer_frame(m), total);
			render(twin, ref, total, 5);
			for (uint32_t i = 0; i < total * CH; i++) {
				if (sp == 0) {
					uint32_t f = i / CH;
					float expect = f < lat ? 0.0f : s->data[((f - lat) % 5000) * CH + i % CH];
					ck_assert_msg(out[i] == expect, "max %u frame %u", max, f);
				}
				ck_assert_msg(out[i] == ref[i], "max %u speed %d differs at %u", max, sp,
					      i / CH);
			}
			free(out);
			free(ref);
			flz_mixer_destroy(m);
			flz_mixer_destroy(twin);
			flz_sample_unref(s);
		}
	}
}
END_TEST

/* ---- mixer:args ---- */

/* Bad arguments return -EINVAL and change nothing: a mixer that received
 * them renders exactly what its twin without them renders. */
START_TEST(test_args)
{
	struct rec ra = { 0 }, rb = { 0 };
	struct flz_mixer *a = new_mixer(&ra), *b = new_mixer(&rb);
	struct flz_sample *s = noise_sample(700, 9, 0.4);
	flz_sample_ref(s); /* one for each mixer, one kept here */
	flz_sample_ref(s);
	load(a, 0, s);
	load(b, 0, s);
	play(a, 0, 0.5f);
	play(b, 0, 0.5f);

	ck_assert_int_eq(flz_mixer_play(a, -1, 0.5f), -EINVAL);
	ck_assert_int_eq(flz_mixer_play(a, FLZ_NUM_SAMPLES, 0.5f), -EINVAL);
	ck_assert_int_eq(flz_mixer_play(a, 0, -0.01f), -EINVAL);
	ck_assert_int_eq(flz_mixer_play(a, 0, 1.01f), -EINVAL);
	ck_assert_int_eq(flz_mixer_play(a, 0, NAN), -EINVAL);
	ck_assert_int_eq(flz_mixer_play(a, 0, INFINITY), -EINVAL);
	ck_assert_int_eq(flz_mixer_stop_slot(a, -1, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_stop_slot(a, FLZ_NUM_SAMPLES, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_unload(a, -1, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_unload(a, FLZ_NUM_SAMPLES, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_master_gain(a, -0.1f), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_master_gain(a, 1.1f), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_master_gain(a, NAN), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_speed(a, 0.49), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_speed(a, 2.01), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_speed(a, NAN), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_speed(a, INFINITY), -EINVAL);

	struct flz_sample *other_rate = flz_sample_new(100, CH, 44100);
	struct flz_sample *mono = flz_sample_new(100, 1, RATE);
	ck_assert_ptr_nonnull(other_rate);
	ck_assert_ptr_nonnull(mono);
	memset(other_rate->data, 0, 100 * CH * sizeof(float));
	memset(mono->data, 0, 100 * sizeof(float));
	struct flz_sample *good = noise_sample(100, 4, 0.5);
	ck_assert_int_eq(flz_mixer_load(a, -1, good), -EINVAL);
	ck_assert_int_eq(flz_mixer_load(a, FLZ_NUM_SAMPLES, good), -EINVAL);
	ck_assert_int_eq(flz_mixer_load(a, 0, NULL), -EINVAL);
	ck_assert_int_eq(flz_mixer_load(a, 0, other_rate), -EINVAL);
	ck_assert_int_eq(flz_mixer_load(a, 0, mono), -EINVAL);
	/* The caller kept its references. */
	ck_assert_int_eq(atomic_load(&good->refcount), 1);
	ck_assert_int_eq(atomic_load(&other_rate->refcount), 1);
	ck_assert_int_eq(atomic_load(&mono->refcount), 1);
	flz_sample_unref(good);
	flz_sample_unref(other_rate);
	flz_sample_unref(mono);

	float *oa = floats(4097), *ob = floats(4097);
	oa[0] = 5.0f;
	ck_assert_int_eq(flz_mixer_render(a, oa, 4097), -EINVAL);
	ck_assert_float_eq(oa[0], 5.0f);
	ck_assert_int_eq(flz_mixer_render(a, NULL, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_frame(a), 0);
	ck_assert_uint_eq(flz_mixer_voices_playing(a), 1);

	render(a, oa, 3000, 256);
	render(b, ob, 3000, 256);
	for (uint32_t i = 0; i < 3000 * CH; i++)
		ck_assert_msg(oa[i] == ob[i], "differs at %u", i / CH);
	ck_assert_int_eq(ra.n_retired, 0);
	ck_assert_int_eq(ra.n_events, 0);
	free(oa);
	free(ob);
	flz_mixer_destroy(a);
	flz_mixer_destroy(b);
	flz_sample_unref(s);
}
END_TEST

/* ---- mixer:master ---- */

/* Master gain glides linearly per output frame over master_ramp_ms
 * (R = 480 frames), taking effect at the next output frame: a fade to 0
 * reaches exact zero at frame R, and no step exceeds 1 / R. At speed 1 the
 * values are exact to 1e-6; at speed 1.37 (through the interpolator, whose
 * DC gain is 1 within 1e-4) to 1e-4. */
START_TEST(test_master)
{
	for (int sp = 0; sp < 2; sp++) {
		struct rec r = { 0 };
		struct flz_mixer_config c = mk_config(&r);
		c.speed = sp ? 1.37 : 1.0;
		struct flz_mixer *m = new_mixer_cfg(&c);
		const uint32_t ramp = 480, before = 1000, total = 3000;
		const double tol = sp ? 1e-4 : 1e-6;
		load(m, 0, dc_sample(100, 1.0f));
		play(m, 0, 1.0f);
		float *out = floats(total);
		render(m, out, before, 200);
		ck_assert_int_eq(flz_mixer_set_master_gain(m, 0.0f), 0);
		render(m, out + before * CH, total - before, 111);
		for (uint32_t i = 500; i < total; i++) {
			double expect = i < before ? 1.0
				       : i - before + 1 < ramp ? 1.0 - (double)(i - before + 1) / ramp
							       : 0.0;
			for (uint32_t ch = 0; ch < CH; ch++) {
				float x = out[i * CH + ch];
				if (expect == 0.0)
					ck_assert_msg(x == 0.0f, "speed %d frame %u: %g", sp, i, x);
				else
					ck_assert_msg(fabs(x - expect) <= tol, "speed %d frame %u: %g vs %g",
						      sp, i, x, expect);
				ck_assert_msg(fabs(x - out[(i - 1) * CH + ch]) <= 1.0 / ramp + tol,
					      "step at %u", i);
			}
		}
		/* Setting the same value again changes nothing. */
		ck_assert_int_eq(flz_mixer_set_master_gain(m, 0.0f), 0);
		render(m, out, 100, 100);
		ck_assert_float_eq(out[99 * CH], 0.0f);
		free(out);
		flz_mixer_destroy(m);
	}
}
END_TEST

/* ---- mixer:speed ---- */

struct speed_case {
	double freq_hz;
	double speed;
	/* Required: every spurious component below this (dBc). */
	double limit_dbc;
};

/*
 * Varispeed quality. A sine at 1 kHz or 10 kHz (a 1 s loop, whole cycles)
 * played at speed s must come out at s times its frequency; the power of
 * everything else (every spurious component, aliases, images and noise
 * together) relative to it, measured by fitting a sine at the expected
 * frequency over 16384 output frames after the start transient, must be
 * below -90 dBc (1 kHz) or -60 dBc (10 kHz).
 *
 * Measured on x86-64, the worse of the two channels and of the AVX2 and
 * generic interpolators (32-tap Kaiser sinc, 512 phases, linear between
 * phases), dBc:
 *   1 kHz:  x0.5 -121.5   x0.73 -114.0   x1.37 -122.6   x2.0 -141.2
 *   10 kHz: x0.5 -114.9   x0.73 -113.7   x1.37 -119.5   x2.0 -145.7
 * Level: within 0.0001 dB, except 10 kHz at x2.0 (20 kHz out, in the
 * scaled transition band): -0.014 dB.
 */
START_TEST(test_speed)
{
	static const struct speed_case cases[] = {
		{ 1000, 0.5, -90 },   { 1000, 0.73, -90 },  { 1000, 1.37, -90 },
		{ 1000, 2.0, -90 },   { 10000, 0.5, -60 },  { 10000, 0.73, -60 },
		{ 10000, 1.37, -60 }, { 10000, 2.0, -60 },
	};
	const uint32_t skip = 2048, n = 16384;
	float *out = floats(skip + n);
	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		const struct speed_case *sc = &cases[ci];
		struct rec r = { 0 };
		struct flz_mixer_config c = mk_config(&r);
		c.speed = sc->speed;
		struct flz_mixer *m = new_mixer_cfg(&c);
		struct flz_sample *s = flz_sample_new(RATE, CH, RATE);
		ck_assert_ptr_nonnull(s);
		flz_test_sine(s->data, RATE, CH, sc->freq_hz, RATE, 0.5, 0.7);
		load(m, 0, s);
		play(m, 0, 1.0f);
		render(m, out, skip + n, 512);
		for (uint32_t ch = 0; ch < CH; ch++) {
			double amp, res;
			flz_test_sine_fit(out + skip * CH + ch, n, CH, sc->freq_hz * sc->speed / RATE,
					  &amp, &res);
			double level_db = flz_test_db(amp / 0.5);
			printf("mixer:speed %5.0f Hz x %.2f ch %u: spurious %7.1f dBc, level %+.4f dB\n",
			       sc->freq_hz, sc->speed, ch, res, level_db);
			ck_assert_msg(res < sc->limit_dbc, "%g Hz x %g: %g dBc", sc->freq_hz, sc->speed,
				      res);
			/* The right frequency at the right level: a wrong frequency
			 * would leave the fit with almost nothing. */
			if (sc->freq_hz * sc->speed < 15000)
				ck_assert_msg(fabs(level_db) < 0.001, "level %g dB", level_db);
			else
				ck_assert_msg(level_db > -0.1 && level_db < 0.001, "level %g dB", level_db);
		}
		flz_mixer_destroy(m);
	}
	free(out);
}
END_TEST

/* Speed changes glide: a 1 kHz sine going from speed 1 to 2 and back never
 * steps between adjacent frames by more than a 2 kHz sine of the same level
 * can (2 pi 2000 / 48000 x 0.5, +1%), i.e. no jump in time or level; after
 * each glide the output is the sine at the new frequency (< -90 dBc). */
START_TEST(test_speed_glide)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	const uint32_t lat = flz_mixer_latency_frames(m);
	struct flz_sample *s = flz_sample_new(RATE, CH, RATE);
	ck_assert_ptr_nonnull(s);
	flz_test_sine(s->data, RATE, CH, 1000.0, RATE, 0.5, 0.0);
	load(m, 0, s);
	play(m, 0, 1.0f);
	const uint32_t seg = 8192, total = 3 * seg;
	float *out = floats(total);
	render(m, out, seg, 256);
	ck_assert_int_eq(flz_mixer_set_speed(m, 2.0), 0);
	render(m, out + seg * CH, seg, 256);
	ck_assert_int_eq(flz_mixer_set_speed(m, 1.0), 0);
	render(m, out + 2 * seg * CH, seg, 256);
	const double max_step = 2.0 * M_PI * 2000.0 / RATE * 0.5 * 1.01;
	for (uint32_t i = lat + 1; i < total; i++)
		for (uint32_t ch = 0; ch < CH; ch++)
			ck_assert_msg(fabs(out[i * CH + ch] - out[(i - 1) * CH + ch]) <= max_step,
				      "jump at %u", i);
	const uint32_t settle = 960 + 2 * lat + 64; /* speed ramp 20 ms, kernel reach */
	double amp, res;
	flz_test_sine_fit(out + (seg + settle) * CH, seg - settle, CH, 2000.0 / RATE, &amp, &res);
	ck_assert_msg(res < -90.0, "at speed 2: %g dBc", res);
	flz_test_sine_fit(out + (2 * seg + settle) * CH, seg - settle, CH, 1000.0 / RATE, &amp, &res);
	ck_assert_msg(res < -90.0, "back at speed 1: %g dBc", res);
	ck_assert_msg(fabs(flz_test_db(amp / 0.5)) < 0.01, "level %g", amp);
	free(out);
	flz_mixer_destroy(m);
}
END_TEST

/* ---- mixer:steady ---- */

/* Long runs of whole blocks at speed 1 (the steady path, which keeps its
 * setup from block to block) across many loop points, with a voice at gain
 * 0, then a start, a master change and a stop between such runs: the output
 * and the events equal those of a twin rendering one frame at a time (which
 * never takes the steady path) bit for bit, and before the start the output
 * is the delayed sum of the voices (tolerance 1e-6). */
START_TEST(test_steady)
{
	struct rec r = { 0 }, r2 = { 0 };
	struct flz_mixer *m = new_mixer(&r), *twin = new_mixer(&r2);
	const int64_t lens[4] = { 100, 257, 64, 333 };
	const float gains[4] = { 0.7f, 0.0f, 0.5f, 0.9f };
	struct flz_sample *smp[4];
	for (int v = 0; v < 4; v++) {
		smp[v] = noise_sample(lens[v], 20 + (uint32_t)v, 0.3);
		flz_sample_ref(smp[v]); /* one for each mixer, one kept here */
		flz_sample_ref(smp[v]);
		load(m, v, smp[v]);
		load(twin, v, smp[v]);
	}
	for (int v = 0; v < 3; v++) {
		play(m, v, gains[v]);
		play(twin, v, gains[v]);
	}
	enum { SEG = 1000 };
	const uint32_t blocks[4] = { 64, 96, 64, 128 };
	float *out = floats(4 * SEG), *ref = floats(4 * SEG);
	for (int seg = 0; seg < 4; seg++) {
		if (seg == 1) {
			play(m, 3, gains[3]);
			play(twin, 3, gains[3]);
		} else if (seg == 2) {
			ck_assert_int_eq(flz_mixer_set_master_gain(m, 0.5f), 0);
			ck_assert_int_eq(flz_mixer_set_master_gain(twin, 0.5f), 0);
		} else if (seg == 3) {
			ck_assert_int_eq(flz_mixer_stop_slot(m, 0, 77), 1);
			ck_assert_int_eq(flz_mixer_stop_slot(twin, 0, 77), 1);
		}
		render(m, out + (size_t)seg * SEG * CH, SEG, blocks[seg]);
		render(twin, ref + (size_t)seg * SEG * CH, SEG, 1);
	}
	for (size_t i = 0; i < 4 * SEG * CH; i++)
		ck_assert_msg(out[i] == ref[i], "differs at frame %zu", i / CH);
	const uint32_t lat = flz_mixer_latency_frames(m);
	for (uint32_t f = lat; f < SEG; f++) {
		for (uint32_t c = 0; c < CH; c++) {
			double expect = 0.0;
			for (int v = 0; v < 3; v++)
				expect += gains[v] * smp[v]->data[((f - lat) % lens[v]) * CH + c];
			ck_assert_msg(fabs(out[f * CH + c] - expect) < 1e-6, "frame %u", f);
		}
	}
	ck_assert_int_eq(r.n_events, 1);
	ck_assert_int_eq(r2.n_events, 1);
	ck_assert_uint_eq(r.events[0].token, 77);
	ck_assert_int_eq(r.events[0].frame, r2.events[0].frame);
	free(out);
	free(ref);
	flz_mixer_destroy(m);
	flz_mixer_destroy(twin);
	for (int v = 0; v < 4; v++)
		flz_sample_unref(smp[v]);
}
END_TEST

/*
 * The mixer lists every buffer its render functions touch, each on pages
 * of its own (page-aligned) and written at creation: every page is
 * resident before the first render. The regions are fresh mappings, so a
 * buffer left unwritten would show as not resident whatever the heap did
 * before (checked: without the write in flz_pages_alloc() this fails).
 */
START_TEST(test_memory)
{
	struct rec r = { 0 };
	const uint32_t blocks[] = { 1, 128, 4096, FLZ_MAX_BLOCK_FRAMES };
	for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
		struct flz_mixer_config c = mk_config(&r);
		c.max_block_frames = blocks[b];
		struct flz_mixer *m = new_mixer_cfg(&c);
		struct flz_mem_region regions[FLZ_MIXER_MAX_MEMORY_REGIONS];
		int n = flz_mixer_memory(m, regions, FLZ_MIXER_MAX_MEMORY_REGIONS);
		/* The struct, seven buffers, two kernel and two stretch arrays. */
		ck_assert_int_eq(n, 12);
		ck_assert_int_eq(flz_mixer_memory(m, NULL, 0), n);
		ck_assert_ptr_eq(regions[0].addr, m);
		size_t total = 0;
		for (int i = 0; i < n; i++) {
			ck_assert_ptr_nonnull(regions[i].addr);
			ck_assert_uint_gt(regions[i].n_bytes, 0);
			ck_assert_msg(flz_test_pages_not_resident(regions[i].addr,
								  regions[i].n_bytes) == 0,
				      "block %u: region %d (%zu bytes) has pages never written",
				      blocks[b], i, regions[i].n_bytes);
			for (int j = 0; j < i; j++) /* no two share a page */
				ck_assert((const char *)regions[i].addr >=
						  (const char *)regions[j].addr + regions[j].n_bytes ||
					  (const char *)regions[j].addr >=
						  (const char *)regions[i].addr + regions[i].n_bytes);
			total += regions[i].n_bytes;
		}
		/* The source block alone grows with the block size. */
		ck_assert_uint_ge(total, (size_t)2 * blocks[b] * CH * sizeof(float));
		flz_mixer_destroy(m);
	}
}
END_TEST

static Suite *mixer_suite(void)
{
	Suite *s = suite_create("mixer");
	struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
		{ "mixer:config", test_config },   { "mixer:latency", test_latency },
		{ "mixer:immediate", test_immediate },
		{ "mixer:gain", test_gain },       { "mixer:loop", test_loop },
		{ "mixer:stop", test_stop },       { "mixer:events", test_events },
		{ "mixer:retire", test_retire },   { "mixer:retire-shared", test_retire_shared },
		{ "mixer:steal", test_steal },
		{ "mixer:steal-cut", test_steal_cut }, { "mixer:split", test_split },
		{ "mixer:sizes", test_sizes },     { "mixer:args", test_args },
		{ "mixer:master", test_master },   { "mixer:speed", test_speed },
		{ "mixer:speed-glide", test_speed_glide }, { "mixer:steady", test_steady },
		{ "mixer:memory", test_memory },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_set_timeout(tc, 300);
		tcase_add_test(tc, cases[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return flz_test_run_tap(mixer_suite());
}
