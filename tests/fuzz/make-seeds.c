/* SPDX-License-Identifier: MIT */
/*
 * Writes the fuzz target's seed corpus: one short, real file for every
 * container and encoding libsndfile can write here (WAV 8/16/24/32-bit and
 * float, ADPCM, A-law, u-law, GSM; W64, RF64, AIFF/AIFC, CAF with ALAC,
 * FLAC, Ogg/Vorbis, Ogg/Opus, MP3, AU, and the rarer formats), at a few
 * rates and channel counts so that the conversion paths are reached too.
 *
 * Usage: flz-make-seeds OUTDIR
 * Every file is checked by reading it back with libsndfile. Formats the
 * installed libsndfile cannot write are skipped and named on stderr.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sndfile.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Spelled out for libsndfile headers older than 1.1 (stable ABI values). */
#define SEED_FORMAT_MPEG 0x230000
#define SEED_FORMAT_MPEG_LAYER_III 0x0082

struct seed {
	const char *name;
	int format;
	int rate_hz;
	int n_channels;
	int n_frames;
};

static const struct seed seeds[] = {
	/* PCM in the common containers, at the engine's rate: decoded
	 * without conversion. */
	{ "pcm16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 2, 300 },
	{ "pcm24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 48000, 2, 300 },
	{ "pcm32.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 48000, 2, 200 },
	{ "float.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2, 200 },
	{ "double.wav", SF_FORMAT_WAV | SF_FORMAT_DOUBLE, 48000, 1, 200 },
	{ "u8.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 22050, 1, 300 },
	{ "ulaw.wav", SF_FORMAT_WAV | SF_FORMAT_ULAW, 8000, 1, 300 },
	{ "alaw.wav", SF_FORMAT_WAV | SF_FORMAT_ALAW, 8000, 1, 300 },
	{ "ima-adpcm.wav", SF_FORMAT_WAV | SF_FORMAT_IMA_ADPCM, 22050, 2, 1100 },
	{ "ms-adpcm.wav", SF_FORMAT_WAV | SF_FORMAT_MS_ADPCM, 22050, 1, 600 },
	{ "gsm610.wav", SF_FORMAT_WAV | SF_FORMAT_GSM610, 8000, 1, 640 },
	{ "g721.wav", SF_FORMAT_WAV | SF_FORMAT_G721_32, 8000, 1, 300 },
	{ "nms-adpcm.wav", SF_FORMAT_WAV | SF_FORMAT_NMS_ADPCM_32, 8000, 1, 320 },
	/* WAVE_FORMAT_EXTENSIBLE with 5.1: the multichannel map. */
	{ "pcm16-5.1.wavex", SF_FORMAT_WAVEX | SF_FORMAT_PCM_16, 48000, 6, 100 },
	{ "float.wavex", SF_FORMAT_WAVEX | SF_FORMAT_FLOAT, 44100, 2, 200 },
	{ "pcm16.w64", SF_FORMAT_W64 | SF_FORMAT_PCM_16, 48000, 2, 200 },
	{ "float.rf64", SF_FORMAT_RF64 | SF_FORMAT_FLOAT, 48000, 2, 200 },
	{ "pcm16.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 44100, 2, 300 },
	{ "pcm24.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 48000, 1, 300 },
	{ "float.aifc", SF_FORMAT_AIFF | SF_FORMAT_FLOAT, 48000, 2, 200 },
	{ "ima-adpcm.aifc", SF_FORMAT_AIFF | SF_FORMAT_IMA_ADPCM, 22050, 1, 300 },
	{ "pcm16.caf", SF_FORMAT_CAF | SF_FORMAT_PCM_16, 48000, 2, 200 },
	{ "float.caf", SF_FORMAT_CAF | SF_FORMAT_FLOAT, 96000, 2, 200 },
	{ "alac16.caf", SF_FORMAT_CAF | SF_FORMAT_ALAC_16, 48000, 2, 600 },
	{ "alac24.caf", SF_FORMAT_CAF | SF_FORMAT_ALAC_24, 44100, 1, 600 },
	{ "pcm16.au", SF_FORMAT_AU | SF_FORMAT_PCM_16, 16000, 1, 300 },
	{ "ulaw.au", SF_FORMAT_AU | SF_FORMAT_ULAW, 8000, 1, 300 },
	{ "g723.au", SF_FORMAT_AU | SF_FORMAT_G723_24, 8000, 1, 300 },
	/* Compressed formats. */
	{ "pcm16.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 2, 1200 },
	{ "pcm24.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 44100, 1, 1200 },
	{ "pcm8.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_S8, 8000, 1, 600 },
	{ "vorbis.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, 2, 2048 },
	{ "vorbis-mono.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 22050, 1, 2048 },
	{ "opus.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000, 2, 1920 },
	{ "opus-mono.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 16000, 1, 960 },
	{ "layer3.mp3", SEED_FORMAT_MPEG | SEED_FORMAT_MPEG_LAYER_III, 44100, 2, 2304 },
	{ "layer3-mono.mp3", SEED_FORMAT_MPEG | SEED_FORMAT_MPEG_LAYER_III, 24000, 1, 1152 },
	/* The rarer containers libsndfile reads; each is a parser of its own. */
	{ "pcm16.nist", SF_FORMAT_NIST | SF_FORMAT_PCM_16, 16000, 1, 200 },
	{ "pcm16.voc", SF_FORMAT_VOC | SF_FORMAT_PCM_16, 11025, 1, 200 },
	{ "u8.voc", SF_FORMAT_VOC | SF_FORMAT_PCM_U8, 11025, 2, 200 },
	{ "float.ircam", SF_FORMAT_IRCAM | SF_FORMAT_FLOAT, 32000, 1, 200 },
	{ "pcm24.paf", SF_FORMAT_PAF | SF_FORMAT_PCM_24, 48000, 2, 200 },
	{ "pcm16.svx", SF_FORMAT_SVX | SF_FORMAT_PCM_16, 16000, 1, 200 },
	{ "double.mat4", SF_FORMAT_MAT4 | SF_FORMAT_DOUBLE, 8000, 1, 100 },
	{ "pcm16.mat5", SF_FORMAT_MAT5 | SF_FORMAT_PCM_16, 8000, 2, 100 },
	{ "pcm16.pvf", SF_FORMAT_PVF | SF_FORMAT_PCM_16, 8000, 1, 200 },
	{ "dpcm16.xi", SF_FORMAT_XI | SF_FORMAT_DPCM_16, 44100, 1, 200 },
	{ "pcm16.htk", SF_FORMAT_HTK | SF_FORMAT_PCM_16, 16000, 1, 200 },
	{ "pcm16.sds", SF_FORMAT_SDS | SF_FORMAT_PCM_16, 22050, 1, 200 },
	{ "pcm16.avr", SF_FORMAT_AVR | SF_FORMAT_PCM_16, 22050, 1, 200 },
	{ "alaw.wve", SF_FORMAT_WVE | SF_FORMAT_ALAW, 8000, 1, 200 },
	{ "pcm16.mpc2k", SF_FORMAT_MPC2K | SF_FORMAT_PCM_16, 44100, 2, 200 },
};

/* A sine per channel plus a little deterministic noise, so that every
 * encoder has something other than silence to code. */
static void fill(float *x, int n_frames, int n_channels, int rate_hz)
{
	unsigned state = 0x2545f491u;
	for (int i = 0; i < n_frames; i++) {
		for (int c = 0; c < n_channels; c++) {
			state = state * 1103515245u + 12345u;
			double noise = ((double)(state >> 8) / 16777216.0 - 0.5) * 0.02;
			x[i * n_channels + c] = (float)(0.5 * sin(2.0 * M_PI * (440.0 + 110.0 * c) *
								  (double)i / rate_hz) +
							noise);
		}
	}
}

static int write_seed(const char *dir, const struct seed *sd)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, sd->name);
	SF_INFO info = { .samplerate = sd->rate_hz, .channels = sd->n_channels,
			 .format = sd->format };
	if (!sf_format_check(&info)) {
		fprintf(stderr, "flz-make-seeds: %s: format not writable here, skipped\n",
			sd->name);
		return 0;
	}
	float *x = malloc(sizeof(float) * (size_t)sd->n_frames * (size_t)sd->n_channels);
	if (x == NULL)
		return -1;
	fill(x, sd->n_frames, sd->n_channels, sd->rate_hz);
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	if (f == NULL) {
		fprintf(stderr, "flz-make-seeds: %s: %s, skipped\n", sd->name, sf_strerror(NULL));
		free(x);
		return 0;
	}
	sf_count_t n = sf_writef_float(f, x, sd->n_frames);
	int err = sf_close(f);
	free(x);
	if (n != sd->n_frames || err != 0) {
		fprintf(stderr, "flz-make-seeds: %s: write failed\n", sd->name);
		return -1;
	}
	/* Read it back: a seed libsndfile itself cannot open is no seed. */
	SF_INFO back;
	memset(&back, 0, sizeof(back));
	f = sf_open(path, SFM_READ, &back);
	if (f == NULL || back.channels != sd->n_channels) {
		fprintf(stderr, "flz-make-seeds: %s: does not read back (%s)\n", sd->name,
			sf_strerror(f));
		if (f != NULL)
			sf_close(f);
		return -1;
	}
	sf_close(f);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "flz-make-seeds: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	int n_written = 0;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		int ret = write_seed(argv[1], &seeds[i]);
		if (ret < 0)
			return 1;
		n_written += ret;
	}
	printf("flz-make-seeds: %d seeds in %s\n", n_written, argv[1]);
	return 0;
}
