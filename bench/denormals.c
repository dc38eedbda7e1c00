/* SPDX-License-Identifier: MIT */
/*
 * The audio thread's load on subnormal material, with and without
 * flush-to-zero. Run inside the rig (a private JACK server):
 *
 *   python3 tests/rig/rig.py -- build/bench/denormals [SECONDS]
 *
 * Each case starts an engine on the rig's default PCM, loads one second of
 * stereo material, plays FLZ_MAX_VOICES voices of it at gain 0.25 and speed
 * 1.37 (so the resampler's taps multiply it too), and reads stats.load
 * (render time over audio time, per 1 s window) once a second for SECONDS
 * seconds (default 4), after one second to settle. The material is either
 * subnormal (every sample 1e-39: the sum of 32 voices at 0.25 stays
 * subnormal) or normal (1e-3). Flushing is turned off through the private
 * hook flz_engine_set_flush_denormals(), which only a bench or test calls.
 *
 * First, the CPU's own penalty: the bench thread times a multiply-add loop
 * over subnormal and over normal floats, with the flush bits off and on, so
 * that the load figures can be read against what the hardware charges.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <flz/engine.h>

#include "denormals.h"
#include "engine-private.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Nanoseconds per element of acc = acc * 0.999 + x[i] * 0.25 over 4096 x
 * 2048 elements of value @p value (the accumulator stays in the range of
 * the values). */
static double madd_ns(float value, bool flush)
{
	static float x[4096];
	for (size_t i = 0; i < 4096; i++)
		x[i] = value;
	uint32_t saved = flz_fp_mode_get();
	flz_fp_flush_denormals(flush);
	volatile float sink;
	float acc[8] = { 0 };
	double t0 = now_s();
	for (int r = 0; r < 2048; r++)
		for (size_t i = 0; i < 4096; i += 8)
			for (int k = 0; k < 8; k++)
				acc[k] = acc[k] * 0.999f + x[i + k] * 0.25f;
	double t1 = now_s();
	sink = acc[0] + acc[7];
	(void)sink;
	flz_fp_mode_set(saved);
	return (t1 - t0) * 1e9 / (4096.0 * 2048.0);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int run_case(float value, bool flush, int seconds, double *mean, double *worst)
{
	struct flz_engine_config config = flz_engine_config_init();
	config.device = getenv("FLITZIS_AUDIO_DEVICE");
	struct flz_engine *engine = NULL;
	if (flz_engine_new(&config, &engine) < 0)
		return -1;
	flz_engine_set_flush_denormals(engine, flush);
	char why[256];
	int err = flz_engine_start(engine, why, sizeof(why));
	if (err < 0) {
		fprintf(stderr, "start: %s\n", why);
		flz_engine_destroy(engine);
		return err;
	}
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	struct flz_sample *s = flz_sample_new(stats.rate_hz, stats.n_channels, stats.rate_hz);
	for (size_t i = 0; i < (size_t)stats.rate_hz * stats.n_channels; i++)
		s->data[i] = value;
	err = flz_engine_load_sample(engine, 0, s);
	for (int v = 0; err == 0 && v < FLZ_MAX_VOICES; v++)
		err = flz_engine_play(engine, 0, 0.25f);
	if (err == 0)
		err = flz_engine_set_speed(engine, 1.37);
	if (err < 0) {
		fprintf(stderr, "commands: %s\n", flz_strerror(err));
		flz_engine_destroy(engine);
		return err;
	}
	sleep_ms(1500);
	double sum = 0.0;
	*worst = 0.0;
	for (int i = 0; i < seconds; i++) {
		sleep_ms(1000);
		flz_engine_get_stats(engine, &stats);
		sum += stats.load;
		if (stats.load > *worst)
			*worst = stats.load;
	}
	*mean = sum / seconds;
	uint64_t xruns = stats.xruns;
	uint32_t voices = stats.voices_playing;
	flz_engine_destroy(engine);
	if (voices != FLZ_MAX_VOICES) {
		fprintf(stderr, "only %u voices played\n", voices);
		return -1;
	}
	if (xruns)
		fprintf(stderr, "(%llu xruns)\n", (unsigned long long)xruns);
	return 0;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 4;
	if (seconds < 1)
		seconds = 1;
	const struct {
		const char *name;
		float value;
	} materials[] = { { "subnormal 1e-39", 1e-39f }, { "normal 1e-3", 1e-3f } };
	printf("%-16s %-12s %10s\n", "material", "flush", "ns/madd");
	for (int m = 0; m < 2; m++)
		for (int flush = 1; flush >= 0; flush--)
			printf("%-16s %-12s %10.3f\n", materials[m].name, flush ? "FTZ+DAZ" : "off",
			       madd_ns(materials[m].value, flush));
	printf("\n");
	printf("%-16s %-12s %10s %10s\n", "material", "flush", "mean load", "worst");
	for (int m = 0; m < 2; m++) {
		for (int flush = 1; flush >= 0; flush--) {
			double mean, worst;
			if (run_case(materials[m].value, flush, seconds, &mean, &worst) < 0)
				return 1;
			printf("%-16s %-12s %10.4f %10.4f\n", materials[m].name,
			       flush ? "FTZ+DAZ" : "off (hook)", mean, worst);
			fflush(stdout);
		}
	}
	return 0;
}
