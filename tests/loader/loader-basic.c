/* SPDX-License-Identifier: MIT */
/* loader:config, loader:wav, loader:wav-float, loader:memory, loader:growth: configuration, WAV, the memory path, buffer growth. */
#include "loader-tests.h"

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

TCase *loader_case_config(void)
{
	return loader_tcase("loader:config", test_config);
}

TCase *loader_case_wav(void)
{
	return loader_tcase("loader:wav", test_wav_pcm16);
}

TCase *loader_case_wav_float(void)
{
	return loader_tcase("loader:wav-float", test_wav_float);
}

TCase *loader_case_memory(void)
{
	return loader_tcase("loader:memory", test_memory);
}

TCase *loader_case_growth(void)
{
	return loader_tcase("loader:growth", test_growth);
}
