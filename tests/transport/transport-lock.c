/* SPDX-License-Identifier: MIT */
/* transport:lock-ratio, locked-wrap, locked-drift, locked-bad-input. */
#include "transport-tests.h"

#define FP_ONE ((uint64_t)1 << 32)

__extension__ typedef unsigned __int128 u128;

/* Circular distance between two positions in a loop, in 2^-32 frames. */
static uint64_t loop_distance(uint64_t a, uint64_t b, uint64_t len_fp)
{
	uint64_t d = a > b ? a - b : b - a;
	return d > len_fp / 2 ? len_fp - d : d;
}

static uint64_t micro(double bpm)
{
	return (uint64_t)llround(bpm * 1e6);
}

static bool power_of_two(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* round(num x 2^32 / den) in long double (num, den < 2^31: exact). */
static uint64_t ref_inc(uint64_t num, uint64_t den)
{
	return (uint64_t)floorl((long double)num * 4294967296.0L / (long double)den + 0.5L);
}

/* The folded ratio at the edges and in between: master / pad with the
 * pad's tempo doubled or halved only while the ratio is outside 0.25..4
 * (both ends inclusive), and the increment its exact rounding. */
START_TEST(test_lock_ratio)
{
	static const struct {
		double master, pad;
		uint64_t num, den, inc;
	} known[] = {
		{ 120.0, 120.0, 120000000, 120000000, FP_ONE },
		{ 300.0, 20.0, 300000000, 80000000, 15 * FP_ONE / 4 },       /* 15 -> 7.5 -> 3.75 */
		{ 20.0, 300.0, 80000000, 300000000, 1145324612 },            /* 1/15 -> 2/15 -> 4/15 */
		{ 300.0, 75.0, 300000000, 75000000, 4 * FP_ONE },            /* exactly 4: kept */
		{ 20.0, 80.0, 20000000, 80000000, FP_ONE / 4 },              /* exactly 0.25: kept */
		{ 300.0, 74.999999, 300000000, 149999998, 8589934707 },      /* just above 4: halved */
		{ 20.0, 80.000001, 40000000, 80000001, 2147483621 },         /* just below 0.25: doubled */
		{ 128.0, 90.0, 128000000, 90000000, 6108397932 },
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		struct flz_transport_lock l;
		ck_assert_int_eq(flz_transport_lock_ratio(known[i].master, known[i].pad, &l), 0);
		ck_assert_uint_eq(l.num, known[i].num);
		ck_assert_uint_eq(l.den, known[i].den);
		ck_assert_uint_eq(l.inc_fp, ref_inc(l.num, l.den));
		ck_assert_msg(l.inc_fp == known[i].inc, "%g / %g: inc %llu, expected %llu", known[i].master,
			      known[i].pad, (unsigned long long)l.inc_fp, (unsigned long long)known[i].inc);
	}
	long n = 0;
	for (double m = 20.0; m <= 300.0; m += 0.7)
		for (double p = 20.0; p <= 300.0; p += 1.3) {
			struct flz_transport_lock l;
			ck_assert_int_eq(flz_transport_lock_ratio(m, p, &l), 0);
			const uint64_t mu = micro(m), pu = micro(p);
			/* Only one side scaled, by a power of two. */
			ck_assert(l.num % mu == 0 && l.den % pu == 0);
			ck_assert(power_of_two(l.num / mu) && power_of_two(l.den / pu));
			ck_assert(l.num == mu || l.den == pu);
			/* Inside 0.25..4, and only folded while outside. */
			ck_assert(4 * l.num >= l.den && l.num <= 4 * l.den);
			/* The ratio before the last fold was outside: num / (den / 2) > 4,
			 * or (num / 2) / den < 0.25. */
			if (l.den > pu)
				ck_assert(l.num > 2 * l.den);
			if (l.num > mu)
				ck_assert(2 * l.num < l.den);
			ck_assert_uint_eq(l.inc_fp, ref_inc(l.num, l.den));
			n++;
		}
	printf("lock-ratio: %ld tempo pairs folded into 0.25..4\n", n);
}
END_TEST

/* The position as a pure function equals an exact integer stepper (the
 * position in units of 2^-32 / den frame, advanced by num x 2^32 per frame
 * and wrapped by subtracting the loop length) at every frame, starting
 * before the loop and inside it; and stepping by inc_fp for n frames
 * departs from it by at most n / 2 + 1 units of 2^-32 frame. */
START_TEST(test_locked_wrap)
{
	static const struct {
		double master, pad;
		uint64_t pos0_fp;
		int64_t start, end;
	} runs[] = {
		{ 128.0, 90.0, 50 * FP_ONE + FP_ONE / 2, 100, 1100 },
		{ 97.3, 128.0, 700 * FP_ONE + 12345, 100, 1100 },
		{ 300.0, 20.0, 0, 0, 1 },
		{ 20.0, 300.0, 5 * FP_ONE - 1, 3, 7 },
		{ 120.0, 120.0, 0, 0, 48000 },
		{ 97.3, 128.0, 0, 0, 200000 },
	};
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		struct flz_transport_lock lock;
		ck_assert_int_eq(flz_transport_lock_ratio(runs[r].master, runs[r].pad, &lock), 0);
		struct flz_transport_locked l;
		const int64_t frame0 = 1000003;
		ck_assert_int_eq(flz_transport_locked_init(&l, frame0, runs[r].pos0_fp, &lock, runs[r].start,
							   runs[r].end),
				 0);
		const u128 den = lock.den;
		const u128 end = (u128)runs[r].end * FP_ONE * den;
		const u128 len = (u128)(runs[r].end - runs[r].start) * FP_ONE * den;
		u128 p = (u128)runs[r].pos0_fp * den;
		uint64_t prev = 0;
		for (int64_t i = 0; i < 300000; i++) {
			uint64_t got = 0;
			int rc = flz_transport_locked_position(&l, frame0 + i, &got);
			uint64_t want = (uint64_t)(p / den);
			if (rc != 0 || got != want)
				ck_abort_msg("run %zu frame %lld: %llu (rc %d), expected %llu", r, (long long)i,
					     (unsigned long long)got, rc, (unsigned long long)want);
			/* Stepping by the rounded increment over a block of 8192. */
			if (i % 8192 == 0)
				prev = got;
			else if (i % 8192 == 8191 && i > 8192) {
				/* The stepped position wraps like the voice would. */
				uint64_t stepped = prev + 8191 * lock.inc_fp;
				const uint64_t len_fp = (uint64_t)(runs[r].end - runs[r].start) * FP_ONE;
				const uint64_t start_fp = (uint64_t)runs[r].start * FP_ONE;
				stepped = start_fp + (stepped - start_fp) % len_fp;
				ck_assert_uint_le(loop_distance(stepped, got, len_fp), 8191 / 2 + 1);
			}
			p += (u128)lock.num * FP_ONE;
			while (p >= end)
				p -= len;
		}
	}
}
END_TEST

/* Checks that at each master beat frame from `from` on for n_beats, the
 * pad's position is on the pad beat of the same number (mod the loop's 4
 * beats of pad_fpb frames, the pad's downbeat at sample frame offset)
 * within one output frame's worth of pad motion (inc_fp). Returns the
 * worst distance in sample frames. */
static double check_beats(const struct flz_transport *t, const struct flz_transport_locked *l,
			  int64_t from, int64_t n_beats, int64_t pad_fpb, int64_t offset)
{
	const uint64_t len_fp = (uint64_t)(4 * pad_fpb) * FP_ONE;
	double worst = 0.0;
	int64_t g = from;
	for (int64_t n = 0; n < n_beats; n++) {
		ck_assert_int_eq(flz_transport_next_grid_frame(t, FLZ_QUANTIZE_1_4, g, &g), 0);
		struct flz_transport_position p;
		ck_assert_int_eq(flz_transport_position(t, g, &p), 0);
		int64_t beat = p.bar * 4 + (int64_t)floor(p.beat + 0.5);
		uint64_t want = (uint64_t)((((beat % 4) + 4) % 4 * pad_fpb + offset) % (4 * pad_fpb)) * FP_ONE;
		uint64_t got;
		ck_assert_int_eq(flz_transport_locked_position(l, g, &got), 0);
		uint64_t d = loop_distance(got, want, len_fp);
		ck_assert_msg(d <= l->lock.inc_fp, "beat %lld at frame %lld: pad at %.4f, expected %.4f",
			      (long long)beat, (long long)g, (double)got / FP_ONE, (double)want / FP_ONE);
		worst = fmax(worst, (double)d / FP_ONE);
		g++;
	}
	return worst;
}

/* A 90 BPM pad (a 4-beat loop) locked to a 128 BPM and a 97.3 BPM master,
 * started on the downbeat: over 10 minutes every master beat finds the pad
 * on its own beat within one output frame, at the end as at the start (no
 * drift). Then the master changes tempo mid-beat and the voice is
 * re-anchored there: the position is continuous at the change and the
 * beats keep landing for 5 more minutes. */
START_TEST(test_locked_drift)
{
	static const struct {
		uint32_t rate;
		double master, after;
	} runs[] = { { 48000, 128.0, 100.0 }, { 44100, 97.3, 140.0 }, { 48000, 97.3, 60.5 } };
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		const uint32_t rate = runs[r].rate;
		const int64_t pad_fpb = rate * 60 / 90; /* exact at 90 BPM */
		struct flz_transport t = make_transport(rate, runs[r].master, 0);
		struct flz_transport_lock lock;
		ck_assert_int_eq(flz_transport_lock_ratio(runs[r].master, 90.0, &lock), 0);
		struct flz_transport_locked l;
		ck_assert_int_eq(flz_transport_locked_init(&l, 0, 0, &lock, 0, 4 * pad_fpb), 0);
		const int64_t beats_10min = (int64_t)(runs[r].master * 10.0);
		double worst = check_beats(&t, &l, 0, beats_10min, pad_fpb, 0);

		/* The change: mid-way between two beats, 10 minutes in. */
		int64_t fc = 600LL * rate + 7777;
		uint64_t before, after;
		ck_assert_int_eq(flz_transport_locked_position(&l, fc, &before), 0);
		ck_assert_int_eq(flz_transport_set_bpm(&t, fc, runs[r].after), 0);
		ck_assert_int_eq(flz_transport_lock_ratio(runs[r].after, 90.0, &lock), 0);
		ck_assert_int_eq(flz_transport_locked_reanchor(&l, fc, &lock), 0);
		ck_assert_int_eq(flz_transport_locked_position(&l, fc, &after), 0);
		ck_assert_uint_eq(after, before);
		ck_assert_int_eq(l.frame0, fc);
		double worst_after = check_beats(&t, &l, fc, (int64_t)(runs[r].after * 5.0), pad_fpb, 0);
		printf("locked-drift %u Hz: 90 BPM pad under %.1f BPM, worst %.4f frames over 10 min, "
		       "%.4f frames over 5 min at %.1f BPM after re-anchoring\n",
		       rate, runs[r].master, worst, worst_after, runs[r].after);
	}
}
END_TEST

/* Bad arguments: -EINVAL, the anchor (and the lock output) unchanged. */
START_TEST(test_locked_bad_input)
{
	struct flz_transport_lock lock, untouched;
	memset(&untouched, 0xa5, sizeof(untouched));
	lock = untouched;
	static const double bad[] = { 19.9, 300.1, NAN, INFINITY, -1.0, 0.0 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(flz_transport_lock_ratio(bad[i], 120.0, &lock), -EINVAL);
		ck_assert_int_eq(flz_transport_lock_ratio(120.0, bad[i], &lock), -EINVAL);
		ck_assert_mem_eq(&lock, &untouched, sizeof(lock));
	}
	ck_assert_int_eq(flz_transport_lock_ratio(120.0, 120.0, NULL), -EINVAL);
	ck_assert_int_eq(flz_transport_lock_ratio(128.0, 90.0, &lock), 0);

	struct flz_transport_locked l, l_saved;
	memset(&l, 0x5a, sizeof(l));
	l_saved = l;
	struct flz_transport_lock wrong_inc = lock, zero = lock, too_fast = lock, huge = lock;
	wrong_inc.inc_fp++;
	zero.num = 0;
	too_fast.num = 5 * too_fast.den; /* ratio 5 */
	too_fast.inc_fp = 5 * FP_ONE;
	huge.num = (uint64_t)1 << 31;
	huge.den = (uint64_t)1 << 31;
	huge.inc_fp = FP_ONE;
	const struct flz_transport_lock *bad_locks[] = { &wrong_inc, &zero, &too_fast, &huge, NULL };
	for (size_t i = 0; i < sizeof(bad_locks) / sizeof(bad_locks[0]); i++)
		ck_assert_int_eq(flz_transport_locked_init(&l, 0, 0, bad_locks[i], 0, 100), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_init(&l, 0, 0, &lock, -1, 100), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_init(&l, 0, 0, &lock, 100, 100), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_init(&l, 0, 0, &lock, 0, (int64_t)INT32_MAX + 1), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_init(&l, 0, 100 * FP_ONE, &lock, 0, 100), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_init(&l, FLZ_TRANSPORT_FRAME_MAX + 1, 0, &lock, 0, 100),
			 -EINVAL);
	ck_assert_int_eq(flz_transport_locked_init(NULL, 0, 0, &lock, 0, 100), -EINVAL);
	ck_assert_mem_eq(&l, &l_saved, sizeof(l));

	/* The edges are accepted. */
	ck_assert_int_eq(flz_transport_locked_init(&l, 0, 100 * FP_ONE - 1, &lock, 0, 100), 0);
	ck_assert_int_eq(flz_transport_locked_init(&l, 500, 0, &lock, 99, INT32_MAX), 0);
	uint64_t pos = 7;
	ck_assert_int_eq(flz_transport_locked_position(&l, FLZ_TRANSPORT_FRAME_MAX, &pos), 0);
	ck_assert_uint_lt(pos, (uint64_t)INT32_MAX * FP_ONE);
	ck_assert_uint_ge(pos, 99 * FP_ONE);
	l_saved = l;
	pos = 7;
	ck_assert_int_eq(flz_transport_locked_position(&l, 499, &pos), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_position(&l, FLZ_TRANSPORT_FRAME_MAX + 1, &pos), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_position(&l, 600, NULL), -EINVAL);
	ck_assert_uint_eq(pos, 7);
	ck_assert_int_eq(flz_transport_locked_reanchor(&l, 499, &lock), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_reanchor(&l, 600, &wrong_inc), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_reanchor(&l, 600, NULL), -EINVAL);
	ck_assert_mem_eq(&l, &l_saved, sizeof(l));
}
END_TEST

/* flz_transport_locked_start(): a pad whose downbeat is 1000 frames into
 * its sample, started mid-bar (bar 10, 3 beats and 1234 frames in) and on
 * a bar's grid frame, is in phase from its first frame: every master beat
 * for 10 minutes finds it on its own beat within one output frame. Started
 * on the bar frame it starts at its downbeat within the rounding of that
 * frame (half an output frame of pad motion). */
START_TEST(test_locked_start)
{
	static const struct {
		uint32_t rate;
		double master;
	} runs[] = { { 48000, 128.0 }, { 44100, 97.3 }, { 48000, 97.3 } };
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		const uint32_t rate = runs[r].rate;
		const int64_t pad_fpb = rate * 60 / 90, offset = 1000;
		struct flz_transport t = make_transport(rate, runs[r].master, 777);
		/* A tempo change first, so the downbeat lies between frames. */
		ck_assert_int_eq(flz_transport_set_bpm(&t, 5555, runs[r].master * 0.75), 0);
		ck_assert_int_eq(flz_transport_set_bpm(&t, 99999, runs[r].master), 0);
		struct flz_transport_lock lock;
		ck_assert_int_eq(flz_transport_lock_ratio(runs[r].master, 90.0, &lock), 0);
		int64_t bar10, beat3;
		ck_assert_int_eq(flz_transport_grid_frame(&t, FLZ_QUANTIZE_BAR, 10, &bar10), 0);
		ck_assert_int_eq(flz_transport_grid_frame(&t, FLZ_QUANTIZE_1_4, 43, &beat3), 0);
		double worst = 0.0;
		const int64_t starts[] = { beat3 + 1234, bar10 };
		for (size_t s = 0; s < 2; s++) {
			struct flz_transport_locked l;
			ck_assert_int_eq(flz_transport_locked_start(&l, &t, starts[s], (uint64_t)offset * FP_ONE,
								    &lock, 0, 4 * pad_fpb),
					 0);
			ck_assert_int_eq(l.frame0, starts[s]);
			if (starts[s] == bar10)
				ck_assert_uint_le(loop_distance(l.pos0_fp, (uint64_t)offset * FP_ONE,
								(uint64_t)(4 * pad_fpb) * FP_ONE),
						  lock.inc_fp / 2 + 1);
			double w = check_beats(&t, &l, starts[s], (int64_t)(runs[r].master * 10.0), pad_fpb,
					       offset);
			worst = fmax(worst, w);
		}
		printf("locked-start %u Hz %.1f BPM: worst %.4f frames from a mid-bar and a bar start\n", rate,
		       runs[r].master, worst);
	}
	/* Bad input: as locked_init, and no transport. */
	struct flz_transport t = make_transport(48000, 120.0, 0);
	struct flz_transport_lock lock, bad;
	ck_assert_int_eq(flz_transport_lock_ratio(120.0, 90.0, &lock), 0);
	bad = lock;
	bad.inc_fp--;
	struct flz_transport_locked l, saved;
	memset(&l, 0x3c, sizeof(l));
	saved = l;
	ck_assert_int_eq(flz_transport_locked_start(&l, NULL, 0, 0, &lock, 0, 100), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_start(&l, &t, 0, 0, &bad, 0, 100), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_start(&l, &t, 0, 100 * FP_ONE, &lock, 0, 100), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_start(&l, &t, 0, 0, &lock, 50, 50), -EINVAL);
	ck_assert_int_eq(flz_transport_locked_start(&l, &t, FLZ_TRANSPORT_FRAME_MAX + 1, 0, &lock, 0, 100),
			 -EINVAL);
	ck_assert_mem_eq(&l, &saved, sizeof(l));
}
END_TEST

TCase *transport_case_locked_start(void) { return transport_tcase("transport:locked-start", test_locked_start); }
TCase *transport_case_lock_ratio(void) { return transport_tcase("transport:lock-ratio", test_lock_ratio); }
TCase *transport_case_locked_wrap(void) { return transport_tcase("transport:locked-wrap", test_locked_wrap); }
TCase *transport_case_locked_drift(void) { return transport_tcase("transport:locked-drift", test_locked_drift); }
TCase *transport_case_locked_bad_input(void)
{
	return transport_tcase("transport:locked-bad-input", test_locked_bad_input);
}
