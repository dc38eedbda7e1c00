/* SPDX-License-Identifier: MIT */
/*
 * Mixer throughput, in voice-frames per second (voices x output frames
 * rendered per second of CPU time), beside the reference loop of
 * reference.c measured in the same run.
 *
 *   mixer-bench [--quick] [--markdown] [--voices N] [--block N] [--rate R]
 *               [--seconds S]
 *
 * --voices, --block and --rate (1.00, 1.37 or 0.5-2.0) run only the
 * matching cases (for profiling one of them); --seconds sets the minimum
 * CPU time per measurement.
 *
 * Cases: 1, 8 and 32 voices; 64- and 512-frame blocks; 4096-frame and
 * 10-second samples (stereo, 48 kHz, each voice its own sample); every voice
 * at rate 1.0, every voice at rate 1.37 (the global speed), and every voice
 * at a rate of its own spread evenly over 0.5..2.0 (global speed 1, pad
 * speeds 0.5 .. 2.0). Targets: at rate 1.0 at least 0.8x the reference in
 * every case; 32 voices at their own rates in 0.5..2.0 with 10 s samples and
 * 512-frame blocks at least 0.25 G voice-frames/s. The 1.37 rows are
 * reported.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <flz/mixer.h>

#include "reference.h"
#include "mixer-samples.h"

/* CPU time of this thread: the figures are per CPU second, so other load on
 * the machine does not count against the mixer or the reference. */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct result {
	double mixer_vfps;
	double ref_vfps;
};

/* The pad speed of voice v of n when the rates are spread over 0.5..2.0. */
static double spread_speed(unsigned v, unsigned n)
{
	return n > 1 ? FLZ_PAD_SPEED_MIN + (FLZ_PAD_SPEED_MAX - FLZ_PAD_SPEED_MIN) * v / (n - 1)
		     : FLZ_PAD_SPEED_MIN;
}

/* Render at least min_seconds of CPU work; return voice-frames per second.
 * speed < 0: every voice at its own rate (spread_speed()). */
static double run_mixer(struct flz_sample **samples, unsigned n_voices, uint32_t block,
			double speed, double min_seconds, float *out)
{
	struct flz_mixer *m = new_mixer(block, speed < 0.0 ? 1.0 : speed);
	for (unsigned v = 0; v < n_voices; v++) {
		flz_sample_ref(samples[v]);
		if (flz_mixer_load(m, (int32_t)v, samples[v]) < 0 ||
		    (speed < 0.0 &&
		     flz_mixer_set_pad_speed(m, (int32_t)v, spread_speed(v, n_voices)) < 0) ||
		    flz_mixer_play(m, (int32_t)v, 0.5f) != 1) {
			fprintf(stderr, "load/play failed\n");
			exit(1);
		}
	}
	/* Warm up: ramps settle, caches fill. */
	for (int i = 0; i < 64; i++)
		if (flz_mixer_render(m, out, block) < 0)
			exit(1);
	int64_t frames = 0;
	double t0 = now_s(), t;
	do {
		for (int i = 0; i < 256; i++)
			if (flz_mixer_render(m, out, block) < 0)
				exit(1);
		frames += 256 * (int64_t)block;
		t = now_s() - t0;
	} while (t < min_seconds);
	flz_mixer_destroy(m);
	return (double)frames * n_voices / t;
}

static double run_reference(struct flz_sample **samples, unsigned n_voices, uint32_t block,
			    double min_seconds, float *out)
{
	struct flz_bench_ref_voice voices[FLZ_MAX_VOICES];
	for (unsigned v = 0; v < n_voices; v++) {
		voices[v].data = samples[v]->data;
		voices[v].n_frames = samples[v]->n_frames;
		voices[v].pos = 0;
		voices[v].gain = 0.5f;
	}
	for (int i = 0; i < 64; i++)
		flz_bench_reference_render(voices, n_voices, out, block, N_CHANNELS);
	int64_t frames = 0;
	double t0 = now_s(), t;
	do {
		for (int i = 0; i < 256; i++)
			flz_bench_reference_render(voices, n_voices, out, block, N_CHANNELS);
		frames += 256 * (int64_t)block;
		t = now_s() - t0;
	} while (t < min_seconds);
	return (double)frames * n_voices / t;
}

/* The rate column's text (also what --rate matches). */
static void rate_name(double speed, char *buf, size_t size)
{
	if (speed < 0.0)
		snprintf(buf, size, "0.5-2.0");
	else
		snprintf(buf, size, "%.2f", speed);
}

int main(int argc, char **argv)
{
	bool quick = false, markdown = false;
	unsigned only_voices = 0, only_block = 0;
	const char *only_rate = NULL;
	double seconds = 0.0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = true;
		else if (strcmp(argv[i], "--markdown") == 0)
			markdown = true;
		else if (strcmp(argv[i], "--voices") == 0 && i + 1 < argc)
			only_voices = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--block") == 0 && i + 1 < argc)
			only_block = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			only_rate = argv[++i];
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else {
			fprintf(stderr,
				"usage: %s [--quick] [--markdown] [--voices N] [--block N] [--rate R] "
				"[--seconds S]\n",
				argv[0]);
			return 2;
		}
	}
	const double min_s = seconds > 0.0 ? seconds : quick ? 0.05 : 0.3;
	const unsigned voice_counts[] = { 1, 8, 32 };
	const uint32_t blocks[] = { 64, 512 };
	const int64_t lengths[] = { 4096, 10 * RATE_HZ };
	/* -1: each voice at its own rate in 0.5..2.0. */
	const double speeds[] = { 1.0, 1.37, -1.0 };
	const size_t n_speeds = sizeof speeds / sizeof speeds[0];

	static float out[512 * N_CHANNELS] __attribute__((aligned(64)));
	int failures = 0;

	if (markdown) {
		printf("| voices | block | sample | rate | mixer (G vf/s) | reference (G vf/s) | ratio | target | ok |\n");
		printf("|---:|---:|---|---:|---:|---:|---:|---|---|\n");
	} else {
		printf("%6s %6s %8s %7s %14s %14s %7s %-22s %s\n", "voices", "block", "sample",
		       "rate", "mixer G vf/s", "ref G vf/s", "ratio", "target", "ok");
	}
	for (size_t li = 0; li < 2; li++) {
		struct flz_sample *samples[FLZ_MAX_VOICES];
		for (unsigned v = 0; v < FLZ_MAX_VOICES; v++)
			samples[v] = make_sample(lengths[li], v + 1);
		for (size_t vi = 0; vi < 3; vi++) {
			for (size_t bi = 0; bi < 2; bi++) {
				unsigned nv = voice_counts[vi];
				uint32_t blk = blocks[bi];
				if ((only_voices && nv != only_voices) || (only_block && blk != only_block))
					continue;
				bool any = only_rate == NULL;
				for (size_t si = 0; si < n_speeds && !any; si++) {
					char rate[16];
					rate_name(speeds[si], rate, sizeof rate);
					any = strcmp(rate, only_rate) == 0;
				}
				if (!any)
					continue;
				double ref = run_reference(samples, nv, blk, min_s, out);
				for (size_t si = 0; si < n_speeds; si++) {
					char rate[16];
					rate_name(speeds[si], rate, sizeof rate);
					if (only_rate != NULL && strcmp(rate, only_rate) != 0)
						continue;
					double mix = run_mixer(samples, nv, blk, speeds[si], min_s, out);
					char target[32];
					bool ok;
					if (speeds[si] == 1.0) {
						snprintf(target, sizeof target, ">= 0.8x reference");
						ok = mix >= 0.8 * ref;
					} else if (speeds[si] < 0.0 && nv == 32 && blk == 512 &&
						   li == 1) {
						snprintf(target, sizeof target, ">= 0.25 G vf/s");
						ok = mix >= 0.25e9;
					} else {
						snprintf(target, sizeof target, "-");
						ok = true;
					}
					failures += !ok;
					const char *len_name = li == 0 ? "4096 fr" : "10 s";
					if (markdown)
						printf("| %u | %u | %s | %s | %.3f | %.3f | %.2f | %s | %s |\n",
						       nv, blk, len_name, rate, mix / 1e9, ref / 1e9,
						       mix / ref, target, ok ? "yes" : "**no**");
					else
						printf("%6u %6u %8s %7s %14.3f %14.3f %7.2f %-22s %s\n", nv,
						       blk, len_name, rate, mix / 1e9, ref / 1e9,
						       mix / ref, target, ok ? "yes" : "NO");
					fflush(stdout);
				}
			}
		}
		for (unsigned v = 0; v < FLZ_MAX_VOICES; v++)
			flz_sample_unref(samples[v]);
	}
	printf("%s: %d case(s) short of target\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
