/* SPDX-License-Identifier: MIT */
/*
 * The EQ's cost per stereo frame per voice at 48 kHz, in three states:
 * filtering (gains away from 0 dB, settled), bypassed (0, 0, 0 with the
 * exact bypass: the bank still runs, for its warm state, but writes
 * nothing), and gliding (a glide restarted every block, the per-frame
 * path). 32 voices of 256-frame blocks of noise are processed; each state
 * is timed over REPEATS blocks per voice on CLOCK_MONOTONIC and reported as
 * the median of 9 runs, with what 32 voices at 48 kHz cost as a share of
 * one core. The process sets no FTZ/DAZ (the library must not need it).
 *
 * usage: eq-bench [REPEATS]   (default 400)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <flz/eq.h>

#define N_VOICES 32
#define BLOCK 256
#define RUNS 9

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

static struct flz_eq eqs[N_VOICES];
static float buf[N_VOICES][BLOCK * 2];
static float noise[BLOCK * 2];

enum state { FILTERING, BYPASSED, GLIDING };

/* ns per stereo frame per voice, one run. */
static double run_once(enum state st, int repeats)
{
	static const double on[FLZ_EQ_N_BANDS] = { -60, 3, -6 };
	static const double on2[FLZ_EQ_N_BANDS] = { -59, 3, -6 };
	double t0 = now_ns();
	for (int r = 0; r < repeats; r++) {
		for (int v = 0; v < N_VOICES; v++) {
			memcpy(buf[v], noise, sizeof(noise));
			if (st == GLIDING &&
			    flz_eq_set_gains(&eqs[v], (r & 1) ? on : on2) != 0)
				abort();
			if (flz_eq_process(&eqs[v], buf[v], BLOCK) != 0)
				abort();
		}
	}
	double t1 = now_ns();
	return (t1 - t0) / ((double)repeats * N_VOICES * BLOCK);
}

/* The memcpy alone, subtracted from every figure. */
static double copy_once(int repeats)
{
	double t0 = now_ns();
	for (int r = 0; r < repeats; r++)
		for (int v = 0; v < N_VOICES; v++) {
			memcpy(buf[v], noise, sizeof(noise));
			__asm__ volatile("" : : "r"(buf[v]) : "memory");
		}
	return (now_ns() - t0) / ((double)repeats * N_VOICES * BLOCK);
}

int main(int argc, char **argv)
{
	int repeats = argc > 1 ? atoi(argv[1]) : 400;
	if (repeats < 1) {
		fprintf(stderr, "usage: eq-bench [REPEATS]\n");
		return 2;
	}
	uint32_t x = 0x9e3779b9u;
	for (size_t i = 0; i < BLOCK * 2; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		noise[i] = (float)((double)x / 4294967296.0 - 0.5);
	}
	static const char *const names[] = { "filtering", "bypassed", "gliding" };
	double copies[RUNS];
	for (int k = 0; k < RUNS; k++)
		copies[k] = copy_once(repeats);
	qsort(copies, RUNS, sizeof(double), cmp_double);
	double copy = copies[RUNS / 2];
	printf("eq-bench: %d voices, %d-frame stereo blocks at 48 kHz, %d blocks per voice, "
	       "median of %d (copy overhead %.2f ns/frame, subtracted)\n",
	       N_VOICES, BLOCK, repeats, RUNS, copy);
	for (int st = FILTERING; st <= GLIDING; st++) {
		struct flz_eq_config c = flz_eq_config_init();
		if (st != BYPASSED) {
			c.gain_db[0] = -60;
			c.gain_db[1] = 3;
			c.gain_db[2] = -6;
		}
		for (int v = 0; v < N_VOICES; v++)
			if (flz_eq_init(&eqs[v], &c) != 0)
				return 1;
		run_once((enum state)st, 4);
		double t[RUNS];
		for (int k = 0; k < RUNS; k++)
			t[k] = run_once((enum state)st, repeats);
		qsort(t, RUNS, sizeof(double), cmp_double);
		double ns = t[RUNS / 2] - copy;
		/* 32 voices x 48000 frames per second x ns per frame. */
		double share = 100.0 * N_VOICES * 48000.0 * ns * 1e-9;
		printf("%-10s %7.2f ns per stereo frame per voice; 32 voices at 48 kHz: %5.2f %% of a core\n",
		       names[st], ns, share);
	}
	return 0;
}
