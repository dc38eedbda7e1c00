/* SPDX-License-Identifier: MIT */
/* test-loader: the shared fixture, the suite in its order, and main(). */
#include "loader-tests.h"

char tmp_dir[256];

void tmp_setup(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/flz-loader-XXXXXX", base ? base : "/tmp");
	ck_assert_msg(mkdtemp(tmp_dir) != NULL, "mkdtemp: %s", strerror(errno));
}

void tmp_teardown(void)
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

const char *tmp_path(const char *name)
{
	/* Enough distinct buffers for every name one test uses. */
	static char path[64][512];
	static int next;
	char *p = path[next++ % 64];
	snprintf(p, 512, "%s/%s", tmp_dir, name);
	return p;
}

/* Write interleaved float frames with libsndfile in the given format. */
void write_audio(const char *path, int format, int rate_hz, int n_channels,
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

void write_bytes(const char *path, const void *data, size_t n_bytes)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, n_bytes, f), n_bytes);
	ck_assert_int_eq(fclose(f), 0);
}

unsigned char *read_bytes(const char *path, size_t *n_bytes)
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

struct flz_loader *make_loader(uint32_t rate_hz, uint32_t n_channels)
{
	struct flz_loader_config config = flz_loader_config_init();
	config.rate_hz = rate_hz;
	config.n_channels = n_channels;
	struct flz_loader *loader = NULL;
	ck_assert_int_eq(flz_loader_new(&config, &loader), 0);
	ck_assert_ptr_nonnull(loader);
	return loader;
}

struct flz_sample *load_ok(struct flz_loader *loader, const char *path)
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
void fit_phase(const float *x, size_t stride, size_t start, size_t n, double freq_norm,
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
double measure_freq_hz(const struct flz_sample *s, unsigned channel, double freq_hz)
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
void analyse(const struct flz_sample *s, unsigned channel, double freq_hz, double *amp,
	     double *residual_dbc)
{
	size_t n = (size_t)s->n_frames, skip = n / 10;
	flz_test_sine_fit(s->data + skip * s->n_channels + channel, n - 2 * skip, s->n_channels,
			  freq_hz / s->rate_hz, amp, residual_dbc);
}

TCase *loader_tcase(const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test);
	return tc;
}

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *(*const cases[])(void) = {
		loader_case_config,
		loader_case_wav,
		loader_case_wav_float,
		loader_case_nonfinite,
		loader_case_overflow,
		loader_case_channels,
		loader_case_channels_file,
		loader_case_src,
		loader_case_src_band,
		loader_case_src_lengths,
		loader_case_memory,
		loader_case_pcm,
		loader_case_pcm_errors,
		loader_case_summary,
		loader_case_summary_levels,
		loader_case_summary_errors,
		loader_case_formats,
		loader_case_mp3,
		loader_case_opus,
		loader_case_growth,
		loader_case_errors,
		loader_case_fuzz,
		loader_case_fuzz_regressions,
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		suite_add_tcase(s, cases[i]());
	return s;
}

int main(void)
{
	return flz_test_run_tap(loader_suite());
}
