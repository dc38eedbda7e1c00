/* SPDX-License-Identifier: MIT */
/*
 * Check suite 'engine': the rings, the command and parameter semantics
 * (driven without a device), sample retirement, the format converters,
 * the offline device; with ALSA, the ALSA setup against the null PCM, and
 * (with --rig, inside the JACK rig) real-time playback compared frame by
 * frame with an offline render. One file per topic, each exporting its
 * cases; the files of the ALSA cases are built only with ALSA.
 */
#ifndef ENGINE_TESTS_H
#define ENGINE_TESTS_H

#include <check.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <sndfile.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <grp.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <flz/engine.h>
#include <flz/mixer.h>
#include <flz/ring.h>

#include "denormals.h"
#include "engine-private.h"
#include "flz-test.h"

/* Messages taken from an engine, in order. */
struct msg_log {
	struct flz_engine_msg msgs[8192];
	size_t n;
};

/* The reference: a plain mixer driven with the commands the engine reported
 * (FLZ_MSG_APPLIED) at the frames it reported them. */
struct ref_retired {
	struct flz_sample *samples[256];
	size_t n;
};

/* The engine's log lines, as its callback delivers them (from the control,
 * housekeeping and writer threads, hence the lock; initialise it with
 * LOG_LINES_INIT). n counts every line, the first LOG_LINES are kept; room
 * for an "audio underrun" line every housekeeping period of a wav: run. */
#define LOG_LINES 256
struct log_lines {
	pthread_mutex_t lock;
	int n;
	enum flz_log_level level[LOG_LINES];
	char text[LOG_LINES][512];
};
#define LOG_LINES_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }

/* Shared helpers (engine-main.c). */
void sleep_ms(int ms);
/* Run child() in a forked process (which may drop privileges or lower its
 * limits without touching the test's); fail unless it exits with 0. Its
 * exit code names the step that failed. */
void run_in_child(int (*child)(void));
/* A sample of deterministic noise (amplitude amp) at the given format. */
struct flz_sample *make_noise(int64_t n_frames, uint32_t n_channels, uint32_t rate_hz,
			      double amp, uint32_t seed);
int refcount(struct flz_sample *s);
void collect(struct flz_engine *engine, struct msg_log *log);
/* An offline engine, not started (offline_engine_new) or started. */
struct flz_engine *offline_engine_new(uint32_t period_frames, bool trace);
struct flz_engine *offline_engine(uint32_t period_frames, bool trace);
/* One command expected in a trace of APPLIED messages. */
struct applied_want {
	enum flz_cmd_kind cmd;
	int32_t slot;
	double value;
};
/* The APPLIED messages of @p log must be want[first], want[first + 1]...
 * up to the last of the @p n_want, in order, numbered 1, 2... (seq), each
 * with its slot and exactly its value. */
void check_applied(const struct msg_log *log, const struct applied_want *want, size_t n_want,
		   size_t first);
void ref_retire(void *userdata, struct flz_sample *sample);
void ref_render(const struct msg_log *log, struct flz_sample *load_sample, uint32_t rate_hz,
		uint32_t n_channels, uint32_t block_frames, float *out, int64_t n_frames);
void log_collect(void *userdata, enum flz_log_level level, const char *message);
/* Make the file of @p path_template (mkstemp's XXXXXX, rewritten) and a
 * config for the device "wav:<path>" (written to @p device, 64 bytes) at
 * @p period_frames, the rest defaults. */
struct flz_engine_config wav_device_config(char *path_template, char device[64],
					   uint32_t period_frames);
/* An engine on @p device at normal priority, not started. */
struct flz_engine *thread_engine(const char *device, enum flz_device_format format, bool trace);
/* An engine on the null PCM "flznull" of the test's ALSA configuration. */
struct flz_engine *null_engine(enum flz_device_format format, bool trace);
/* The devices with an audio thread this build has, for the cases that test
 * the thread rather than a device: the null PCM (ALSA builds), then
 * "wav:" and a temporary file. Returns how many were stored. */
int thread_devices(const char *devices[2]);
/* A started engine's real-time regions (flz_engine_rt_regions()): their
 * count, and in *total their size in whole pages. */
int engine_regions(struct flz_engine *engine, struct flz_mem_region *regions, size_t *total);
/* In a forked child: lower @p resource (RLIMIT_*) to 0 and, as root, become
 * nobody (no capabilities, no groups), so that what the limit guards is
 * refused. Returns 0, or the step that failed (10, 11) as an exit code. */
int drop_privileges(int resource);
/* In a forked child: create and start an engine with @p config. Returns 0,
 * or the step that failed (12 new, 13 start) as an exit code. */
int child_start(const struct flz_engine_config *config, struct flz_engine **engine);
pid_t thread_named(const char *name);

/* One Check case: created as every case of the suite is (engine-main.c). */
TCase *engine_tcase(const char *name);

/* The cases, one per function, each defined in the file of its topic. */
TCase *engine_case_ring(void);
TCase *engine_case_seq(void);
TCase *engine_case_format(void);
TCase *engine_case_api(void);
TCase *engine_case_offline(void);
TCase *engine_case_commands(void);
TCase *engine_case_params(void);
TCase *engine_case_memory(void);
TCase *engine_case_pads(void);
TCase *engine_case_transport(void);
TCase *engine_case_meters(void);
TCase *engine_case_loading(void);
TCase *engine_case_loadpool(void);
TCase *engine_case_tempo_lock(void);
TCase *engine_case_key_lock(void);
TCase *engine_case_wav_drops(void);
TCase *engine_case_wav_xruns(void);
TCase *engine_case_record(void);
TCase *engine_case_signals(void);
TCase *engine_case_denormals(void);
TCase *engine_case_prefault(void);
#if FLZ_HAVE_ALSA
TCase *engine_case_alsa_null(void);
TCase *engine_case_alsa_missing(void);
TCase *engine_case_alsa_messages(void);
TCase *engine_case_suspend(void);
TCase *engine_case_priority(void);
TCase *engine_case_mlock(void);
TCase *engine_case_rig_playback(void);
TCase *engine_case_device_lost(void);
TCase *engine_case_wake_stop(void);
TCase *engine_case_page_faults(void);
#endif

#endif /* ENGINE_TESTS_H */
