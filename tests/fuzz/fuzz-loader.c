/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for libloader's decode-from-memory path. Every input is
 * handed to flz_loader_load_memory(); a crash, a sanitizer report, a leak or
 * an outcome outside the documented contract (see fuzz-loader.h) aborts.
 *
 * Built with -fsanitize=fuzzer it is a libFuzzer binary; built without
 * (FLZ_FUZZ_REPLAY), the same code becomes a replay driver that runs each
 * file named on the command line once, for valgrind or a compiler without
 * libFuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef FLZ_FUZZ_REPLAY
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#endif

#include "fuzz-loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n_bytes);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n_bytes)
{
	/* One loader for the whole run, as an embedding application keeps
	 * one: it also checks that a failure leaves the handle reusable. */
	static struct flz_loader *loader;
	if (loader == NULL) {
		loader = flz_fuzz_loader_new();
		if (loader == NULL)
			abort();
	}
	int ret;
	char why[1200];
	if (flz_fuzz_one(loader, data, n_bytes, &ret, why, sizeof(why)) < 0) {
		fprintf(stderr, "fuzz-loader: contract violated: %s\n", why);
		abort();
	}
	return 0;
}

#ifdef FLZ_FUZZ_REPLAY
static unsigned char *read_all(const char *path, size_t *n_bytes)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);
	for (;;) {
		if (buf == NULL)
			break;
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		unsigned char *bigger = realloc(buf, cap * 2);
		if (bigger == NULL) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = bigger;
		cap *= 2;
	}
	fclose(f);
	*n_bytes = n;
	return buf;
}

static int n_run, n_ok;

/* Run one file, or every regular file of a directory (sorted, one level). */
static int replay(const char *path, int all_ok)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "fuzz-loader: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		struct dirent **names;
		int n = scandir(path, &names, NULL, alphasort);
		if (n < 0) {
			fprintf(stderr, "fuzz-loader: %s: %s\n", path, strerror(errno));
			return -1;
		}
		int ret = 0;
		for (int i = 0; i < n; i++) {
			char child[4096];
			snprintf(child, sizeof(child), "%s/%s", path, names[i]->d_name);
			struct stat cst;
			if (ret == 0 && names[i]->d_name[0] != '.' && stat(child, &cst) == 0 &&
			    S_ISREG(cst.st_mode))
				ret = replay(child, all_ok);
			free(names[i]);
		}
		free(names);
		return ret;
	}
	size_t n_bytes = 0;
	unsigned char *data = read_all(path, &n_bytes);
	if (data == NULL) {
		fprintf(stderr, "fuzz-loader: cannot read %s\n", path);
		return -1;
	}
	struct flz_loader *loader = flz_fuzz_loader_new();
	if (loader == NULL) {
		free(data);
		return -1;
	}
	int result;
	char why[1200];
	int ret = flz_fuzz_one(loader, data, n_bytes, &result, why, sizeof(why));
	if (ret < 0)
		fprintf(stderr, "fuzz-loader: %s: contract violated: %s\n", path, why);
	else if (all_ok && result != 0) {
		fprintf(stderr, "fuzz-loader: %s: refused: %s\n", path,
			flz_loader_strerror(loader));
		ret = -1;
	}
	n_run++;
	n_ok += result == 0;
	flz_loader_destroy(loader);
	free(data);
	return ret;
}

int main(int argc, char **argv)
{
	int all_ok = 0, first = 1;
	if (argc > 1 && strcmp(argv[1], "--all-ok") == 0) {
		all_ok = 1;
		first = 2;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: %s [--all-ok] FILE|DIR...\n"
				"  --all-ok  every input must decode (for the seed corpus)\n",
			argv[0]);
		return 2;
	}
	for (int i = first; i < argc; i++)
		if (replay(argv[i], all_ok) < 0)
			return EXIT_FAILURE;
	if (n_run == 0) {
		fprintf(stderr, "fuzz-loader: no input files\n");
		return EXIT_FAILURE;
	}
	printf("fuzz-loader: %d inputs, %d decoded, %d refused, no contract violation\n", n_run,
	       n_ok, n_run - n_ok);
	return EXIT_SUCCESS;
}
#endif
