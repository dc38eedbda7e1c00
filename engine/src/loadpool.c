/* SPDX-License-Identifier: MIT */
/*
 * The asynchronous load pool (flz/engine.h, "Asynchronous loading"): worker
 * threads that run the engine's ordinary load path (load_any() in engine.c)
 * for queued requests, and a queue of events for the caller to poll.
 *
 * Locks: the pool's mutex guards the request queue, the requests' states
 * and the event queue. It is never held across a decode. It is taken
 * inside the engine's lock (by the publish gate), never the other way
 * round: nothing here takes the engine's lock while holding the pool's.
 * The audio thread never touches any of this.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <flz/constants.h>
#include <flz/engine.h>

#include "loadpool.h"

enum req_state { REQ_QUEUED, REQ_DECODING, REQ_PUBLISHING };

struct request {
	uint64_t id;
	int32_t slot;
	uint64_t gen;
	/* The request's own copies: the caller may free its source at once. */
	char *path;
	void *data;
	size_t n_bytes;
	bool is_pcm;
	struct pcm_source pcm;
	enum req_state state; /* under the pool's mutex */
	bool cancelled;       /* under the pool's mutex */
	/* The worker's own: the last decode fraction reported, and when. */
	double last_fraction;
	struct timespec last_report;
	struct flz_loadpool *pool;
	/* Allocated before the decode, so that the gate (under the engine's
	 * lock) links it without allocating. */
	struct event_node *publish_event;
	/* The request's last event (DONE or FAILED), allocated at submit so
	 * that no request can end without one. */
	struct event_node *final_event;
	/* Under the pool's mutex: the request's "decode" event while it is
	 * queued and not yet polled; newer decode progress updates it in place
	 * instead of queueing another (a caller that polls seldom sees the
	 * newest fraction, and the queue stays bounded). */
	struct event_node *unread_decode;
	struct request *next;
};

struct event_node {
	struct flz_load_event event;
	/* Under the pool's mutex: the request whose unread_decode this node
	 * is, or NULL. */
	struct request *owner;
	struct event_node *next;
};

struct flz_loadpool {
	struct flz_engine *engine;
	pthread_mutex_t mutex;
	pthread_cond_t work;  /* a request was queued, or quit */
	pthread_cond_t ended; /* a request ended */
	struct request *queue_head, *queue_tail;
	/* Requests being decoded or published, for cancel. */
	struct request *active;
	struct event_node *events_head, *events_tail;
	uint64_t next_id;
	uint64_t n_open; /* submitted and not ended */
	/* Submitted and whose last event has not been polled yet: at most
	 * FLZ_LOADPOOL_MAX_UNREAD, so the queues are bounded. */
	uint32_t n_unread;
	bool quit;
	bool held; /* flz_loadpool_pause() */
	uint32_t n_workers;
	pthread_t workers[FLZ_LOADPOOL_MAX_WORKERS];
};

static void push_event_locked(struct flz_loadpool *pool, struct event_node *node)
{
	node->next = NULL;
	if (pool->events_tail != NULL)
		pool->events_tail->next = node;
	else
		pool->events_head = node;
	pool->events_tail = node;
}

static struct event_node *event_new(enum flz_load_event_kind kind, const struct request *req)
{
	struct event_node *node = calloc(1, sizeof(*node));
	if (node != NULL) {
		node->event.kind = kind;
		node->event.request = req->id;
		node->event.slot = req->slot;
	}
	return node;
}

static struct event_node *progress_new(const struct request *req, double fraction,
				       const char *stage)
{
	struct event_node *node = event_new(FLZ_LOAD_PROGRESS, req);
	if (node != NULL) {
		node->event.fraction = fraction;
		node->event.stage = stage;
	}
	return node;
}

static void request_free(struct request *req)
{
	free(req->path);
	free(req->data);
	/* A PCM request's copy moved to pcm.data (data is then NULL). */
	if (req->is_pcm)
		free((void *)req->pcm.data);
	free(req->publish_event);
	free(req->final_event);
	free(req);
}

/* The request's decode event, if unread, stops taking updates. */
static void detach_decode_locked(struct request *req)
{
	if (req->unread_decode != NULL) {
		req->unread_decode->owner = NULL;
		req->unread_decode = NULL;
	}
}

/* The request's last event, from the node allocated at submit. */
static void end_request(struct flz_loadpool *pool, struct request *req, int err, const char *why,
			double duration_s)
{
	struct event_node *node = req->final_event;
	req->final_event = NULL;
	node->event.kind = err == 0 ? FLZ_LOAD_DONE : FLZ_LOAD_FAILED;
	node->event.error = err;
	node->event.duration_s = duration_s;
	snprintf(node->event.reason, sizeof(node->event.reason), "%s", why ? why : "");
	pthread_mutex_lock(&pool->mutex);
	detach_decode_locked(req);
	push_event_locked(pool, node);
	pool->n_open--;
	pthread_cond_broadcast(&pool->ended);
	pthread_mutex_unlock(&pool->mutex);
	request_free(req);
}

/* Decode progress: 0.05 ("decode" began) to 0.9 ("publish"). */
#define DECODE_FROM 0.05
#define DECODE_TO 0.9
/* Reported at most this often (the chunks come far more often), and so at
 * least every 100 ms of work as long as a chunk takes less than 80 ms. */
#define REPORT_NS 20000000LL

static void report_progress(void *ctx, int64_t done, int64_t total)
{
	struct request *req = ctx;
	if (total <= 0)
		return; /* no length to measure against: the stages still come */
	double f = DECODE_FROM + (DECODE_TO - DECODE_FROM) * (double)done / (double)total;
	/* An estimated length may be passed; stay below "publish". */
	if (f > DECODE_TO - 0.001)
		f = DECODE_TO - 0.001;
	if (f <= req->last_fraction)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ns = (now.tv_sec - req->last_report.tv_sec) * 1000000000LL +
		       (now.tv_nsec - req->last_report.tv_nsec);
	if (ns < REPORT_NS)
		return;
	struct flz_loadpool *pool = req->pool;
	pthread_mutex_lock(&pool->mutex);
	if (req->unread_decode != NULL) { /* not polled yet: newer news in place */
		req->unread_decode->event.fraction = f;
		pthread_mutex_unlock(&pool->mutex);
	} else {
		pthread_mutex_unlock(&pool->mutex);
		/* Only this worker queues decode events of this request, so none
		 * can appear between the unlock and the lock. */
		struct event_node *node = progress_new(req, f, "decode");
		if (node == NULL)
			return; /* one report fewer; the next chunk tries again */
		pthread_mutex_lock(&pool->mutex);
		push_event_locked(pool, node);
		node->owner = req;
		req->unread_decode = node;
		pthread_mutex_unlock(&pool->mutex);
	}
	req->last_fraction = f;
	req->last_report = now;
}

/* The publish gate (struct load_gate): under the engine's lock. */
static int gate_allow(void *ctx)
{
	struct request *req = ctx;
	struct flz_loadpool *pool = req->pool;
	pthread_mutex_lock(&pool->mutex);
	int err = req->cancelled || pool->quit ? -ECANCELED : 0;
	if (err == 0) {
		req->state = REQ_PUBLISHING;
		detach_decode_locked(req);
		if (req->publish_event != NULL) {
			push_event_locked(pool, req->publish_event);
			req->publish_event = NULL;
		}
	}
	pthread_mutex_unlock(&pool->mutex);
	return err;
}

static void unlink_active_locked(struct flz_loadpool *pool, struct request *req)
{
	for (struct request **p = &pool->active; *p != NULL; p = &(*p)->next) {
		if (*p == req) {
			*p = req->next;
			return;
		}
	}
}

static void *worker_main(void *arg)
{
	struct flz_loadpool *pool = arg;
	for (;;) {
		pthread_mutex_lock(&pool->mutex);
		while ((pool->queue_head == NULL || pool->held) && !pool->quit)
			pthread_cond_wait(&pool->work, &pool->mutex);
		if (pool->queue_head == NULL) { /* quit, and nothing left */
			pthread_mutex_unlock(&pool->mutex);
			return NULL;
		}
		struct request *req = pool->queue_head;
		pool->queue_head = req->next;
		if (pool->queue_head == NULL)
			pool->queue_tail = NULL;
		req->state = REQ_DECODING;
		req->next = pool->active;
		pool->active = req;
		struct event_node *decode = progress_new(req, DECODE_FROM, "decode");
		req->last_fraction = DECODE_FROM;
		clock_gettime(CLOCK_MONOTONIC, &req->last_report);
		if (decode != NULL) {
			push_event_locked(pool, decode);
			decode->owner = req;
			req->unread_decode = decode;
		}
		pthread_mutex_unlock(&pool->mutex);

		req->publish_event = progress_new(req, DECODE_TO, "publish");
		struct load_gate gate = { gate_allow, req, report_progress };
		char why[256];
		double duration_s = 0;
		int err = flz_engine_load_claimed_(pool->engine, req->slot, req->gen, req->path,
						   req->data, req->n_bytes,
						   req->is_pcm ? &req->pcm : NULL, &gate,
						   &duration_s, why, sizeof(why));

		pthread_mutex_lock(&pool->mutex);
		unlink_active_locked(pool, req);
		bool quit = pool->quit;
		bool cancelled = req->cancelled;
		pthread_mutex_unlock(&pool->mutex);
		/* A decode that failed on its own says why, whatever else happened. */
		if (err == -ECANCELED && strcmp(why, "cancelled") == 0 && quit && !cancelled)
			snprintf(why, sizeof(why), "%s", "shut down");
		end_request(pool, req, err, why, duration_s);
	}
}

int flz_loadpool_new(struct flz_engine *engine, uint32_t n_workers, struct flz_loadpool **out)
{
	if (engine == NULL || out == NULL || n_workers < 1 || n_workers > FLZ_LOADPOOL_MAX_WORKERS)
		return -EINVAL;
	struct flz_loadpool *pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return -ENOMEM;
	pool->engine = engine;
	pool->next_id = 1;
	pthread_mutex_init(&pool->mutex, NULL);
	pthread_cond_init(&pool->work, NULL);
	pthread_cond_init(&pool->ended, NULL);
	/* The workers take no signals: the host's handlers run on its threads. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = 0;
	for (; pool->n_workers < n_workers; pool->n_workers++) {
		if (pthread_create(&pool->workers[pool->n_workers], NULL, worker_main, pool) != 0) {
			err = -EAGAIN;
			break;
		}
		pthread_setname_np(pool->workers[pool->n_workers], "flz-load");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err < 0) {
		flz_loadpool_destroy(pool);
		return err;
	}
	*out = pool;
	return 0;
}

void flz_loadpool_destroy(struct flz_loadpool *pool)
{
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->mutex);
	pool->quit = true;
	struct request *queued = pool->queue_head;
	pool->queue_head = pool->queue_tail = NULL;
	pthread_cond_broadcast(&pool->work);
	pthread_mutex_unlock(&pool->mutex);
	while (queued != NULL) {
		struct request *next = queued->next;
		end_request(pool, queued, -ECANCELED, "shut down", 0);
		queued = next;
	}
	for (uint32_t i = 0; i < pool->n_workers; i++)
		pthread_join(pool->workers[i], NULL);
	for (struct event_node *node = pool->events_head; node != NULL;) {
		struct event_node *next = node->next;
		free(node);
		node = next;
	}
	pthread_cond_destroy(&pool->ended);
	pthread_cond_destroy(&pool->work);
	pthread_mutex_destroy(&pool->mutex);
	free(pool);
}

int flz_loadpool_submit(struct flz_loadpool *pool, int32_t slot,
			const struct flz_load_source *source, uint64_t *request)
{
	if (pool == NULL || source == NULL || request == NULL || slot < 0 ||
	    slot >= FLZ_NUM_SAMPLES)
		return -EINVAL;
	int n_sources = (source->path != NULL) + (source->data != NULL) +
			(source->pcm_data != NULL);
	if (n_sources != 1)
		return -EINVAL;
	struct request *req = calloc(1, sizeof(*req));
	if (req == NULL)
		return -ENOMEM;
	req->slot = slot;
	req->pool = pool;
	if (source->path != NULL) {
		req->path = strdup(source->path);
		if (req->path == NULL)
			goto nomem;
	} else {
		size_t n = source->n_bytes;
		if (source->pcm_data != NULL) {
			if (source->pcm_frames <= 0 || source->pcm_channels < 1 ||
			    source->pcm_channels > FLZ_MAX_CHANNELS ||
			    (source->pcm_format != FLZ_PCM_FLOAT32 &&
			     source->pcm_format != FLZ_PCM_INT16)) {
				request_free(req);
				return -EINVAL;
			}
			size_t width = source->pcm_format == FLZ_PCM_FLOAT32 ? 4 : 2;
			if ((uint64_t)source->pcm_frames > SIZE_MAX / width / source->pcm_channels)
				goto nomem;
			n = (size_t)source->pcm_frames * source->pcm_channels * width;
		}
		/* An empty file is the loader's to refuse (-EBADMSG), as it would be
		 * for a synchronous load: keep a non-NULL pointer for it. */
		req->data = malloc(n > 0 ? n : 1);
		if (req->data == NULL)
			goto nomem;
		memcpy(req->data, source->pcm_data ? source->pcm_data : source->data, n);
		req->n_bytes = n;
		if (source->pcm_data != NULL) {
			req->is_pcm = true;
			req->pcm = (struct pcm_source){ req->data, source->pcm_format,
							source->pcm_frames, source->pcm_channels,
							source->pcm_rate_hz };
			req->data = NULL;
			req->n_bytes = 0;
		}
	}
	struct event_node *queued = progress_new(req, 0.0, "queued");
	req->final_event = event_new(FLZ_LOAD_FAILED, req);
	if (queued == NULL || req->final_event == NULL) {
		free(queued);
		goto nomem;
	}
	/* A place among the unread requests is taken before the slot is
	 * claimed, so that a refused request supersedes nothing. */
	pthread_mutex_lock(&pool->mutex);
	int refused = pool->quit ? -ENOTCONN
				 : pool->n_unread >= FLZ_LOADPOOL_MAX_UNREAD ? -EAGAIN : 0;
	if (refused == 0)
		pool->n_unread++;
	pthread_mutex_unlock(&pool->mutex);
	if (refused < 0) {
		free(queued);
		request_free(req);
		return refused;
	}
	/* Claimed before it is queued: a load or unload of the slot from now on
	 * supersedes it. */
	req->gen = flz_engine_claim_slot_(pool->engine, slot);

	pthread_mutex_lock(&pool->mutex);
	if (pool->quit) {
		pool->n_unread--;
		pthread_mutex_unlock(&pool->mutex);
		free(queued);
		request_free(req);
		return -ENOTCONN;
	}
	req->id = pool->next_id++;
	queued->event.request = req->id;
	req->final_event->event.request = req->id;
	push_event_locked(pool, queued);
	req->state = REQ_QUEUED;
	if (pool->queue_tail != NULL)
		pool->queue_tail->next = req;
	else
		pool->queue_head = req;
	pool->queue_tail = req;
	pool->n_open++;
	*request = req->id;
	pthread_cond_signal(&pool->work);
	pthread_mutex_unlock(&pool->mutex);
	return 0;

nomem:
	request_free(req);
	return -ENOMEM;
}

int flz_loadpool_cancel(struct flz_loadpool *pool, uint64_t request)
{
	if (pool == NULL)
		return -EINVAL;
	pthread_mutex_lock(&pool->mutex);
	struct request *found = NULL;
	for (struct request **p = &pool->queue_head, *prev = NULL; *p != NULL;
	     prev = *p, p = &(*p)->next) {
		if ((*p)->id == request) {
			found = *p;
			*p = found->next;
			if (pool->queue_tail == found)
				pool->queue_tail = prev;
			break;
		}
	}
	if (found != NULL) {
		pthread_mutex_unlock(&pool->mutex);
		end_request(pool, found, -ECANCELED, "cancelled", 0);
		return 0;
	}
	int err = -ENOENT;
	for (struct request *r = pool->active; r != NULL; r = r->next) {
		if (r->id == request) {
			if (r->state == REQ_PUBLISHING) {
				err = -EALREADY;
			} else {
				r->cancelled = true;
				err = 0;
			}
			break;
		}
	}
	pthread_mutex_unlock(&pool->mutex);
	return err;
}

int flz_loadpool_poll(struct flz_loadpool *pool, struct flz_load_event *event)
{
	if (pool == NULL || event == NULL)
		return -EINVAL;
	pthread_mutex_lock(&pool->mutex);
	struct event_node *node = pool->events_head;
	if (node != NULL) {
		pool->events_head = node->next;
		if (pool->events_head == NULL)
			pool->events_tail = NULL;
		if (node->owner != NULL)
			node->owner->unread_decode = NULL;
		if (node->event.kind != FLZ_LOAD_PROGRESS)
			pool->n_unread--;
	}
	pthread_mutex_unlock(&pool->mutex);
	if (node == NULL)
		return 0;
	*event = node->event;
	free(node);
	return 1;
}

void flz_loadpool_wait_idle(struct flz_loadpool *pool)
{
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->mutex);
	while (pool->n_open > 0)
		pthread_cond_wait(&pool->ended, &pool->mutex);
	pthread_mutex_unlock(&pool->mutex);
}

void flz_loadpool_pause(struct flz_loadpool *pool, bool paused)
{
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->mutex);
	pool->held = paused;
	pthread_cond_broadcast(&pool->work);
	pthread_mutex_unlock(&pool->mutex);
}
