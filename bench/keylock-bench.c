/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Key lock and EQ on the audio thread (issue 14): what one render block
 * costs, as a share of the block's own period (128 frames at 48 kHz:
 * 2.667 ms), with N key-locked voices at rates spread over 0.8..1.25 and 32
 * voices sounding, every one with its EQ at non-neutral gains.
 *
 *   keylock-bench [--quick] [--seconds S]
 *
 * Two paths render the same scene:
 *
 * - "mixer": libmixer with the engine's own per-voice pieces (its key-lock
 *   source flz_engine_key_lock_ops over libstretch processors and its EQ
 *   stage flz_engine_eq_stage_ops over libeq, engine-private.h), the
 *   processors made here for each of Rubber Band's engines, R2 "faster"
 *   and R3 "finer", so that the two can be compared; the engine itself
 *   always makes R2 processors (flz_stretch_config_init()'s default).
 * - "engine": the engine on its offline device (flz_engine_render(), the
 *   audio thread's render with the command drain, transport and meters),
 *   R2 only since that is what it makes.
 *
 * Scenes: "1 locked" (one key-locked voice at rate r alone, its pad's EQ
 *   neutral, so the stage idles: the voice's own cost; rates 0.8, 1.0,
 *   1.25) and "N locked + 32 EQ", N = 0, 4, 8 (32 voices of 32 different
 *   2 s samples of white noise, the stretcher's worst case; voices 0..N-1
 *   key-locked at pad speeds spread evenly over 0.8..1.25, the others
 *   unlocked at the same spread of speeds through the varispeed reader;
 *   every pad's EQ at (-12, +3, -24) dB, set before the voices start, which
 *   then start at those gains). The voices start one per block, so that
 *   each key-locked start primes its processor in a block of its own (within
 *   the mixer's default priming budget), and the measurement begins one
 *   second after the last start: the measured blocks hold no priming.
 *
 * Figures per case: the thread's CPU time (CLOCK_THREAD_CPUTIME_ID) over
 * the audio time rendered, which is the share of one core the audio thread
 * needs; and each block's wall time (CLOCK_MONOTONIC) as a share of the
 * 2.667 ms period: mean, median, 99th percentile and worst (on a shared machine
 * the wall times include other processes' time slices; the CPU share does
 * not).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <flz/engine.h>
#include <flz/eq.h>
#include <flz/mixer.h>
#include <flz/stretch.h>

#include "engine-private.h"
#include "mixer-samples.h"

#define BLOCK 128
#define N_VOICES 32
#define SAMPLE_FRAMES (2 * RATE_HZ)
#define PERIOD_NS (1e9 * BLOCK / RATE_HZ)

static const double eq_db[FLZ_EQ_N_BANDS] = { -12.0, 3.0, -24.0 };

static double clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "keylock-bench: %s failed (%d)\n", what, err);
	exit(1);
}

/* Pad speed of voice v of n spread over 0.8..1.25 (n = 1: 1.0). */
static double spread(unsigned v, unsigned n)
{
	return n > 1 ? 0.8 + (1.25 - 0.8) * v / (n - 1) : 1.0;
}

struct result {
	double cpu_share; /* thread CPU time / audio time */
	double mean, median, p99, worst; /* block wall time / period */
	uint32_t locked; /* key-locked voices while measured */
	uint32_t playing;
};

/* Times n_blocks renders of render_fn; fills @p r. */
typedef int (*render_fn)(void *ctx, float *out);

static void measure(render_fn fn, void *ctx, size_t n_blocks, double *dt, struct result *r)
{
	static float out[BLOCK * N_CHANNELS];
	double c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (size_t b = 0; b < n_blocks; b++) {
		double t0 = clock_ns(CLOCK_MONOTONIC);
		int err = fn(ctx, out);
		dt[b] = clock_ns(CLOCK_MONOTONIC) - t0;
		if (err < 0)
			die("render", err);
	}
	double cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	r->cpu_share = cpu / ((double)n_blocks * PERIOD_NS);
	double sum = 0.0;
	for (size_t b = 0; b < n_blocks; b++)
		sum += dt[b];
	r->mean = sum / ((double)n_blocks * PERIOD_NS);
	qsort(dt, n_blocks, sizeof(double), cmp_double);
	r->median = dt[n_blocks / 2] / PERIOD_NS;
	r->p99 = dt[(size_t)((double)n_blocks * 0.99)] / PERIOD_NS;
	r->worst = dt[n_blocks - 1] / PERIOD_NS;
}

/* ---- the mixer with the engine's key-lock source and EQ stage ---- */

struct mixer_case {
	struct flz_mixer *mixer;
	struct flz_engine_eq_voice eq[FLZ_MIXER_VOICE_SLOTS];
	void *st[FLZ_MIXER_MAX_SOURCES];
	uint32_t n_st;
};

static int mixer_render(void *ctx, float *out)
{
	return flz_mixer_render(((struct mixer_case *)ctx)->mixer, out, BLOCK);
}

static void mixer_open(struct mixer_case *mc, enum flz_stretch_engine engine, uint32_t n_st)
{
	struct flz_mixer_config cfg = flz_mixer_config_init();
	cfg.rate_hz = RATE_HZ;
	cfg.n_channels = N_CHANNELS;
	cfg.max_block_frames = BLOCK;
	cfg.retire = retire_free;
	static struct flz_mixer_stage stage;
	struct flz_eq_config ec = flz_eq_config_init();
	ec.rate_hz = RATE_HZ;
	ec.n_channels = N_CHANNELS;
	stage.ops = &flz_engine_eq_stage_ops;
	for (uint32_t i = 0; i < FLZ_MIXER_VOICE_SLOTS; i++) {
		/* As the engine's init_eq(): the stage's state is libeq's EQ
		 * with its warm-up (engine-private.h); mc is zeroed. */
		int err = flz_eq_init(&mc->eq[i].eq, &ec);
		if (err < 0)
			die("flz_eq_init", err);
		mc->eq[i].warm_frames = RATE_HZ * FLZ_ENGINE_EQ_WARM_MS / 1000u;
		stage.states[i] = &mc->eq[i];
	}
	cfg.n_stages = 1;
	cfg.stages = &stage;
	struct flz_stretch_config sc = flz_stretch_config_init();
	sc.rate_hz = RATE_HZ;
	sc.n_channels = N_CHANNELS;
	sc.max_block_frames = BLOCK;
	sc.engine = engine;
	for (uint32_t i = 0; i < n_st; i++) {
		int err = flz_stretch_new(&sc, (struct flz_stretch **)&mc->st[i]);
		if (err < 0)
			die("flz_stretch_new", err);
	}
	mc->n_st = n_st;
	cfg.source_ops = n_st > 0 ? &flz_engine_key_lock_ops : NULL;
	cfg.n_sources = n_st;
	cfg.source_states = mc->st;
	int err = flz_mixer_new(&cfg, &mc->mixer);
	if (err < 0)
		die("flz_mixer_new", err);
}

static void mixer_close(struct mixer_case *mc)
{
	flz_mixer_destroy(mc->mixer);
	for (uint32_t i = 0; i < mc->n_st; i++)
		flz_stretch_destroy(mc->st[i]);
}

/* n_voices voices, the first n_locked key-locked, started one per block;
 * eq: every pad's EQ at eq_db. */
static void run_mixer(struct flz_sample **samples, enum flz_stretch_engine engine,
		      unsigned n_voices, unsigned n_locked, double rate, bool eq, size_t n_blocks,
		      double *dt, struct result *r)
{
	struct mixer_case *mc = calloc(1, sizeof(*mc));
	if (mc == NULL)
		die("calloc", -ENOMEM);
	mixer_open(mc, engine, n_locked);
	static float out[BLOCK * N_CHANNELS];
	const float params[FLZ_EQ_N_BANDS] = { (float)eq_db[0], (float)eq_db[1],
					       (float)eq_db[2] };
	for (unsigned v = 0; v < n_voices; v++) {
		flz_sample_ref(samples[v]);
		int err = flz_mixer_load(mc->mixer, (int32_t)v, samples[v]);
		if (err == 0)
			err = flz_mixer_set_pad_speed(mc->mixer, (int32_t)v,
						      n_voices == 1 ? rate : spread(v, n_voices));
		if (err == 0)
			err = flz_mixer_set_pad_key_lock(mc->mixer, (int32_t)v, v < n_locked);
		if (err == 0 && eq)
			err = flz_mixer_set_pad_stage_params(mc->mixer, (int32_t)v, 0, params,
							     FLZ_EQ_N_BANDS);
		if (err < 0)
			die("mixer setup", err);
	}
	for (unsigned v = 0; v < n_voices; v++) {
		int err = flz_mixer_play(mc->mixer, (int32_t)v, 1.0f / N_VOICES);
		if (err >= 0)
			err = flz_mixer_render(mc->mixer, out, BLOCK);
		if (err < 0)
			die("mixer play", err);
	}
	for (int b = 0; b < RATE_HZ / BLOCK; b++)
		if (flz_mixer_render(mc->mixer, out, BLOCK) < 0)
			die("mixer warm-up", -1);
	measure(mixer_render, mc, n_blocks, dt, r);
	r->locked = flz_mixer_key_locked_voices(mc->mixer);
	r->playing = flz_mixer_voices_playing(mc->mixer);
	mixer_close(mc);
	free(mc);
}

/* ---- the engine on its offline device (R2) ---- */

static int engine_render(void *ctx, float *out)
{
	return flz_engine_render(ctx, out, BLOCK);
}

static void run_engine(struct flz_sample **samples, unsigned n_locked, size_t n_blocks, double *dt,
		       struct result *r)
{
	struct flz_engine_config c = flz_engine_config_init();
	c.device = "offline";
	c.period_frames = BLOCK;
	c.key_lock_voices = n_locked;
	struct flz_engine *e = NULL;
	int err = flz_engine_new(&c, &e);
	if (err == 0)
		err = flz_engine_start(e, NULL, 0);
	if (err < 0)
		die("engine start", err);
	static float out[BLOCK * N_CHANNELS];
	for (unsigned v = 0; v < N_VOICES && err == 0; v++) {
		flz_sample_ref(samples[v]);
		err = flz_engine_load_sample(e, (int32_t)v, samples[v]);
		if (err < 0)
			flz_sample_unref(samples[v]);
		if (err == 0)
			err = flz_engine_set_pad_speed(e, (int32_t)v, spread(v, N_VOICES));
		if (err == 0)
			err = flz_engine_set_pad_key_lock(e, (int32_t)v, v < n_locked);
		if (err == 0)
			err = flz_engine_set_pad_eq(e, (int32_t)v, eq_db[0], eq_db[1], eq_db[2]);
		/* Render between pads: the command ring holds FLZ_QUEUE_CAPACITY. */
		if (err == 0)
			err = flz_engine_render(e, out, BLOCK);
	}
	for (unsigned v = 0; v < N_VOICES && err == 0; v++) {
		err = flz_engine_play(e, (int32_t)v, 1.0f / N_VOICES);
		if (err == 0)
			err = flz_engine_render(e, out, BLOCK);
	}
	for (int b = 0; b < RATE_HZ / BLOCK && err == 0; b++)
		err = flz_engine_render(e, out, BLOCK);
	if (err < 0)
		die("engine setup", err);
	measure(engine_render, e, n_blocks, dt, r);
	struct flz_engine_stats st;
	flz_engine_get_stats(e, &st);
	r->playing = st.voices_playing;
	r->locked = n_locked - (uint32_t)st.key_lock_refused;
	if (st.key_lock_refused != 0)
		fprintf(stderr, "keylock-bench: %llu key-locked plays refused\n",
			(unsigned long long)st.key_lock_refused);
	flz_engine_destroy(e);
}

static void print_row(const char *path, const char *engine, const char *scene,
		      const struct result *r)
{
	printf("| %s | %s | %s | %u / %u | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.1f %% |\n", path,
	       engine, scene, r->locked, r->playing, 100.0 * r->cpu_share, 100.0 * r->mean,
	       100.0 * r->median, 100.0 * r->p99, 100.0 * r->worst);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	double seconds = 10.0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			seconds = 2.0;
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else {
			fprintf(stderr, "usage: keylock-bench [--quick] [--seconds S]\n");
			return 2;
		}
	}
	if (!(seconds > 0.0 && seconds < 3600.0))
		seconds = 10.0;
	size_t n_blocks = (size_t)(seconds * RATE_HZ / BLOCK);
	double *dt = malloc(n_blocks * sizeof(double));
	struct flz_sample *samples[N_VOICES];
	if (dt == NULL)
		die("malloc", -ENOMEM);
	for (unsigned v = 0; v < N_VOICES; v++)
		samples[v] = make_sample(SAMPLE_FRAMES, v + 1);

	printf("keylock-bench: stereo %d Hz, %d-frame blocks (period %.3f ms), %.1f s per case; "
	       "EQ (%g, %g, %g) dB\n\n",
	       RATE_HZ, BLOCK, PERIOD_NS / 1e6, seconds, eq_db[0], eq_db[1], eq_db[2]);
	printf("| path | stretcher | scene | locked / playing | CPU (share of a core) | "
	       "block mean | median | p99 | worst |\n");
	printf("|---|---|---|---:|---:|---:|---:|---:|---:|\n");
	static const char *const names[] = { "R2 faster", "R3 finer" };
	static const double rates[] = { 0.8, 1.0, 1.25 };
	struct result r;
	char scene[64];
	for (int e = 0; e < 2; e++) {
		for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
			run_mixer(samples, (enum flz_stretch_engine)e, 1, 1, rates[i], false, n_blocks,
				  dt, &r);
			snprintf(scene, sizeof(scene), "1 locked at %.2f", rates[i]);
			print_row("mixer", names[e], scene, &r);
		}
		run_mixer(samples, (enum flz_stretch_engine)e, N_VOICES, 0, 1.0, true, n_blocks, dt,
			  &r);
		print_row("mixer", names[e], "0 locked + 32 EQ", &r);
		for (unsigned n = 4; n <= 8; n += 4) {
			run_mixer(samples, (enum flz_stretch_engine)e, N_VOICES, n, 1.0, true,
				  n_blocks, dt, &r);
			snprintf(scene, sizeof(scene), "%u locked + 32 EQ", n);
			print_row("mixer", names[e], scene, &r);
		}
	}
	run_engine(samples, 0, n_blocks, dt, &r);
	print_row("engine", "R2 faster", "0 locked + 32 EQ", &r);
	run_engine(samples, 8, n_blocks, dt, &r);
	print_row("engine", "R2 faster", "8 locked + 32 EQ", &r);
	for (unsigned v = 0; v < N_VOICES; v++)
		flz_sample_unref(samples[v]);
	free(dt);
	return 0;
}
