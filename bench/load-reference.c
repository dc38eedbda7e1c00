/* SPDX-License-Identifier: MIT */
/*
 * The reference for load times: the plainest program that does what
 * libloader does - libsndfile decodes float frames in chunks of 4096, libsoxr
 * converts them with the same recipe (SOXR_VHQ, float32 interleaved, default
 * runtime) straight into one output buffer sized from the file's frame
 * count (grown when the count was an estimate, as for MP3). No error
 * classification, no channel mapping (the bench files are stereo). See
 * load-measure.h for the command line.
 */
#include <sndfile.h>
#include <soxr.h>

#include "load-measure.h"

#define CHUNK_FRAMES 4096
#define N_CHANNELS 2

static float *loaded;

static int bench_load(const char *path, uint32_t rate_hz, int64_t *n_frames, uint64_t *n_bytes)
{
	SF_INFO info;
	memset(&info, 0, sizeof(info));
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	if (sf == NULL || info.channels != N_CHANNELS) {
		fprintf(stderr, "%s: %s\n", path, sf ? "not stereo" : sf_strerror(NULL));
		if (sf)
			sf_close(sf);
		return -1;
	}
	double ratio = (double)rate_hz / info.samplerate;
	size_t cap = (size_t)((double)info.frames * ratio) + CHUNK_FRAMES + 1;
	loaded = malloc(cap * N_CHANNELS * sizeof(float));
	float *chunk = malloc(CHUNK_FRAMES * N_CHANNELS * sizeof(float));
	soxr_error_t err = NULL;
	soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
	soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
	soxr_t soxr = soxr_create(info.samplerate, rate_hz, N_CHANNELS, &err, &io, &q, NULL);
	if (loaded == NULL || chunk == NULL || soxr == NULL) {
		fprintf(stderr, "setup failed: %s\n", err ? err : "out of memory");
		return -1;
	}
	size_t done = 0;
	for (;;) {
		sf_count_t n = sf_readf_float(sf, chunk, CHUNK_FRAMES);
		const float *in = n > 0 ? chunk : NULL;
		size_t n_in = n > 0 ? (size_t)n : 0, used_total = 0;
		do {
			if (cap - done < CHUNK_FRAMES) {
				cap += cap / 2;
				loaded = realloc(loaded, cap * N_CHANNELS * sizeof(float));
				if (loaded == NULL)
					return -1;
			}
			size_t used = 0, made = 0;
			soxr_process(soxr, in ? in + used_total * N_CHANNELS : NULL, n_in - used_total,
				     &used, loaded + done * N_CHANNELS, cap - done, &made);
			used_total += used;
			done += made;
			if (in == NULL && made == 0)
				break;
		} while (in == NULL || used_total < n_in);
		if (in == NULL)
			break;
	}
	soxr_delete(soxr);
	free(chunk);
	sf_close(sf);
	*n_frames = (int64_t)done;
	*n_bytes = (uint64_t)done * N_CHANNELS * sizeof(float);
	return 0;
}

static void bench_release(void)
{
	free(loaded);
	loaded = NULL;
}

int main(int argc, char **argv)
{
	return bench_main(argc, argv, "reference");
}
