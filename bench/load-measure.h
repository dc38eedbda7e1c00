/* SPDX-License-Identifier: MIT */
/*
 * The measuring frame shared by load-bench (libloader) and load-reference
 * (plain libsndfile + libsoxr): the same command line, the same clock, the
 * same peak-memory probe and the same JSON line, so that the two differ
 * only in the decoding they time.
 *
 *   PROGRAM time FILE RATE_HZ REPS   best of REPS loads, in seconds
 *   PROGRAM peak FILE RATE_HZ        growth of the peak resident set (VmHWM)
 *                                    during one load in this fresh process
 */
#ifndef FLZ_BENCH_LOAD_MEASURE_H
#define FLZ_BENCH_LOAD_MEASURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Decode path at rate_hz, stereo; fills the frame count and the bytes of
 * the finished sample, keeps the result alive until bench_release(). */
static int bench_load(const char *path, uint32_t rate_hz, int64_t *n_frames, uint64_t *n_bytes);
static void bench_release(void);

static double bench_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The peak resident set of this process image (VmHWM). Not getrusage's
 * ru_maxrss: that one survives exec and so starts at the parent's peak. */
static uint64_t bench_maxrss_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long kib = 0;
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmHWM: %llu kB", &kib) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return (uint64_t)kib * 1024u;
}

static int bench_main(int argc, char **argv, const char *impl)
{
	if (argc < 4 || (strcmp(argv[1], "time") != 0 && strcmp(argv[1], "peak") != 0)) {
		fprintf(stderr, "usage: %s time FILE RATE_HZ REPS | peak FILE RATE_HZ\n", argv[0]);
		return 2;
	}
	const char *path = argv[2];
	uint32_t rate_hz = (uint32_t)strtoul(argv[3], NULL, 10);
	int64_t n_frames = 0;
	uint64_t n_bytes = 0;
	if (strcmp(argv[1], "peak") == 0) {
		uint64_t before = bench_maxrss_bytes();
		if (bench_load(path, rate_hz, &n_frames, &n_bytes) < 0)
			return 1;
		uint64_t after = bench_maxrss_bytes();
		printf("{\"impl\": \"%s\", \"mode\": \"peak\", \"frames\": %lld, \"sample_bytes\": %llu,"
		       " \"peak_growth_bytes\": %llu, \"rss_before_bytes\": %llu}\n",
		       impl, (long long)n_frames, (unsigned long long)n_bytes,
		       (unsigned long long)(after - before), (unsigned long long)before);
		bench_release();
		return 0;
	}
	int reps = argc > 4 ? atoi(argv[4]) : 5;
	double best = 1e30, total = 0;
	for (int i = 0; i < reps; i++) {
		double t0 = bench_now_s();
		if (bench_load(path, rate_hz, &n_frames, &n_bytes) < 0)
			return 1;
		double t = bench_now_s() - t0;
		bench_release();
		total += t;
		if (t < best)
			best = t;
	}
	printf("{\"impl\": \"%s\", \"mode\": \"time\", \"frames\": %lld, \"sample_bytes\": %llu,"
	       " \"best_s\": %.6f, \"mean_s\": %.6f, \"reps\": %d}\n",
	       impl, (long long)n_frames, (unsigned long long)n_bytes, best, total / reps, reps);
	return 0;
}

#endif /* FLZ_BENCH_LOAD_MEASURE_H */
