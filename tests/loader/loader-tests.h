/* SPDX-License-Identifier: MIT */
/*
 * libloader's Check suite. Every input file is made here, in a private
 * temporary directory, with libsndfile itself (or, for the error cases, by
 * damaging such a file on purpose); every result is compared sample by
 * sample or analysed as a sine with a stated tolerance.
 */
#ifndef LOADER_TESTS_H
#define LOADER_TESTS_H

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

extern char tmp_dir[256];

/* Fixture helpers (loader-main.c). */
void tmp_setup(void);
void tmp_teardown(void);
const char *tmp_path(const char *name);
void write_audio(const char *path, int format, int rate_hz, int n_channels,
		 const float *frames, sf_count_t n_frames);
void write_bytes(const char *path, const void *data, size_t n_bytes);
unsigned char *read_bytes(const char *path, size_t *n_bytes);
struct flz_loader *make_loader(uint32_t rate_hz, uint32_t n_channels);
struct flz_sample *load_ok(struct flz_loader *loader, const char *path);
void fit_phase(const float *x, size_t stride, size_t start, size_t n, double freq_norm,
	       double *amp, double *phase);
double measure_freq_hz(const struct flz_sample *s, unsigned channel, double freq_hz);
void analyse(const struct flz_sample *s, unsigned channel, double freq_hz, double *amp,
	     double *residual_dbc);

/* One Check case: created as every case of the suite is (loader-main.c). */
TCase *loader_tcase(const char *name, const TTest *test);

/* The cases, one per function, each defined in the file of its topic. */
TCase *loader_case_config(void);
TCase *loader_case_wav(void);
TCase *loader_case_wav_float(void);
TCase *loader_case_nonfinite(void);
TCase *loader_case_overflow(void);
TCase *loader_case_channels(void);
TCase *loader_case_channels_file(void);
TCase *loader_case_src(void);
TCase *loader_case_src_band(void);
TCase *loader_case_src_lengths(void);
TCase *loader_case_memory(void);
TCase *loader_case_formats(void);
TCase *loader_case_mp3(void);
TCase *loader_case_opus(void);
TCase *loader_case_growth(void);
TCase *loader_case_errors(void);
TCase *loader_case_fuzz(void);
TCase *loader_case_fuzz_regressions(void);
TCase *loader_case_pcm(void);
TCase *loader_case_pcm_errors(void);
TCase *loader_case_summary(void);
TCase *loader_case_summary_levels(void);
TCase *loader_case_summary_errors(void);

#endif /* LOADER_TESTS_H */
