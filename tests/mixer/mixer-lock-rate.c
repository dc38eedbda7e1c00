/* SPDX-License-Identifier: MIT */
/*
 * mixer:lock-rate, mixer:lock-clicks: a locked voice's rate stays within
 * the range 0.25..4 through every glide and catch-up, and its phase still
 * converges exactly. mixer:lock-rate drives lock-rt.c's functions directly
 * (mixer-internal.h), as the render code does, and checks every frame's
 * step; mixer:lock-clicks renders clicks through the mixer.
 */
#include "mixer-tests.h"

#include "mixer-internal.h"

__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 i128;

#define ONE ((uint64_t)1 << 32)
/* The glide of the default speed_ramp_ms (20 ms at 48 kHz). */
#define GLIDE 960
/* The rate's ends in 2^-32 frames per frame, each widened by the 2^-31 the
 * steps' rounding may add (lock-rt.c). */
#define STEP_MIN ((uint64_t)1 << 30)
#define STEP_MAX ((uint64_t)1 << 34)
#define STEP_SLACK 2

/* A lock and what it did: unwrapped position, the lowest and highest step. */
struct sim {
	struct flz_mixer_lock l;
	i128 pos;
	uint64_t lo, hi;
	int64_t *off;
	uint32_t *frac;
	uint64_t *steps;
};

static void sim_run(struct sim *s, uint32_t n_frames, uint32_t block)
{
	for (uint32_t done = 0; done < n_frames;) {
		const uint32_t n = n_frames - done < block ? n_frames - done : block;
		const uint32_t frac0 = (uint32_t)(uint64_t)s->pos;
		const uint64_t acc = flz_mixer_lock_offsets(&s->l, frac0, n, s->off, s->frac,
							    s->steps);
		ck_assert_uint_eq(acc - frac0, flz_mixer_lock_advance(&s->l, n));
		for (uint32_t j = 0; j < n; j++) {
			const uint64_t p = ((uint64_t)s->off[j] << 32) | s->frac[j];
			const uint64_t q = j + 1 < n ? ((uint64_t)s->off[j + 1] << 32) | s->frac[j + 1]
						 : acc;
			const uint64_t step = q - p;
			s->lo = step < s->lo ? step : s->lo;
			s->hi = step > s->hi ? step : s->hi;
		}
		s->pos += (i128)(acc - frac0);
		flz_mixer_lock_commit(&s->l, n);
		done += n;
	}
}

struct seg {
	uint64_t num, den;
	/* Frames rendered at this ratio before the next relock. */
	uint32_t frames;
};

/*
 * Every scenario, each a chain of relocks at the default glide: from rate 1
 * to the top end and from there to the bottom one, to 3.9 and 0.26 (a
 * catch-up with little room), chained glides whose carried offset points
 * where the range has no room (1 -> 3 -> 4 leaves the voice behind at rate
 * 4; 2 -> 1/2 -> 1/4 ahead at 1/4), the extremes 100 frames apart. For
 * each: no step leaves the range, the glide converges within 12 s, and the
 * voice is then exactly where the last ratio from its relock puts the ideal
 * position (each segment's exact floor term added to the last), all
 * corrections (moves) included.
 */
START_TEST(test_lock_rate)
{
	static const struct seg scenarios[][5] = {
		{ { 1, 1, 5000 }, { 4, 1, 0 } },
		{ { 2, 1, 5000 }, { 39, 10, 0 } },
		{ { 4, 1, 5000 }, { 1, 4, 0 } },
		{ { 1, 2, 5000 }, { 26, 100, 0 } },
		{ { 1, 1, 5000 }, { 3, 1, 300 }, { 4, 1, 0 } },
		{ { 2, 1, 5000 }, { 1, 2, 200 }, { 1, 4, 0 } },
		{ { 1, 4, 5000 }, { 4, 1, 100 }, { 1, 4, 100 }, { 4, 1, 0 } },
		{ { 39, 10, 5000 }, { 4, 1, 50 }, { 39, 10, 50 }, { 4, 1, 0 } },
		{ { 1, 1, 5000 }, { 7, 2, 700 }, { 1, 3, 3000 }, { 15, 4, 0 } },
		{ { 4, 3, 5000 }, { 3, 2, 300 }, { 5, 3, 0 } },
	};
	const uint32_t tail = 12 * RATE, block = 257;
	struct sim s = { 0 };
	s.off = calloc(block, sizeof *s.off);
	s.frac = calloc(block, sizeof *s.frac);
	s.steps = calloc(block, sizeof *s.steps);
	ck_assert(s.off && s.frac && s.steps);
	int moved = 0;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct seg *sc = scenarios[i];
		s.lo = UINT64_MAX;
		s.hi = 0;
		s.pos = 0;
		flz_mixer_lock_begin(&s.l, sc[0].num, sc[0].den);
		/* The ideal position at the last relock, and that relock's ratio. */
		i128 ideal = 0;
		size_t j = 0;
		for (;; j++) {
			sim_run(&s, sc[j].frames, block);
			ideal += (i128)((u128)sc[j].frames * sc[j].num * ONE / sc[j].den);
			if (sc[j + 1].num == 0)
				break;
			const uint64_t inc = flz_mixer_lock_advance(&s.l, 1);
			const int64_t off = flz_mixer_lock_retarget(&s.l, sc[j + 1].num, sc[j + 1].den,
								    inc, GLIDE);
			/* The mixer moves the voice by minus the offset. */
			s.pos -= off;
			moved += off != 0;
			if (sc[j + 1].frames == 0) {
				j++;
				break;
			}
		}
		sim_run(&s, tail, block);
		ck_assert_msg(s.lo + STEP_SLACK >= STEP_MIN && s.hi <= STEP_MAX + STEP_SLACK,
			      "scenario %zu: steps %.9f..%.9f", i, (double)s.lo / ONE,
			      (double)s.hi / ONE);
		ck_assert_msg(!flz_mixer_lock_gliding(&s.l), "scenario %zu: still gliding", i);
		ideal += (i128)((u128)tail * sc[j].num * ONE / sc[j].den);
		ck_assert_msg(s.pos == ideal, "scenario %zu: %.6f frames off the ideal", i,
			      (double)(s.pos - ideal) / ONE);
		printf("mixer:lock-rate: scenario %zu: steps %.9f..%.9f\n", i, (double)s.lo / ONE,
		       (double)s.hi / ONE);
	}
	/* The chains that leave no room for a catch-up were corrected by moves. */
	ck_assert_int_ge(moved, 2);
	/* An ordinary relock keeps its whole glide. */
	flz_mixer_lock_begin(&s.l, 4, 3);
	ck_assert_int_eq(flz_mixer_lock_retarget(&s.l, 3, 2, flz_mixer_lock_advance(&s.l, 1), GLIDE),
			 0);
	ck_assert_uint_eq(s.l.glide_frames, GLIDE);
	ck_assert_uint_ge(s.l.catch_frames, 4 * GLIDE);
	free(s.off);
	free(s.frac);
	free(s.steps);
}
END_TEST

/* ---- mixer:lock-clicks ---- */

#define BEAT 24000

/* Output frames of the local maxima of |left| above @p thr. */
static int find_peaks(const float *x, uint32_t n_frames, float thr, int64_t base, int64_t *out,
		      int max_out)
{
	int n = 0;
	for (uint32_t f = 1; f + 1 < n_frames && n < max_out; f++) {
		const float a = fabsf(x[f * CH]);
		if (a > thr && a >= fabsf(x[(f - 1) * CH]) && a > fabsf(x[(f + 1) * CH]))
			out[n++] = base + f;
	}
	return n;
}

/*
 * A one-bar loop of four clicks a beat (24000 frames) apart, locked at 2
 * then relocked to 4 (the top of the range: the glide becomes a step), and
 * at 1 relocked to 3.9 (a catch-up with 0.1 of room), and at 3 relocked to
 * 4 300 frames after a relock to 3.5 (a move). From 12 s on every click
 * peaks within 2 output frames of where the exact positions put it (the
 * ideal of the last ratio from the relock), and there is one per beat.
 */
START_TEST(test_lock_clicks)
{
	static const struct {
		struct seg a, b, c;
	} cases[] = {
		{ { 2, 1, 30011 }, { 4, 1, 0 }, { 0, 0, 0 } },
		{ { 1, 1, 30011 }, { 39, 10, 0 }, { 0, 0, 0 } },
		{ { 3, 1, 30011 }, { 7, 2, 300 }, { 4, 1, 0 } },
	};
	const int64_t len = 4 * BEAT;
	const uint32_t total = 14 * RATE, from = 12 * RATE;
	struct flz_sample *s = flz_sample_new(len, CH, RATE);
	ck_assert_ptr_nonnull(s);
	memset(s->data, 0, (size_t)len * CH * sizeof(float));
	for (int b = 0; b < 4; b++)
		s->data[(size_t)b * BEAT * CH] = s->data[(size_t)b * BEAT * CH + 1] = 0.9f;
	float *out = floats(total);
	int64_t *peaks = calloc(4096, sizeof *peaks);
	ck_assert_ptr_nonnull(peaks);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rec r = { 0 };
		struct flz_mixer *m = new_mixer(&r);
		flz_sample_ref(s);
		load(m, 0, s);
		struct flz_mixer_trigger t = { .slot = 0, .gain = 1.0f, .lock_num = cases[i].a.num,
					       .lock_den = cases[i].a.den };
		ck_assert_int_eq(flz_mixer_trigger(m, &t), 1);
		const struct seg *segs[] = { &cases[i].a, &cases[i].b, &cases[i].c };
		int64_t at = 0;
		u128 ideal = 0;
		const struct seg *last = segs[0];
		for (int k = 0; k < 3; k++) {
			render(m, out + at * CH, segs[k]->frames, 1000);
			at += segs[k]->frames;
			ideal += (u128)segs[k]->frames * segs[k]->num * ONE / segs[k]->den;
			if (k == 2 || segs[k + 1]->num == 0)
				break;
			ck_assert_int_eq(flz_mixer_set_pad_lock(m, 0, segs[k + 1]->num,
								segs[k + 1]->den), 1);
			last = segs[k + 1];
		}
		render(m, out + at * CH, (uint32_t)(total - at), 4096);
		/* At rate r a click's band-limited peak is about 0.9 / r. */
		const int n = find_peaks(out + (size_t)from * CH, total - from, 0.1f, from, peaks, 4096);
		const double rate = (double)last->num / (double)last->den;
		double worst = 0.0;
		for (int p = 0; p < n; p++) {
			/* The position (beats) at the peak's frame, exactly enough. */
			const double pos = ((double)ideal / ONE + rate * (double)(peaks[p] - at)) / BEAT;
			const double err = fabs(pos - round(pos)) * BEAT / rate;
			worst = err > worst ? err : worst;
		}
		const double beats = rate * (total - from) / BEAT;
		printf("mixer:lock-clicks: case %zu: %d clicks, worst %.3f frames\n", i, n, worst);
		ck_assert_msg(worst <= 2.0, "case %zu: a click %.3f frames off the beat", i, worst);
		ck_assert_msg(n >= (int)floor(beats) - 1 && n <= (int)ceil(beats) + 1,
			      "case %zu: %d clicks for %.1f beats", i, n, beats);
		flz_mixer_destroy(m);
	}
	flz_sample_unref(s);
	free(out);
	free(peaks);
}
END_TEST

TCase *mixer_case_lock_rate(void)
{
	return mixer_tcase("mixer:lock-rate", test_lock_rate);
}

TCase *mixer_case_lock_clicks(void)
{
	return mixer_tcase("mixer:lock-clicks", test_lock_clicks);
}
