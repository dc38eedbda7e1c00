/* SPDX-License-Identifier: MIT */
/*
 * offline-mix: libmixer on its own, without a device or a thread.
 *
 * Generates two looping stereo samples in memory, drives a mixer the way an
 * audio thread would (commands between blocks, render, repeat) and writes
 * one second of the result to a 16-bit WAV file:
 *
 *   frames     0..11999  sample 0 (440 Hz, both channels) at gain 0.5
 *   frames 12000..35999  plus sample 1 (660 Hz, right channel inverted) at 0.25
 *   frames 36000..47999  stop_all: both fade out, then silence
 *
 * Commands act on the next output frame (flz_mixer_latency_frames() is 0);
 * the program prints that delay so that a checker can line the output up.
 *
 * Build against an installed copy (see build-with-pkg-config.sh):
 *   cc offline-mix.c $(pkg-config --cflags --libs --static flz-mixer) -o offline-mix
 * Run:
 *   ./offline-mix mix.wav
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <flz/mixer.h>
#include <flz/sample.h>

#define RATE_HZ 48000u
#define N_CHANNELS 2u
#define BLOCK_FRAMES 256u
#define TOTAL_FRAMES 48000u
#define LOOP_FRAMES 4800u /* 0.1 s: 44 periods of 440 Hz, 66 of 660 Hz */
#define START_B_FRAME 12000u
#define STOP_ALL_FRAME 36000u

static const double pi = 3.14159265358979323846;

/* A stereo loop of a sine: left = amp * sin, right = right_sign * left. */
static struct flz_sample *make_loop(double freq_hz, double amp, float right_sign)
{
	struct flz_sample *s = flz_sample_new(LOOP_FRAMES, N_CHANNELS, RATE_HZ);
	if (s == NULL)
		return NULL;
	for (uint32_t i = 0; i < LOOP_FRAMES; i++) {
		float x = (float)(amp * sin(2.0 * pi * freq_hz * i / RATE_HZ));
		s->data[2 * i] = x;
		s->data[2 * i + 1] = right_sign * x;
	}
	return s;
}

/* The mixer hands back a load's reference once it no longer plays the
 * sample. Offline there is no audio thread, so it can be dropped right here
 * (freeing the sample if it was the last); an engine would pass it to its
 * control side instead. */
static void retire(void *userdata, struct flz_sample *sample)
{
	(void)userdata;
	flz_sample_unref(sample);
}

static void put_le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)(v >> 8);
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)((v >> (8 * i)) & 0xff);
}

/* The canonical 44-byte header of a 16-bit PCM WAV file. */
static int write_wav_header(FILE *f, uint32_t n_frames)
{
	unsigned char h[44];
	uint32_t n_data_bytes = n_frames * N_CHANNELS * 2u;
	memcpy(h, "RIFF", 4);
	put_le32(h + 4, 36u + n_data_bytes);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le32(h + 16, 16);                        /* fmt chunk size */
	put_le16(h + 20, 1);                         /* PCM */
	put_le16(h + 22, N_CHANNELS);
	put_le32(h + 24, RATE_HZ);
	put_le32(h + 28, RATE_HZ * N_CHANNELS * 2u); /* bytes per second */
	put_le16(h + 32, N_CHANNELS * 2u);           /* bytes per frame */
	put_le16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	put_le32(h + 40, n_data_bytes);
	return fwrite(h, sizeof h, 1, f) == 1 ? 0 : -EIO;
}

static int write_block_s16(FILE *f, const float *block, uint32_t n_frames)
{
	unsigned char bytes[BLOCK_FRAMES * N_CHANNELS * 2];
	for (uint32_t i = 0; i < n_frames * N_CHANNELS; i++) {
		float x = block[i];
		x = x > 1.0f ? 1.0f : (x < -1.0f ? -1.0f : x);
		long v = lrintf(x * 32767.0f);
		put_le16(bytes + 2 * i, (uint16_t)(int16_t)v);
	}
	return fwrite(bytes, 2u * N_CHANNELS, n_frames, f) == n_frames ? 0 : -EIO;
}

/* Apply what is due at output frame @p frame: the commands an application
 * would have queued for the audio thread. */
static int apply_commands(struct flz_mixer *mixer, uint32_t frame)
{
	int err = 0;
	if (frame == 0)
		err = flz_mixer_play(mixer, 0, 0.5f);
	else if (frame == START_B_FRAME)
		err = flz_mixer_play(mixer, 1, 0.25f);
	else if (frame == STOP_ALL_FRAME)
		err = flz_mixer_stop_all(mixer, 1);
	return err < 0 ? err : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT.wav\n", argv[0]);
		return 2;
	}

	struct flz_mixer_config cfg = flz_mixer_config_init();
	cfg.rate_hz = RATE_HZ;
	cfg.n_channels = N_CHANNELS;
	cfg.max_block_frames = BLOCK_FRAMES;
	cfg.retire = retire;

	struct flz_mixer *mixer = NULL;
	int err = flz_mixer_new(&cfg, &mixer);
	if (err < 0) {
		fprintf(stderr, "flz_mixer_new: %s\n", flz_strerror(err));
		return 1;
	}

	struct flz_sample *a = make_loop(440.0, 0.5, 1.0f);
	struct flz_sample *b = make_loop(660.0, 0.5, -1.0f);
	if (a == NULL || b == NULL) {
		fprintf(stderr, "out of memory\n");
		flz_sample_unref(a);
		flz_sample_unref(b);
		flz_mixer_destroy(mixer);
		return 1;
	}
	/* On success the mixer owns the reference we pass. */
	if ((err = flz_mixer_load(mixer, 0, a)) < 0 || (err = flz_mixer_load(mixer, 1, b)) < 0) {
		fprintf(stderr, "flz_mixer_load: %s\n", flz_strerror(err));
		flz_mixer_destroy(mixer);
		return 1;
	}

	FILE *f = fopen(argv[1], "wb");
	if (f == NULL) {
		perror(argv[1]);
		flz_mixer_destroy(mixer);
		return 1;
	}

	float block[BLOCK_FRAMES * N_CHANNELS];
	err = write_wav_header(f, TOTAL_FRAMES);
	for (uint32_t frame = 0; err == 0 && frame < TOTAL_FRAMES;) {
		/* Blocks end exactly where a command is due. */
		uint32_t n = TOTAL_FRAMES - frame < BLOCK_FRAMES ? TOTAL_FRAMES - frame : BLOCK_FRAMES;
		if (frame < START_B_FRAME && frame + n > START_B_FRAME)
			n = START_B_FRAME - frame;
		if (frame < STOP_ALL_FRAME && frame + n > STOP_ALL_FRAME)
			n = STOP_ALL_FRAME - frame;
		err = apply_commands(mixer, frame);
		if (err == 0)
			err = flz_mixer_render(mixer, block, n);
		if (err == 0)
			err = write_block_s16(f, block, n);
		frame += n;
	}
	if (fclose(f) != 0 && err == 0)
		err = -EIO;
	if (err < 0) {
		fprintf(stderr, "rendering %s failed: %s\n", argv[1], flz_strerror(err));
		flz_mixer_destroy(mixer);
		return 1;
	}

	printf("wrote %s: %u frames, %u channels, %u Hz, 16-bit; mixer latency %u frames\n",
	       argv[1], TOTAL_FRAMES, N_CHANNELS, RATE_HZ, flz_mixer_latency_frames(mixer));
	flz_mixer_destroy(mixer);
	return 0;
}
