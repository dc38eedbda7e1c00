/* SPDX-License-Identifier: MIT */
/*
 * libloader's Check suite. Every input file is made here, in a private
 * temporary directory, with libsndfile itself (or, for the error cases, by
 * damaging such a file on purpose); every result is compared sample by
 * sample or analysed as a sine with a stated tolerance.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include <flz/loader.h>

#include "flz-test.h"
/* The conversion pipeline's internal interface, for the growth case. */
#include "loader-private.h"

/* A value no successful or failed call may leave in *out. */
#define SENTINEL ((struct flz_sample *)(uintptr_t)0x5a5a5a5a)

static char tmp_dir[256];

static void tmp_setup(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/flz-loader-XXXXXX", base ? base : "/tmp");
	ck_assert_msg(mkdtemp(tmp_dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void tmp_teardown(void)
{
	DIR *d = opendir(tmp_dir);
	if (d == NULL)
		return;
	struct dirent *e;
	char path[512];
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp_dir, e->d_name);
		if (unlink(path) < 0)
			rmdir(path);
	}
	closedir(d);
	rmdir(tmp_dir);
}

static const char *tmp_path(const char *name)
{
	/* Enough distinct buffers for every name one test uses. */
	static char path[64][512];
	static int next;
	char *p = path[next++ % 64];
	snprintf(p, 512, "%s/%s", tmp_dir, name);
	return p;
}

/* Write interleaved float frames with libsndfile in the given format. */
static void write_audio(const char *path, int format, int rate_hz, int n_channels,
			const float *frames, sf_count_t n_frames)
{
	SF_INFO info = { .samplerate = rate_hz, .channels = n_channels, .format = format };
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	ck_assert_msg(f != NULL, "cannot write %s: %s", path, sf_strerror(NULL));
	/* Keep float files' content as written (no normalisation on write). */
	sf_command(f, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
	ck_assert_int_eq(sf_writef_float(f, frames, n_frames), n_frames);
	ck_assert_int_eq(sf_close(f), 0);
}

static void write_bytes(const char *path, const void *data, size_t n_bytes)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, n_bytes, f), n_bytes);
	ck_assert_int_eq(fclose(f), 0);
}

static unsigned char *read_bytes(const char *path, size_t *n_bytes)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *data = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(data);
	ck_assert_uint_eq(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*n_bytes = (size_t)n;
	return data;
}

static struct flz_loader *make_loader(uint32_t rate_hz, uint32_t n_channels)
{
	struct flz_loader_config config = flz_loader_config_init();
	config.rate_hz = rate_hz;
	config.n_channels = n_channels;
	struct flz_loader *loader = NULL;
	ck_assert_int_eq(flz_loader_new(&config, &loader), 0);
	ck_assert_ptr_nonnull(loader);
	return loader;
}

static struct flz_sample *load_ok(struct flz_loader *loader, const char *path)
{
	struct flz_sample *s = SENTINEL;
	int ret = flz_loader_load_file(loader, path, &s);
	ck_assert_msg(ret == 0, "load %s: %d (%s)", path, ret, flz_loader_strerror(loader));
	ck_assert_ptr_ne(s, SENTINEL);
	ck_assert_str_eq(flz_loader_strerror(loader), "");
	return s;
}

/* Amplitude and phase of x[k*stride], k in [start, start+n), at freq_norm,
 * with the basis anchored at k = 0, so phases of two windows compare. */
static void fit_phase(const float *x, size_t stride, size_t start, size_t n, double freq_norm,
		      double *amp, double *phase)
{
	double ss = 0, sc = 0, cc = 0, xs = 0, xc = 0;
	for (size_t k = start; k < start + n; k++) {
		double ph = 2.0 * M_PI * freq_norm * (double)k;
		double s = sin(ph), c = cos(ph), v = x[k * stride];
		ss += s * s;
		sc += s * c;
		cc += c * c;
		xs += v * s;
		xc += v * c;
	}
	double det = ss * cc - sc * sc;
	double a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
	*amp = sqrt(a * a + b * b);
	*phase = atan2(b, a);
}

/* Frequency of a sine near freq_hz in channel `channel` of a sample, from the
 * phase advance between an early and a late window (edges skipped). */
static double measure_freq_hz(const struct flz_sample *s, unsigned channel, double freq_hz)
{
	size_t n = (size_t)s->n_frames, w = n / 4;
	double fn = freq_hz / s->rate_hz, a1, p1, a2, p2;
	fit_phase(s->data + channel, s->n_channels, n / 8, w, fn, &a1, &p1);
	fit_phase(s->data + channel, s->n_channels, n - n / 8 - w, w, fn, &a2, &p2);
	double dp = remainder(p2 - p1, 2.0 * M_PI);
	double dk = (double)(n - n / 8 - w) - (double)(n / 8);
	return freq_hz + dp / (2.0 * M_PI * dk) * s->rate_hz;
}

/* Sine analysis of the middle of a channel (edges hold the codec's or the
 * filter's start and end). */
static void analyse(const struct flz_sample *s, unsigned channel, double freq_hz, double *amp,
		    double *residual_dbc)
{
	size_t n = (size_t)s->n_frames, skip = n / 10;
	flz_test_sine_fit(s->data + skip * s->n_channels + channel, n - 2 * skip, s->n_channels,
			  freq_hz / s->rate_hz, amp, residual_dbc);
}

/* ------------------------------------------------------------------ */

START_TEST(test_config)
{
	struct flz_loader_config c = flz_loader_config_init();
	ck_assert_uint_eq(c.rate_hz, 48000);
	ck_assert_uint_eq(c.n_channels, 2);
	ck_assert_uint_eq(c.max_bytes, (uint64_t)2 << 30);

	struct flz_loader *loader = (struct flz_loader *)SENTINEL;
	struct flz_loader_config bad = c;
	bad.n_channels = 0;
	ck_assert_int_eq(flz_loader_new(&bad, &loader), -EINVAL);
	bad.n_channels = FLZ_MAX_CHANNELS + 1;
	ck_assert_int_eq(flz_loader_new(&bad, &loader), -EINVAL);
	bad = c;
	bad.rate_hz = FLZ_RATE_MIN_HZ - 1;
	ck_assert_int_eq(flz_loader_new(&bad, &loader), -EINVAL);
	bad.rate_hz = FLZ_RATE_MAX_HZ + 1;
	ck_assert_int_eq(flz_loader_new(&bad, &loader), -EINVAL);
	bad = c;
	bad.max_bytes = 0;
	ck_assert_int_eq(flz_loader_new(&bad, &loader), -EINVAL);
	ck_assert_ptr_eq(loader, (struct flz_loader *)SENTINEL);

	ck_assert_int_eq(flz_loader_new(NULL, &loader), 0);
	ck_assert_str_eq(flz_loader_strerror(loader), "");
	flz_loader_destroy(loader);
	flz_loader_destroy(NULL);
}
END_TEST

START_TEST(test_wav_pcm16)
{
	/* Noise with both extremes of 16-bit PCM, stereo, at the loader's rate:
	 * decoding must give back exactly value / 32768. */
	enum { N = 10007, CH = 2 };
	short *pcm = malloc(sizeof(short) * N * CH);
	float *noise = malloc(sizeof(float) * N * CH);
	flz_test_noise(noise, N * CH, 1.0, 1234);
	for (size_t i = 0; i < N * CH; i++)
		pcm[i] = (short)lrintf(noise[i] * 32767.0f);
	pcm[0] = -32768;
	pcm[1] = 32767;
	const char *path = tmp_path("pcm16.wav");
	SF_INFO info = { .samplerate = 48000, .channels = CH,
			 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(sf_writef_short(f, pcm, N), N);
	sf_close(f);

	struct flz_loader *loader = make_loader(48000, CH);
	struct flz_sample *s = load_ok(loader, path);
	ck_assert_int_eq(s->n_frames, N);
	ck_assert_uint_eq(s->n_channels, CH);
	ck_assert_uint_eq(s->rate_hz, 48000);
	ck_assert_int_eq(atomic_load(&s->refcount), 1);
	ck_assert_uint_eq((uintptr_t)s->data % FLZ_SAMPLE_ALIGN, 0);
	/* Tolerance: half an LSB, i.e. the exact value. */
	for (size_t i = 0; i < N * CH; i++)
		ck_assert_msg(fabs(s->data[i] - pcm[i] / 32768.0) <= 0.5 / 32768.0,
			      "sample %zu: %.9g vs %d/32768", i, s->data[i], pcm[i]);
	ck_assert_float_eq(s->data[0], -1.0f);
	flz_sample_unref(s);

	/* Mono PCM to a stereo loader: the same value on both channels. */
	const char *mono = tmp_path("mono16.wav");
	info.channels = 1;
	f = sf_open(mono, SFM_WRITE, &info);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(sf_writef_short(f, pcm, N), N);
	sf_close(f);
	s = load_ok(loader, mono);
	ck_assert_int_eq(s->n_frames, N);
	for (size_t i = 0; i < N; i++) {
		ck_assert_float_eq(s->data[2 * i], pcm[i] / 32768.0f);
		ck_assert_float_eq(s->data[2 * i + 1], pcm[i] / 32768.0f);
	}
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(pcm);
	free(noise);
}
END_TEST

START_TEST(test_wav_float)
{
	/* Float WAV, values beyond +-1 included: bit-exact, no clipping. */
	enum { N = 4099, CH = 3 };
	float *x = malloc(sizeof(float) * N * CH);
	flz_test_noise(x, N * CH, 1.5, 99);
	x[0] = 1e-30f;
	x[1] = -2.0f;
	const char *path = tmp_path("float.wav");
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, CH, x, N);

	struct flz_loader *loader = make_loader(44100, CH);
	struct flz_sample *s = load_ok(loader, path);
	ck_assert_int_eq(s->n_frames, N);
	ck_assert_uint_eq(s->rate_hz, 44100);
	ck_assert_int_eq(memcmp(s->data, x, sizeof(float) * N * CH), 0);
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(x);
}
END_TEST

/* A float file's bad values: the value at frame i, channel c. Frames 100..103
 * carry NaN, +Inf, -Inf and 8.0 on every channel; one more NaN and -Inf
 * sit on channel 1 only; the rest is noise within +-0.5. */
enum { BAD_N = 20011, BAD_CH = 2 };

static float *bad_values(void)
{
	float *x = malloc(sizeof(float) * BAD_N * BAD_CH);
	ck_assert_ptr_nonnull(x);
	flz_test_noise(x, BAD_N * BAD_CH, 0.5, 4242);
	for (int c = 0; c < BAD_CH; c++) {
		x[100 * BAD_CH + c] = NAN;
		x[101 * BAD_CH + c] = INFINITY;
		x[102 * BAD_CH + c] = -INFINITY;
		x[103 * BAD_CH + c] = 8.0f;
	}
	x[15000 * BAD_CH + 1] = -NAN;
	x[BAD_N * BAD_CH - 1] = -INFINITY; /* the very last sample */
	return x;
}

/* The value the loader must make of a source value. */
static float sanitized(float v)
{
	if (isnan(v))
		return 0.0f;
	if (isinf(v))
		return v > 0 ? 1.0f : -1.0f;
	return v;
}

static void check_replaced(const struct flz_loader *loader, uint64_t n_nan, uint64_t n_pos,
			   uint64_t n_neg)
{
	struct flz_loader_replaced r;
	memset(&r, 0xff, sizeof(r));
	flz_loader_get_replaced(loader, &r);
	ck_assert_uint_eq(r.n_nan, n_nan);
	ck_assert_uint_eq(r.n_pos_inf, n_pos);
	ck_assert_uint_eq(r.n_neg_inf, n_neg);
	ck_assert_uint_eq(r.n_overflow, 0);
}

static void check_all_finite(const struct flz_sample *s, float bound)
{
	for (int64_t i = 0; i < s->n_frames * (int64_t)s->n_channels; i++)
		ck_assert_msg(isfinite(s->data[i]) && fabsf(s->data[i]) <= bound,
			      "sample %lld is %g", (long long)i, s->data[i]);
}

START_TEST(test_nonfinite)
{
	float *x = bad_values();
	const char *path = tmp_path("bad.wav");
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, BAD_CH, x, BAD_N);

	/* Same rate and channels (the decoder writes straight into the
	 * sample): exactly the source with the replacements, 8.0 kept. */
	struct flz_loader *loader = make_loader(48000, BAD_CH);
	struct flz_sample *s = load_ok(loader, path);
	ck_assert_int_eq(s->n_frames, BAD_N);
	for (int64_t i = 0; i < BAD_N * BAD_CH; i++)
		ck_assert_msg(s->data[i] == sanitized(x[i]), "sample %lld: %g from %g",
			      (long long)i, s->data[i], x[i]);
	ck_assert(s->data[100 * BAD_CH] == 0.0f && s->data[101 * BAD_CH] == 1.0f &&
		  s->data[102 * BAD_CH] == -1.0f && s->data[103 * BAD_CH] == 8.0f);
	check_replaced(loader, 3, 2, 3);
	flz_sample_unref(s);

	/* From memory: the same counts. */
	size_t n_bytes;
	unsigned char *bytes = read_bytes(path, &n_bytes);
	s = SENTINEL;
	ck_assert_int_eq(flz_loader_load_memory(loader, bytes, n_bytes, &s), 0);
	check_replaced(loader, 3, 2, 3);
	ck_assert(s->data[103 * BAD_CH + 1] == 8.0f);
	flz_sample_unref(s);

	/* A failed load forgets the counts. */
	s = SENTINEL;
	ck_assert_int_eq(flz_loader_load_file(loader, tmp_path("missing.wav"), &s), -ENOENT);
	ck_assert_ptr_eq(s, SENTINEL);
	check_replaced(loader, 0, 0, 0);
	flz_loader_destroy(loader);

	/* Mono (the average of two channels, where one Inf would make the
	 * whole frame Inf and Inf - Inf a NaN): counted per source sample,
	 * replaced before the average. */
	loader = make_loader(48000, 1);
	s = load_ok(loader, path);
	for (int64_t i = 0; i < BAD_N; i++) {
		float want = (sanitized(x[2 * i]) + sanitized(x[2 * i + 1])) * 0.5f;
		ck_assert_msg(fabsf(s->data[i] - want) <= 1e-6f, "frame %lld: %g, want %g",
			      (long long)i, s->data[i], want);
	}
	check_replaced(loader, 3, 2, 3);
	flz_sample_unref(s);
	flz_loader_destroy(loader);

	/* Through the rate converter and to more channels: all finite (a NaN
	 * fed to the filter would spread over its whole length), the 8.0
	 * survives as a peak well above 1, and the noise far from the bad
	 * frames comes through. */
	loader = make_loader(44100, 4);
	s = load_ok(loader, path);
	check_replaced(loader, 3, 2, 3);
	check_all_finite(s, 16.0f);
	float peak = 0.0f;
	for (int64_t i = 80; i < 110; i++)
		peak = fmaxf(peak, fabsf(s->data[i * 4]));
	ck_assert_msg(peak > 4.0f, "the 8.0 is gone (peak %g)", peak);
	ck_assert(s->data[5000 * 4] != 0.0f && s->data[5000 * 4 + 2] == 0.0f);
	flz_sample_unref(s);
	flz_loader_destroy(loader);

	/* flz_loader_convert(): the same replacement, the caller's frames untouched. */
	loader = make_loader(48000, BAD_CH);
	s = SENTINEL;
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ x, BAD_N, BAD_CH }, 48000,
					    &s),
			 0);
	check_replaced(loader, 3, 2, 3);
	ck_assert(isnan(x[100 * BAD_CH]) && isinf(x[101 * BAD_CH]));
	for (int64_t i = 0; i < BAD_N * BAD_CH; i++)
		ck_assert(s->data[i] == sanitized(x[i]));
	flz_sample_unref(s);
	s = SENTINEL;
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ x, BAD_N, BAD_CH }, 32000,
					    &s),
			 0);
	check_replaced(loader, 3, 2, 3);
	check_all_finite(s, 16.0f);
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(bytes);
	free(x);
}
END_TEST

START_TEST(test_overflow)
{
	/* Finite but near the float range's end: a square wave whose every
	 * edge the filter overshoots (Gibbs, ~9%) beyond FLT_MAX. Every output
	 * is finite and the replacements are counted apart from the source's. */
	enum { N = 4000 };
	float *x = malloc(sizeof(float) * N);
	for (int i = 0; i < N; i++)
		x[i] = ((i / 200) & 1) ? -3.4e38f : 3.4e38f;
	struct flz_loader *loader = make_loader(48000, 1);
	struct flz_sample *s = SENTINEL;
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ x, N, 1 }, 44100, &s), 0);
	struct flz_loader_replaced r;
	flz_loader_get_replaced(loader, &r);
	ck_assert_uint_eq(r.n_nan + r.n_pos_inf + r.n_neg_inf, 0);
	/* The replaced values are the only ones within +-1: everything else
	 * is of the order of 1e38, or the steps' zero crossings (>= 1e12). */
	uint64_t n_unit = 0;
	for (int64_t i = 0; i < s->n_frames; i++) {
		ck_assert(isfinite(s->data[i]));
		n_unit += fabsf(s->data[i]) <= 1.0f;
	}
	ck_assert_uint_gt(r.n_overflow, 0);
	ck_assert_uint_eq(r.n_overflow, n_unit);
	flz_sample_unref(s);
	/* Equal rates: nothing converted, nothing replaced, bit-exact. */
	s = SENTINEL;
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ x, N, 1 }, 48000, &s), 0);
	flz_loader_get_replaced(loader, &r);
	ck_assert_uint_eq(r.n_overflow, 0);
	ck_assert_int_eq(memcmp(s->data, x, sizeof(float) * N), 0);
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(x);
}
END_TEST

/* Run flz_loader_convert at equal rates and check every output sample. */
static void check_map(uint32_t n_in, uint32_t n_out, int64_t n_frames)
{
	float *x = malloc(sizeof(float) * (size_t)n_frames * n_in);
	flz_test_noise(x, (size_t)n_frames * n_in, 1.0, 7 + n_in * 16 + n_out);
	struct flz_loader *loader = make_loader(48000, n_out);
	struct flz_sample *s = SENTINEL;
	struct flz_frames in = { x, n_frames, n_in };
	ck_assert_int_eq(flz_loader_convert(loader, in, 48000, &s), 0);
	ck_assert_int_eq(s->n_frames, n_frames);
	ck_assert_uint_eq(s->n_channels, n_out);
	for (int64_t i = 0; i < n_frames; i++) {
		const float *src = x + i * n_in;
		for (uint32_t c = 0; c < n_out; c++) {
			double want;
			if (n_in == n_out) {
				want = src[c];
			} else if (n_in == 1) {
				want = src[0];
			} else if (n_out == 1) {
				want = 0;
				for (uint32_t k = 0; k < n_in; k++)
					want += src[k];
				want /= n_in;
			} else {
				want = c < n_in ? src[c] : 0.0;
			}
			double got = s->data[i * n_out + c];
			/* Tolerance: float rounding of a sum of up to 8 terms. */
			ck_assert_msg(fabs(got - want) <= 1e-6,
				      "%u->%u frame %lld ch %u: %.9g, want %.9g", n_in, n_out,
				      (long long)i, c, got, want);
		}
	}
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(x);
}

START_TEST(test_channels)
{
	check_map(1, 2, 5000);  /* mono to stereo */
	check_map(2, 1, 5000);  /* stereo to mono: average */
	check_map(2, 4, 5000);  /* stereo to 4: L R 0 0 */
	check_map(1, 8, 4097);  /* mono to N */
	check_map(3, 1, 4096);  /* N to mono: average */
	check_map(6, 2, 4095);  /* M to N: first N */
	check_map(4, 6, 1);     /* M to N > M: copy, then silence */
	check_map(2, 2, 8193);  /* equal */

	/* Exact values for the documented rules, by hand. */
	const float st[4] = { 0.5f, -0.25f, 1.0f, 0.0f };
	struct flz_loader *loader = make_loader(48000, 1);
	struct flz_sample *s = SENTINEL;
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ st, 2, 2 }, 48000, &s), 0);
	ck_assert_float_eq(s->data[0], 0.125f);
	ck_assert_float_eq(s->data[1], 0.5f);
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	loader = make_loader(48000, 4);
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ st, 2, 2 }, 48000, &s), 0);
	const float want[8] = { 0.5f, -0.25f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f };
	ck_assert_int_eq(memcmp(s->data, want, sizeof(want)), 0);
	flz_sample_unref(s);
	flz_loader_destroy(loader);
}
END_TEST

START_TEST(test_channels_file)
{
	/* The same rules through the file path with conversion: a stereo
	 * 44.1 kHz file loaded as mono equals converting its average. */
	enum { N = 20000 };
	float *x = malloc(sizeof(float) * N * 2);
	float *avg = malloc(sizeof(float) * N);
	flz_test_sine(x, N, 2, 440.0, 44100.0, 0.5, 1.0);
	for (size_t i = 0; i < N; i++)
		avg[i] = (x[2 * i] + x[2 * i + 1]) * 0.5f;
	const char *path = tmp_path("stereo.wav");
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, x, N);

	struct flz_loader *mono = make_loader(48000, 1);
	struct flz_sample *a = load_ok(mono, path), *b = SENTINEL;
	ck_assert_int_eq(flz_loader_convert(mono, (struct flz_frames){ avg, N, 1 }, 44100, &b), 0);
	ck_assert_int_eq(a->n_frames, b->n_frames);
	size_t at;
	double d = flz_test_max_diff(a->data, b->data, (size_t)a->n_frames, &at);
	ck_assert_msg(d <= 1e-6, "mono from file vs converted average differ by %g at %zu", d, at);
	flz_sample_unref(a);
	flz_sample_unref(b);
	flz_loader_destroy(mono);

	/* Stereo file into 4 channels with conversion: 0,1 follow the
	 * stereo load, 2 and 3 are silent. */
	struct flz_loader *st = make_loader(48000, 2), *quad = make_loader(48000, 4);
	a = load_ok(st, path);
	b = load_ok(quad, path);
	ck_assert_int_eq(a->n_frames, b->n_frames);
	for (int64_t i = 0; i < a->n_frames; i++) {
		ck_assert_float_eq_tol(b->data[4 * i], a->data[2 * i], 1e-7);
		ck_assert_float_eq_tol(b->data[4 * i + 1], a->data[2 * i + 1], 1e-7);
		ck_assert_float_eq(b->data[4 * i + 2], 0.0f);
		ck_assert_float_eq(b->data[4 * i + 3], 0.0f);
	}
	flz_sample_unref(a);
	flz_sample_unref(b);
	flz_loader_destroy(st);
	flz_loader_destroy(quad);
	free(x);
	free(avg);
}
END_TEST

START_TEST(test_src_sine)
{
	/* 2 s of a 1 kHz sine at -6 dBFS, 44.1 kHz stereo, to 48 kHz. */
	enum { N = 88200 };
	const double f = 1000.0, amp = 0.5;
	float *x = malloc(sizeof(float) * N * 2);
	flz_test_sine(x, N, 2, f, 44100.0, amp, 0.5);
	const char *path = tmp_path("sine44k.wav");
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, x, N);

	struct flz_loader *loader = make_loader(48000, 2);
	struct flz_sample *s = load_ok(loader, path);
	/* Length: round(N * 48000 / 44100) = 96000 exactly. */
	ck_assert_int_eq(s->n_frames, 96000);
	for (unsigned c = 0; c < 2; c++) {
		double a, res;
		analyse(s, c, f, &a, &res);
		double freq = measure_freq_hz(s, c, f);
		printf("loader:src 44.1k->48k ch%u: amplitude error %.6f dB, frequency error %.3g Hz, "
		       "residual %.1f dBc\n",
		       c, flz_test_db(a / amp), freq - f, res);
		/* Tolerances: amplitude 0.1 dB (the contract; measured ~1e-5),
		 * frequency 0.01 Hz, everything else 100 dB down. */
		ck_assert_msg(fabs(flz_test_db(a / amp)) < 0.1, "amplitude %g", a);
		ck_assert_msg(fabs(freq - f) < 0.01, "frequency %.6f Hz", freq);
		ck_assert_msg(res < -100.0, "residual %.1f dBc", res);
	}
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(x);
}
END_TEST

START_TEST(test_src_band)
{
	/* Passband: 20 kHz (below 91% of 22.05 kHz) survives 44.1k->48k within
	 * 0.01 dB. Stopband: 23 kHz cannot exist at 44.1 kHz; 48k->44.1k must
	 * remove it, not fold it to 21.1 kHz. */
	enum { N = 48000 };
	float *x = malloc(sizeof(float) * N);
	struct flz_loader *up = make_loader(48000, 1), *down = make_loader(44100, 1);
	struct flz_sample *s = SENTINEL;

	flz_test_sine(x, N, 1, 20000.0, 44100.0, 0.5, 0.0);
	ck_assert_int_eq(flz_loader_convert(up, (struct flz_frames){ x, N, 1 }, 44100, &s), 0);
	double a, res;
	analyse(s, 0, 20000.0, &a, &res);
	printf("loader:src passband 20 kHz: %.5f dB, residual %.1f dBc\n", flz_test_db(a / 0.5),
	       res);
	ck_assert_msg(fabs(flz_test_db(a / 0.5)) < 0.01, "20 kHz gain %g dB", flz_test_db(a / 0.5));
	ck_assert_msg(res < -90.0, "residual %.1f dBc", res);
	flz_sample_unref(s);

	flz_test_sine(x, N, 1, 23000.0, 48000.0, 0.5, 0.0);
	ck_assert_int_eq(flz_loader_convert(down, (struct flz_frames){ x, N, 1 }, 48000, &s), 0);
	size_t skip = (size_t)s->n_frames / 10;
	double power = 0;
	for (size_t i = skip; i < (size_t)s->n_frames - skip; i++)
		power += (double)s->data[i] * s->data[i];
	power /= (double)s->n_frames - 2.0 * skip;
	double rejection_db = 10.0 * log10(power / (0.5 * 0.5 / 2.0) + 1e-300);
	printf("loader:src stopband 23 kHz at 48k->44.1k: %.1f dB\n", rejection_db);
	ck_assert_msg(rejection_db < -120.0, "23 kHz leaks at %.1f dB", rejection_db);
	flz_sample_unref(s);

	flz_loader_destroy(up);
	flz_loader_destroy(down);
	free(x);
}
END_TEST

START_TEST(test_src_lengths)
{
	/* Output length is round(n * out / in) for odd sizes and chunk edges,
	 * and a constant stays that constant (DC gain exactly 1 in the middle). */
	static const int64_t sizes[] = { 1, 2, 3, 441, 4095, 4096, 4097, 12345 };
	struct flz_loader *loader = make_loader(48000, 1);
	float *x = malloc(sizeof(float) * 12345);
	for (size_t i = 0; i < 12345; i++)
		x[i] = 0.25f;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct flz_sample *s = SENTINEL;
		ck_assert_int_eq(
			flz_loader_convert(loader, (struct flz_frames){ x, sizes[k], 1 }, 44100, &s),
			0);
		int64_t want = llround((double)sizes[k] * 48000.0 / 44100.0);
		ck_assert_msg(llabs(s->n_frames - want) <= 1, "%lld frames -> %lld, want %lld",
			      (long long)sizes[k], (long long)s->n_frames, (long long)want);
		if (sizes[k] > 4000) {
			float mid = s->data[s->n_frames / 2];
			ck_assert_msg(fabsf(mid - 0.25f) < 1e-5f, "DC %g", mid);
		}
		flz_sample_unref(s);
	}
	flz_loader_destroy(loader);
	free(x);
}
END_TEST

START_TEST(test_memory)
{
	/* File and memory paths give bit-identical results: plain, converted,
	 * and a compressed format. */
	enum { N = 30011 };
	float *x = malloc(sizeof(float) * N * 2);
	flz_test_sine(x, N, 2, 997.0, 44100.0, 0.7, 0.3);
	const char *wav = tmp_path("mem.wav"), *flac = tmp_path("mem.flac");
	write_audio(wav, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 44100, 2, x, N);
	write_audio(flac, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2, x, N);
	const uint32_t rates[] = { 44100, 48000 }, chans[] = { 2, 1 };
	const char *paths[] = { wav, flac };
	for (int r = 0; r < 2; r++) {
		for (int p = 0; p < 2; p++) {
			struct flz_loader *loader = make_loader(rates[r], chans[r]);
			size_t n_bytes;
			unsigned char *bytes = read_bytes(paths[p], &n_bytes);
			struct flz_sample *a = load_ok(loader, paths[p]), *b = SENTINEL;
			ck_assert_int_eq(flz_loader_load_memory(loader, bytes, n_bytes, &b), 0);
			ck_assert_str_eq(flz_loader_strerror(loader), "");
			ck_assert_int_eq(a->n_frames, b->n_frames);
			ck_assert_uint_eq(a->n_channels, b->n_channels);
			ck_assert_int_eq(memcmp(a->data, b->data,
						sizeof(float) * (size_t)a->n_frames * a->n_channels),
					 0);
			flz_sample_unref(a);
			flz_sample_unref(b);
			free(bytes);
			flz_loader_destroy(loader);
		}
	}
	free(x);
}
END_TEST

/* Write a 1 kHz sine in `format` at 44.1 kHz, decode it at 48 kHz, and check
 * frequency and level; exact_pcm16 also checks lossless content. */
static void check_format(const char *name, int format, double amp_tol_db, double res_max_dbc,
			 bool exact_pcm16)
{
	enum { N = 44100 * 2 };
	const double f = 1000.0, amp = 0.5;
	float *x = malloc(sizeof(float) * N * 2);
	flz_test_sine(x, N, 2, f, 44100.0, amp, 0.0);
	const char *path = tmp_path(name);
	write_audio(path, format, 44100, 2, x, N);

	struct flz_loader *loader = make_loader(48000, 2);
	struct flz_sample *s = load_ok(loader, path);
	double a, res, freq = measure_freq_hz(s, 0, f);
	analyse(s, 0, f, &a, &res);
	printf("loader:formats %s: %lld frames, amplitude %.4f dB, frequency error %.3g Hz, "
	       "residual %.1f dBc\n",
	       name, (long long)s->n_frames, flz_test_db(a / amp), freq - f, res);
	ck_assert_msg(llabs(s->n_frames - 96000) < 4800, "%s: %lld frames", name,
		      (long long)s->n_frames);
	ck_assert_msg(fabs(freq - f) < 0.5, "%s: frequency %.4f Hz", name, freq);
	ck_assert_msg(fabs(flz_test_db(a / amp)) < amp_tol_db, "%s: level %.3f dB", name,
		      flz_test_db(a / amp));
	ck_assert_msg(res < res_max_dbc, "%s: residual %.1f dBc", name, res);
	flz_sample_unref(s);
	flz_loader_destroy(loader);

	if (exact_pcm16) {
		loader = make_loader(44100, 2);
		s = load_ok(loader, path);
		ck_assert_int_eq(s->n_frames, N);
		for (size_t i = 0; i < (size_t)N * 2; i++) {
			/* libsndfile writes round(x * 32767) for float input. */
			double want = lrint(x[i] * 32767.0) / 32768.0;
			ck_assert_msg(fabs(s->data[i] - want) <= 1.0 / 32768.0,
				      "%s sample %zu: %g vs %g", name, i, s->data[i], want);
		}
		flz_sample_unref(s);
		flz_loader_destroy(loader);
	}
	free(x);
}

static bool can_write(int format)
{
	SF_INFO info = { .samplerate = 44100, .channels = 2, .format = format };
	return sf_format_check(&info) != 0;
}

START_TEST(test_formats)
{
	check_format("sine.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 0.01, -80.0, true);
	check_format("sine.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 0.01, -100.0, false);
	check_format("sine.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 0.5, -30.0, false);
}
END_TEST

START_TEST(test_mp3)
{
	/* 0x230000 | 0x0082: MPEG layer III (libsndfile >= 1.1). */
	const int mp3 = 0x230000 | 0x0082;
	if (can_write(mp3)) {
		check_format("sine.mp3", mp3, 0.5, -30.0, false);
		return;
	}
	/* libsndfile here cannot encode MP3: use lame if installed. */
	if (system("command -v lame >/dev/null 2>&1") != 0) {
		printf("loader:mp3 SKIPPED: libsndfile cannot write MP3 and lame is not installed\n");
		return;
	}
	enum { N = 44100 * 2 };
	float *x = malloc(sizeof(float) * N * 2);
	flz_test_sine(x, N, 2, 1000.0, 44100.0, 0.5, 0.0);
	const char *wav = tmp_path("lame-in.wav"), *out = tmp_path("lame.mp3");
	write_audio(wav, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, x, N);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "lame --quiet '%s' '%s'", wav, out);
	ck_assert_int_eq(system(cmd), 0);
	struct flz_loader *loader = make_loader(48000, 2);
	struct flz_sample *s = load_ok(loader, out);
	double a, res;
	analyse(s, 0, 1000.0, &a, &res);
	ck_assert_msg(fabs(measure_freq_hz(s, 0, 1000.0) - 1000.0) < 0.5, "frequency");
	ck_assert_msg(fabs(flz_test_db(a / 0.5)) < 0.5, "level");
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(x);
}
END_TEST

START_TEST(test_opus)
{
	/* Opus runs at 48 kHz internally; decode a 1 kHz sine at 48 kHz. */
	const int opus = SF_FORMAT_OGG | 0x0064; /* SF_FORMAT_OPUS, libsndfile >= 1.0.29 */
	SF_INFO info = { .samplerate = 48000, .channels = 2, .format = opus };
	if (!sf_format_check(&info)) {
		printf("loader:opus SKIPPED: libsndfile here has no Opus support\n");
		return;
	}
	enum { N = 96000 };
	float *x = malloc(sizeof(float) * N * 2);
	flz_test_sine(x, N, 2, 1000.0, 48000.0, 0.5, 0.0);
	const char *path = tmp_path("sine.opus");
	write_audio(path, opus, 48000, 2, x, N);
	struct flz_loader *loader = make_loader(48000, 1);
	struct flz_sample *s = load_ok(loader, path);
	double a, res;
	analyse(s, 0, 1000.0, &a, &res);
	double freq = measure_freq_hz(s, 0, 1000.0);
	printf("loader:opus: %lld frames, amplitude %.3f dB, frequency error %.3g Hz, residual "
	       "%.1f dBc\n",
	       (long long)s->n_frames, flz_test_db(a / 0.5), freq - 1000.0, res);
	ck_assert_msg(fabs(freq - 1000.0) < 0.5, "frequency %.4f", freq);
	ck_assert_msg(fabs(flz_test_db(a / 0.5)) < 0.5, "level");
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(x);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Errors: each with a real bad file, each leaves *out untouched and says
 * exactly why, naming the file. */

static void expect_file_error(struct flz_loader *loader, const char *path, int err,
			      const char *phrase)
{
	struct flz_sample *s = SENTINEL;
	int ret = flz_loader_load_file(loader, path, &s);
	const char *msg = flz_loader_strerror(loader);
	printf("loader:errors %s -> %d \"%s\"\n", path, ret, msg);
	ck_assert_msg(ret == err, "%s: got %d (%s), want %d", path, ret, msg, err);
	ck_assert_ptr_eq(s, SENTINEL);
	ck_assert_msg(strstr(msg, path) != NULL, "message lacks the path: %s", msg);
	ck_assert_msg(strstr(msg, phrase) != NULL, "message lacks \"%s\": %s", phrase, msg);
}

static void expect_memory_error(struct flz_loader *loader, const char *path, int err,
				const char *phrase)
{
	size_t n_bytes;
	unsigned char *bytes = read_bytes(path, &n_bytes);
	struct flz_sample *s = SENTINEL;
	int ret = flz_loader_load_memory(loader, bytes, n_bytes, &s);
	const char *msg = flz_loader_strerror(loader);
	ck_assert_msg(ret == err, "memory %s: got %d (%s), want %d", path, ret, msg, err);
	ck_assert_ptr_eq(s, SENTINEL);
	ck_assert_msg(strstr(msg, "memory") != NULL, "message lacks the source: %s", msg);
	ck_assert_msg(strstr(msg, phrase) != NULL, "message lacks \"%s\": %s", phrase, msg);
	free(bytes);
}

/* Offset of a RIFF/AIFF chunk id in a file's bytes, or -1. */
static long find_marker(const unsigned char *bytes, size_t n_bytes, const char *id)
{
	for (size_t i = 0; i + 4 <= n_bytes; i++)
		if (memcmp(bytes + i, id, 4) == 0)
			return (long)i;
	return -1;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

START_TEST(test_errors)
{
	struct flz_loader *loader = make_loader(48000, 2);
	enum { N = 48000 };
	float *x = malloc(sizeof(float) * N * 2);
	flz_test_sine(x, N, 2, 440.0, 48000.0, 0.5, 0.0);
	const char *good = tmp_path("good.wav");
	write_audio(good, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 2, x, N);
	size_t n_good;
	unsigned char *bytes = read_bytes(good, &n_good);

	/* Missing file, a directory. */
	expect_file_error(loader, tmp_path("missing.wav"), -ENOENT, "no such file");
	expect_file_error(loader, tmp_dir, -EISDIR, "directory");

	/* Empty file. */
	const char *empty = tmp_path("empty.wav");
	write_bytes(empty, "", 0);
	expect_file_error(loader, empty, -EBADMSG, "empty file");
	struct flz_sample *s = SENTINEL;
	ck_assert_int_eq(flz_loader_load_memory(loader, bytes, 0, &s), -EBADMSG);
	ck_assert_ptr_eq(s, SENTINEL);
	ck_assert_ptr_nonnull(strstr(flz_loader_strerror(loader), "empty file"));

	/* Random bytes. */
	const char *random = tmp_path("random.bin");
	float noise[1024];
	flz_test_noise(noise, 1024, 1.0, 4242);
	write_bytes(random, noise, sizeof(noise));
	expect_file_error(loader, random, -EBADMSG, "not an audio file");
	expect_memory_error(loader, random, -EBADMSG, "not an audio file");

	/* A text file named .wav. */
	const char *text = tmp_path("notes.wav");
	static const char words[] = "These are my notes, not a recording.\nLine two.\n";
	write_bytes(text, words, sizeof(words) - 1);
	expect_file_error(loader, text, -EBADMSG, "not an audio file");
	expect_memory_error(loader, text, -EBADMSG, "not an audio file");

	/* Truncated WAV: half the data cut off. */
	const char *trunc = tmp_path("truncated.wav");
	write_bytes(trunc, bytes, n_good / 2);
	expect_file_error(loader, trunc, -EBADMSG, "truncated");
	expect_memory_error(loader, trunc, -EBADMSG, "truncated");
	/* Cut inside the header. */
	const char *stub = tmp_path("stub.wav");
	write_bytes(stub, bytes, 30);
	expect_file_error(loader, stub, -EBADMSG, "corrupt");

	/* A header claiming huge sizes (RIFF and data near 4 GiB) over 1 s of
	 * audio. */
	unsigned char *huge = malloc(n_good);
	memcpy(huge, bytes, n_good);
	long data = find_marker(huge, n_good, "data");
	ck_assert_int_gt(data, 0);
	put_le32(huge + 4, 0xfffffff0u);
	put_le32(huge + data + 4, 0xffffffe0u);
	const char *hugep = tmp_path("huge-header.wav");
	write_bytes(hugep, huge, n_good);
	expect_file_error(loader, hugep, -EBADMSG, "header announces");
	expect_memory_error(loader, hugep, -EBADMSG, "header announces");
	free(huge);

	/* Streaming writers' "unknown length" (0xFFFFFFFF) is not corruption:
	 * the file plays to its end. */
	unsigned char *streamed = malloc(n_good);
	memcpy(streamed, bytes, n_good);
	put_le32(streamed + 4, 0xffffffffu);
	put_le32(streamed + data + 4, 0xffffffffu);
	const char *streamedp = tmp_path("streamed.wav");
	write_bytes(streamedp, streamed, n_good);
	free(streamed);
	s = load_ok(loader, streamedp);
	ck_assert_int_eq(s->n_frames, N);
	ck_assert_float_eq(s->data[2 * 100], lrintf(x[2 * 100] * 32767.0f) / 32768.0f);
	flz_sample_unref(s);
	s = SENTINEL;

	/* A header and no frames. */
	const char *hdr = tmp_path("header-only.wav");
	write_audio(hdr, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 2, x, 0);
	expect_file_error(loader, hdr, -ENODATA, "no audio frames");
	expect_memory_error(loader, hdr, -ENODATA, "no audio frames");

	/* An AIFF-C container with a compression type nobody knows. */
	const char *aifc = tmp_path("unknown.aifc");
	write_audio(aifc, SF_FORMAT_AIFF | SF_FORMAT_FLOAT, 48000, 1, x, 1000);
	size_t n_aifc;
	unsigned char *ab = read_bytes(aifc, &n_aifc);
	long fl32 = find_marker(ab, n_aifc, "FL32");
	ck_assert_int_gt(fl32, 0);
	memcpy(ab + fl32, "XQZW", 4);
	write_bytes(aifc, ab, n_aifc);
	free(ab);
	expect_file_error(loader, aifc, -ENOTSUP, "unsupported encoding");
	expect_memory_error(loader, aifc, -ENOTSUP, "unsupported encoding");

	/* Truncated FLAC: the stream info promises more frames than follow. */
	const char *flac = tmp_path("good.flac");
	write_audio(flac, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 2, x, N);
	size_t n_flac;
	unsigned char *fb = read_bytes(flac, &n_flac);
	const char *tflac = tmp_path("truncated.flac");
	write_bytes(tflac, fb, n_flac / 2);
	free(fb);
	expect_file_error(loader, tflac, -EBADMSG, "truncated");

	/* Too large: 1 s of stereo at 48 kHz is 384000 bytes. */
	struct flz_loader_config small = flz_loader_config_init();
	small.max_bytes = 100000;
	struct flz_loader *tight = NULL;
	ck_assert_int_eq(flz_loader_new(&small, &tight), 0);
	expect_file_error(tight, good, -EFBIG, "more than the limit of 100000 bytes");
	expect_memory_error(tight, good, -EFBIG, "limit");
	/* ... also when conversion changes the size: 44.1k mono to 48k stereo. */
	const char *m44 = tmp_path("mono44.wav");
	write_audio(m44, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, x, 12000);
	expect_file_error(tight, m44, -EFBIG, "limit");
	flz_loader_destroy(tight);

	/* Bad arguments. */
	ck_assert_int_eq(flz_loader_load_file(loader, NULL, &s), -EINVAL);
	ck_assert_int_eq(flz_loader_load_file(loader, good, NULL), -EINVAL);
	ck_assert_int_eq(flz_loader_load_memory(loader, NULL, 10, &s), -EINVAL);
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ NULL, 5, 1 }, 48000, &s),
			 -EINVAL);
	ck_assert_int_eq(flz_loader_convert(loader, (struct flz_frames){ x, 0, 1 }, 48000, &s),
			 -EINVAL);
	ck_assert_ptr_eq(s, SENTINEL);

	/* After all that, a good file loads and the message is cleared. */
	s = load_ok(loader, good);
	ck_assert_int_eq(s->n_frames, N);
	flz_sample_unref(s);

	free(bytes);
	free(x);
	flz_loader_destroy(loader);
}
END_TEST

START_TEST(test_memory_fuzz)
{
	/* Damaged copies of valid files through the memory path: every byte
	 * flip either decodes or fails with a project code, never crashes, and
	 * never leaves *out changed on failure. */
	enum { N = 2000 };
	float x[N];
	flz_test_sine(x, N, 1, 300.0, 22050.0, 0.5, 0.0);
	const char *paths[] = { tmp_path("f.wav"), tmp_path("f.flac"), tmp_path("f.aiff") };
	write_audio(paths[0], SF_FORMAT_WAV | SF_FORMAT_PCM_16, 22050, 1, x, N);
	write_audio(paths[1], SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 22050, 1, x, N);
	write_audio(paths[2], SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 22050, 1, x, N);
	struct flz_loader *loader = make_loader(48000, 2);
	uint32_t rng = 12345;
	int n_ok = 0, n_err = 0;
	for (int p = 0; p < 3; p++) {
		size_t n_bytes;
		unsigned char *orig = read_bytes(paths[p], &n_bytes);
		unsigned char *buf = malloc(n_bytes);
		for (int iter = 0; iter < 200; iter++) {
			memcpy(buf, orig, n_bytes);
			for (int k = 0; k < 4; k++) {
				rng = rng * 1664525u + 1013904223u;
				/* Mostly the header, where damage matters. */
				size_t at = (rng >> 8) % (iter % 2 ? n_bytes : 64);
				buf[at] ^= (unsigned char)(1u << ((rng >> 4) & 7));
			}
			size_t len = iter % 3 == 0 ? (rng >> 3) % n_bytes + 1 : n_bytes;
			struct flz_sample *s = SENTINEL;
			int ret = flz_loader_load_memory(loader, buf, len, &s);
			if (ret == 0) {
				ck_assert_ptr_ne(s, SENTINEL);
				ck_assert_int_ge(s->n_frames, 1);
				flz_sample_unref(s);
				n_ok++;
			} else {
				ck_assert_ptr_eq(s, SENTINEL);
				ck_assert_msg(ret == -EBADMSG || ret == -ENOTSUP || ret == -ENODATA ||
						      ret == -EFBIG || ret == -EIO,
					      "unexpected %d (%s)", ret, flz_loader_strerror(loader));
				ck_assert_str_ne(flz_loader_strerror(loader), "");
				n_err++;
			}
		}
		free(buf);
		free(orig);
	}
	printf("loader:fuzz %d decoded, %d refused\n", n_ok, n_err);
	ck_assert_int_gt(n_err, 0);
	flz_loader_destroy(loader);
}
END_TEST

START_TEST(test_growth)
{
	/* A length estimate that is far too short (as MP3 files without a
	 * length header give): the output grows and keeps every frame, with
	 * and without conversion. */
	enum { N = 50001 };
	float *x = malloc(sizeof(float) * N * 2);
	flz_test_noise(x, N * 2, 0.9, 555);
	const uint32_t rates[] = { 48000, 44100 };
	for (int r = 0; r < 2; r++) {
		struct flz_loader *loader = make_loader(48000, 2);
		size_t msg_size;
		char *msg = flz_loader_message_buffer(loader, &msg_size);
		struct flz_pipeline p;
		ck_assert_int_eq(flz_pipeline_init(&p, flz_loader_get_config(loader), rates[r], 2,
						   1000, false, flz_loader_replaced_counts(loader),
						   msg, msg_size),
				 0);
		for (int64_t i = 0; i < N; i += 777) {
			int64_t n = N - i < 777 ? N - i : 777;
			ck_assert_int_eq(flz_pipeline_push(&p, x + i * 2, n), 0);
		}
		struct flz_sample *grown = SENTINEL, *ref = SENTINEL;
		ck_assert_int_eq(flz_pipeline_finish(&p, &grown), 0);
		flz_pipeline_deinit(&p);
		ck_assert_int_eq(
			flz_loader_convert(loader, (struct flz_frames){ x, N, 2 }, rates[r], &ref), 0);
		ck_assert_int_eq(grown->n_frames, ref->n_frames);
		if (r == 0)
			ck_assert_int_eq(grown->n_frames, N);
		/* Same resampler, same input, other block sizes: equal within
		 * float rounding. */
		size_t at;
		double d = flz_test_max_diff(grown->data, ref->data, (size_t)ref->n_frames * 2, &at);
		ck_assert_msg(d <= 1e-6, "rate %u: differs by %g at %zu", rates[r], d, at);
		flz_sample_unref(grown);
		flz_sample_unref(ref);
		flz_loader_destroy(loader);
	}
	free(x);
}
END_TEST

/* The fuzz target's contract, shared with the regression case below. */
#include "../fuzz/fuzz-loader.h"

START_TEST(test_fuzz_regressions)
{
	/* Every input the fuzzer ever found a fault with (kept in
	 * tests/fuzz/regressions/) goes through the memory path with the fuzz
	 * target's configuration and check: a clean error or a well-formed
	 * sample, *out untouched on failure; leaks and invalid accesses are
	 * the valgrind and sanitizer setups' to catch. */
	const char *dir = FLZ_FUZZ_REGRESSIONS_DIR;
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	ck_assert_msg(n >= 0, "%s: %s", dir, strerror(errno));
	int n_files = 0, n_ok = 0;
	for (int i = 0; i < n; i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		struct stat st;
		bool is_input = names[i]->d_name[0] != '.' && stat(path, &st) == 0 &&
				S_ISREG(st.st_mode);
		free(names[i]);
		if (!is_input)
			continue;
		size_t n_bytes;
		unsigned char *data = read_bytes(path, &n_bytes);
		struct flz_loader *loader = flz_fuzz_loader_new();
		ck_assert_ptr_nonnull(loader);
		int result;
		char why[1200];
		ck_assert_msg(flz_fuzz_one(loader, data, n_bytes, &result, why, sizeof(why)) == 0,
			      "%s: %s", path, why);
		n_ok += result == 0;
		n_files++;
		flz_loader_destroy(loader);
		free(data);
	}
	free(names);
	printf("loader:fuzz-regressions %d inputs, %d decoded, %d refused\n", n_files, n_ok,
	       n_files - n_ok);
	ck_assert_int_ge(n_files, 1);
}
END_TEST

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{ "loader:config", test_config },
		{ "loader:wav", test_wav_pcm16 },
		{ "loader:wav-float", test_wav_float },
		{ "loader:nonfinite", test_nonfinite },
		{ "loader:overflow", test_overflow },
		{ "loader:channels", test_channels },
		{ "loader:channels-file", test_channels_file },
		{ "loader:src", test_src_sine },
		{ "loader:src-band", test_src_band },
		{ "loader:src-lengths", test_src_lengths },
		{ "loader:memory", test_memory },
		{ "loader:formats", test_formats },
		{ "loader:mp3", test_mp3 },
		{ "loader:opus", test_opus },
		{ "loader:growth", test_growth },
		{ "loader:errors", test_errors },
		{ "loader:fuzz", test_memory_fuzz },
		{ "loader:fuzz-regressions", test_fuzz_regressions },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return flz_test_run_tap(loader_suite());
}
