/* SPDX-License-Identifier: MIT */
/* test-engine: loading PCM (flz_engine_load_pcm()) and the waveform query. */
#include <flz/summary.h>

#include "engine-tests.h"

/* The summary query over a sample the test converted itself, for reference. */
static void reference_waveform(struct flz_sample *s, int64_t start, int64_t end, uint32_t width,
			       float *out)
{
	struct flz_summary *sum = NULL;
	ck_assert_int_eq(flz_summary_new(flz_sample_frames(s), &sum), 0);
	ck_assert_int_eq(flz_summary_query(sum, flz_sample_frames(s), start, end, width, out), 0);
	flz_summary_free(sum);
}

START_TEST(loading_pcm_and_waveform)
{
	struct flz_engine *engine = offline_engine(128, false);
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	enum { N = 5000 };
	float *x = malloc(N * sizeof(float));
	ck_assert_ptr_nonnull(x);
	flz_test_noise(x, N, 0.8, 4242);

	/* The same conversion done by a loader of the engine's format. */
	struct flz_loader_config lc = flz_loader_config_init();
	lc.rate_hz = stats.rate_hz;
	lc.n_channels = stats.n_channels;
	struct flz_loader *loader = NULL;
	ck_assert_int_eq(flz_loader_new(&lc, &loader), 0);
	struct flz_sample *want = NULL;
	ck_assert_int_eq(flz_loader_load_pcm(loader, x, FLZ_PCM_FLOAT32, N, 1, 44100, &want), 0);
	flz_loader_destroy(loader);

	float out[2 * 300], ref[2 * 300];
	ck_assert_int_eq(flz_engine_waveform(engine, 3, 0, -1, 10, out), -ENOENT);
	char why[256] = "";
	ck_assert_int_eq(flz_engine_load_pcm(engine, 3, x, FLZ_PCM_FLOAT32, N, 1, 44100, why,
					     sizeof(why)),
			 0);
	ck_assert_str_eq(why, "");
	struct flz_engine_sample_info info;
	char source[32];
	ck_assert_int_eq(flz_engine_sample_info(engine, 3, &info, source, sizeof(source)), 1);
	ck_assert_int_eq(info.n_frames, want->n_frames);
	ck_assert_uint_eq(info.source_rate_hz, 44100);
	ck_assert_str_eq(source, "<memory>");

	const int64_t spans[][2] = { { 0, -1 }, { 17, 4321 }, { 0, 1 } };
	const uint32_t widths[] = { 1, 37, 300 };
	for (int k = 0; k < 3; k++) {
		int64_t end = spans[k][1] == -1 ? want->n_frames : spans[k][1];
		ck_assert_int_eq(flz_engine_waveform(engine, 3, spans[k][0], spans[k][1], widths[k],
						     out),
				 0);
		reference_waveform(want, spans[k][0], end, widths[k], ref);
		ck_assert_int_eq(memcmp(out, ref, 2 * widths[k] * sizeof(float)), 0);
	}
	/* Reading the frames: the whole sample in one column is its extremes. */
	ck_assert_int_eq(flz_engine_waveform(engine, 3, 0, -1, 1, out), 0);
	float lo = INFINITY, hi = -INFINITY;
	for (int64_t i = 0; i < want->n_frames; i++) {
		float m = (want->data[2 * i] + want->data[2 * i + 1]) * 0.5f;
		lo = fminf(lo, m);
		hi = fmaxf(hi, m);
	}
	ck_assert_float_eq(out[0], lo);
	ck_assert_float_eq(out[1], hi);

	/* Bad PCM and bad queries: -EINVAL, the slot and out unchanged. */
	float keep[2] = { 9.0f, 9.0f };
	ck_assert_int_eq(flz_engine_load_pcm(engine, 3, x, FLZ_PCM_FLOAT32, 0, 1, 44100, why,
					     sizeof(why)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "invalid frames"));
	ck_assert_int_eq(flz_engine_load_pcm(engine, 3, NULL, FLZ_PCM_FLOAT32, N, 1, 44100, why,
					     sizeof(why)),
			 -EINVAL);
	ck_assert_int_eq(flz_engine_load_pcm(engine, 3, x, (enum flz_pcm_format)7, N, 1, 44100,
					     why, sizeof(why)),
			 -EINVAL);
	ck_assert_int_eq(flz_engine_sample_info(engine, 3, &info, NULL, 0), 1);
	ck_assert_int_eq(info.n_frames, want->n_frames);
	const int64_t bad[][2] = { { -1, 10 }, { 0, want->n_frames + 1 }, { 10, 10 }, { 11, 10 } };
	for (int k = 0; k < 4; k++)
		ck_assert_int_eq(flz_engine_waveform(engine, 3, bad[k][0], bad[k][1], 1, keep),
				 -EINVAL);
	ck_assert_int_eq(flz_engine_waveform(engine, 3, 0, -1, 0, keep), -EINVAL);
	ck_assert_int_eq(flz_engine_waveform(engine, 3, 0, -1, FLZ_SUMMARY_MAX_WIDTH + 1, keep),
			 -EINVAL);
	ck_assert_int_eq(flz_engine_waveform(engine, FLZ_NUM_SAMPLES, 0, -1, 1, keep), -EINVAL);
	ck_assert_int_eq(flz_engine_waveform(engine, 3, 0, -1, 1, NULL), -EINVAL);
	ck_assert_float_eq(keep[0], 9.0f);
	ck_assert_float_eq(keep[1], 9.0f);

	/* A decoded sample published as is gets its summary too. */
	struct flz_sample *noise = make_noise(999, stats.n_channels, stats.rate_hz, 0.5, 7);
	ck_assert_int_eq(flz_engine_load_sample(engine, 4, noise), 0);
	ck_assert_int_eq(flz_engine_waveform(engine, 4, 100, 900, 50, out), 0);
	reference_waveform(noise, 100, 900, 50, ref);
	ck_assert_int_eq(memcmp(out, ref, 2 * 50 * sizeof(float)), 0);

	ck_assert_int_eq(flz_engine_unload(engine, 3), 0);
	ck_assert_int_eq(flz_engine_waveform(engine, 3, 0, -1, 10, out), -ENOENT);
	flz_engine_stop(engine);
	ck_assert_int_eq(flz_engine_waveform(engine, 4, 0, -1, 10, out), -ENOTCONN);
	flz_engine_destroy(engine);
	flz_sample_unref(want);
	free(x);
}
END_TEST

/* A query runs outside the engine's lock on a view the slot's record shares:
 * loads and unloads on another thread while it reads must neither free what
 * it reads nor mix two samples in one answer. */
struct churn {
	struct flz_engine *engine;
	struct flz_sample *samples[2];
	atomic_bool done;
	/* relaxed: a progress counter only; nothing is published through it. */
	atomic_int n_queries;
	int n_loads;
	/* Checked on the test's thread, where Check's assertions belong. */
	int n_failed;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	for (int i = 0; i < 400; i++) {
		struct flz_sample *s = c->samples[i & 1];
		flz_sample_ref(s); /* the load takes over this one */
		if (flz_engine_load_sample(c->engine, 5, s) == 0)
			c->n_loads++;
		else
			flz_sample_unref(s);
		/* Let the reader query this load at least twice (the second one
		 * may overlap the next unload or load): a mutex need not be fair,
		 * and without this the reader may never find the slot full. */
		int seen = atomic_load_explicit(&c->n_queries, memory_order_relaxed);
		while (atomic_load_explicit(&c->n_queries, memory_order_relaxed) < seen + 2)
			sched_yield();
		if (i % 3 == 0 && flz_engine_unload(c->engine, 5) < 0)
			c->n_failed++;
		/* Let the audio side retire what was replaced. */
		float block[2 * 64];
		if (i % 16 == 0 && flz_engine_render(c->engine, block, 64) < 0)
			c->n_failed++;
	}
	/* release: the loads above happen before the reader sees done. */
	atomic_store_explicit(&c->done, true, memory_order_release);
	return NULL;
}

START_TEST(loading_waveform_while_loading)
{
	struct flz_engine *engine = offline_engine(64, false);
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	struct churn c = { .engine = engine };
	float want[2][2 * 64];
	for (int k = 0; k < 2; k++) {
		/* Equal lengths, so that every query is in range for both. */
		c.samples[k] = make_noise(3000, stats.n_channels, stats.rate_hz, 0.2 + 0.5 * k,
					  31 + (uint32_t)k);
		reference_waveform(c.samples[k], 0, 3000, 64, want[k]);
	}
	atomic_init(&c.done, false);
	atomic_init(&c.n_queries, 0);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, churn_thread, &c), 0);
	int n_seen[2] = { 0, 0 }, n_empty = 0;
	float out[2 * 64];
	/* acquire: pairs with the churn thread's release store. */
	while (!atomic_load_explicit(&c.done, memory_order_acquire)) {
		int ret = flz_engine_waveform(engine, 5, 0, -1, 64, out);
		atomic_fetch_add_explicit(&c.n_queries, 1, memory_order_relaxed);
		if (ret == -ENOENT) {
			n_empty++;
			continue;
		}
		ck_assert_int_eq(ret, 0);
		bool a = memcmp(out, want[0], sizeof(out)) == 0;
		bool b = memcmp(out, want[1], sizeof(out)) == 0;
		ck_assert_msg(a || b, "a waveform that is neither sample's");
		n_seen[a ? 0 : 1]++;
	}
	pthread_join(t, NULL);
	ck_assert_int_eq(c.n_loads, 400);
	ck_assert_int_eq(c.n_failed, 0);
	/* Both samples were read (the handshake makes sure the reader gets in). */
	ck_assert_int_gt(n_seen[0], 0);
	ck_assert_int_gt(n_seen[1], 0);
	fprintf(stderr, "engine:loading: %d + %d waveforms of the two samples, %d empty\n",
		n_seen[0], n_seen[1], n_empty);
	flz_engine_stop(engine);
	flz_engine_destroy(engine);
	ck_assert_int_eq(refcount(c.samples[0]), 1);
	ck_assert_int_eq(refcount(c.samples[1]), 1);
	flz_sample_unref(c.samples[0]);
	flz_sample_unref(c.samples[1]);
}
END_TEST

TCase *engine_case_loading(void)
{
	TCase *tc = engine_tcase("engine:loading");
	tcase_add_test(tc, loading_pcm_and_waveform);
	tcase_add_test(tc, loading_waveform_while_loading);
	return tc;
}
