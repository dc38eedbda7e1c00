/* SPDX-License-Identifier: MIT */
/* loader:formats, loader:mp3, loader:opus: every file format. */
#include "loader-tests.h"

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

TCase *loader_case_formats(void)
{
	return loader_tcase("loader:formats", test_formats);
}

TCase *loader_case_mp3(void)
{
	return loader_tcase("loader:mp3", test_mp3);
}

TCase *loader_case_opus(void)
{
	return loader_tcase("loader:opus", test_opus);
}
