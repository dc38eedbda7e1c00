/* SPDX-License-Identifier: MIT */
/* loader:errors: every error path, with bad files the test makes. */
#include "loader-tests.h"

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

TCase *loader_case_errors(void)
{
	return loader_tcase("loader:errors", test_errors);
}
