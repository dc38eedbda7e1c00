/* SPDX-License-Identifier: MIT */
/* transport:modes, grid-next, grid-kth, position, tempo, anchor, bad-input. */
#include "transport-tests.h"

static const uint32_t rates[] = { 48000, 44100 };
static const double bpms[] = { 120.0, 128.0, 97.3 };
static const enum flz_quantize modes[] = { FLZ_QUANTIZE_1_16, FLZ_QUANTIZE_1_4, FLZ_QUANTIZE_BAR };
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The reference's next grid frame at or after f: the smallest k whose
 * ref_grid_frame() is >= f, searched from an estimate. */
static int64_t ref_next(uint32_t rate, uint64_t bpm_micro, uint64_t num, uint64_t den,
			int64_t downbeat, int64_t f)
{
	long double step = (long double)num * rate * 60.0L * 1e6L / ((long double)den * bpm_micro);
	int64_t k = (int64_t)floorl((long double)(f - downbeat) / step) - 2;
	while (ref_grid_frame(rate, bpm_micro, num, den, downbeat, k) < f)
		k++;
	/* The one before must be < f, or the estimate started too late. */
	ck_assert(ref_grid_frame(rate, bpm_micro, num, den, downbeat, k - 1) < f);
	return ref_grid_frame(rate, bpm_micro, num, den, downbeat, k);
}

/* Modes parse from their names and back; nothing else parses. */
START_TEST(test_modes)
{
	static const char *const names[] = { "off", "1/64", "1/32", "1/16", "1/8", "1/4", "1/2", "bar" };
	ck_assert_int_eq(N_OF(names), FLZ_QUANTIZE_N_MODES);
	for (int m = 0; m < FLZ_QUANTIZE_N_MODES; m++) {
		enum flz_quantize q = FLZ_QUANTIZE_BAR;
		ck_assert_int_eq(flz_quantize_parse(names[m], &q), 0);
		ck_assert_int_eq(q, m);
		ck_assert_str_eq(flz_quantize_name((enum flz_quantize)m), names[m]);
	}
	static const char *const bad[] = { "", "1/3", "BAR", "Off", "off ", " 1/4", "1/128", "1/", "1",
					   "4/4", "bars" };
	for (size_t i = 0; i < N_OF(bad); i++) {
		enum flz_quantize q = FLZ_QUANTIZE_1_8;
		ck_assert_int_eq(flz_quantize_parse(bad[i], &q), -EINVAL);
		ck_assert_int_eq(q, FLZ_QUANTIZE_1_8);
	}
	enum flz_quantize q = FLZ_QUANTIZE_1_8;
	ck_assert_int_eq(flz_quantize_parse(NULL, &q), -EINVAL);
	ck_assert_int_eq(q, FLZ_QUANTIZE_1_8);
	ck_assert_int_eq(flz_quantize_parse("bar", NULL), -EINVAL);
	ck_assert_ptr_null(flz_quantize_name((enum flz_quantize)FLZ_QUANTIZE_N_MODES));
	ck_assert_ptr_null(flz_quantize_name((enum flz_quantize)-1));
}
END_TEST

/* next_grid_frame over arbitrary frames (up to an hour, and before the
 * downbeat), the frames 10 minutes and 1 hour out, and every grid frame
 * and its neighbours near them, equals the reference: 0 frames error.
 * OFF returns the frame itself. */
START_TEST(test_grid_next)
{
	uint64_t rng = 0x5eed1234abcdULL;
	long n_checked = 0;
	for (size_t ri = 0; ri < N_OF(rates); ri++)
		for (size_t bi = 0; bi < N_OF(bpms); bi++)
			for (int64_t downbeat = 0; downbeat <= 777777; downbeat += 777777) {
				const uint32_t rate = rates[ri];
				struct flz_transport t = make_transport(rate, bpms[bi], downbeat);
				const uint64_t bpm_u = (uint64_t)llround(bpms[bi] * 1e6);
				const int64_t hour = 3600LL * rate, ten_min = 600LL * rate;
				for (size_t mi = 0; mi < N_OF(modes); mi++) {
					uint64_t num, den;
					ref_step_beats(modes[mi], 4, &num, &den);
					int64_t frames[1200];
					size_t n = 0;
					for (int i = 0; i < 1000; i++)
						frames[n++] = (int64_t)(test_rand(&rng) % (uint64_t)(hour + 20 * rate)) -
							      10 * rate;
					for (int64_t d = -3; d <= 3; d++) {
						frames[n++] = ten_min + d;
						frames[n++] = hour + d;
						frames[n++] = downbeat + d;
					}
					/* Each reference grid frame near 10 min and 1 h, and one past it. */
					for (int64_t base = 0; base <= 1; base++) {
						long double step = (long double)num * rate * 60.0L * 1e6L /
								   ((long double)den * bpm_u);
						int64_t k0 = (int64_t)(((base ? hour : ten_min) - downbeat) / step);
						for (int64_t k = k0; k < k0 + 40; k++) {
							int64_t g = ref_grid_frame(rate, bpm_u, num, den, downbeat, k);
							frames[n++] = g;
							frames[n++] = g + 1;
						}
					}
					ck_assert_uint_le(n, N_OF(frames));
					for (size_t i = 0; i < n; i++) {
						int64_t got = -1;
						ck_assert_int_eq(flz_transport_next_grid_frame(&t, modes[mi], frames[i], &got), 0);
						int64_t want = ref_next(rate, bpm_u, num, den, downbeat, frames[i]);
						ck_assert_msg(got == want,
							      "%u Hz %.1f BPM %s downbeat %lld: frame %lld -> %lld, expected %lld",
							      rate, bpms[bi], flz_quantize_name(modes[mi]), (long long)downbeat,
							      (long long)frames[i], (long long)got, (long long)want);
						n_checked++;
					}
				}
				int64_t same = -1;
				ck_assert_int_eq(flz_transport_next_grid_frame(&t, FLZ_QUANTIZE_OFF, 123457, &same), 0);
				ck_assert_int_eq(same, 123457);
			}
	printf("grid-next: %ld frames checked, 0 frames error\n", n_checked);
}
END_TEST

/* The k-th grid frame for every k up to 10^6 (1/16) and a stride of k
 * for the other modes equals the reference: no accumulated error. (Check
 * marks every ck_assert through a pipe, so the hot loops test with if and
 * fail with ck_abort_msg.) */
START_TEST(test_grid_kth)
{
	long n_checked = 0;
	for (size_t ri = 0; ri < N_OF(rates); ri++)
		for (size_t bi = 0; bi < N_OF(bpms); bi++) {
			const uint32_t rate = rates[ri];
			const uint64_t bpm_u = (uint64_t)llround(bpms[bi] * 1e6);
			struct flz_transport t = make_transport(rate, bpms[bi], 1000);
			for (size_t mi = 0; mi < N_OF(modes); mi++) {
				uint64_t num, den;
				ref_step_beats(modes[mi], 4, &num, &den);
				const int64_t stride = modes[mi] == FLZ_QUANTIZE_1_16 ? 1 : 997;
				for (int64_t k = -1000; k <= 1000000; k += (k < 1000 ? 1 : stride)) {
					int64_t got = 0;
					int rc = flz_transport_grid_frame(&t, modes[mi], k, &got);
					int64_t want = ref_grid_frame(rate, bpm_u, num, den, 1000, k);
					if (rc != 0 || got != want)
						ck_abort_msg("%u Hz %.1f BPM %s k %lld: %lld (rc %d), expected %lld",
						     rate, bpms[bi], flz_quantize_name(modes[mi]), (long long)k,
						     (long long)got, rc, (long long)want);
					n_checked++;
				}
			}
		}
	printf("grid-kth: %ld grid frames checked, 0 frames error\n", n_checked);
}
END_TEST

/* Positions: bar and beat at known frames (120 BPM at 48 kHz: 24000
 * frames per beat), before the downbeat, and bar/beat agree with the grid:
 * every bar frame reads beat 0 of its bar within the rounding of the frame
 * (half a frame: 0.5 / frames-per-beat beats). */
START_TEST(test_position)
{
	struct flz_transport t = make_transport(48000, 120.0, 1000);
	struct flz_transport_position p;
	static const struct {
		int64_t frame, bar;
		double beat;
	} known[] = {
		{ 1000, 0, 0.0 }, { 1000 + 84000, 0, 3.5 }, { 1000 + 96000, 1, 0.0 },
		{ 1000 + 96000 * 1000 + 12000, 1000, 0.5 }, { 999, -1, 4.0 - 1.0 / 24000.0 },
		{ 1000 - 96000 * 3 - 24000, -4, 3.0 },
	};
	for (size_t i = 0; i < N_OF(known); i++) {
		ck_assert_int_eq(flz_transport_position(&t, known[i].frame, &p), 0);
		ck_assert_int_eq(p.bar, known[i].bar);
		ck_assert_msg(fabs(p.beat - known[i].beat) <= 1e-12, "frame %lld: beat %.15f, expected %.15f",
			      (long long)known[i].frame, p.beat, known[i].beat);
	}
	/* The largest fraction below a bar stays below beats_per_bar. */
	ck_assert_int_eq(flz_transport_position(&t, 1000 + 96000 - 1, &p), 0);
	ck_assert_int_eq(p.bar, 0);
	ck_assert(p.beat < 4.0);

	for (size_t bi = 0; bi < N_OF(bpms); bi++) {
		struct flz_transport u = make_transport(44100, bpms[bi], -5000);
		const double fpb = 44100.0 * 60.0 / bpms[bi];
		for (int64_t k = -50; k < 5000; k += 7) {
			int64_t g;
			ck_assert_int_eq(flz_transport_grid_frame(&u, FLZ_QUANTIZE_BAR, k, &g), 0);
			ck_assert_int_eq(flz_transport_position(&u, g, &p), 0);
			double beat = p.beat > 2.0 ? p.beat - 4.0 : p.beat;
			int64_t bar = p.beat > 2.0 ? p.bar + 1 : p.bar;
			ck_assert_int_eq(bar, k);
			ck_assert_msg(fabs(beat) <= 0.5 / fpb + 1e-12, "bar %lld: beat %.12f", (long long)k, beat);
		}
	}
}
END_TEST

/* A tempo change at frame f keeps bar and beat at f (within 1e-9 beats),
 * also after a chain of changes; from f on, the position advances at the
 * new tempo (one new beat later reads one beat more, within 1e-9 plus the
 * frame rounding), and grid frames after f match positions on whole
 * steps. */
START_TEST(test_tempo)
{
	static const double chain[] = { 128.0, 97.3, 300.0, 20.0, 120.0, 97.3, 128.0 };
	for (size_t ri = 0; ri < N_OF(rates); ri++) {
		struct flz_transport t = make_transport(rates[ri], 120.0, 0);
		int64_t f = 12345;
		double worst = 0.0;
		for (size_t i = 0; i < N_OF(chain); i++) {
			struct flz_transport_position before, after;
			ck_assert_int_eq(flz_transport_position(&t, f, &before), 0);
			ck_assert_int_eq(flz_transport_set_bpm(&t, f, chain[i]), 0);
			ck_assert(flz_transport_bpm(&t) == chain[i]);
			ck_assert_int_eq(flz_transport_position(&t, f, &after), 0);
			ck_assert_int_eq(after.bar, before.bar);
			double d = fabs(after.beat - before.beat);
			worst = d > worst ? d : worst;
			ck_assert_msg(d <= 1e-9, "%.1f BPM at frame %lld: beat %.12f -> %.12f", chain[i],
				      (long long)f, before.beat, after.beat);
			/* Eight new beats on (two bars), the bar advances by 2 and the
			 * beat is the same. */
			const double fpb = rates[ri] * 60.0 / chain[i];
			int64_t later = f + llround(8.0 * fpb);
			struct flz_transport_position p;
			ck_assert_int_eq(flz_transport_position(&t, later, &p), 0);
			double moved = (double)(p.bar - after.bar) * 4.0 + (p.beat - after.beat);
			ck_assert_msg(fabs(moved - (double)(later - f) / fpb) <= 1e-9,
				      "%.1f BPM: moved %.12f beats over %lld frames", chain[i], moved,
				      (long long)(later - f));
			/* The next 1/4 grid frame after f is where the next whole beat
			 * falls (within half a frame). */
			int64_t g;
			ck_assert_int_eq(flz_transport_next_grid_frame(&t, FLZ_QUANTIZE_1_4, f, &g), 0);
			ck_assert_int_eq(flz_transport_position(&t, g, &p), 0);
			double to_whole = p.beat - floor(p.beat + 0.5);
			ck_assert_msg(fabs(to_whole) <= 0.5 / fpb + 1e-9, "grid frame %lld at beat %.12f",
				      (long long)g, p.beat);
			ck_assert_int_le(g - f, (int64_t)ceil(fpb));
			f += 1000003 * (int64_t)(i + 1);
		}
		printf("tempo %u Hz: worst beat change at a tempo change %.3g\n", rates[ri], worst);
	}
}
END_TEST

/* anchor(f) makes f bar 0 beat 0 and a frame of every grid; beats per bar
 * changes the bar length, not the downbeat. */
START_TEST(test_anchor)
{
	struct flz_transport t = make_transport(44100, 97.3, 0);
	ck_assert_int_eq(flz_transport_set_bpm(&t, 33333, 128.0), 0);
	ck_assert_int_eq(flz_transport_anchor(&t, 987654321), 0);
	ck_assert_int_eq(flz_transport_downbeat_frame(&t), 987654321);
	int64_t whole;
	uint32_t frac;
	flz_transport_downbeat_exact(&t, &whole, &frac);
	ck_assert_int_eq(whole, 987654321);
	ck_assert_uint_eq(frac, 0);
	struct flz_transport_position p;
	ck_assert_int_eq(flz_transport_position(&t, 987654321, &p), 0);
	ck_assert_int_eq(p.bar, 0);
	ck_assert(p.beat == 0.0);
	for (int m = 0; m < FLZ_QUANTIZE_N_MODES; m++) {
		int64_t g;
		ck_assert_int_eq(flz_transport_next_grid_frame(&t, (enum flz_quantize)m, 987654321, &g), 0);
		ck_assert_int_eq(g, 987654321);
		ck_assert_int_eq(flz_transport_next_grid_frame(&t, (enum flz_quantize)m, 987654322, &g), 0);
		ck_assert_int_gt(g, m == FLZ_QUANTIZE_OFF ? 987654321 : 987654322);
	}
	/* 3 beats per bar at 128 BPM and 44.1 kHz: bar k at round(k x 3 x 20671.875). */
	ck_assert_int_eq(flz_transport_set_beats_per_bar(&t, 3), 0);
	ck_assert_uint_eq(flz_transport_beats_per_bar(&t), 3);
	ck_assert_int_eq(flz_transport_downbeat_frame(&t), 987654321);
	for (int64_t k = -10; k < 100; k++) {
		int64_t g;
		ck_assert_int_eq(flz_transport_grid_frame(&t, FLZ_QUANTIZE_BAR, k, &g), 0);
		ck_assert_int_eq(g, ref_grid_frame(44100, 128000000, 3, 1, 987654321, k));
	}
	/* Bar 1 starts 62015.625 frames on: frame 62015 is in bar 0, 62016 in bar 1. */
	ck_assert_int_eq(flz_transport_position(&t, 987654321 + 62015, &p), 0);
	ck_assert_int_eq(p.bar, 0);
	ck_assert_int_eq(flz_transport_position(&t, 987654321 + 62016, &p), 0);
	ck_assert_int_eq(p.bar, 1);
}
END_TEST

/* Every bad argument: -EINVAL (or NULL) and the transport unchanged, byte
 * for byte. */
START_TEST(test_bad_input)
{
	struct flz_transport t = make_transport(48000, 97.3, 4242);
	ck_assert_int_eq(flz_transport_set_beats_per_bar(&t, 7), 0);
	struct flz_transport saved;
	memcpy(&saved, &t, sizeof(t));

	ck_assert_int_eq(flz_transport_init(&t, FLZ_RATE_MIN_HZ - 1), -EINVAL);
	ck_assert_int_eq(flz_transport_init(&t, FLZ_RATE_MAX_HZ + 1), -EINVAL);
	ck_assert_int_eq(flz_transport_init(NULL, 48000), -EINVAL);
	ck_assert_mem_eq(&t, &saved, sizeof(t));

	static const double bad_bpm[] = { 19.999, 300.001, 0.0, -120.0, NAN, INFINITY, -INFINITY, 1e300 };
	for (size_t i = 0; i < N_OF(bad_bpm); i++) {
		ck_assert_int_eq(flz_transport_set_bpm(&t, 1000, bad_bpm[i]), -EINVAL);
		ck_assert_mem_eq(&t, &saved, sizeof(t));
	}
	static const int64_t bad_frames[] = { FLZ_TRANSPORT_FRAME_MAX + 1, -FLZ_TRANSPORT_FRAME_MAX - 1,
					      INT64_MAX, INT64_MIN };
	struct flz_transport_position p = { 77, 7.0 };
	int64_t out = 55;
	for (size_t i = 0; i < N_OF(bad_frames); i++) {
		ck_assert_int_eq(flz_transport_set_bpm(&t, bad_frames[i], 120.0), -EINVAL);
		ck_assert_int_eq(flz_transport_anchor(&t, bad_frames[i]), -EINVAL);
		ck_assert_int_eq(flz_transport_position(&t, bad_frames[i], &p), -EINVAL);
		ck_assert_int_eq(flz_transport_next_grid_frame(&t, FLZ_QUANTIZE_1_4, bad_frames[i], &out),
				 -EINVAL);
		ck_assert_int_eq(flz_transport_next_grid_frame(&t, FLZ_QUANTIZE_OFF, bad_frames[i], &out),
				 -EINVAL);
		ck_assert_mem_eq(&t, &saved, sizeof(t));
	}
	ck_assert_int_eq(flz_transport_set_beats_per_bar(&t, 0), -EINVAL);
	ck_assert_int_eq(flz_transport_set_beats_per_bar(&t, 17), -EINVAL);
	ck_assert_mem_eq(&t, &saved, sizeof(t));

	ck_assert_int_eq(flz_transport_next_grid_frame(&t, (enum flz_quantize)FLZ_QUANTIZE_N_MODES, 0, &out),
			 -EINVAL);
	ck_assert_int_eq(flz_transport_next_grid_frame(&t, (enum flz_quantize)-1, 0, &out), -EINVAL);
	ck_assert_int_eq(flz_transport_next_grid_frame(&t, FLZ_QUANTIZE_BAR, 0, NULL), -EINVAL);
	ck_assert_int_eq(flz_transport_grid_frame(&t, FLZ_QUANTIZE_OFF, 3, &out), -EINVAL);
	ck_assert_int_eq(flz_transport_grid_frame(&t, (enum flz_quantize)99, 3, &out), -EINVAL);
	ck_assert_int_eq(flz_transport_grid_frame(&t, FLZ_QUANTIZE_BAR, 3, NULL), -EINVAL);
	/* Grid frames beyond the frame range, however large k is. */
	ck_assert_int_eq(flz_transport_grid_frame(&t, FLZ_QUANTIZE_1_64, INT64_MAX, &out), -EINVAL);
	ck_assert_int_eq(flz_transport_grid_frame(&t, FLZ_QUANTIZE_BAR, INT64_MIN, &out), -EINVAL);
	ck_assert_int_eq(flz_transport_grid_frame(&t, FLZ_QUANTIZE_1_4, (int64_t)1 << 50, &out), -EINVAL);
	ck_assert_int_eq(flz_transport_position(&t, 0, NULL), -EINVAL);
	ck_assert_int_eq(out, 55);
	ck_assert_int_eq(p.bar, 77);
	ck_assert_mem_eq(&t, &saved, sizeof(t));

	/* A tempo change that would move the downbeat beyond its bound: the
	 * downbeat at -2^53, slowing from 300 to 20 BPM at +2^53 puts it at
	 * 2^53 - 15 x 2^54. */
	struct flz_transport far = make_transport(8000, 300.0, -FLZ_TRANSPORT_FRAME_MAX);
	struct flz_transport far_saved = far;
	ck_assert_int_eq(flz_transport_set_bpm(&far, FLZ_TRANSPORT_FRAME_MAX, 20.0), -EINVAL);
	ck_assert_mem_eq(&far, &far_saved, sizeof(far));
	/* The edges themselves are accepted: slowing from 120 to 20 BPM at
	 * +2^53 moves the downbeat to -5 x 2^53, within its bound. */
	struct flz_transport edge = make_transport(8000, 120.0, 0);
	ck_assert_int_eq(flz_transport_set_bpm(&edge, FLZ_TRANSPORT_FRAME_MAX, FLZ_TRANSPORT_BPM_MIN), 0);
	ck_assert_int_eq(flz_transport_downbeat_frame(&edge), -5 * FLZ_TRANSPORT_FRAME_MAX);
	ck_assert_int_eq(flz_transport_set_bpm(&edge, -FLZ_TRANSPORT_FRAME_MAX, FLZ_TRANSPORT_BPM_MAX), 0);
	ck_assert_int_eq(flz_transport_next_grid_frame(&edge, FLZ_QUANTIZE_BAR, -FLZ_TRANSPORT_FRAME_MAX, &out), 0);
	ck_assert_int_ge(out, -FLZ_TRANSPORT_FRAME_MAX);
	ck_assert_int_eq(flz_transport_next_grid_frame(&edge, FLZ_QUANTIZE_1_64, FLZ_TRANSPORT_FRAME_MAX, &out), 0);
	ck_assert_int_ge(out, FLZ_TRANSPORT_FRAME_MAX);
	ck_assert_int_eq(flz_transport_anchor(&edge, FLZ_TRANSPORT_FRAME_MAX), 0);
	ck_assert_int_eq(flz_transport_anchor(&edge, -FLZ_TRANSPORT_FRAME_MAX), 0);
	ck_assert_int_eq(flz_transport_position(&edge, FLZ_TRANSPORT_FRAME_MAX, &p), 0);
	ck_assert_int_eq(p.bar, (int64_t)((2.0 * FLZ_TRANSPORT_FRAME_MAX) / (8000.0 * 60.0 / 300.0) / 4.0));
}
END_TEST

TCase *transport_case_modes(void) { return transport_tcase("transport:modes", test_modes); }
TCase *transport_case_grid_next(void) { return transport_tcase("transport:grid-next", test_grid_next); }
TCase *transport_case_grid_kth(void) { return transport_tcase("transport:grid-kth", test_grid_kth); }
TCase *transport_case_position(void) { return transport_tcase("transport:position", test_position); }
TCase *transport_case_tempo(void) { return transport_tcase("transport:tempo", test_tempo); }
TCase *transport_case_anchor(void) { return transport_tcase("transport:anchor", test_anchor); }
TCase *transport_case_bad_input(void) { return transport_tcase("transport:bad-input", test_bad_input); }
