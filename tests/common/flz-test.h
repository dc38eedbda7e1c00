/* SPDX-License-Identifier: MIT */
/**
 * @file flz-test.h
 * Helpers shared by the Check suites: the TAP runner, signal generators,
 * comparison with a stated tolerance, and sine analysis. Header-only, test
 * code only.
 */
#ifndef FLZ_TEST_H
#define FLZ_TEST_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sys/mman.h>
#include <sys/stat.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/** Fill n_frames interleaved frames: channel c gets amp*sin(2 pi f t + c*phase_step). */
static inline void flz_test_sine(float *out, size_t n_frames, unsigned n_channels, double freq_hz,
				 double rate_hz, double amp, double phase_step)
{
	for (size_t i = 0; i < n_frames; i++)
		for (unsigned c = 0; c < n_channels; c++)
			out[i * n_channels + c] =
				(float)(amp * sin(2.0 * M_PI * freq_hz * (double)i / rate_hz +
						  c * phase_step));
}

/** Deterministic white noise in -amp..amp (xorshift), for content tests. */
static inline void flz_test_noise(float *out, size_t n_samples, double amp, uint32_t seed)
{
	uint32_t x = seed ? seed : 0x9e3779b9u;
	for (size_t i = 0; i < n_samples; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		out[i] = (float)(amp * ((double)x / 2147483648.0 - 1.0));
	}
}

/**
 * Largest |a[i] - b[i]| over n samples; *at receives its index (may be NULL).
 */
static inline double flz_test_max_diff(const float *a, const float *b, size_t n, size_t *at)
{
	double worst = 0.0;
	size_t where = 0;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - (double)b[i]);
		if (d > worst || isnan(d)) {
			worst = isnan(d) ? INFINITY : d;
			where = i;
		}
	}
	if (at)
		*at = where;
	return worst;
}

/**
 * Least-squares fit of x[k*stride] (k < n) to a*sin + b*cos at freq_norm
 * (cycles per sample) plus a constant. Returns the amplitude in *amp and the
 * power of everything else (every spurious component, noise and DC
 * together) relative to the fitted sine, in dBc, in *residual_dbc. The sum of
 * all spurious power bounds each single component from above, so
 * residual_dbc < L means every spurious component is below L dBc.
 */
static inline void flz_test_sine_fit(const float *x, size_t n, size_t stride, double freq_norm,
				     double *amp, double *residual_dbc)
{
	/* Normal equations for the basis {sin, cos, 1}. */
	double m[3][3] = { { 0 } }, r[3] = { 0 };
	for (size_t k = 0; k < n; k++) {
		double ph = 2.0 * M_PI * freq_norm * (double)k;
		double b[3] = { sin(ph), cos(ph), 1.0 };
		double v = x[k * stride];
		for (int i = 0; i < 3; i++) {
			r[i] += b[i] * v;
			for (int j = 0; j < 3; j++)
				m[i][j] += b[i] * b[j];
		}
	}
	/* Gaussian elimination (3x3, well conditioned for n >> period). */
	for (int i = 0; i < 3; i++) {
		for (int j = i + 1; j < 3; j++) {
			double f = m[j][i] / m[i][i];
			for (int k = i; k < 3; k++)
				m[j][k] -= f * m[i][k];
			r[j] -= f * r[i];
		}
	}
	double c[3];
	for (int i = 2; i >= 0; i--) {
		double s = r[i];
		for (int k = i + 1; k < 3; k++)
			s -= m[i][k] * c[k];
		c[i] = s / m[i][i];
	}
	double a2 = c[0] * c[0] + c[1] * c[1];
	double res = 0.0;
	for (size_t k = 0; k < n; k++) {
		double ph = 2.0 * M_PI * freq_norm * (double)k;
		double e = x[k * stride] - (c[0] * sin(ph) + c[1] * cos(ph));
		res += e * e;
	}
	res /= (double)n;
	*amp = sqrt(a2);
	/* The sine's mean power is a^2/2. */
	*residual_dbc = 10.0 * log10((res + 1e-300) / (a2 / 2.0 + 1e-300));
}

/** Gain ratio to dB. */
static inline double flz_test_db(double ratio)
{
	return 20.0 * log10(ratio);
}

/** Write a float buffer to a temporary file for post-mortem (only on failure paths). */
static inline void flz_test_dump(const char *name, const float *x, size_t n)
{
	FILE *f = fopen(name, "wb");
	if (f) {
		fwrite(x, sizeof(float), n, f);
		fclose(f);
	}
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define FLZ_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define FLZ_TEST_SANITIZED 1
#endif

/* Whether the suite runs with the portable kernels: FLZ_KERNELS=generic
 * (meson's second run of the voice and mixer suites). The libraries never
 * read the environment; the tests pass the CPU flags they mean. */
static inline bool flz_test_force_generic(void)
{
	const char *k = getenv("FLZ_KERNELS");
	return k != NULL && strcmp(k, "generic") == 0;
}

/**
 * Whether this run is instrumented: built with a sanitizer, or
 * FLZ_INSTRUMENTED set to anything but "" or "0" (scripts/sanitize.sh sets
 * it for every mode, valgrind included, which no compiler flag reveals).
 * Instrumented code is several times slower, so such runs check
 * correctness, never real-time deadlines: a rig test asks this before it
 * asserts "no xrun".
 */
static inline bool flz_test_instrumented(void)
{
#ifdef FLZ_TEST_SANITIZED
	return true;
#else
	const char *v = getenv("FLZ_INSTRUMENTED");
	return v != NULL && v[0] != '\0' && !(v[0] == '0' && v[1] == '\0');
#endif
}

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define FLZ_TEST_HAVE_VALGRIND_H 1
#endif
#endif

/**
 * Whether the test runs under valgrind, whose CPU emulation ignores what
 * some tests check in the real one (x86's MXCSR flush-to-zero bits, for one).
 */
static inline bool flz_test_under_valgrind(void)
{
#ifdef FLZ_TEST_HAVE_VALGRIND_H
	if (RUNNING_ON_VALGRIND)
		return true;
#endif
	const char *v = getenv("FLZ_INSTRUMENTED");
	return v != NULL && strcmp(v, "valgrind") == 0;
}

/**
 * Pages of [addr, addr + n_bytes) that are not resident (mincore()), or -1
 * when @p addr is not page-aligned or mincore() fails. A page of a fresh
 * anonymous mapping is resident only once it was touched, so on memory from
 * flz_pages_alloc() (and with mlock() not done, which would fault pages in)
 * a non-zero count means a buffer nobody wrote yet.
 */
static inline long flz_test_pages_not_resident(const void *addr, size_t n_bytes)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	if ((uintptr_t)addr % page != 0)
		return -1;
	size_t n_pages = (n_bytes + page - 1) / page;
	unsigned char *vec = (unsigned char *)calloc(n_pages ? n_pages : 1, 1);
	if (vec == NULL || mincore((void *)addr, n_bytes, vec) != 0) {
		free(vec);
		return -1;
	}
	long missing = 0;
	for (size_t i = 0; i < n_pages; i++)
		missing += (vec[i] & 1) == 0;
	free(vec);
	return missing;
}

/**
 * Run @p suite and report every case in TAP on standard output, one
 * `ok N - FILE:AREA:TOPIC:FUNCTION: MESSAGE` line per test function (meson's
 * `protocol : 'tap'` lists them by name, a failure with its message). Takes
 * ownership of @p suite. Returns the process's exit status: EXIT_SUCCESS when
 * no case failed.
 *
 * Standard output must stay pure TAP, also under the rig's launcher and
 * valgrind, but the cases print their measured figures with printf() and
 * libraries (libjack) print there too. So when standard output is a pipe or
 * a terminal, Check writes TAP to a duplicate of it (reopened through
 * /dev/fd, as Check takes a file name), and descriptor 1 itself is pointed at
 * standard error for everything else, the cases' forked children included.
 * On a file or a socket, where reopening would truncate or fail, TAP goes
 * to standard output as it is. Check's own report is silenced: the TAP lines
 * carry every result.
 */
static inline int flz_test_run_tap(Suite *suite)
{
	char tap_path[32] = "-";
	int tap_fd = -1;
	struct stat st;
	fflush(stdout);
	if (fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
		tap_fd = dup(STDOUT_FILENO);
		if (tap_fd >= 0 && dup2(STDERR_FILENO, STDOUT_FILENO) >= 0)
			snprintf(tap_path, sizeof(tap_path), "/dev/fd/%d", tap_fd);
	}
	SRunner *sr = srunner_create(suite);
	srunner_set_tap(sr, tap_path);
	srunner_run_all(sr, CK_SILENT);
	int n_failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (tap_fd >= 0)
		close(tap_fd);
	return n_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* FLZ_TEST_H */
