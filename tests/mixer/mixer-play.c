/* SPDX-License-Identifier: MIT */
/* mixer:immediate, mixer:loop, mixer:stop, mixer:events: playing, looping, stopping and their events. */
#include "mixer-tests.h"

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

TCase *mixer_case_immediate(void)
{
	return mixer_tcase("mixer:immediate", test_immediate);
}

TCase *mixer_case_loop(void)
{
	return mixer_tcase("mixer:loop", test_loop);
}

TCase *mixer_case_stop(void)
{
	return mixer_tcase("mixer:stop", test_stop);
}

TCase *mixer_case_events(void)
{
	return mixer_tcase("mixer:events", test_events);
}
