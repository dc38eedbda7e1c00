/* SPDX-License-Identifier: MIT */
/*
 * Loading from PCM in memory (flz_loader_load_pcm()) against the file path,
 * and the waveform summary (flz/summary.h) against a scan of every frame.
 */
#include <flz/summary.h>

#include "loader-tests.h"

/* Frames of the PCM cases: more than two pipeline chunks, not a multiple. */
#define PCM_FRAMES (2 * FLZ_LOADER_CHUNK_FRAMES + 1234)

static void write_pcm16(const char *path, int rate_hz, int n_channels, const int16_t *x,
			sf_count_t n_frames)
{
	SF_INFO info = { .samplerate = rate_hz,
			 .channels = n_channels,
			 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	ck_assert_msg(f != NULL, "cannot write %s: %s", path, sf_strerror(NULL));
	ck_assert_int_eq(sf_writef_short(f, x, n_frames), n_frames);
	ck_assert_int_eq(sf_close(f), 0);
}

static void assert_same_sample(const struct flz_sample *a, const struct flz_sample *b)
{
	ck_assert_int_eq(a->n_frames, b->n_frames);
	ck_assert_uint_eq(a->n_channels, b->n_channels);
	ck_assert_uint_eq(a->rate_hz, b->rate_hz);
	/* Bit for bit: the same frames through the same pipeline in the same chunks. */
	ck_assert_int_eq(memcmp(a->data, b->data,
				(size_t)a->n_frames * a->n_channels * sizeof(float)),
			 0);
}

/* float32 and int16, 1, 2 and 6 channels, 44.1 kHz (and 48 kHz, the
 * passthrough) to 48 kHz mono, stereo and 6 channels: the PCM path gives the
 * sample the file path gives for the same frames written as a WAV, and
 * replaces and counts non-finite values as the file path does. */
START_TEST(test_pcm_equals_file)
{
	static const uint32_t in_channels[] = { 1, 2, 6 };
	static const uint32_t out_channels[] = { 1, 2, 6 };
	static const uint32_t in_rates[] = { 44100, 48000 };
	const size_t n_max = (size_t)PCM_FRAMES * 6;
	float *x = malloc(n_max * sizeof(float));
	int16_t *x16 = malloc(n_max * sizeof(int16_t));
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(x16);
	for (size_t ic = 0; ic < 3; ic++) {
		uint32_t n_in = in_channels[ic];
		size_t n_samples = (size_t)PCM_FRAMES * n_in;
		flz_test_noise(x, n_samples, 0.9, 77 + (uint32_t)ic);
		/* Non-finite values and one beyond +-1, all kept or replaced as a file's. */
		x[5] = NAN;
		x[n_samples / 2] = INFINITY;
		x[n_samples - 1] = -INFINITY;
		x[n_samples / 3] = 1.5f;
		for (size_t k = 0; k < n_samples; k++)
			x16[k] = (int16_t)lrint(x[k] * 30000.0f);
		x16[7] = INT16_MIN;
		x16[8] = INT16_MAX;
		for (size_t r = 0; r < 2; r++) {
			write_audio(tmp_path("f.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT,
				    (int)in_rates[r], (int)n_in, x, PCM_FRAMES);
			write_pcm16(tmp_path("s.wav"), (int)in_rates[r], (int)n_in, x16, PCM_FRAMES);
			for (size_t oc = 0; oc < 3; oc++) {
				struct flz_loader *loader = make_loader(48000, out_channels[oc]);
				struct flz_sample *from_file = load_ok(loader, tmp_path("f.wav"));
				struct flz_loader_replaced file_bad, pcm_bad;
				flz_loader_get_replaced(loader, &file_bad);
				struct flz_sample *from_pcm = SENTINEL;
				ck_assert_int_eq(flz_loader_load_pcm(loader, x, FLZ_PCM_FLOAT32,
								     PCM_FRAMES, n_in, in_rates[r],
								     &from_pcm),
						 0);
				ck_assert_str_eq(flz_loader_strerror(loader), "");
				ck_assert_uint_eq(flz_loader_source_rate_hz(loader), in_rates[r]);
				flz_loader_get_replaced(loader, &pcm_bad);
				ck_assert_uint_eq(pcm_bad.n_nan, 1);
				ck_assert_uint_eq(pcm_bad.n_pos_inf, 1);
				ck_assert_uint_eq(pcm_bad.n_neg_inf, 1);
				ck_assert_int_eq(memcmp(&pcm_bad, &file_bad, sizeof(pcm_bad)), 0);
				assert_same_sample(from_pcm, from_file);
				flz_sample_unref(from_pcm);
				flz_sample_unref(from_file);

				from_file = load_ok(loader, tmp_path("s.wav"));
				from_pcm = SENTINEL;
				ck_assert_int_eq(flz_loader_load_pcm(loader, x16, FLZ_PCM_INT16,
								     PCM_FRAMES, n_in, in_rates[r],
								     &from_pcm),
						 0);
				assert_same_sample(from_pcm, from_file);
				if (in_rates[r] == 48000 && out_channels[oc] == n_in) {
					/* Passthrough: exactly x / 32768, the extremes included. */
					ck_assert_float_eq(from_pcm->data[7], -1.0f);
					ck_assert_float_eq(from_pcm->data[8], 32767.0f / 32768.0f);
				}
				flz_sample_unref(from_pcm);
				flz_sample_unref(from_file);
				flz_loader_destroy(loader);
			}
		}
	}
	free(x);
	free(x16);
}
END_TEST

START_TEST(test_pcm_errors)
{
	struct flz_loader *loader = make_loader(48000, 2);
	float x[16] = { 0.5f };
	struct flz_sample *s = SENTINEL;
	struct {
		const void *data;
		int format;
		int64_t n_frames;
		uint32_t n_channels;
		uint32_t rate_hz;
	} bad[] = {
		{ NULL, FLZ_PCM_FLOAT32, 4, 2, 44100 },
		{ x, FLZ_PCM_FLOAT32, 0, 2, 44100 },
		{ x, FLZ_PCM_FLOAT32, -1, 2, 44100 },
		{ x, FLZ_PCM_FLOAT32, 4, 0, 44100 },
		{ x, FLZ_PCM_FLOAT32, 1, FLZ_MAX_CHANNELS + 1, 44100 },
		{ x, FLZ_PCM_FLOAT32, 4, 2, 0 },
		{ x, 0, 4, 2, 44100 },
		{ x, 3, 4, 2, 44100 },
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		ck_assert_int_eq(flz_loader_load_pcm(loader, bad[k].data,
						     (enum flz_pcm_format)bad[k].format,
						     bad[k].n_frames, bad[k].n_channels,
						     bad[k].rate_hz, &s),
				 -EINVAL);
		ck_assert_ptr_eq(s, SENTINEL);
		ck_assert_msg(strstr(flz_loader_strerror(loader), "invalid frames") != NULL,
			      "case %zu: '%s'", k, flz_loader_strerror(loader));
		ck_assert_uint_eq(flz_loader_source_rate_hz(loader), 0);
	}
	ck_assert_int_eq(flz_loader_load_pcm(loader, x, FLZ_PCM_FLOAT32, 4, 2, 44100, NULL),
			 -EINVAL);
	ck_assert_int_eq(flz_loader_load_pcm(NULL, x, FLZ_PCM_FLOAT32, 4, 2, 44100, &s), -EINVAL);
	ck_assert_ptr_eq(s, SENTINEL);
	flz_loader_destroy(loader);
}
END_TEST

/* The mono mix of frame i, written out here as the header defines it. */
static float mono_of(const float *x, uint32_t n_channels, int64_t i)
{
	if (n_channels == 1)
		return x[i];
	float sum = 0.0f;
	for (uint32_t c = 0; c < n_channels; c++)
		sum += x[(size_t)i * n_channels + c];
	return sum * (1.0f / (float)n_channels);
}

/* Query and compare every column with a scan of its frames, exactly. */
static void check_query(const struct flz_summary *sum, struct flz_frames f, int64_t start,
			int64_t end, uint32_t width, float *out)
{
	ck_assert_int_eq(flz_summary_query(sum, f, start, end, width, out), 0);
	int64_t span = end - start;
	for (uint32_t i = 0; i < width; i++) {
		/* Small enough here that i * span fits: the plain formula. */
		int64_t a = start + (int64_t)i * span / width;
		int64_t b = start + (int64_t)(i + 1) * span / width;
		if (b <= a)
			b = a + 1;
		float lo = INFINITY, hi = -INFINITY;
		for (int64_t k = a; k < b; k++) {
			float v = mono_of(f.data, f.n_channels, k);
			lo = fminf(lo, v);
			hi = fmaxf(hi, v);
		}
		ck_assert_msg(out[2 * i] == lo && out[2 * i + 1] == hi,
			      "frames %lld ch %u [%lld, %lld) width %u column %u [%lld, %lld): "
			      "got (%g, %g), want (%g, %g)",
			      (long long)f.n_frames, f.n_channels, (long long)start,
			      (long long)end, width, i, (long long)a, (long long)b, out[2 * i],
			      out[2 * i + 1], lo, hi);
	}
}

static uint32_t next_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/* Exact against a brute-force scan: random ranges and widths over lengths
 * around the block size and its powers, width > span, one frame, the last
 * frame, the whole sample; the cost stated in flz/summary.h. */
START_TEST(test_summary)
{
	static const int64_t lengths[] = { 1, 2, 63, 64, 65, 127, 128, 129, 1000, 4096, 100003 };
	static const uint32_t channels[] = { 1, 2, 6 };
	uint32_t rng = 12345;
	float *out = malloc(2 * 4096 * sizeof(float));
	ck_assert_ptr_nonnull(out);
	for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
		for (size_t ci = 0; ci < 3; ci++) {
			int64_t n = lengths[li];
			uint32_t n_ch = channels[ci];
			float *x = malloc((size_t)n * n_ch * sizeof(float));
			ck_assert_ptr_nonnull(x);
			flz_test_noise(x, (size_t)n * n_ch, 1.0, 99 + (uint32_t)li);
			/* Isolated peaks, where a wrong block shows. */
			x[((size_t)n / 3) * n_ch] = 4.0f;
			x[((size_t)n / 2) * n_ch] = -4.0f;
			struct flz_frames f = { x, n, n_ch };
			struct flz_summary *sum = NULL;
			ck_assert_int_eq(flz_summary_new(f, &sum), 0);
			size_t bytes = flz_summary_bytes(sum);
			/* 8 bytes a pair, 16/15 pairs per block of 16 frames, plus
			 * the header (about 1 KiB) and up to 16 pairs of padding
			 * per level (at most 6 levels here); a prefix and a suffix
			 * of each pair above level 0 (1/15 pair per block); and a
			 * prefix and a suffix of each level-0 pair, rounded up to
			 * 256 of them, when there are more than 256. */
			size_t n_blocks = (size_t)(n + 15) / 16;
			size_t pairs = n_blocks * 16 / 15 + 1 + 6 * 16;
			size_t up = n_blocks / 15 + 1 + 6 * 16;
			size_t jump = n_blocks > 256 ? (n_blocks + 255) / 256 * 256 : 0;
			ck_assert_uint_le(bytes, 2048 + 8 * (pairs + 2 * up + 2 * jump));

			check_query(sum, f, 0, n, 1, out);
			check_query(sum, f, 0, n, 100, out);
			check_query(sum, f, 0, n, 3000, out);     /* width > frames (mostly) */
			check_query(sum, f, n - 1, n, 1, out);    /* the last frame */
			check_query(sum, f, n - 1, n, 7, out);    /* ... over several columns */
			check_query(sum, f, n / 2, n / 2 + 1, 1, out); /* one frame */
			for (int t = 0; t < 40; t++) {
				int64_t a = (int64_t)(next_random(&rng) % (uint64_t)n);
				int64_t b = a + 1 + (int64_t)(next_random(&rng) % (uint64_t)(n - a));
				uint32_t w = 1 + next_random(&rng) % 700;
				check_query(sum, f, a, b, w, out);
			}
			flz_summary_free(sum);
			free(x);
		}
	}
	/* The whole of a long sample over a few columns touches few frames:
	 * the same answer as the scan, through the upper levels. */
	int64_t n = 3 * 1000 * 1000 + 7;
	float *x = malloc((size_t)n * sizeof(float));
	ck_assert_ptr_nonnull(x);
	flz_test_noise(x, (size_t)n, 1.0, 5);
	x[2999999] = 2.0f;
	struct flz_frames f = { x, n, 1 };
	struct flz_summary *sum = NULL;
	ck_assert_int_eq(flz_summary_new(f, &sum), 0);
	check_query(sum, f, 0, n, 8, out);
	check_query(sum, f, 12345, n - 3, 1000, out);
	ck_assert_float_eq(out[2 * 999 + 1], 2.0f);
	fprintf(stderr, "loader:summary: %lld mono frames (%zu bytes): summary %zu bytes (%.2f%%)\n",
		(long long)n, (size_t)n * sizeof(float), flz_summary_bytes(sum),
		100.0 * (double)flz_summary_bytes(sum) / ((double)n * sizeof(float)));
	flz_summary_free(sum);
	free(x);
	free(out);
}
END_TEST

/* Column edges on, just before and just after a multiple of each level's
 * block (16, 256, 4096 and 65536 frames), at the range's start and end and
 * between columns, with columns of about one block (the frames and the
 * lowest pairs) and of 17 blocks (so that each column takes pairs at both
 * ends of that level and of every level below it, where a pair taken too
 * few is the column's extreme in about one column in eight), and ranges
 * that end at the sample's end: every column exact. A 3.1 M-frame mono
 * sample, and a stereo one for the three lower levels. */
START_TEST(test_summary_levels)
{
	static const int64_t sizes[] = { 16, 256, 4096, 65536 };
	float *out = malloc(2 * 64 * sizeof(float));
	ck_assert_ptr_nonnull(out);
	for (uint32_t n_ch = 1; n_ch <= 2; n_ch++) {
		const int64_t n = n_ch == 1 ? 48 * 65536 + 4096 + 256 + 16 + 5
					    : 48 * 4096 + 256 + 16 + 5;
		const size_t n_sizes = n_ch == 1 ? 4 : 3;
		float *x = malloc((size_t)n * n_ch * sizeof(float));
		ck_assert_ptr_nonnull(x);
		flz_test_noise(x, (size_t)n * n_ch, 1.0, 31 + n_ch);
		struct flz_frames f = { x, n, n_ch };
		struct flz_summary *sum = NULL;
		ck_assert_int_eq(flz_summary_new(f, &sum), 0);
		for (size_t k = 0; k < n_sizes; k++) {
			const int64_t size = sizes[k];
			for (int64_t d0 = -1; d0 <= 1; d0++) {
				for (int64_t d1 = -1; d1 <= 1; d1++) {
					const int64_t lens[] = { size + d1, 17 * size + d1 };
					for (size_t li = 0; li < 2; li++) {
						int64_t start = size + d0;
						int64_t cols = (n - start) / lens[li];
						if (cols > 40)
							cols = 40;
						check_query(sum, f, start, start + cols * lens[li],
							    (uint32_t)cols, out);
					}
					/* Both ends off by different amounts, over a
					 * few columns whose edges fall around the
					 * multiples. */
					int64_t end = 19 * size + d1;
					check_query(sum, f, size + d0, end, 1, out);
					check_query(sum, f, size + d0, end, 7, out);
				}
				/* To the sample's end, from around a multiple. */
				int64_t from = (n - 1) / size * size - 17 * size + d0;
				check_query(sum, f, from > 0 ? from : 0, n, 1, out);
				check_query(sum, f, from > 0 ? from : 0, n, 5, out);
			}
		}
		check_query(sum, f, 0, n, 64, out);
		flz_summary_free(sum);
		free(x);
	}
	free(out);
}
END_TEST

START_TEST(test_summary_errors)
{
	float x[200 * 2];
	flz_test_noise(x, 400, 1.0, 3);
	struct flz_frames f = { x, 200, 2 };
	struct flz_summary *sum = (struct flz_summary *)(uintptr_t)0x5a5a;
	ck_assert_int_eq(flz_summary_new((struct flz_frames){ NULL, 200, 2 }, &sum), -EINVAL);
	ck_assert_int_eq(flz_summary_new((struct flz_frames){ x, 0, 2 }, &sum), -EINVAL);
	ck_assert_int_eq(flz_summary_new((struct flz_frames){ x, 200, 0 }, &sum), -EINVAL);
	ck_assert_int_eq(flz_summary_new((struct flz_frames){ x, 1, FLZ_MAX_CHANNELS + 1 }, &sum),
			 -EINVAL);
	ck_assert_int_eq(flz_summary_new(f, NULL), -EINVAL);
	ck_assert_ptr_eq(sum, (struct flz_summary *)(uintptr_t)0x5a5a);
	ck_assert_int_eq(flz_summary_new(f, &sum), 0);
	float out[8] = { 7, 7, 7, 7, 7, 7, 7, 7 };
	struct {
		struct flz_frames f;
		int64_t start, end;
		uint32_t width;
	} bad[] = {
		{ f, -1, 10, 1 },
		{ f, 0, 201, 1 },
		{ f, 10, 10, 1 },
		{ f, 11, 10, 1 },
		{ f, 0, 10, 0 },
		{ f, 0, 10, FLZ_SUMMARY_MAX_WIDTH + 1 },
		{ { x, 199, 2 }, 0, 10, 1 },
		{ { x, 200, 1 }, 0, 10, 1 },
		{ { NULL, 200, 2 }, 0, 10, 1 },
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		ck_assert_int_eq(flz_summary_query(sum, bad[k].f, bad[k].start, bad[k].end,
						   bad[k].width, out),
				 -EINVAL);
	ck_assert_int_eq(flz_summary_query(NULL, f, 0, 10, 1, out), -EINVAL);
	ck_assert_int_eq(flz_summary_query(sum, f, 0, 10, 1, NULL), -EINVAL);
	for (int k = 0; k < 8; k++)
		ck_assert_float_eq(out[k], 7.0f);
	ck_assert_uint_eq(flz_summary_bytes(NULL), 0);
	flz_summary_free(sum);
	flz_summary_free(NULL);
}
END_TEST

TCase *loader_case_pcm(void)
{
	return loader_tcase("loader:pcm", test_pcm_equals_file);
}

TCase *loader_case_pcm_errors(void)
{
	return loader_tcase("loader:pcm-errors", test_pcm_errors);
}

TCase *loader_case_summary(void)
{
	return loader_tcase("loader:summary", test_summary);
}

TCase *loader_case_summary_levels(void)
{
	return loader_tcase("loader:summary-levels", test_summary_levels);
}

TCase *loader_case_summary_errors(void)
{
	return loader_tcase("loader:summary-errors", test_summary_errors);
}
