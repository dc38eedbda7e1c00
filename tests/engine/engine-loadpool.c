/* SPDX-License-Identifier: MIT */
/* test-engine: the asynchronous load pool (flz_loadpool_*, loadpool.c). */
#include "engine-tests.h"
#include "loadpool.h"

enum { MAX_EVENTS = 4 * FLZ_LOADPOOL_MAX_UNREAD + 64, RENDER = 2000 };

struct events {
	struct flz_load_event ev[MAX_EVENTS];
	int n;
};

static void drain(struct flz_loadpool *pool, struct events *e)
{
	struct flz_load_event ev;
	while (flz_loadpool_poll(pool, &ev) == 1) {
		ck_assert_int_lt(e->n, MAX_EVENTS);
		e->ev[e->n++] = ev;
	}
}

/* Each request's events: progress with rising fractions, then exactly one
 * end, nothing after it. Returns the end event of @p request. */
static const struct flz_load_event *check_request(const struct events *e, uint64_t request)
{
	const struct flz_load_event *end = NULL;
	double last = -1;
	int n_progress = 0;
	for (int i = 0; i < e->n; i++) {
		const struct flz_load_event *ev = &e->ev[i];
		if (ev->request != request)
			continue;
		ck_assert_msg(end == NULL, "request %llu has an event after its end",
			      (unsigned long long)request);
		if (ev->kind == FLZ_LOAD_PROGRESS) {
			ck_assert_double_gt(ev->fraction, last);
			ck_assert_double_le(ev->fraction, 1.0);
			ck_assert_ptr_nonnull(ev->stage);
			last = ev->fraction;
			n_progress++;
		} else {
			ck_assert(ev->kind == FLZ_LOAD_DONE || ev->kind == FLZ_LOAD_FAILED);
			end = ev;
		}
	}
	ck_assert_int_ge(n_progress, 1);
	ck_assert_ptr_nonnull(end);
	return end;
}

static float *noise(int n, uint32_t seed)
{
	float *x = malloc(n * sizeof(float));
	ck_assert_ptr_nonnull(x);
	flz_test_noise(x, n, 0.5, seed);
	return x;
}

static void render_pad(struct flz_engine *engine, int32_t slot, float *out)
{
	ck_assert_int_eq(flz_engine_play(engine, slot, 1.0f), 0);
	ck_assert_int_eq(flz_engine_render(engine, out, RENDER), 0);
}

static struct flz_load_source pcm_source(const float *x, int n)
{
	return (struct flz_load_source){ .pcm_data = x,
					 .pcm_format = FLZ_PCM_FLOAT32,
					 .pcm_frames = n,
					 .pcm_channels = 1,
					 .pcm_rate_hz = 44100 };
}

/* Progress then DONE; the sample renders exactly as a synchronous load's. */
START_TEST(loadpool_pcm_renders_as_sync_load)
{
	enum { N = 6000 };
	float *x = noise(N, 77);
	struct flz_engine *a = offline_engine(128, false);
	struct flz_engine *b = offline_engine(128, false);
	struct flz_loadpool *pool = NULL;
	ck_assert_int_eq(flz_loadpool_new(a, 2, &pool), 0);
	uint64_t req = 0;
	struct flz_load_source src = pcm_source(x, N);
	ck_assert_int_eq(flz_loadpool_submit(pool, 4, &src, &req), 0);
	ck_assert_uint_eq(req, 1);
	/* The pool copied the source: spoiling the caller's buffer changes nothing. */
	float *y = noise(N, 77);
	memset(x, 0, N * sizeof(float));
	flz_loadpool_wait_idle(pool);
	struct events e = { .n = 0 };
	drain(pool, &e);
	const struct flz_load_event *end = check_request(&e, req);
	ck_assert_int_eq(end->kind, FLZ_LOAD_DONE);
	ck_assert_int_eq(end->slot, 4);
	struct flz_engine_stats stats;
	flz_engine_get_stats(a, &stats);
	struct flz_engine_sample_info info;
	ck_assert_int_eq(flz_engine_sample_info(a, 4, &info, NULL, 0), 1);
	ck_assert_double_eq_tol(end->duration_s, (double)info.n_frames / stats.rate_hz, 1e-12);
	ck_assert_str_eq(e.ev[0].stage, "queued");

	char why[256];
	ck_assert_int_eq(flz_engine_load_pcm(b, 4, y, FLZ_PCM_FLOAT32, N, 1, 44100, why,
					     sizeof(why)),
			 0);
	float *got = calloc(2 * RENDER, sizeof(float)), *want = calloc(2 * RENDER, sizeof(float));
	render_pad(a, 4, got);
	render_pad(b, 4, want);
	/* Bit-exact: the same conversion of the same frames. */
	ck_assert_int_eq(memcmp(got, want, 2 * RENDER * sizeof(float)), 0);
	float peak = 0;
	for (int i = 0; i < 2 * RENDER; i++)
		peak = fmaxf(peak, fabsf(got[i]));
	ck_assert_float_gt(peak, 0.1f);
	flz_loadpool_destroy(pool);
	flz_engine_destroy(a);
	flz_engine_destroy(b);
	free(got);
	free(want);
	free(x);
	free(y);
}
END_TEST

START_TEST(loadpool_missing_file_fails_as_sync)
{
	struct flz_engine *engine = offline_engine(128, false);
	struct flz_loadpool *pool = NULL;
	ck_assert_int_eq(flz_loadpool_new(engine, 1, &pool), 0);
	uint64_t req = 0;
	struct flz_load_source src = { .path = "/nonexistent/async-missing.wav" };
	ck_assert_int_eq(flz_loadpool_submit(pool, 0, &src, &req), 0);
	flz_loadpool_wait_idle(pool);
	struct events e = { .n = 0 };
	drain(pool, &e);
	const struct flz_load_event *end = check_request(&e, req);
	ck_assert_int_eq(end->kind, FLZ_LOAD_FAILED);
	ck_assert_int_eq(end->error, -ENOENT);
	char why[256];
	ck_assert_int_eq(flz_engine_load_file(engine, 0, src.path, why, sizeof(why)), -ENOENT);
	ck_assert_str_eq(end->reason, why);
	ck_assert_int_eq(flz_engine_sample_info(engine, 0, &(struct flz_engine_sample_info){ 0 },
						NULL, 0),
			 0);
	flz_loadpool_destroy(pool);
	flz_engine_destroy(engine);
}
END_TEST

/* A later load, or an unload, of the pad supersedes a request: never published. */
START_TEST(loadpool_superseded_never_published)
{
	enum { N = 3000 };
	float *x1 = noise(N, 1), *x2 = noise(N, 2);
	struct flz_engine *a = offline_engine(128, false);
	struct flz_engine *b = offline_engine(128, false);
	struct flz_loadpool *pool = NULL;
	ck_assert_int_eq(flz_loadpool_new(a, 2, &pool), 0);
	flz_loadpool_pause(pool, true);
	uint64_t r1, r2, r3;
	struct flz_load_source s1 = pcm_source(x1, N), s2 = pcm_source(x2, N);
	ck_assert_int_eq(flz_loadpool_submit(pool, 7, &s1, &r1), 0);
	ck_assert_int_eq(flz_loadpool_submit(pool, 7, &s2, &r2), 0);
	/* Pad 9: loaded asynchronously, then unloaded before the request runs. */
	ck_assert_int_eq(flz_loadpool_submit(pool, 9, &s1, &r3), 0);
	ck_assert_int_eq(flz_engine_unload(a, 9), 0);
	flz_loadpool_pause(pool, false);
	flz_loadpool_wait_idle(pool);
	struct events e = { .n = 0 };
	drain(pool, &e);
	const struct flz_load_event *e1 = check_request(&e, r1);
	const struct flz_load_event *e2 = check_request(&e, r2);
	const struct flz_load_event *e3 = check_request(&e, r3);
	ck_assert_int_eq(e1->kind, FLZ_LOAD_FAILED);
	ck_assert_int_eq(e1->error, -ECANCELED);
	ck_assert_msg(strncmp(e1->reason, "superseded", 10) == 0, "%s", e1->reason);
	ck_assert_int_eq(e2->kind, FLZ_LOAD_DONE);
	ck_assert_int_eq(e3->kind, FLZ_LOAD_FAILED);
	ck_assert_msg(strncmp(e3->reason, "superseded", 10) == 0, "%s", e3->reason);
	ck_assert_int_eq(flz_engine_sample_info(a, 9, &(struct flz_engine_sample_info){ 0 }, NULL,
						0),
			 0);
	/* Only the second was ever queued to the audio side: one load in flight. */
	ck_assert_int_eq(flz_engine_samples_in_flight(a), 1);

	char why[256];
	ck_assert_int_eq(flz_engine_load_pcm(b, 7, x2, FLZ_PCM_FLOAT32, N, 1, 44100, why,
					     sizeof(why)),
			 0);
	float *got = calloc(2 * RENDER, sizeof(float)), *want = calloc(2 * RENDER, sizeof(float));
	render_pad(a, 7, got);
	render_pad(b, 7, want);
	ck_assert_int_eq(memcmp(got, want, 2 * RENDER * sizeof(float)), 0);
	flz_loadpool_destroy(pool);
	flz_engine_destroy(a);
	flz_engine_destroy(b);
	free(got);
	free(want);
	free(x1);
	free(x2);
}
END_TEST

START_TEST(loadpool_cancel_and_shut_down)
{
	enum { N = 2000 };
	float *x = noise(N, 5);
	struct flz_engine *engine = offline_engine(128, false);
	struct flz_loadpool *pool = NULL;
	ck_assert_int_eq(flz_loadpool_new(engine, 1, &pool), 0);
	flz_loadpool_pause(pool, true);
	uint64_t r1, r2;
	struct flz_load_source src = pcm_source(x, N);
	ck_assert_int_eq(flz_loadpool_submit(pool, 2, &src, &r1), 0);
	ck_assert_int_eq(flz_loadpool_submit(pool, 3, &src, &r2), 0);
	ck_assert_int_eq(flz_loadpool_cancel(pool, r1), 0);
	ck_assert_int_eq(flz_loadpool_cancel(pool, r1), -ENOENT);
	ck_assert_int_eq(flz_loadpool_cancel(pool, 999), -ENOENT);
	struct events e = { .n = 0 };
	drain(pool, &e);
	const struct flz_load_event *e1 = check_request(&e, r1);
	ck_assert_int_eq(e1->kind, FLZ_LOAD_FAILED);
	ck_assert_int_eq(e1->error, -ECANCELED);
	ck_assert_str_eq(e1->reason, "cancelled");
	ck_assert_int_eq(flz_engine_sample_info(engine, 2, &(struct flz_engine_sample_info){ 0 },
						NULL, 0),
			 0);
	/* r2 is still queued (held) when the pool goes: it fails, unpublished.
	 * Its events are freed with the pool; what matters is that nothing
	 * reached the slot and destroy does not hang. */
	flz_loadpool_destroy(pool);
	ck_assert_int_eq(flz_engine_sample_info(engine, 3, &(struct flz_engine_sample_info){ 0 },
						NULL, 0),
			 0);
	flz_engine_destroy(engine);
	free(x);
}
END_TEST

/* 20 requests over 8 pads, 2 workers: each ends exactly once; the last of
 * each pad is the one published. */
START_TEST(loadpool_many_requests)
{
	enum { N = 1500, R = 20, PADS = 8 };
	float *x[R];
	struct flz_engine *engine = offline_engine(128, false);
	struct flz_loadpool *pool = NULL;
	ck_assert_int_eq(flz_loadpool_new(engine, 2, &pool), 0);
	uint64_t req[R];
	int last_of_pad[PADS];
	for (int i = 0; i < R; i++) {
		x[i] = noise(N + i, 100 + i);
		struct flz_load_source src = pcm_source(x[i], N + i);
		ck_assert_int_eq(flz_loadpool_submit(pool, i % PADS, &src, &req[i]), 0);
		last_of_pad[i % PADS] = i;
	}
	flz_loadpool_wait_idle(pool);
	struct events e = { .n = 0 };
	drain(pool, &e);
	int n_ends = 0;
	for (int i = 0; i < e.n; i++)
		n_ends += e.ev[i].kind != FLZ_LOAD_PROGRESS;
	ck_assert_int_eq(n_ends, R);
	for (int i = 0; i < R; i++) {
		const struct flz_load_event *end = check_request(&e, req[i]);
		ck_assert_int_eq(end->slot, i % PADS);
		if (last_of_pad[i % PADS] == i)
			ck_assert_int_eq(end->kind, FLZ_LOAD_DONE);
		else if (end->kind == FLZ_LOAD_FAILED)
			ck_assert_int_eq(end->error, -ECANCELED);
	}
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	for (int p = 0; p < PADS; p++) {
		struct flz_engine_sample_info info;
		ck_assert_int_eq(flz_engine_sample_info(engine, p, &info, NULL, 0), 1);
		int64_t n = N + last_of_pad[p];
		ck_assert_int_eq(info.n_frames,
				 (int64_t)llround((double)n * stats.rate_hz / 44100.0));
	}
	flz_loadpool_destroy(pool);
	flz_engine_destroy(engine);
	for (int i = 0; i < R; i++)
		free(x[i]);
}
END_TEST

START_TEST(loadpool_bad_arguments)
{
	struct flz_engine *engine = offline_engine(128, false);
	struct flz_loadpool *pool = NULL;
	ck_assert_int_eq(flz_loadpool_new(engine, 0, &pool), -EINVAL);
	ck_assert_int_eq(flz_loadpool_new(engine, FLZ_LOADPOOL_MAX_WORKERS + 1, &pool), -EINVAL);
	ck_assert_int_eq(flz_loadpool_new(NULL, 1, &pool), -EINVAL);
	ck_assert_ptr_null(pool);
	ck_assert_int_eq(flz_loadpool_new(engine, FLZ_LOADPOOL_MAX_WORKERS, &pool), 0);
	uint64_t req = 0;
	float x[4] = { 0 };
	struct flz_load_source none = { 0 };
	struct flz_load_source two = { .path = "a.wav", .data = x, .n_bytes = 4 };
	struct flz_load_source bad_pcm = pcm_source(x, 0);
	struct flz_load_source ok = { .path = "a.wav" };
	ck_assert_int_eq(flz_loadpool_submit(pool, 0, &none, &req), -EINVAL);
	ck_assert_int_eq(flz_loadpool_submit(pool, 0, &two, &req), -EINVAL);
	ck_assert_int_eq(flz_loadpool_submit(pool, 0, &bad_pcm, &req), -EINVAL);
	ck_assert_int_eq(flz_loadpool_submit(pool, -1, &ok, &req), -EINVAL);
	ck_assert_int_eq(flz_loadpool_submit(pool, FLZ_NUM_SAMPLES, &ok, &req), -EINVAL);
	ck_assert_int_eq(flz_loadpool_submit(pool, 0, NULL, &req), -EINVAL);
	ck_assert_uint_eq(req, 0);
	struct flz_load_event ev;
	ck_assert_int_eq(flz_loadpool_poll(pool, &ev), 0);
	flz_loadpool_destroy(pool);
	flz_engine_destroy(engine);
}
END_TEST

/* FLZ_LOADPOOL_MAX_UNREAD requests are held until their last events are
 * polled; one more is refused with -EAGAIN and changes nothing: no event, and
 * no claim of its slot (an earlier request for that slot still publishes). */
START_TEST(loadpool_unread_requests_bounded)
{
	enum { N = 64 };
	float *x = noise(N, 21);
	struct flz_engine *engine = offline_engine(128, false);
	struct flz_loadpool *pool = NULL;
	ck_assert_int_eq(flz_loadpool_new(engine, 1, &pool), 0);
	flz_loadpool_pause(pool, true);
	struct flz_load_source src = pcm_source(x, N);
	uint64_t first = 0, req = 0;
	ck_assert_int_eq(flz_loadpool_submit(pool, 3, &src, &first), 0);
	for (int i = 1; i < FLZ_LOADPOOL_MAX_UNREAD; i++)
		ck_assert_int_eq(flz_loadpool_submit(pool, 4, &src, &req), 0);
	uint64_t last = req;
	req = 0;
	ck_assert_int_eq(flz_loadpool_submit(pool, 3, &src, &req), -EAGAIN);
	ck_assert_uint_eq(req, 0);
	/* Polling progress makes no room: only a request's last event does. */
	struct events *e = calloc(1, sizeof(*e));
	ck_assert_ptr_nonnull(e);
	drain(pool, e);
	ck_assert_int_eq(e->n, FLZ_LOADPOOL_MAX_UNREAD); /* the "queued" events */
	ck_assert_int_eq(flz_loadpool_submit(pool, 3, &src, &req), -EAGAIN);
	flz_loadpool_pause(pool, false);
	flz_loadpool_wait_idle(pool);
	ck_assert_int_eq(flz_loadpool_submit(pool, 3, &src, &req), -EAGAIN);
	drain(pool, e);
	/* Per request at most queued, decode, publish and the end. */
	ck_assert_int_le(e->n, 4 * FLZ_LOADPOOL_MAX_UNREAD);
	ck_assert_int_eq(check_request(e, first)->kind, FLZ_LOAD_DONE);
	check_request(e, last);
	ck_assert_int_eq(flz_loadpool_submit(pool, 3, &src, &req), 0);
	ck_assert_uint_eq(req, last + 1);
	flz_loadpool_destroy(pool);
	flz_engine_destroy(engine);
	free(e);
	free(x);
}
END_TEST

/* A caller that does not poll during a long decode finds one "decode" event,
 * holding the newest fraction, not one per report: stages queued, decode,
 * publish, then DONE. */
START_TEST(loadpool_unpolled_decode_progress_kept_once)
{
	enum { N = 60 * 44100 };
	float *x = malloc((size_t)N * 2 * sizeof(float));
	ck_assert_ptr_nonnull(x);
	flz_test_noise(x, N * 2, 0.5, 31);
	struct flz_engine *engine = offline_engine(128, false);
	struct flz_loadpool *pool = NULL;
	ck_assert_int_eq(flz_loadpool_new(engine, 1, &pool), 0);
	struct flz_load_source src = { .pcm_data = x,
				       .pcm_format = FLZ_PCM_FLOAT32,
				       .pcm_frames = N,
				       .pcm_channels = 2,
				       .pcm_rate_hz = 44100 };
	uint64_t req = 0;
	ck_assert_int_eq(flz_loadpool_submit(pool, 0, &src, &req), 0);
	flz_loadpool_wait_idle(pool);
	struct events *e = calloc(1, sizeof(*e));
	ck_assert_ptr_nonnull(e);
	drain(pool, e);
	ck_assert_int_eq(e->n, 4);
	ck_assert_str_eq(e->ev[0].stage, "queued");
	ck_assert_str_eq(e->ev[1].stage, "decode");
	ck_assert_str_eq(e->ev[2].stage, "publish");
	ck_assert_int_eq(check_request(e, req)->kind, FLZ_LOAD_DONE);
	flz_loadpool_destroy(pool);
	flz_engine_destroy(engine);
	free(e);
	free(x);
}
END_TEST

struct progress_log {
	int n;
	int64_t done[64];
	int64_t total;
};

static void log_progress(void *userdata, int64_t done, int64_t total)
{
	struct progress_log *log = userdata;
	ck_assert_int_lt(log->n, 64);
	log->done[log->n++] = done;
	log->total = total;
}

/* The loader reports every chunk, rising to the whole source. */
START_TEST(loadpool_loader_reports_progress_per_chunk)
{
	enum { N = 20000 };
	float *x = noise(N, 9);
	struct flz_loader_config lc = flz_loader_config_init();
	struct flz_loader *loader = NULL;
	ck_assert_int_eq(flz_loader_new(&lc, &loader), 0);
	struct progress_log log = { 0 };
	flz_loader_set_progress(loader, log_progress, &log);
	struct flz_sample *s = NULL;
	ck_assert_int_eq(flz_loader_load_pcm(loader, x, FLZ_PCM_FLOAT32, N, 1, 44100, &s), 0);
	ck_assert_int_eq(log.n, (N + 4095) / 4096);
	for (int i = 0; i < log.n; i++)
		ck_assert_int_eq(log.done[i], i + 1 < log.n ? (int64_t)(i + 1) * 4096 : N);
	ck_assert_int_eq(log.total, N);
	flz_sample_unref(s);
	/* Off again: no more calls. */
	flz_loader_set_progress(loader, NULL, NULL);
	ck_assert_int_eq(flz_loader_load_pcm(loader, x, FLZ_PCM_FLOAT32, N, 1, 44100, &s), 0);
	ck_assert_int_eq(log.n, (N + 4095) / 4096);
	flz_sample_unref(s);
	flz_loader_destroy(loader);
	free(x);
}
END_TEST

TCase *engine_case_loadpool(void)
{
	TCase *tc = engine_tcase("engine:loadpool");
	tcase_add_test(tc, loadpool_pcm_renders_as_sync_load);
	tcase_add_test(tc, loadpool_missing_file_fails_as_sync);
	tcase_add_test(tc, loadpool_superseded_never_published);
	tcase_add_test(tc, loadpool_cancel_and_shut_down);
	tcase_add_test(tc, loadpool_many_requests);
	tcase_add_test(tc, loadpool_bad_arguments);
	tcase_add_test(tc, loadpool_loader_reports_progress_per_chunk);
	tcase_add_test(tc, loadpool_unread_requests_bounded);
	tcase_add_test(tc, loadpool_unpolled_decode_progress_kept_once);
	return tc;
}
