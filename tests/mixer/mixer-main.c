/* SPDX-License-Identifier: MIT */
/* test-mixer: the shared fixture, the suite in its order, and main(). */
#include "mixer-tests.h"

void on_retire(void *userdata, struct flz_sample *s)
{
	struct rec *r = userdata;
	ck_assert_int_lt(r->n_retired, MAX_REC);
	int refs = atomic_load(&s->refcount);
	/* The callback receives one reference: the one the load handed over. */
	ck_assert_int_ge(refs, 1);
	if (r->poison_at_refs > 0 && refs == r->poison_at_refs)
		for (int64_t i = 0; i < s->n_frames * s->n_channels; i++)
			s->data[i] = NAN;
	r->refs_at_retire[r->n_retired] = refs;
	r->retired[r->n_retired++] = s;
	flz_sample_unref(s);
}

void on_event(void *userdata, const struct flz_mixer_event *ev)
{
	struct rec *r = userdata;
	if (ev->kind == FLZ_MIXER_EVENT_STARTED) {
		ck_assert_int_lt(r->n_started, MAX_REC);
		r->started[r->n_started++] = *ev;
		return;
	}
	ck_assert_int_eq(ev->kind, FLZ_MIXER_EVENT_STOPPED);
	ck_assert_int_lt(r->n_events, MAX_REC);
	r->events[r->n_events++] = *ev;
}

struct flz_mixer_config mk_config(struct rec *r)
{
	struct flz_mixer_config c = flz_mixer_config_init();
	c.retire = on_retire;
	c.event = on_event;
	c.userdata = r;
	/* The second run of the suite covers the portable kernels. */
	if (flz_test_force_generic())
		c.cpu_flags = 0;
	return c;
}

struct flz_mixer *new_mixer_cfg(const struct flz_mixer_config *c)
{
	struct flz_mixer *m = NULL;
	ck_assert_int_eq(flz_mixer_new(c, &m), 0);
	ck_assert_ptr_nonnull(m);
	return m;
}

struct flz_mixer *new_mixer(struct rec *r)
{
	struct flz_mixer_config c = mk_config(r);
	return new_mixer_cfg(&c);
}

struct flz_sample *noise_sample(int64_t n_frames, uint32_t seed, double amp)
{
	struct flz_sample *s = flz_sample_new(n_frames, CH, RATE);
	ck_assert_ptr_nonnull(s);
	flz_test_noise(s->data, (size_t)n_frames * CH, amp, seed);
	return s;
}

struct flz_sample *dc_sample(int64_t n_frames, float value)
{
	struct flz_sample *s = flz_sample_new(n_frames, CH, RATE);
	ck_assert_ptr_nonnull(s);
	for (int64_t i = 0; i < n_frames * CH; i++)
		s->data[i] = value;
	return s;
}

/* Every frame distinct, so a gap or a repeated frame shows. */
struct flz_sample *pattern_sample(int64_t n_frames)
{
	struct flz_sample *s = flz_sample_new(n_frames, CH, RATE);
	ck_assert_ptr_nonnull(s);
	for (int64_t f = 0; f < n_frames; f++) {
		s->data[f * CH] = (float)(f + 1) / (float)(n_frames + 1);
		s->data[f * CH + 1] = -(float)(f + 1) / (float)(n_frames + 1);
	}
	return s;
}

float looped(const struct flz_sample *s, int64_t at, uint32_t c)
{
	return s->data[(at % s->n_frames) * CH + c];
}

void load(struct flz_mixer *m, int32_t slot, struct flz_sample *s)
{
	ck_assert_int_eq(flz_mixer_load(m, slot, s), 0);
}

void play(struct flz_mixer *m, int32_t slot, float gain)
{
	ck_assert_int_eq(flz_mixer_play(m, slot, gain), 1);
}

void render(struct flz_mixer *m, float *out, uint32_t n_frames, uint32_t block)
{
	for (uint32_t done = 0; done < n_frames;) {
		uint32_t n = n_frames - done < block ? n_frames - done : block;
		ck_assert_int_eq(flz_mixer_render(m, out + (size_t)done * CH, n), 0);
		done += n;
	}
}

float *floats(size_t n_frames)
{
	float *p = calloc(n_frames * CH + 1, sizeof(float));
	ck_assert_ptr_nonnull(p);
	return p;
}

TCase *mixer_tcase(const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test);
	return tc;
}

static Suite *mixer_suite(void)
{
	Suite *s = suite_create("mixer");
	TCase *(*const cases[])(void) = {
		mixer_case_config,
		mixer_case_latency,
		mixer_case_immediate,
		mixer_case_gain,
		mixer_case_loop,
		mixer_case_stop,
		mixer_case_events,
		mixer_case_retire,
		mixer_case_retire_shared,
		mixer_case_steal,
		mixer_case_steal_cut,
		mixer_case_split,
		mixer_case_sizes,
		mixer_case_args,
		mixer_case_master,
		mixer_case_speed,
		mixer_case_speed_glide,
		mixer_case_steady,
		mixer_case_memory,
		mixer_case_rates,
		mixer_case_interp_run,
		mixer_case_trigger,
		mixer_case_exclusive,
		mixer_case_pad_gain,
		mixer_case_pad_speed,
		mixer_case_loop_region,
		mixer_case_pause,
		mixer_case_seek,
		mixer_case_stage,
		mixer_case_stage_params,
		mixer_case_stage_transparent,
		mixer_case_pad_args,
		mixer_case_meters,
		mixer_case_lock,
		mixer_case_lock_exact,
		mixer_case_lock_split,
		mixer_case_lock_glide,
		mixer_case_lock_extremes,
		mixer_case_lock_args,
		mixer_case_lock_pause,
		mixer_case_lock_seek,
		mixer_case_lock_rate,
		mixer_case_lock_clicks,
		mixer_case_keylock,
		mixer_case_keylock_pool,
		mixer_case_keylock_args,
		mixer_case_keylock_relock,
		mixer_case_keylock_prime,
		mixer_case_keylock_burst,
		mixer_case_keylock_cancel,
		mixer_case_keylock_resume,
		mixer_case_keylock_standby,
		mixer_case_keylock_switch,
		mixer_case_keylock_switch_pool,
		mixer_case_keylock_switch_spread,
		mixer_case_keylock_rate1,
		mixer_case_keylock_servo,
		mixer_case_keylock_coast,
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		suite_add_tcase(s, cases[i]());
	return s;
}

int main(void)
{
	return flz_test_run_tap(mixer_suite());
}
