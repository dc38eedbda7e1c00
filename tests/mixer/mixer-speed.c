/* SPDX-License-Identifier: MIT */
/* mixer:speed, mixer:speed-glide, mixer:steady, mixer:rates, mixer:interp-run:
 * varispeed. */
#include "mixer-tests.h"

#include <flz/voice.h>

#include "resampler.h"

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
 * generic interpolators (20-tap Kaiser sinc at speeds <= 1, 26 taps
 * stretched above; 64 rows per frame, linear between them), dBc:
 *   1 kHz:  x0.5 -122.7   x0.73 -107.5   x1.37 -117.5   x2.0 -139.5
 *   10 kHz: x0.5 -106.7   x0.73 -95.4    x1.37 -96.0    x2.0 -144.3
 * Level: within 0.0003 dB, except 10 kHz at x2.0 (20 kHz out, in the
 * scaled transition band): -0.080 dB.
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
		ck_assert_msg(memcmp(&out[i], &ref[i], sizeof(float)) == 0, "differs at frame %zu", i / CH);
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

/* ---- mixer:rates ---- */

struct rate_case {
	double global;
	double pad;
};

/*
 * Every voice runs its own interpolator at global x pad speed, over the
 * whole range 0.25 .. 4: a 1 kHz sine (1 s loop, whole cycles) comes out
 * at rate x 1 kHz with every spurious component below -90 dBc, a 10 kHz
 * sine below -60 dBc where its new frequency stays below 20 kHz, at its
 * level (0.001 dB; 0.1 dB from 15 kHz on, in the transition band). Where
 * 10 kHz x rate passes the output's Nyquist frequency (rates 3 and 4) the
 * stretched kernel must remove it rather than alias it: the output's RMS
 * stays below -90 dB of the input sine's.
 */
START_TEST(test_rates)
{
	static const struct rate_case cases[] = {
		{ 0.5, 0.5 }, { 1.0, 0.5 }, { 0.8, 1.0 }, { 1.0, 1.37 },
		{ 1.0, 2.0 }, { 1.5, 2.0 }, { 2.0, 2.0 },
	};
	static const double freqs[] = { 1000.0, 10000.0 };
	const uint32_t skip = 2048, n = 16384;
	float *out = floats(skip + n);
	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		for (int fi = 0; fi < 2; fi++) {
			const double rate = cases[ci].global * cases[ci].pad, f = freqs[fi];
			struct rec r = { 0 };
			struct flz_mixer_config c = mk_config(&r);
			c.speed = cases[ci].global;
			struct flz_mixer *m = new_mixer_cfg(&c);
			struct flz_sample *s = flz_sample_new(RATE, CH, RATE);
			ck_assert_ptr_nonnull(s);
			flz_test_sine(s->data, RATE, CH, f, RATE, 0.5, 0.7);
			load(m, 0, s);
			ck_assert_int_eq(flz_mixer_set_pad_speed(m, 0, cases[ci].pad), 0);
			play(m, 0, 1.0f);
			render(m, out, skip + n, 512);
			for (uint32_t ch = 0; ch < CH; ch++) {
				if (f * rate > 24000.0) {
					double sum = 0.0;
					for (uint32_t i = 0; i < n; i++)
						sum += (double)out[(skip + i) * CH + ch] *
						       out[(skip + i) * CH + ch];
					double rms_db = 10.0 * log10(sum / n / (0.5 * 0.5 / 2.0) + 1e-300);
					printf("mixer:rates %5.0f Hz x %.2f ch %u: above Nyquist, %7.1f dB\n",
					       f, rate, ch, rms_db);
					ck_assert_msg(rms_db < -90.0, "%g Hz x %g: %g dB", f, rate, rms_db);
					continue;
				}
				double amp, res;
				flz_test_sine_fit(out + skip * CH + ch, n, CH, f * rate / RATE, &amp, &res);
				double level_db = flz_test_db(amp / 0.5);
				printf("mixer:rates %5.0f Hz x %.2f ch %u: spurious %7.1f dBc, level %+.4f dB\n",
				       f, rate, ch, res, level_db);
				if (f * rate > 20000.0)
					continue; /* beyond the passband: attenuated by design */
				ck_assert_msg(res < (fi == 0 ? -90.0 : -60.0), "%g Hz x %g: %g dBc", f,
					      rate, res);
				if (f * rate < 15000.0)
					ck_assert_msg(fabs(level_db) < 0.001, "level %g dB", level_db);
				else
					ck_assert_msg(level_db > -0.1 && level_db < 0.001, "level %g dB",
						      level_db);
			}
			flz_mixer_destroy(m);
		}
	}
	free(out);
}
END_TEST

/* ---- mixer:interp-run ---- */

/* One interpolator check: @p n frames at positions pos and fractions frac
 * from @p x (n_pos frames) for speed @p sp, the run against the single
 * frame kernel, portable and (when built and not forced generic) AVX2. */
static void check_interp_run(const struct flz_resampler *r, const struct flz_resampler_speed *sp,
			     const float *x, int64_t base, const int64_t *pos,
			     const uint32_t *frac, uint32_t n, const char *what)
{
	float run[2 * 64], one[2 * 64];
	flz_resampler_run(r, sp, x, base, pos, frac, CH, n, 0.75f, run);
	for (uint32_t j = 0; j < n; j++) {
		flz_resampler_frame(r, sp, x + (pos[j] - base) * CH, CH, frac[j], 0.75f, one + j * CH);
		ck_assert_msg(memcmp(run + j * CH, one + j * CH, CH * sizeof(float)) == 0,
			      "%s: portable run frame %u differs", what, j);
	}
#ifdef FLZ_HAVE_AVX2_RESAMPLER
	const uint32_t want = FLZ_CPU_AVX2 | FLZ_CPU_FMA;
	if (flz_test_force_generic() || (flz_cpu_detect() & want) != want)
		return;
	float vec[2 * 64], vone[2];
	flz_resampler_run_stereo_avx2(r, sp, x, base, pos, frac, CH, n, 0.75f, vec);
	for (uint32_t j = 0; j < n; j++) {
		flz_resampler_frame_stereo_avx2(r, sp, x + (pos[j] - base) * CH, CH, frac[j], 0.75f,
						vone);
		ck_assert_msg(memcmp(vec + j * CH, vone, CH * sizeof(float)) == 0,
			      "%s: AVX2 run frame %u differs from its frame kernel", what, j);
		/* The same sums in another order: float rounding of about 30-100
		 * products of magnitude <= 1. */
		for (uint32_t c = 0; c < CH; c++)
			ck_assert_msg(fabsf(vec[j * CH + c] - run[j * CH + c]) < 2e-6f,
				      "%s: AVX2 frame %u ch %u: %g, portable %g", what, j, c,
				      (double)vec[j * CH + c], (double)run[j * CH + c]);
	}
#endif
}

/*
 * The interpolator's runs at constant speed (one call per block) equal its
 * single frames (the path of a glide) for every table, bit for bit within
 * each instruction set (the AVX2 run is unrolled for each table's number of
 * taps, with a loop for any other), and AVX2 equals the portable one within
 * 2e-6 (the header's "float rounding"). 61 frames (odd: the run's last
 * single frame) at random fractions and steps of 0 to 4 source frames over
 * noise within +-1, with a gain of 0.75.
 */
START_TEST(test_interp_run)
{
	struct flz_resampler r;
	ck_assert_int_eq(flz_resampler_init(&r), 0);
	enum { N = 61, SPAN = 4 * N + 2 * FLZ_RESAMPLER_MAX_SIDE_TAPS + 8 };
	float *x = malloc(SPAN * CH * sizeof(float));
	ck_assert_ptr_nonnull(x);
	uint32_t seed = 12345;
	for (int i = 0; i < SPAN * CH; i++) {
		seed = seed * 1664525u + 1013904223u;
		x[i] = (float)((double)seed / 4294967296.0 * 2.0 - 1.0);
	}
	for (int k = 0; k <= FLZ_RESAMPLER_N_TABLES; k++) {
		struct flz_resampler_speed sp;
		char what[48];
		if (k < FLZ_RESAMPLER_N_TABLES) {
			flz_resampler_prepare_table(&r, &sp, r.table[k].inc_fp);
			ck_assert_ptr_eq(sp.table, &r.table[k]);
			snprintf(what, sizeof what, "table %d (%d taps)", k, 2 * sp.side);
		} else {
			/* A count no table has (the first stretch's taps less
			 * four, inside its rows): the run's loop for any count. */
			flz_resampler_prepare_table(&r, &sp, r.table[1].inc_fp);
			sp.side -= 2;
			snprintf(what, sizeof what, "%d taps (no table)", 2 * sp.side);
		}
		/* Centres from side - 1 on, so that every tap reads inside x. */
		const int64_t base = -(int64_t)FLZ_RESAMPLER_MAX_SIDE_TAPS;
		int64_t pos[N];
		uint32_t frac[N];
		int64_t p = 0;
		for (int j = 0; j < N; j++) {
			seed = seed * 1664525u + 1013904223u;
			frac[j] = seed;
			pos[j] = p;
			p += (seed >> 8) % 5;
		}
		check_interp_run(&r, &sp, x + FLZ_RESAMPLER_MAX_SIDE_TAPS * CH, base, pos, frac, N,
				 what);
	}
	free(x);
	flz_resampler_deinit(&r);
}
END_TEST

TCase *mixer_case_interp_run(void)
{
	return mixer_tcase("mixer:interp-run", test_interp_run);
}

TCase *mixer_case_rates(void)
{
	return mixer_tcase("mixer:rates", test_rates);
}

TCase *mixer_case_speed(void)
{
	return mixer_tcase("mixer:speed", test_speed);
}

TCase *mixer_case_speed_glide(void)
{
	return mixer_tcase("mixer:speed-glide", test_speed_glide);
}

TCase *mixer_case_steady(void)
{
	return mixer_tcase("mixer:steady", test_steady);
}
