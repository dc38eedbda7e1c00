/* SPDX-License-Identifier: MIT */
/* loader:fuzz, loader:fuzz-regressions: random and recorded inputs through the memory path. */
#include "loader-tests.h"

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

TCase *loader_case_fuzz(void)
{
	return loader_tcase("loader:fuzz", test_memory_fuzz);
}

TCase *loader_case_fuzz_regressions(void)
{
	return loader_tcase("loader:fuzz-regressions", test_fuzz_regressions);
}
