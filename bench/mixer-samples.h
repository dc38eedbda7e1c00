/* SPDX-License-Identifier: MIT */
/*
 * What mixer-bench and meter-bench both give the mixer: stereo 48 kHz
 * samples of white noise in -0.5..0.5 (an xorshift sequence from a seed),
 * a retire callback that drops the mixer's reference, and a mixer made
 * for them.
 */
#ifndef FLZ_BENCH_MIXER_SAMPLES_H
#define FLZ_BENCH_MIXER_SAMPLES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <flz/mixer.h>

#define RATE_HZ 48000
#define N_CHANNELS 2

static inline void retire_free(void *userdata, struct flz_sample *sample)
{
	(void)userdata;
	flz_sample_unref(sample);
}

/* @return a new sample of n_frames (exits on out of memory). */
static inline struct flz_sample *make_sample(int64_t n_frames, uint32_t seed)
{
	struct flz_sample *s = flz_sample_new(n_frames, N_CHANNELS, RATE_HZ);
	if (s == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	uint32_t x = seed * 2654435761u + 1;
	for (int64_t i = 0; i < n_frames * N_CHANNELS; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		s->data[i] = (float)((double)x / 4294967296.0 - 0.5);
	}
	return s;
}

/* @return a new stereo 48 kHz mixer for blocks of up to @p block frames at
 * global speed @p speed (exits on failure). */
static inline struct flz_mixer *new_mixer(uint32_t block, double speed)
{
	struct flz_mixer_config cfg = flz_mixer_config_init();
	cfg.rate_hz = RATE_HZ;
	cfg.n_channels = N_CHANNELS;
	cfg.max_block_frames = block;
	cfg.speed = speed;
	cfg.retire = retire_free;
	struct flz_mixer *m = NULL;
	if (flz_mixer_new(&cfg, &m) < 0) {
		fprintf(stderr, "flz_mixer_new failed\n");
		exit(1);
	}
	return m;
}

#endif
