/* SPDX-License-Identifier: MIT */
/*
 * The audio thread's meter work as a share of its render time.
 *
 *   meter-bench [--rounds N] [--blocks N] [--block N] [--voices N]
 *               [--speed X] [--meter-hz X] [--null]
 *
 * 32 voices (each its own pad and 10 s stereo sample, looping) render in
 * 64-frame blocks at 48 kHz, once at global speed 1.0 (the plain
 * gain-and-add path) and once at 1.37 (every voice through the
 * interpolator). "On" is what the engine's audio thread does: the mixer
 * render with libmixer's meter read-out, split at the ends of the meter
 * intervals (round(48000 / meter_hz) frames) with a snapshot taken and
 * swapped into a triple buffer at each end, as engine/src/meters-rt.c
 * does; "off" is the same render without any of that (meter-switch.c
 * turns libmixer's read-out off, nothing is split or published). The
 * per-voice peak taps inside the mix kernels are in both: they predate the
 * meters and the mixer computes them either way.
 *
 * Each round times --blocks blocks on and --blocks blocks off (the order
 * alternates between rounds) with the thread's CPU clock, on the same
 * mixer, whose voices play on throughout. Prints, per case, the median
 * time per block on and off and the median of the rounds' differences
 * (on - off) as a percent of the off time, with its quartiles.
 *
 * --speed (0.5..2.0) and --meter-hz (1..200) each replace the pair of
 * values with one. --null times
 * "on" against "on" (the same work in both halves of a round): what the
 * method itself reads where there is no difference to find.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <flz/mixer.h>

#include "meter-switch.h"
#include "mixer-samples.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The engine core's side of the meters, as in engine/src/meters-rt.c. */
struct meter_side {
	struct flz_mixer_meters buf[3];
	_Atomic uint32_t latest;
	uint32_t back;
	uint32_t interval_frames;
	uint32_t acc_frames;
};

static void render_on(struct flz_mixer *m, struct meter_side *ms, float *out, uint32_t n_frames)
{
	uint32_t done = 0;
	while (done < n_frames) {
		uint32_t left = ms->interval_frames - ms->acc_frames;
		uint32_t n = n_frames - done < left ? n_frames - done : left;
		if (flz_mixer_render(m, out + (size_t)done * N_CHANNELS, n) < 0)
			exit(1);
		done += n;
		ms->acc_frames += n;
		if (ms->acc_frames == ms->interval_frames) {
			ms->acc_frames = 0;
			flz_mixer_take_meters(m, &ms->buf[ms->back]);
			/* acq_rel, as the engine's publish (no reader here). */
			uint32_t prev = atomic_exchange_explicit(&ms->latest, ms->back | 4u,
								 memory_order_acq_rel);
			ms->back = prev & 3u;
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double quantile(double *v, size_t n, double q)
{
	qsort(v, n, sizeof *v, cmp_double);
	double at = q * (double)(n - 1);
	size_t i = (size_t)at;
	return i + 1 < n ? v[i] + (at - (double)i) * (v[i + 1] - v[i]) : v[n - 1];
}

static void run_case(struct flz_sample **samples, unsigned n_voices, uint32_t block, double speed,
		     double meter_hz, unsigned rounds, unsigned blocks_per_chunk, bool null,
		     float *out)
{
	struct flz_mixer *m = new_mixer(block, speed);
	for (unsigned v = 0; v < n_voices; v++) {
		flz_sample_ref(samples[v]);
		if (flz_mixer_load(m, (int32_t)v, samples[v]) < 0 ||
		    flz_mixer_play(m, (int32_t)v, 0.5f) != 1) {
			fprintf(stderr, "load/play failed\n");
			exit(1);
		}
	}
	static struct meter_side ms;
	memset(&ms, 0, sizeof ms);
	atomic_init(&ms.latest, 1u);
	ms.back = 0;
	ms.interval_frames = (uint32_t)lround(RATE_HZ / meter_hz);
	/* Warm up: ramps settle, caches fill. */
	for (int i = 0; i < 256; i++)
		render_on(m, &ms, out, block);

	double *on = malloc(rounds * sizeof *on), *off = malloc(rounds * sizeof *off);
	double *diff = malloc(rounds * sizeof *diff);
	if (on == NULL || off == NULL || diff == NULL)
		exit(1);
	for (unsigned r = 0; r < rounds; r++) {
		for (int k = 0; k < 2; k++) {
			bool meters = (k == 0) == (r % 2 == 0);
			flz_bench_meters_on = meters || null;
			double t0 = now_ns();
			if (meters || null) {
				for (unsigned i = 0; i < blocks_per_chunk; i++)
					render_on(m, &ms, out, block);
			} else {
				for (unsigned i = 0; i < blocks_per_chunk; i++)
					if (flz_mixer_render(m, out, block) < 0)
						exit(1);
			}
			double per_block = (now_ns() - t0) / blocks_per_chunk;
			*(meters ? &on[r] : &off[r]) = per_block;
		}
		diff[r] = 100.0 * (on[r] - off[r]) / off[r];
	}
	flz_bench_meters_on = true;
	flz_mixer_destroy(m);
	double d_med = quantile(diff, rounds, 0.5), d_q1 = quantile(diff, rounds, 0.25),
	       d_q3 = quantile(diff, rounds, 0.75);
	double on_med = quantile(on, rounds, 0.5), off_med = quantile(off, rounds, 0.5);
	printf("| %u | %u | %.2f | %.0f | %.3f | %.3f | %.2f | %.2f .. %.2f | %s |\n", n_voices,
	       block, speed, meter_hz, on_med / 1e3, off_med / 1e3, d_med, d_q1, d_q3,
	       d_med < 2.0 ? "yes" : "**no**");
	fflush(stdout);
	free(on);
	free(off);
	free(diff);
}

int main(int argc, char **argv)
{
	unsigned rounds = 400, blocks = 375, n_voices = 32;
	uint32_t block = 64;
	double only_speed = 0.0, only_hz = 0.0;
	bool null = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--blocks") == 0 && i + 1 < argc)
			blocks = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--block") == 0 && i + 1 < argc)
			block = (uint32_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--voices") == 0 && i + 1 < argc)
			n_voices = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--speed") == 0 && i + 1 < argc)
			only_speed = atof(argv[++i]);
		else if (strcmp(argv[i], "--meter-hz") == 0 && i + 1 < argc)
			only_hz = atof(argv[++i]);
		else if (strcmp(argv[i], "--null") == 0)
			null = true;
		else {
			fprintf(stderr,
				"usage: %s [--rounds N] [--blocks N] [--block N] [--voices N]"
				" [--speed X] [--meter-hz X] [--null]\n",
				argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || blocks < 1 || block < 1 || block > 4096 || n_voices < 1 ||
	    n_voices > FLZ_MAX_VOICES || (only_speed != 0.0 && !(only_speed >= 0.5 && only_speed <= 2.0)) ||
	    (only_hz != 0.0 && !(only_hz >= 1.0 && only_hz <= 200.0))) {
		fprintf(stderr, "%s: argument out of range\n", argv[0]);
		return 2;
	}
	static float out[4096 * N_CHANNELS] __attribute__((aligned(64)));
	struct flz_sample *samples[FLZ_MAX_VOICES];
	for (unsigned v = 0; v < n_voices; v++)
		samples[v] = make_sample(10 * RATE_HZ, v + 1);
	printf("| voices | block | speed | meter_hz | on us/block | off us/block | meter work %% of off"
	       " (median) | quartiles %% | < 2 %% |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
	const double speeds[] = { only_speed != 0.0 ? only_speed : 1.0, 1.37 };
	const double hz[] = { only_hz != 0.0 ? only_hz : 30.0, 200.0 };
	const size_t n_speeds = only_speed != 0.0 ? 1 : 2, n_hz = only_hz != 0.0 ? 1 : 2;
	for (size_t si = 0; si < n_speeds; si++)
		for (size_t hi = 0; hi < n_hz; hi++)
			run_case(samples, n_voices, block, speeds[si], hz[hi], rounds, blocks, null,
				 out);
	for (unsigned v = 0; v < n_voices; v++)
		flz_sample_unref(samples[v]);
	return 0;
}
