/* SPDX-License-Identifier: MIT */
/*
 * libmixer tests. Every check compares content sample by sample with what
 * it must be; each tolerance is stated where it is used. Retired samples are
 * freed inside the retire callback, as a control side would, so under
 * valgrind any later read of them is reported.
 */
#ifndef MIXER_TESTS_H
#define MIXER_TESTS_H

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flz/mixer.h>

#include "flz-test.h"

#define RATE 48000
#define CH 2
#define MAX_REC 512

/* ---- Fixture: a mixer with recording callbacks ---- */

struct rec {
	const struct flz_sample *retired[MAX_REC];
	/* The sample's reference count when it arrived (the callback's one included). */
	int refs_at_retire[MAX_REC];
	int n_retired;
	/* Stopped events (events) and Started ones (started), each in order. */
	struct flz_mixer_event events[MAX_REC];
	int n_events;
	struct flz_mixer_event started[MAX_REC];
	int n_started;
	/* When a sample arrives with this many references (the test's own and
	 * the retired one), fill its frames with NaN: the mixer must never read
	 * a retired load's frames again, and a NaN would show in the output. */
	int poison_at_refs;
};

/* Fixture helpers (mixer-main.c). */
void on_retire(void *userdata, struct flz_sample *s);
void on_event(void *userdata, const struct flz_mixer_event *ev);
struct flz_mixer_config mk_config(struct rec *r);
struct flz_mixer *new_mixer_cfg(const struct flz_mixer_config *c);
struct flz_mixer *new_mixer(struct rec *r);
struct flz_sample *noise_sample(int64_t n_frames, uint32_t seed, double amp);
struct flz_sample *dc_sample(int64_t n_frames, float value);
struct flz_sample *pattern_sample(int64_t n_frames);
/* Channel @p c of frame @p at of @p s played looped (any at >= 0). */
float looped(const struct flz_sample *s, int64_t at, uint32_t c);
void load(struct flz_mixer *m, int32_t slot, struct flz_sample *s);
void play(struct flz_mixer *m, int32_t slot, float gain);
void render(struct flz_mixer *m, float *out, uint32_t n_frames, uint32_t block);
float *floats(size_t n_frames);

/* One Check case: created as every case of the suite is (mixer-main.c). */
TCase *mixer_tcase(const char *name, const TTest *test);

/* The cases, one per function, each defined in the file of its topic. */
TCase *mixer_case_config(void);
TCase *mixer_case_latency(void);
TCase *mixer_case_immediate(void);
TCase *mixer_case_gain(void);
TCase *mixer_case_loop(void);
TCase *mixer_case_stop(void);
TCase *mixer_case_events(void);
TCase *mixer_case_retire(void);
TCase *mixer_case_retire_shared(void);
TCase *mixer_case_steal(void);
TCase *mixer_case_steal_cut(void);
TCase *mixer_case_split(void);
TCase *mixer_case_sizes(void);
TCase *mixer_case_args(void);
TCase *mixer_case_master(void);
TCase *mixer_case_speed(void);
TCase *mixer_case_speed_glide(void);
TCase *mixer_case_steady(void);
TCase *mixer_case_memory(void);
TCase *mixer_case_rates(void);
TCase *mixer_case_interp_run(void);
TCase *mixer_case_trigger(void);
TCase *mixer_case_exclusive(void);
TCase *mixer_case_pad_gain(void);
TCase *mixer_case_pad_speed(void);
TCase *mixer_case_loop_region(void);
TCase *mixer_case_stage_params(void);
TCase *mixer_case_stage_transparent(void);
TCase *mixer_case_pause(void);
TCase *mixer_case_seek(void);
TCase *mixer_case_stage(void);
TCase *mixer_case_pad_args(void);
TCase *mixer_case_meters(void);
TCase *mixer_case_lock(void);
TCase *mixer_case_lock_exact(void);
TCase *mixer_case_lock_split(void);
TCase *mixer_case_lock_glide(void);
TCase *mixer_case_lock_extremes(void);
TCase *mixer_case_lock_args(void);
TCase *mixer_case_lock_pause(void);
TCase *mixer_case_lock_seek(void);
TCase *mixer_case_lock_rate(void);
TCase *mixer_case_lock_clicks(void);
TCase *mixer_case_keylock(void);
TCase *mixer_case_keylock_pool(void);
TCase *mixer_case_keylock_args(void);
TCase *mixer_case_keylock_relock(void);
TCase *mixer_case_keylock_prime(void);
TCase *mixer_case_keylock_burst(void);
TCase *mixer_case_keylock_cancel(void);
TCase *mixer_case_keylock_resume(void);
TCase *mixer_case_keylock_standby(void);
TCase *mixer_case_keylock_switch(void);
TCase *mixer_case_keylock_switch_pool(void);
TCase *mixer_case_keylock_switch_spread(void);
TCase *mixer_case_keylock_rate1(void);
TCase *mixer_case_keylock_servo(void);
TCase *mixer_case_keylock_coast(void);

#endif /* MIXER_TESTS_H */
