/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Key lock's cost: one stereo key-locked voice at 48 kHz rendered in
 * 128-frame blocks, per engine (R2 "faster", R3 "finer") and rate, as a
 * share of one core (time spent rendering / audio time produced). Each
 * figure is the median of RUNS runs of SECONDS of audio, on CLOCK_MONOTONIC
 * (wall time: on a loaded machine the figures rise). The material is white
 * noise, the stretcher's worst case for transient detection, read from
 * memory by the pull callback as a voice would. The worst block's time is
 * printed too (the audio thread's deadline is per block: 2.67 ms), and the
 * median time of flz_stretch_reset() + flz_stretch_prime(), the start
 * compensation's one-off cost (done while a quantised start waits, or in
 * the voice's first block).
 *
 * usage: stretch-bench [SECONDS]   (default 4)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <flz/stretch.h>

#define RATE_HZ 48000
#define BLOCK 128
#define RUNS 5
#define MATERIAL_FRAMES (RATE_HZ * 4)

static float material[MATERIAL_FRAMES * 2];

struct reader {
	size_t pos;
};

/* Loops the material, as a looping pad does. */
static uint32_t read_loop(void *ctx, float *dst, uint32_t n_frames)
{
	struct reader *r = ctx;
	for (uint32_t i = 0; i < n_frames; i++) {
		dst[2 * i] = material[2 * r->pos];
		dst[2 * i + 1] = material[2 * r->pos + 1];
		r->pos = (r->pos + 1) % MATERIAL_FRAMES;
	}
	return n_frames;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 4.0;
	if (!(seconds > 0.0))
		seconds = 4.0;
	uint32_t seed = 1;
	for (size_t i = 0; i < MATERIAL_FRAMES * 2; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		material[i] = (float)((double)seed / 4294967296.0 - 0.5);
	}
	static const double rates[] = { 1.0, 0.8, 1.25, 0.5, 2.0 };
	static const char *const names[] = { "faster (R2)", "finer (R3)" };
	static float out[BLOCK * 2];
	size_t n_blocks = (size_t)(seconds * RATE_HZ / BLOCK);
	printf("stretch-bench: stereo, %d Hz, %d-frame blocks, %.1f s of audio, median of %d\n",
	       RATE_HZ, BLOCK, seconds, RUNS);
	for (int e = 0; e < 2; e++) {
		struct flz_stretch_config c = flz_stretch_config_init();
		c.rate_hz = RATE_HZ;
		c.n_channels = 2;
		c.max_block_frames = BLOCK;
		c.engine = (enum flz_stretch_engine)e;
		struct flz_stretch *st;
		if (flz_stretch_new(&c, &st) != 0)
			return 1;
		for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
			double share[RUNS], prime_ns[RUNS], worst_ns = 0.0, step_ns = 0.0;
			for (int run = 0; run < RUNS; run++) {
				struct reader rd = { 0 };
				double tp = now_ns();
				if (flz_stretch_reset(st, rates[r]) != 0 ||
				    flz_stretch_prime(st, read_loop, &rd) != 0)
					return 1;
				double t0 = now_ns();
				prime_ns[run] = t0 - tp;
				/* The same prime in steps of one block's input. */
				struct reader rs = { 0 };
				if (flz_stretch_reset(st, rates[r]) != 0)
					return 1;
				for (int done = 0; !done;) {
					double ts = now_ns();
					done = flz_stretch_prime_step(st, read_loop, &rs,
								      (uint32_t)(BLOCK * rates[r]) + 1);
					if (done < 0)
						return 1;
					step_ns = fmax(step_ns, now_ns() - ts);
				}
				t0 = now_ns();
				for (size_t b = 0; b < n_blocks; b++) {
					double tb = now_ns();
					if (flz_stretch_render(st, read_loop, &rd, out, BLOCK) != 0)
						return 1;
					double dt = now_ns() - tb;
					if (dt > worst_ns)
						worst_ns = dt;
				}
				double t1 = now_ns();
				share[run] = (t1 - t0) / (seconds * 1e9);
			}
			qsort(share, RUNS, sizeof(double), cmp_double);
			qsort(prime_ns, RUNS, sizeof(double), cmp_double);
			printf("  %-12s rate %.2f: %5.1f %% of a core per voice, worst block %.3f ms, "
			       "reset + prime %.3f ms (in steps of a block's input: worst step %.3f ms)\n",
			       names[e], rates[r], 100.0 * share[RUNS / 2], worst_ns / 1e6,
			       prime_ns[RUNS / 2] / 1e6, step_ns / 1e6);
		}
		flz_stretch_destroy(st);
	}
	return 0;
}
