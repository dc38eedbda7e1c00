/* SPDX-License-Identifier: MIT */
/*
 * mixer:lock, mixer:lock-exact, mixer:lock-split, mixer:lock-glide,
 * mixer:lock-extremes, mixer:lock-args, mixer:lock-pause, mixer:lock-seek:
 * tempo-locked voices (flz_mixer_trigger()'s lock fields,
 * flz_mixer_set_pad_lock(), pause, resume and seek of a locked voice).
 */
#include "mixer-tests.h"

__extension__ typedef unsigned __int128 u128;

static struct flz_mixer_trigger locked(int32_t slot, uint64_t num, uint64_t den, uint64_t pos_fp)
{
	return (struct flz_mixer_trigger){ .slot = slot, .gain = 1.0f, .lock_num = num,
					   .lock_den = den, .lock_pos_fp = pos_fp };
}

/* The exact position of a voice anchored at 0 after k frames (no wrap). */
static uint64_t exact_pos(uint64_t pos0_fp, int64_t k, uint64_t num, uint64_t den)
{
	return pos0_fp + (uint64_t)((u128)k * num * ((u128)1 << 32) / den);
}

static float peak_of(const float *x, size_t n_samples)
{
	float p = 0.0f;
	for (size_t i = 0; i < n_samples; i++)
		p = fabsf(x[i]) > p ? fabsf(x[i]) : p;
	return p;
}

static void assert_same(const float *a, const float *b, size_t n_samples, const char *what)
{
	for (size_t i = 0; i < n_samples; i++)
		ck_assert_msg(a[i] == b[i], "%s: sample %zu: %.9g != %.9g", what, i, a[i], b[i]);
}

/* Two mixers with the same noise loop of @p len frames in slot 0: the
 * voice under test and its reference. */
static void twin_mixers(struct rec *ra, struct rec *rb, int64_t len, uint32_t seed,
			struct flz_mixer **ma, struct flz_mixer **mb)
{
	*ma = new_mixer(ra);
	*mb = new_mixer(rb);
	struct flz_sample *s = noise_sample(len, seed, 0.5);
	flz_sample_ref(s);
	load(*ma, 0, s);
	load(*mb, 0, s);
}

/* ---- mixer:lock ---- */

/*
 * A voice locked at exactly 3/2 reads the positions a varispeed voice at
 * speed 1.5 (exact in 32.32) reads, through the same interpolator, so the
 * two are bit-identical, loop wraps included (a 1001-frame loop); and the
 * global and pad speeds do not apply to the locked one.
 */
START_TEST(test_lock)
{
	const uint32_t n = 3 * 1001 + 517;
	float *ref = floats(n), *out = floats(n);
	struct rec r1 = { 0 }, r2 = { 0 };
	struct flz_mixer_config c = mk_config(&r1);
	c.speed = 1.5;
	struct flz_mixer *m1 = new_mixer_cfg(&c);
	struct flz_mixer *m2 = new_mixer(&r2);
	struct flz_sample *s = noise_sample(1001, 7, 0.5);
	flz_sample_ref(s);
	load(m1, 0, s);
	load(m2, 0, s);
	ck_assert_int_eq(flz_mixer_set_speed(m2, 2.0), 0);
	ck_assert_int_eq(flz_mixer_set_pad_speed(m2, 0, 0.5), 0);
	play(m1, 0, 1.0f);
	struct flz_mixer_trigger t = locked(0, 3, 2, 0);
	ck_assert_int_eq(flz_mixer_trigger(m2, &t), 1);
	render(m1, ref, n, 512);
	render(m2, out, n, 333);
	assert_same(ref, out, (size_t)n * CH, "locked 3/2 vs speed 1.5");
	ck_assert_float_gt(peak_of(out, (size_t)n * CH), 0.1f);
	flz_mixer_destroy(m1);
	flz_mixer_destroy(m2);
	free(ref);
	free(out);
}
END_TEST

/* ---- mixer:lock-exact ---- */

/*
 * No drift: a voice locked at 64/45 (128 over 90 BPM; its 32.32 rounding is
 * 1.4222222222 + 2.6e-11, which stepped for 10^7 frames would put it 2.6e-4
 * of a frame ahead) is, after 10^7 output frames, where the exact formula
 * puts it: a second voice started there (from that position, rounded down
 * to 2^-32 frame) renders the same frames to within 1e-6 once its first
 * frames (whose taps before its start read silence) are past. A position
 * 2.6e-4 frame off changes this noise by up to ~1e-4.
 */
START_TEST(test_lock_exact)
{
	const uint64_t num = 64, den = 45;
	const int64_t skip = 10000000;
	const uint32_t n = 4096, settle = 256;
	struct rec r1 = { 0 }, r2 = { 0 };
	struct flz_mixer *m1 = new_mixer(&r1), *m2 = new_mixer(&r2);
	/* Long enough that 10^7 x 64/45 frames do not wrap: no loop arithmetic. */
	const int64_t len = 14300000;
	struct flz_sample *s = noise_sample(len, 11, 0.5);
	flz_sample_ref(s);
	load(m1, 0, s);
	load(m2, 0, s);
	struct flz_mixer_trigger t = locked(0, num, den, 0);
	ck_assert_int_eq(flz_mixer_trigger(m1, &t), 1);
	float *scratch = floats(4096);
	for (int64_t done = 0; done < skip;) {
		uint32_t k = skip - done < 4093 ? (uint32_t)(skip - done) : 4093;
		ck_assert_int_eq(flz_mixer_render(m1, scratch, k), 0);
		done += k;
	}
	uint64_t at = exact_pos(0, skip, num, den);
	ck_assert_int_lt((int64_t)(at >> 32) + n * 2, len);
	t = locked(0, num, den, at);
	ck_assert_int_eq(flz_mixer_trigger(m2, &t), 1);
	float *a = floats(n), *b = floats(n);
	render(m1, a, n, 1024);
	render(m2, b, n, 1024);
	double worst = 0.0;
	for (size_t i = (size_t)settle * CH; i < (size_t)n * CH; i++) {
		double d = fabs((double)a[i] - (double)b[i]);
		worst = d > worst ? d : worst;
	}
	printf("mixer:lock-exact: after 1e7 frames, max difference %.3g\n", worst);
	ck_assert_msg(worst < 1e-6, "drift: %g", worst);
	ck_assert_float_gt(peak_of(a, (size_t)n * CH), 0.1f);
	flz_mixer_destroy(m1);
	flz_mixer_destroy(m2);
	free(scratch);
	free(a);
	free(b);
}
END_TEST

/* ---- mixer:lock-split ---- */

/*
 * render(a) + render(b) == render(a + b) holds for locked voices too, bit
 * for bit, through loop wraps and a relock's glide: the position of every
 * frame is computed from its distance to the anchor. Blocks of 1, an odd
 * count and the maximum.
 */
START_TEST(test_lock_split)
{
	const uint32_t n = 20000, change = 4097;
	const uint32_t blocks[] = { 4096, 1, 7, 4095, 333 };
	float *ref = NULL;
	for (size_t bi = 0; bi < sizeof(blocks) / sizeof(blocks[0]); bi++) {
		struct rec r = { 0 };
		struct flz_mixer *m = new_mixer(&r);
		load(m, 0, noise_sample(3001, 5, 0.5));
		struct flz_mixer_trigger t = locked(0, 133300000, 101000000, (uint64_t)17 << 31);
		ck_assert_int_eq(flz_mixer_trigger(m, &t), 1);
		float *out = floats(n);
		/* Up to the change, then the relock, then on: the same frames each time. */
		render(m, out, change, blocks[bi]);
		ck_assert_int_eq(flz_mixer_set_pad_lock(m, 0, 77000000, 101000000), 1);
		render(m, out + (size_t)change * CH, n - change, blocks[bi]);
		if (ref == NULL)
			ref = out;
		else {
			assert_same(ref, out, (size_t)n * CH, "split");
			free(out);
		}
		flz_mixer_destroy(m);
	}
	free(ref);
}
END_TEST

/* ---- mixer:lock-glide ---- */

/*
 * A relock glides and keeps the phase: voice A locked at 4/3 is relocked to
 * 5/3 at frame F; voice B, started at F at A's exact position there with 5/3,
 * is where A would be had the ratio jumped. During the glide A differs from
 * B (it glides), and from the end of the catch-up (here 5 x the 20 ms glide)
 * it is bit-identical to B: the same positions exactly, so no phase was
 * lost. The same after two relocks 300 frames apart (a dragged fader): A is
 * then where 4/3, then 3/2 from F, then 5/3 from F + 300, put it.
 */
START_TEST(test_lock_glide)
{
	const int64_t F = 10007, gap = 300;
	const uint32_t n = 30000;
	for (int chained = 0; chained < 2; chained++) {
		struct rec ra = { 0 }, rb = { 0 };
		struct flz_mixer *ma, *mb;
		twin_mixers(&ra, &rb, 200000, 3, &ma, &mb);
		struct flz_mixer_trigger t = locked(0, 4, 3, 0);
		ck_assert_int_eq(flz_mixer_trigger(ma, &t), 1);
		float *a = floats(F + n), *b = floats(n);
		render(ma, a, (uint32_t)F, 1000);
		uint64_t at = exact_pos(0, F, 4, 3);
		int64_t b_from = F;
		if (chained) {
			ck_assert_int_eq(flz_mixer_set_pad_lock(ma, 0, 3, 2), 1);
			render(ma, a + F * CH, (uint32_t)gap, 64);
			at = exact_pos(at, gap, 3, 2);
			b_from = F + gap;
		}
		ck_assert_int_eq(flz_mixer_set_pad_lock(ma, 0, 5, 3), 1);
		/* Relocking to the same ratio changes nothing. */
		ck_assert_int_eq(flz_mixer_set_pad_lock(ma, 0, 5, 3), 0);
		const int64_t rest = F + n - b_from;
		render(ma, a + b_from * CH, (uint32_t)rest, 512);
		t = locked(0, 5, 3, at);
		ck_assert_int_eq(flz_mixer_trigger(mb, &t), 1);
		render(mb, b, (uint32_t)rest, 512);
		const int64_t window = 5 * 960 + (chained ? 960 : 0);
		bool differs = false;
		for (int64_t j = 0; j < rest; j++) {
			for (uint32_t c = 0; c < CH; c++) {
				float va = a[(b_from + j) * CH + c], vb = b[j * CH + c];
				if (j >= window)
					ck_assert_msg(va == vb, "chained %d frame %lld: %g != %g", chained,
						      (long long)j, va, vb);
				else if (va != vb)
					differs = true;
			}
		}
		ck_assert_msg(differs, "the relock glided");
		flz_mixer_destroy(ma);
		flz_mixer_destroy(mb);
		free(a);
		free(b);
	}
}
END_TEST

/*
 * The extremes: 1/4 -> 4 -> 1/4 -> 4, relocked 100 frames apart, in a
 * 3001-frame loop. The catch-up is then long (it moves the rate by at most
 * a quarter of 1/4), every output frame stays finite and within the noise's
 * reach, and once it is over (4 s on) the voice is bit-identical to one
 * started at the exact position of the last ratio from the last relock,
 * wrapped into the loop.
 */
START_TEST(test_lock_extremes)
{
	const int64_t len = 3001, F = 5000, gap = 100;
	const uint32_t total = 6 * RATE;
	struct rec ra = { 0 }, rb = { 0 };
	struct flz_mixer *ma, *mb;
	twin_mixers(&ra, &rb, len, 21, &ma, &mb);
	struct flz_mixer_trigger t = locked(0, 1, 4, 0);
	ck_assert_int_eq(flz_mixer_trigger(ma, &t), 1);
	float *a = floats(total);
	render(ma, a, (uint32_t)F, 1000);
	/* Unwrapped ideal position, 32.32. */
	u128 ideal = exact_pos(0, F, 1, 4);
	const uint64_t ratios[3][2] = { { 4, 1 }, { 1, 4 }, { 4, 1 } };
	int64_t at = F;
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(flz_mixer_set_pad_lock(ma, 0, ratios[i][0], ratios[i][1]), 1);
		if (i < 2) {
			render(ma, a + at * CH, (uint32_t)gap, 37);
			ideal += (u128)gap * ratios[i][0] * ((u128)1 << 32) / ratios[i][1];
			at += gap;
		}
	}
	render(ma, a + at * CH, (uint32_t)(total - at), 4096);
	for (size_t i = 0; i < (size_t)total * CH; i++)
		ck_assert_msg(isfinite(a[i]) && fabsf(a[i]) < 1.5f, "sample %zu: %g", i, a[i]);
	const u128 end = (u128)len << 32;
	uint64_t start = (uint64_t)(ideal >= end ? ideal % end : ideal);
	t = locked(0, 4, 1, start);
	ck_assert_int_eq(flz_mixer_trigger(mb, &t), 1);
	float *b = floats(total);
	render(mb, b, (uint32_t)(total - at), 4096);
	const int64_t from = 4 * RATE;
	for (int64_t j = from - at; j < total - at; j++)
		for (uint32_t c = 0; c < CH; c++)
			ck_assert_msg(a[(at + j) * CH + c] == b[j * CH + c], "frame %lld: %g != %g",
				      (long long)j, a[(at + j) * CH + c], b[j * CH + c]);
	flz_mixer_destroy(ma);
	flz_mixer_destroy(mb);
	free(a);
	free(b);
}
END_TEST

/* ---- mixer:lock-pause ---- */

/* The voice fades (5 ms, 240 frames at 48 kHz) are over after this. */
#define FADE_DONE 241

/*
 * A paused locked voice keeps its bar phase: A is paused at P, its ratio
 * relocked from 64/45 to 5/3 at G while it is paused (so it coasts through
 * the glide too), and resumed at R; B plays the same without a pause. A is
 * bit-identical to B before P, silent from P + 241 to R, no louder than B
 * while it fades in, and bit-identical to B from R + 241 on: its position
 * is the lock's function of the output frame, not of the frames it played.
 * Blocks of odd sizes; the loop (10007 frames) wraps while it is paused.
 */
START_TEST(test_lock_pause)
{
	const int64_t P = 5003, G = 9001, R = 41017;
	const uint32_t n = 60000;
	struct rec ra = { 0 }, rb = { 0 };
	struct flz_mixer *ma, *mb;
	twin_mixers(&ra, &rb, 10007, 5, &ma, &mb);
	struct flz_mixer_trigger t = locked(0, 64, 45, 0);
	ck_assert_int_eq(flz_mixer_trigger(ma, &t), 1);
	ck_assert_int_eq(flz_mixer_trigger(mb, &t), 1);
	float *a = floats(n), *b = floats(n);
	render(ma, a, (uint32_t)P, 333);
	ck_assert_int_eq(flz_mixer_pause_slot(ma, 0), 1);
	render(ma, a + P * CH, (uint32_t)(G - P), 77);
	ck_assert_int_eq(flz_mixer_set_pad_lock(ma, 0, 5, 3), 1);
	render(ma, a + G * CH, (uint32_t)(R - G), 1001);
	ck_assert_int_eq(flz_mixer_resume_slot(ma, 0), 1);
	render(ma, a + R * CH, (uint32_t)(n - R), 129);
	render(mb, b, (uint32_t)G, 512);
	ck_assert_int_eq(flz_mixer_set_pad_lock(mb, 0, 5, 3), 1);
	render(mb, b + G * CH, (uint32_t)(n - G), 512);
	for (int64_t f = 0; f < (int64_t)n; f++) {
		for (uint32_t c = 0; c < CH; c++) {
			const float va = a[f * CH + c], vb = b[f * CH + c];
			if (f < P || f >= R + FADE_DONE)
				ck_assert_msg(va == vb, "frame %lld: %g != %g", (long long)f, va, vb);
			else if (f >= P + FADE_DONE && f < R)
				ck_assert_msg(va == 0.0f, "paused frame %lld: %g", (long long)f, va);
			else if (f >= R)
				ck_assert_msg(fabsf(va) <= fabsf(vb) * (1.0f + 1e-6f) + 1e-7f,
					      "fade-in frame %lld: %g, unfaded %g", (long long)f, va,
					      vb);
		}
	}
	ck_assert_float_gt(peak_of(a + (R + FADE_DONE) * CH, 4096 * CH), 0.1f);
	flz_mixer_destroy(ma);
	flz_mixer_destroy(mb);
	free(a);
	free(b);
}
END_TEST

/* ---- mixer:lock-seek ---- */

/*
 * A seek re-anchors the lock where it lands: A, locked at 3/2 from frame 0
 * and relocked to 64/45 100 frames before S (so the seek lands in the
 * glide), seeks at S to frame 1234; B starts at S, locked at 64/45, from
 * frame 1234. From S + 241 (the seek's crossfade over) A is bit-identical
 * to B: the glide ended with the seek. The same when A is paused at P,
 * seeks at S while paused and resumes at R: from R + 241 it is B (which
 * played on from S); the seek moved the position and the lock ran on from
 * there.
 */
START_TEST(test_lock_seek)
{
	const int64_t P = 3001, S = 7777, R = 20011;
	const uint32_t n = 40000;
	for (int paused = 0; paused < 2; paused++) {
		struct rec ra = { 0 }, rb = { 0 };
		struct flz_mixer *ma, *mb;
		twin_mixers(&ra, &rb, 8009, 9, &ma, &mb);
		struct flz_mixer_trigger t = locked(0, 3, 2, 0);
		ck_assert_int_eq(flz_mixer_trigger(ma, &t), 1);
		float *a = floats(n), *b = floats(n);
		if (paused) {
			render(ma, a, (uint32_t)P, 500);
			ck_assert_int_eq(flz_mixer_pause_slot(ma, 0), 1);
			render(ma, a + P * CH, (uint32_t)(S - 100 - P), 313);
		} else {
			render(ma, a, (uint32_t)(S - 100), 500);
		}
		ck_assert_int_eq(flz_mixer_set_pad_lock(ma, 0, 64, 45), 1);
		render(ma, a + (S - 100) * CH, 100, 64);
		ck_assert_int_eq(flz_mixer_seek_slot(ma, 0, 1234), 1);
		const int64_t back = paused ? R : S;
		if (paused) {
			render(ma, a + S * CH, (uint32_t)(R - S), 999);
			ck_assert_int_eq(flz_mixer_resume_slot(ma, 0), 1);
		}
		render(ma, a + back * CH, (uint32_t)(n - back), 131);
		render(mb, b, (uint32_t)S, 4096);
		t = locked(0, 64, 45, (uint64_t)1234 << 32);
		ck_assert_int_eq(flz_mixer_trigger(mb, &t), 1);
		render(mb, b + S * CH, (uint32_t)(n - S), 4096);
		for (int64_t f = back + FADE_DONE; f < (int64_t)n; f++)
			for (uint32_t c = 0; c < CH; c++)
				ck_assert_msg(a[f * CH + c] == b[f * CH + c],
					      "paused %d frame %lld: %g != %g", paused, (long long)f,
					      a[f * CH + c], b[f * CH + c]);
		ck_assert_float_gt(peak_of(a + (back + FADE_DONE) * CH, 4096 * CH), 0.1f);
		flz_mixer_destroy(ma);
		flz_mixer_destroy(mb);
		free(a);
		free(b);
	}
}
END_TEST

/* ---- mixer:lock-args ---- */

START_TEST(test_lock_args)
{
	struct rec r = { 0 };
	struct flz_mixer *m = new_mixer(&r);
	int64_t ls = -5, le = -5;
	ck_assert_int_eq(flz_mixer_loop_region(m, 0, &ls, &le), -ENOENT);
	ck_assert_int_eq(flz_mixer_loop_region(m, -1, &ls, &le), -EINVAL);
	ck_assert_int_eq(flz_mixer_loop_region(m, FLZ_NUM_SAMPLES, &ls, &le), -EINVAL);
	load(m, 0, noise_sample(1000, 1, 0.5));
	ck_assert_int_eq(flz_mixer_loop_region(m, 0, NULL, &le), -EINVAL);
	ck_assert_int_eq(ls, -5);
	ck_assert_int_eq(flz_mixer_set_loop_region(m, 0, 100, 900), 0);
	ck_assert_int_eq(flz_mixer_loop_region(m, 0, &ls, &le), 0);
	ck_assert_int_eq(ls, 100);
	ck_assert_int_eq(le, 900);

	const struct {
		uint64_t num, den, pos;
	} bad[] = {
		{ 1, 5, 0 },                       /* 0.2 < 0.25 */
		{ 41, 10, 0 },                     /* 4.1 > 4 */
		{ 1, 0, 0 },                       /* no denominator */
		{ (uint64_t)1 << 31, (uint64_t)1 << 31, 0 }, /* terms too large */
		{ 1, 1, (uint64_t)900 << 32 },     /* at the loop end */
		{ 1, 1, UINT64_MAX },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct flz_mixer_trigger t = locked(0, bad[i].num, bad[i].den, bad[i].pos);
		ck_assert_int_eq(flz_mixer_trigger(m, &t), -EINVAL);
		ck_assert_uint_eq(flz_mixer_voices_playing(m), 0);
		if (bad[i].pos == 0) {
			ck_assert_int_eq(flz_mixer_set_pad_lock(m, 0, bad[i].num, bad[i].den), -EINVAL);
		}
	}
	ck_assert_int_eq(flz_mixer_set_pad_lock(m, -1, 1, 1), -EINVAL);
	ck_assert_int_eq(flz_mixer_set_pad_lock(m, FLZ_NUM_SAMPLES, 0, 0), -EINVAL);
	/* No voices: nothing to change. */
	ck_assert_int_eq(flz_mixer_set_pad_lock(m, 0, 1, 1), 0);
	/* Exactly 0.25 and 4 are in range; a position before the loop is too. */
	struct flz_mixer_trigger t = locked(0, 1, 4, (uint64_t)50 << 32);
	ck_assert_int_eq(flz_mixer_trigger(m, &t), 1);
	t = locked(0, 4, 1, (uint64_t)899 << 32);
	ck_assert_int_eq(flz_mixer_trigger(m, &t), 1);
	/* Unlock both, lock both, unlock again: counts of voices changed. */
	ck_assert_int_eq(flz_mixer_set_pad_lock(m, 0, 0, 0), 2);
	ck_assert_int_eq(flz_mixer_set_pad_lock(m, 0, 0, 0), 0);
	ck_assert_int_eq(flz_mixer_set_pad_lock(m, 0, 3, 2), 2);
	ck_assert_int_eq(flz_mixer_set_pad_lock(m, 1, 3, 2), 0);
	float *out = floats(4096);
	render(m, out, 4096, 4096);
	ck_assert_float_gt(peak_of(out, 4096 * CH), 0.1f);
	flz_mixer_destroy(m);
	free(out);
}
END_TEST

TCase *mixer_case_lock(void)
{
	return mixer_tcase("mixer:lock", test_lock);
}

TCase *mixer_case_lock_exact(void)
{
	return mixer_tcase("mixer:lock-exact", test_lock_exact);
}

TCase *mixer_case_lock_split(void)
{
	return mixer_tcase("mixer:lock-split", test_lock_split);
}

TCase *mixer_case_lock_glide(void)
{
	return mixer_tcase("mixer:lock-glide", test_lock_glide);
}

TCase *mixer_case_lock_extremes(void)
{
	return mixer_tcase("mixer:lock-extremes", test_lock_extremes);
}

TCase *mixer_case_lock_args(void)
{
	return mixer_tcase("mixer:lock-args", test_lock_args);
}

TCase *mixer_case_lock_pause(void)
{
	return mixer_tcase("mixer:lock-pause", test_lock_pause);
}

TCase *mixer_case_lock_seek(void)
{
	return mixer_tcase("mixer:lock-seek", test_lock_seek);
}
