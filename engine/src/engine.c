/* SPDX-License-Identifier: MIT */
/*
 * The engine's control side: the public API, the device and thread
 * lifecycle, sample publication, and the housekeeping thread.
 *
 * Two mutexes, neither ever taken by the audio or the housekeeping thread:
 *  - engine->lifecycle serialises flz_engine_start() and flz_engine_stop().
 *    It is held across the work that may block for long: opening and
 *    configuring the device (a stalled sound server can hold that for
 *    seconds), starting and joining the threads.
 *  - engine->lock serialises every other control call and is the producers'
 *    side of the command ring. It is only ever held for a bounded, short
 *    section that does not block: no device call, no join, no decode. So a
 *    caller that must not stall (a Python thread holding the GIL, a UI
 *    thread) never waits behind a device. start and stop take it briefly to
 *    publish "running" (after everything is set up) and to withdraw it
 *    (before anything is torn down).
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <flz/loader.h>
#include <flz/summary.h>
#include <flz/pages.h>

#include "engine-private.h"
#include "loadpool.h"
#include "record.h"

/*
 * What flz_engine_waveform() reads of a published sample: its summary and a
 * reference to its frames (a summary query reads the column ends from them).
 * Shared by the slot's record and the queries running at the moment, so that
 * a query runs outside the engine's lock (it may read thousands of columns)
 * while a load or an unload forgets the record: the last holder frees it, on
 * whatever control thread that is.
 */
struct slot_view {
	atomic_int refs;
	struct flz_sample *sample;
	struct flz_summary *summary;
};

/* A slot as the control side last published it (see flz_engine.records). */
struct slot_record {
	bool loaded;
	int64_t n_frames;
	uint32_t n_channels;
	uint32_t rate_hz;
	uint32_t source_rate_hz;
	/** malloc'd: the file's path, or "<memory>". */
	char *source;
	/** The sample's summary and a reference of the record's own to it, so
	 *  that flz_engine_waveform() can read its frames whatever the audio
	 *  side did with the load's reference (a refused load hands it back at
	 *  once). Built before the load is queued; the record's hold is dropped
	 *  when the record is forgotten, while the audio side still holds the
	 *  load's reference (the command that replaces or unloads the slot is
	 *  queued, not applied), so that is not where a big free happens. */
	struct slot_view *view;
};

struct flz_engine {
	struct flz_engine_config config;
	char *device_name;

	/* Serialises start and stop; held while they block (see above). */
	pthread_mutex_t lifecycle;
	/* Serialises every other control call, and the producers of the command
	 * ring; never held across blocking work. */
	pthread_mutex_t lock;

	/* ---- Written by start/stop under lifecycle; "running" is written under
	 * both locks, so that either one suffices to read it. The rest is set up
	 * before running becomes true and torn down after it became false, so a
	 * holder of lock that sees running may use it. ---- */
	bool running;
	/** Next sequence number for commands and parameters. */
	uint32_t next_seq;
	/** Scheduled plays queued since start (under lock): with the audio
	 *  side's core.sched_done, how many starts may be pending. */
	uint64_t sched_issued;
	/** The trigger quantisation (under lock): enum flz_quantize. */
	enum flz_quantize default_quantize;
	/** The backend the device string names (flz_backend_for()), and the
	 *  backend's part of the string. */
	const struct flz_backend *backend;
	const char *target;
	/** The backend of the current start (flz_engine_start_offline() uses
	 *  the offline one whatever the device) and what it granted. */
	const struct flz_backend *active;
	struct flz_backend_device device;
	struct flz_engine_core core;
	struct flz_engine_audio audio;
	uint32_t mixer_latency_frames;
	pthread_t audio_thread;
	pthread_t house_thread;
	int rt_priority;
	int rt_error;
	/** Cleared only by flz_engine_set_flush_denormals() (a bench hook). */
	bool no_flush_denormals;
	/** Whether the last stop wrote the audio thread's wake descriptor. */
	bool wake_written;

	/* ---- The audio thread's own memory, set up by start (lifecycle). ---- */
	/** Render target for converted formats (audio.scratch), scratch_bytes long. */
	size_t scratch_bytes;
	/** The audio thread's stack: a guard page, then FLZ_ENGINE_AUDIO_STACK_BYTES. */
	unsigned char *stack_map;
	size_t stack_map_bytes;
	/** Cleared only by flz_engine_set_lock_memory() (a test hook). */
	bool no_lock_memory;
	/** Set only by flz_engine_set_wav_writer_test() (a test hook). */
	uint32_t test_wav_ring_frames;
	const atomic_bool *test_wav_hold_writer;
	/** Set only by flz_engine_set_wav_burn_test() (a test hook). */
	_Atomic int64_t *test_wav_burn_ns;
	/** Set only by flz_engine_set_record_writer_test() (a test hook). */
	uint32_t test_record_ring_frames;
	const atomic_bool *test_record_hold_writer;

	/* ---- The recorder: written under lifecycle and lock, read under either. ---- */
	/** The writer published in core.recorder, NULL when not recording. */
	struct flz_frame_writer *recorder;
	/** The last recording's counters, kept when it ends (stats). */
	uint64_t record_dropped_last;
	uint64_t record_write_errors_last;
	/** Whether this start tried to lock its memory, whether all of it was
	 *  locked, and how many bytes were (whole pages). */
	bool lock_tried;
	bool memory_locked;
	uint64_t locked_bytes;

	/* Whether the engine is started; read without the lock by is_running().
	 * Written under lock. */
	atomic_bool started;

	/* flz_engine_meters_seq(): raised by the audio side after each meter
	 * snapshot it publishes and by each stop (under lock); never reset, so
	 * a count a reader kept never comes back, in this run or a later one.
	 * Read without the lock. */
	_Atomic uint64_t meter_seq;

	/** What the engine last published to each slot (sample_info(), and the
	 *  checks of seek and loop region), FLZ_NUM_SAMPLES records allocated
	 *  by flz_engine_new(). Written and read under lock, in command order:
	 *  a load records its sample when it is queued, an unload forgets it,
	 *  teardown forgets all. The audio thread never reads them (they are
	 *  not in its locked memory). */
	struct slot_record *records;
	/** Per slot, bumped under lock by every load, unload and stop, and by
	 *  flz_engine_claim_slot_() for an asynchronous load (loadpool.c): a
	 *  load that was claimed at generation g publishes only while the slot
	 *  is still at g, checked under the same lock hold as the publish, so
	 *  a request overtaken by a later call is never published. */
	uint64_t *gens;

	/** Loads handed to the audio side whose reference has not come back yet.
	 *  Incremented under lock when a load is queued, decremented when the
	 *  return ring gives the reference back (each load's comes back once). */
	atomic_int samples_in_flight;

	/* ---- Housekeeping. ---- */
	pthread_mutex_t house_lock;
	pthread_cond_t house_cond;
	bool house_quit; /* guarded by house_lock */
	/* Housekeeping thread only. */
	uint64_t house_xruns_reported;
	bool house_lost_reported;
	uint64_t house_alsa_reported;

	/** Where the backend's control-side diagnostics (alsa-lib's messages
	 *  for the engine's ALSA calls) go: config.log. */
	struct flz_backend_log log_sink;
};

static void engine_log(struct flz_engine *engine, enum flz_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void vlogf(const struct flz_backend_log *sink, enum flz_log_level level, const char *fmt,
		  va_list ap) __attribute__((format(printf, 3, 0)));

static void vlogf(const struct flz_backend_log *sink, enum flz_log_level level, const char *fmt,
		  va_list ap)
{
	if (sink == NULL || sink->log == NULL)
		return;
	char message[512];
	vsnprintf(message, sizeof(message), fmt, ap);
	sink->log(sink->userdata, level, message);
}

void flz_backend_logf(const struct flz_backend_log *sink, enum flz_log_level level,
		      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlogf(sink, level, fmt, ap);
	va_end(ap);
}

static void engine_log(struct flz_engine *engine, enum flz_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlogf(&engine->log_sink, level, fmt, ap);
	va_end(ap);
}

/* A device's error code as text: ALSA's codes beside errno's. */
static const char *device_strerror(int err)
{
#if FLZ_HAVE_ALSA
	return snd_strerror(err);
#else
	return strerror(err < 0 ? -err : err);
#endif
}

void flz_engine_set_why(char *why, size_t why_size, const char *fmt, ...)
{
	if (why == NULL || why_size == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------
 * The core (shared with the tests through engine-private.h)
 * ------------------------------------------------------------------------ */

/* The rings' storage comes from flz_pages_alloc(): written before the audio
 * thread runs, and on pages of their own that can be locked (flz/pages.h). */
#define CMD_BYTES (sizeof(struct flz_engine_cmd) * FLZ_QUEUE_CAPACITY)
#define MSG_BYTES (sizeof(struct flz_engine_msg) * FLZ_ENGINE_MSG_CAPACITY)
#define RETIRE_BYTES (sizeof(struct flz_sample *) * FLZ_ENGINE_RETIRE_CAPACITY)
#define EQ_BYTES (sizeof(struct flz_engine_eq_voice) * FLZ_MIXER_VOICE_SLOTS)

static void free_rings(struct flz_engine_core *core)
{
	flz_pages_free(core->cmd_storage, CMD_BYTES);
	flz_pages_free(core->msg_storage, MSG_BYTES);
	flz_pages_free(core->retire_storage, RETIRE_BYTES);
	flz_pages_free(core->eq, EQ_BYTES);
	core->cmd_storage = core->msg_storage = core->retire_storage = NULL;
	core->eq = NULL;
#if FLZ_HAVE_STRETCH
	flz_engine_key_lock_destroy(core->key_lock_states, core->n_key_lock, core->key_lock_rate_hz,
				    core->key_lock_channels, core->key_lock_block_frames);
#endif
	core->n_key_lock = 0;
}

/* One EQ per voice struct, made for the mixer's rate and channels; false
 * (and no EQ) when libeq does not take them. */
static bool init_eq(struct flz_engine_core *core, uint32_t rate_hz, uint32_t n_channels)
{
	struct flz_eq_config ec = flz_eq_config_init();
	ec.rate_hz = rate_hz;
	ec.n_channels = n_channels;
	for (uint32_t i = 0; i < FLZ_MIXER_VOICE_SLOTS; i++) {
		struct flz_engine_eq_voice *ev = &core->eq[i];
		if (flz_eq_init(&ev->eq, &ec) < 0)
			return false;
		ev->warm_frames = (uint32_t)((uint64_t)rate_hz * FLZ_ENGINE_EQ_WARM_MS / 1000u);
	}
	return true;
}

int flz_engine_core_init(struct flz_engine_core *core, const struct flz_mixer_config *mixer_config,
			 bool trace_commands, uint32_t key_lock_voices)
{
	if (key_lock_voices > FLZ_MIXER_MAX_SOURCES)
		return -EINVAL;
	memset(core, 0, sizeof(*core));
	core->cmd_storage = flz_pages_alloc(CMD_BYTES);
	core->msg_storage = flz_pages_alloc(MSG_BYTES);
	core->retire_storage = flz_pages_alloc(RETIRE_BYTES);
	if (!core->cmd_storage || !core->msg_storage || !core->retire_storage) {
		free_rings(core);
		memset(core, 0, sizeof(*core));
		return -ENOMEM;
	}
	int err = flz_ring_init(&core->cmd_ring, core->cmd_storage, sizeof(struct flz_engine_cmd),
				FLZ_QUEUE_CAPACITY);
	if (err == 0)
		err = flz_ring_init(&core->msg_ring, core->msg_storage,
				    sizeof(struct flz_engine_msg), FLZ_ENGINE_MSG_CAPACITY);
	if (err == 0)
		err = flz_ring_init(&core->retire_ring, core->retire_storage,
				    sizeof(struct flz_sample *), FLZ_ENGINE_RETIRE_CAPACITY);

	struct flz_mixer_config mc = *mixer_config;
	mc.retire = flz_engine_core_retire_rt;
	mc.event = flz_engine_core_event_rt;
	mc.userdata = core;
	/* The per-pad EQ goes last in the chain, after the caller's stages
	 * (a bad list of those is flz_mixer_new()'s to refuse). */
	struct flz_mixer_stage stages[FLZ_MIXER_MAX_STAGES];
	const bool stages_ok = mc.n_stages < FLZ_MIXER_MAX_STAGES && (mc.n_stages == 0 || mc.stages);
	if (err == 0 && stages_ok && (core->eq = flz_pages_alloc(EQ_BYTES)) == NULL)
		err = -ENOMEM;
	if (err == 0 && stages_ok && init_eq(core, mc.rate_hz, mc.n_channels)) {
		for (uint32_t s = 0; s < mc.n_stages; s++)
			stages[s] = mc.stages[s];
		core->eq_stage = mc.n_stages;
		stages[core->eq_stage].ops = &flz_engine_eq_stage_ops;
		for (uint32_t i = 0; i < FLZ_MIXER_VOICE_SLOTS; i++)
			stages[core->eq_stage].states[i] = &core->eq[i];
		mc.stages = stages;
		mc.n_stages++;
	} else {
		flz_pages_free(core->eq, EQ_BYTES);
		core->eq = NULL;
	}
#if FLZ_HAVE_STRETCH
	/* Key lock's processors: the mixer's sources, made and warmed here,
	 * before the audio side runs. */
	if (err == 0 && key_lock_voices > 0) {
		err = flz_engine_key_lock_create(core->key_lock_states, key_lock_voices, mc.rate_hz,
						 mc.n_channels, mc.max_block_frames);
		if (err == 0) {
			core->n_key_lock = key_lock_voices;
			core->key_lock_rate_hz = mc.rate_hz;
			core->key_lock_channels = mc.n_channels;
			core->key_lock_block_frames = mc.max_block_frames;
			mc.source_ops = &flz_engine_key_lock_ops;
			mc.n_sources = key_lock_voices;
			mc.source_states = core->key_lock_states;
		}
	}
#else
	(void)key_lock_voices;
#endif
	if (err == 0)
		err = flz_mixer_new(&mc, &core->mixer);
	if (err < 0) {
		free_rings(core);
		memset(core, 0, sizeof(*core));
		return err;
	}
	core->rate_hz = mc.rate_hz;
	core->n_channels = mc.n_channels;
	core->max_block_frames = mc.max_block_frames;
	core->trace_commands = trace_commands;
	/* The rate was checked by flz_mixer_new(): the transport accepts it. */
	if (flz_transport_init(&core->transport, mc.rate_hz) < 0) {
		flz_mixer_destroy(core->mixer);
		free_rings(core);
		memset(core, 0, sizeof(*core));
		return -EINVAL;
	}
	flz_schedule_init(&core->schedule);
	core->sched_done_local = 0;
	for (int32_t s = 0; s < FLZ_NUM_SAMPLES; s++) {
		core->pad_bpm[s] = 0.0;
		core->pad_downbeat[s] = 0;
	}
	core->bpm_lock = false;
	atomic_init(&core->sched_done, 0);
	atomic_init(&core->tp_seq, 0);
	/* Before the audio side runs, so that flz_engine_transport() reads the
	 * initial transport at once (this thread stands in for it here). */
	flz_engine_core_publish_transport_rt(core);
	/* The mixer starts at its configured values: nothing pending. */
	atomic_init(&core->volume.packed, FLZ_ENGINE_PARAM_TAKEN);
	atomic_init(&core->speed.packed, FLZ_ENGINE_PARAM_TAKEN);
	core->volume.kind = FLZ_CMD_VOLUME;
	core->speed.kind = FLZ_CMD_SPEED;
	return 0;
}

int flz_engine_core_collect(struct flz_engine_core *core)
{
	int n = 0;
	struct flz_sample *sample;
	while (flz_ring_pop(&core->retire_ring, &sample)) {
		flz_sample_unref(sample);
		n++;
	}
	return n;
}

int flz_engine_core_deinit(struct flz_engine_core *core)
{
	if (core->mixer == NULL)
		return 0;
	flz_mixer_destroy(core->mixer);
	core->mixer = NULL;
	int n = 0;
	struct flz_engine_cmd cmd;
	while (flz_ring_pop(&core->cmd_ring, &cmd)) {
		if (cmd.kind == FLZ_CMD_LOAD) {
			flz_sample_unref(cmd.sample);
			n++;
		}
	}
	n += flz_engine_core_collect(core);
	free_rings(core);
	return n;
}

/* ------------------------------------------------------------------------
 * Config, new, destroy
 * ------------------------------------------------------------------------ */

struct flz_engine_config flz_engine_config_init(void)
{
	struct flz_engine_config config = {
		.device = NULL,
		.rate_hz = 48000,
		.n_channels = 2,
		.period_frames = 128,
		.n_periods = 2,
		.format = FLZ_FORMAT_UNKNOWN,
		.rt_priority = 70,
		.trace_commands = false,
		.log = NULL,
		.log_userdata = NULL,
		.meter_hz = 30.0,
		.key_lock_voices = FLZ_ENGINE_KEY_LOCK_VOICES_DEFAULT,
	};
	return config;
}

int flz_engine_new(const struct flz_engine_config *config, struct flz_engine **out)
{
	if (config == NULL || out == NULL)
		return -EINVAL;
	if (config->rate_hz < FLZ_RATE_MIN_HZ || config->rate_hz > FLZ_RATE_MAX_HZ ||
	    config->n_channels < 1 || config->n_channels > FLZ_MAX_CHANNELS ||
	    config->period_frames < 16 || config->period_frames > FLZ_MAX_BLOCK_FRAMES ||
	    config->n_periods < 2 || config->n_periods > 64 || config->rt_priority < 0 ||
	    config->rt_priority > 99 || (int)config->format < FLZ_FORMAT_UNKNOWN ||
	    (int)config->format > FLZ_FORMAT_S16_LE || (config->device && config->device[0] == '\0') ||
	    (config->device && strcmp(config->device, "wav:") == 0) ||
	    !(config->meter_hz == 0.0 || (config->meter_hz >= 1.0 && config->meter_hz <= 200.0)) ||
	    config->key_lock_voices > FLZ_MAX_VOICES)
		return -EINVAL;

	/* The audio thread works in the struct (the core, its own state), so
	 * it comes from flz_pages_alloc(): written, and on pages of its own
	 * that start can lock and stop unlock without unlocking a neighbour
	 * (another engine's struct, say). Page alignment also gives the
	 * rings' counters the cache-line alignment they ask for (flz/ring.h). */
	_Static_assert(_Alignof(struct flz_engine) <= 4096, "pages are aligned enough");
	struct flz_engine *engine = flz_pages_alloc(sizeof(struct flz_engine));
	if (engine == NULL)
		return -ENOMEM;
	engine->config = *config;
	/* 0: a config filled in by hand before meter_hz existed; the default. */
	if (engine->config.meter_hz == 0.0)
		engine->config.meter_hz = 30.0;
	engine->device_name = strdup(config->device ? config->device : "default");
	if (engine->device_name == NULL) {
		flz_pages_free(engine, sizeof(*engine));
		return -ENOMEM;
	}
	engine->records = calloc(FLZ_NUM_SAMPLES, sizeof(*engine->records));
	if (engine->records == NULL) {
		free(engine->device_name);
		flz_pages_free(engine, sizeof(*engine));
		return -ENOMEM;
	}
	engine->gens = calloc(FLZ_NUM_SAMPLES, sizeof(*engine->gens));
	if (engine->gens == NULL) {
		free(engine->records);
		free(engine->device_name);
		flz_pages_free(engine, sizeof(*engine));
		return -ENOMEM;
	}
	engine->config.device = engine->device_name;
	engine->backend = flz_backend_for(engine->device_name, &engine->target);
	engine->log_sink = (struct flz_backend_log){ .log = config->log,
						     .userdata = config->log_userdata };
	pthread_mutex_init(&engine->lifecycle, NULL);
	pthread_mutex_init(&engine->lock, NULL);
	pthread_mutex_init(&engine->house_lock, NULL);
	pthread_condattr_t cattr;
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&engine->house_cond, &cattr);
	pthread_condattr_destroy(&cattr);
	atomic_init(&engine->started, false);
	atomic_init(&engine->meter_seq, 0);
	atomic_init(&engine->samples_in_flight, 0);
	*out = engine;
	return 0;
}

void flz_engine_destroy(struct flz_engine *engine)
{
	if (engine == NULL)
		return;
	flz_engine_stop(engine);
	pthread_cond_destroy(&engine->house_cond);
	pthread_mutex_destroy(&engine->house_lock);
	pthread_mutex_destroy(&engine->lock);
	pthread_mutex_destroy(&engine->lifecycle);
	free(engine->gens);
	free(engine->records);
	free(engine->device_name);
	flz_pages_free(engine, sizeof(*engine));
}

/* ------------------------------------------------------------------------
 * Housekeeping
 * ------------------------------------------------------------------------ */

bool flz_engine_core_alsa_last(struct flz_engine_core *core, struct flz_engine_alsa_last *last)
{
	/* The reader's side of the seqlock (the writer: flz_engine_alsa_error_rt()).
	 * A few tries: the audio thread writes rarely and briefly. */
	for (int attempt = 0; attempt < 8; attempt++) {
		/* acquire: pairs with the writer's release of the even number. */
		uint32_t seq = atomic_load_explicit(&core->alsa_last_seq, memory_order_acquire);
		if (seq == 0)
			return false;
		if (seq & 1)
			continue;
		/* relaxed: validated by the fence and the second read below. */
		last->file = atomic_load_explicit(&core->alsa_last_file, memory_order_relaxed);
		last->func = atomic_load_explicit(&core->alsa_last_func, memory_order_relaxed);
		last->fmt = atomic_load_explicit(&core->alsa_last_fmt, memory_order_relaxed);
		last->line = atomic_load_explicit(&core->alsa_last_line, memory_order_relaxed);
		last->errcode = atomic_load_explicit(&core->alsa_last_errcode, memory_order_relaxed);
		/* acquire fence: the field reads above happen before the re-read. */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&core->alsa_last_seq, memory_order_relaxed) == seq)
			return true;
	}
	return false;
}

/* The audio thread's alsa-lib messages since the last report, in one line.
 * WARNING: on the audio thread alsa-lib speaks when the device misbehaves
 * during playback (a recovery, a plugin's error), and nothing else reports
 * that. The format is shown without its arguments (the audio thread does not
 * format). */
static void house_report_alsa(struct flz_engine *engine)
{
	struct flz_engine_core *core = &engine->core;
	/* acquire: pairs with the handler's release increment; the record of
	 * the message counted is then complete (or a newer one is being written). */
	uint64_t n = atomic_load_explicit(&core->stat_alsa_messages, memory_order_acquire);
	if (n == engine->house_alsa_reported)
		return;
	engine->house_alsa_reported = n;
	struct flz_engine_alsa_last last;
	if (!flz_engine_core_alsa_last(core, &last)) {
		engine_log(engine, FLZ_LOG_WARNING, "alsa-lib on the audio thread: %llu messages so far",
			   (unsigned long long)n);
		return;
	}
	engine_log(engine, FLZ_LOG_WARNING,
		   "alsa-lib on the audio thread: %llu messages so far, last: %s:%d (%s): %s%s%s",
		   (unsigned long long)n, last.file ? last.file : "?", last.line,
		   last.func ? last.func : "?", last.fmt ? last.fmt : "",
		   last.errcode ? ": " : "", last.errcode ? device_strerror(last.errcode) : "");
}

static void house_work(struct flz_engine *engine)
{
	struct flz_engine_core *core = &engine->core;
	int n = flz_engine_core_collect(core);
	if (n > 0) {
		/* relaxed: a counter; the frees themselves need no ordering with it. */
		atomic_fetch_sub_explicit(&engine->samples_in_flight, n, memory_order_relaxed);
	}

	/* acquire, first: pairs with the audio thread's release increment,
	 * so that xruns, read after it (relaxed: a statistic, reported only),
	 * is at least stalled. */
	uint64_t stalled = atomic_load_explicit(&core->stat_xruns_stalled, memory_order_acquire);
	uint64_t xruns = atomic_load_explicit(&core->stat_xruns, memory_order_relaxed);
	if (xruns != engine->house_xruns_reported) {
		if (stalled > 0)
			engine_log(engine, FLZ_LOG_WARNING,
				   "audio underrun on \"%s\" (%llu so far, %llu of them the "
				   "system not running the audio thread in time)",
				   engine->device_name, (unsigned long long)xruns,
				   (unsigned long long)stalled);
		else
			engine_log(engine, FLZ_LOG_WARNING,
				   "audio underrun on \"%s\" (%llu so far)", engine->device_name,
				   (unsigned long long)xruns);
		engine->house_xruns_reported = xruns;
	}
	house_report_alsa(engine);
	/* acquire: pairs with the audio thread's release store; lost_error is then valid. */
	if (!engine->house_lost_reported &&
	    atomic_load_explicit(&core->device_lost, memory_order_acquire)) {
		int err = atomic_load_explicit(&core->lost_error, memory_order_relaxed);
		engine_log(engine, FLZ_LOG_ERROR,
			   "audio device \"%s\" lost (%s); playback has stopped",
			   engine->device_name, device_strerror(err));
		engine->house_lost_reported = true;
	}
}

static void *house_main(void *arg)
{
	struct flz_engine *engine = arg;
	pthread_mutex_lock(&engine->house_lock);
	while (!engine->house_quit) {
		pthread_mutex_unlock(&engine->house_lock);
		house_work(engine);
		pthread_mutex_lock(&engine->house_lock);
		if (engine->house_quit)
			break;
		struct timespec deadline;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_nsec += FLZ_ENGINE_HOUSE_PERIOD_MS * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&engine->house_cond, &engine->house_lock, &deadline);
	}
	pthread_mutex_unlock(&engine->house_lock);
	/* Report what happened during the last period too. */
	house_work(engine);
	return NULL;
}

/* ------------------------------------------------------------------------
 * Start, stop
 * ------------------------------------------------------------------------ */

static void stop_house(struct flz_engine *engine)
{
	pthread_mutex_lock(&engine->house_lock);
	engine->house_quit = true;
	pthread_cond_signal(&engine->house_cond);
	pthread_mutex_unlock(&engine->house_lock);
	pthread_join(engine->house_thread, NULL);
}

/*
 * Create an engine thread with every signal blocked but its own faults (it
 * inherits the mask of its creator), so that the host's signal handlers (Python's included) never
 * run on the audio or housekeeping thread: a handler there could take a lock
 * or allocate in the middle of a deadline, or find state it does not expect.
 * The kernel then delivers process signals to one of the host's threads.
 * SIGKILL and SIGSTOP cannot be blocked; glibc keeps its own two internal
 * signals unblocked.
 */
int flz_engine_create_thread(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
			     void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	/* Except the faults the thread itself raises: blocked, the kernel would
	 * reset them to the default action and kill the process without running
	 * the host's handler (a crash report, a sanitizer's, Python's
	 * faulthandler). They are synchronous: no other thread's signal. */
	static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS };
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&all, faults[i]);
	int rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc != 0)
		return rc;
	rc = pthread_create(thread, attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* Ask for real-time scheduling; a refusal is reported, never fatal. The
 * thread may run its first microseconds at normal priority: it has a full
 * buffer of headroom before the device starts. */
static void set_priority(struct flz_engine *engine)
{
	if (engine->config.rt_priority <= 0)
		return;
	struct sched_param param = { .sched_priority = engine->config.rt_priority };
	int rc = pthread_setschedparam(engine->audio_thread, SCHED_FIFO, &param);
	if (rc == 0) {
		engine->rt_priority = engine->config.rt_priority;
		return;
	}
	engine->rt_error = rc;
	engine_log(engine, FLZ_LOG_WARNING,
		   "real-time priority %d refused (%s): the audio thread runs at normal priority",
		   engine->config.rt_priority, strerror(rc));
}

/*
 * The audio thread's stack, mapped and written here rather than left to
 * pthread_create(): glibc maps a thread's stack untouched, so each page
 * would fault the first time the loop or ALSA reaches it, and only the
 * control side can write all of it (and lock it) before the thread runs.
 * Its size is set, so what is written and locked is the whole stack. A
 * guard page below it stops an overflow (glibc adds none to a stack it
 * is given).
 */
static int stack_init(struct flz_engine *engine, char *why, size_t why_size)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	engine->stack_map_bytes = page + FLZ_ENGINE_AUDIO_STACK_BYTES;
	engine->stack_map = flz_pages_alloc(engine->stack_map_bytes);
	if (engine->stack_map == NULL || mprotect(engine->stack_map, page, PROT_NONE) != 0) {
		flz_engine_set_why(why, why_size, "cannot map the audio thread's stack: %s", strerror(errno));
		return -ENOMEM;
	}
	return 0;
}

static unsigned char *stack_base(struct flz_engine *engine)
{
	return engine->stack_map + (engine->stack_map_bytes - FLZ_ENGINE_AUDIO_STACK_BYTES);
}

static int stack_attr(struct flz_engine *engine, pthread_attr_t *attr)
{
	int rc = pthread_attr_init(attr);
	if (rc != 0)
		return rc;
	rc = pthread_attr_setstack(attr, stack_base(engine), FLZ_ENGINE_AUDIO_STACK_BYTES);
	if (rc != 0)
		pthread_attr_destroy(attr);
	return rc;
}

int flz_engine_rt_regions(struct flz_engine *engine, struct flz_mem_region *regions,
			  int max_regions)
{
	struct flz_mem_region all[FLZ_ENGINE_MAX_RT_REGIONS];
	struct flz_engine_core *core = &engine->core;
	int n = 0;
	/* The core (rings' counters, parameters, statistics) and the audio
	 * thread's state (wait set, load window) live in the struct. */
	all[n++] = (struct flz_mem_region){ engine, sizeof(*engine) };
	if (core->cmd_storage) {
		all[n++] = (struct flz_mem_region){ core->cmd_storage, CMD_BYTES };
		all[n++] = (struct flz_mem_region){ core->msg_storage, MSG_BYTES };
		all[n++] = (struct flz_mem_region){ core->retire_storage, RETIRE_BYTES };
	}
	if (engine->audio.scratch)
		all[n++] = (struct flz_mem_region){ engine->audio.scratch, engine->scratch_bytes };
	if (engine->audio.wav) {
		all[n++] = (struct flz_mem_region){ engine->audio.wav, sizeof(struct flz_frame_writer) };
		all[n++] = (struct flz_mem_region){ engine->audio.wav->frames,
						    engine->audio.wav->frames_bytes };
	}
	if (engine->stack_map)
		all[n++] = (struct flz_mem_region){ stack_base(engine),
						    FLZ_ENGINE_AUDIO_STACK_BYTES };
	if (core->eq)
		all[n++] = (struct flz_mem_region){ core->eq, EQ_BYTES };
	if (core->mixer)
		n += flz_mixer_memory(core->mixer, all + n, FLZ_ENGINE_MAX_RT_REGIONS - n);
	for (int i = 0; i < n && i < max_regions; i++)
		regions[i] = all[i];
	return n;
}

/*
 * Lock the audio thread's memory (flz_engine_rt_regions()) in RAM, so that
 * none of it is paged out and faults back in during a period. Each region
 * on its own: mlockall() would lock the host's whole process, which an
 * embedded engine has no business doing. Sample data is not locked (see
 * flz_engine_stats.memory_locked). A refusal is reported, never fatal: the
 * memory is written and mapped all the same.
 */
static void lock_memory(struct flz_engine *engine)
{
	engine->lock_tried = false;
	engine->memory_locked = false;
	engine->locked_bytes = 0;
	if (engine->no_lock_memory)
		return;
	engine->lock_tried = true;
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct flz_mem_region regions[FLZ_ENGINE_MAX_RT_REGIONS];
	int n = flz_engine_rt_regions(engine, regions, FLZ_ENGINE_MAX_RT_REGIONS);
	uint64_t wanted = 0;
	int first_error = 0;
	for (int i = 0; i < n; i++) {
		/* Whole pages: what the kernel locks, and what VmLck counts. */
		uint64_t n_bytes = (regions[i].n_bytes + page - 1) / page * page;
		wanted += n_bytes;
		if (mlock(regions[i].addr, regions[i].n_bytes) == 0)
			engine->locked_bytes += n_bytes;
		else if (first_error == 0)
			first_error = errno;
	}
	engine->memory_locked = first_error == 0;
	if (first_error == 0)
		return;
	struct rlimit limit;
	char limit_text[32] = "unknown";
	if (getrlimit(RLIMIT_MEMLOCK, &limit) == 0) {
		if (limit.rlim_cur == RLIM_INFINITY)
			snprintf(limit_text, sizeof(limit_text), "unlimited");
		else
			snprintf(limit_text, sizeof(limit_text), "%llu bytes",
				 (unsigned long long)limit.rlim_cur);
	}
	engine_log(engine, FLZ_LOG_WARNING,
		   "cannot lock the audio thread's memory (%s; RLIMIT_MEMLOCK %s): %llu of %llu "
		   "bytes locked; it may be paged out and fault back in during playback",
		   strerror(first_error), limit_text, (unsigned long long)engine->locked_bytes,
		   (unsigned long long)wanted);
}

/* Every region is pages of its own (flz/pages.h), so unlocking them leaves
 * every other lock in the process as it was. */
static void unlock_memory(struct flz_engine *engine)
{
	if (!engine->lock_tried)
		return;
	struct flz_mem_region regions[FLZ_ENGINE_MAX_RT_REGIONS];
	int n = flz_engine_rt_regions(engine, regions, FLZ_ENGINE_MAX_RT_REGIONS);
	for (int i = 0; i < n; i++)
		munlock(regions[i].addr, regions[i].n_bytes);
	engine->lock_tried = false;
}

void flz_engine_set_lock_memory(struct flz_engine *engine, bool on)
{
	engine->no_lock_memory = !on;
}

/* A view of a sample about to be published: its summary (one pass over the
 * frames) and a reference. NULL when out of memory, or -EINVAL in *err for
 * a sample no summary can describe. Outside the lock. */
static struct slot_view *view_new(struct flz_sample *sample, int *err)
{
	struct slot_view *view = malloc(sizeof(*view));
	if (view == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = flz_summary_new(flz_sample_frames(sample), &view->summary);
	if (*err < 0) {
		free(view);
		return NULL;
	}
	atomic_init(&view->refs, 1);
	flz_sample_ref(sample); /* the caller holds one: this one is never the first */
	view->sample = sample;
	return view;
}

static void view_unref(struct slot_view *view)
{
	if (view == NULL)
		return;
	/* acq_rel: release orders this holder's reads of the summary and the
	 * frames before the decrement; acquire on the last one makes every
	 * other holder's reads happen before the frees. */
	if (atomic_fetch_sub_explicit(&view->refs, 1, memory_order_acq_rel) == 1) {
		flz_summary_free(view->summary);
		flz_sample_unref(view->sample);
		free(view);
	}
}

static void forget_record(struct slot_record *record)
{
	free(record->source);
	view_unref(record->view);
	memset(record, 0, sizeof(*record));
}

int flz_engine_set_wav_writer_test(struct flz_engine *engine, uint32_t ring_frames,
				   const atomic_bool *hold_writer)
{
	if (ring_frames & (ring_frames - 1))
		return -EINVAL;
	engine->test_wav_ring_frames = ring_frames;
	engine->test_wav_hold_writer = hold_writer;
	return 0;
}

int flz_engine_set_eq_always_warm_test(struct flz_engine *engine)
{
	struct flz_engine_core *core = &engine->core;
	if (core->eq == NULL)
		return -EINVAL;
	for (uint32_t i = 0; i < FLZ_MIXER_VOICE_SLOTS; i++)
		core->eq[i].always_warm = true;
	return 0;
}

void flz_engine_set_wav_burn_test(struct flz_engine *engine, _Atomic int64_t *burn_ns)
{
	engine->test_wav_burn_ns = burn_ns;
}

/* Release everything start() set up, in reverse; the threads are not running. */
static void teardown(struct flz_engine *engine)
{
	/* No control call reads the records now: running is false. */
	for (int32_t slot = 0; slot < FLZ_NUM_SAMPLES; slot++)
		forget_record(&engine->records[slot]);
	unlock_memory(engine);
	flz_engine_core_deinit(&engine->core);
	/* Every sample the engine held is gone now (the mixer dropped its own). */
	atomic_store_explicit(&engine->samples_in_flight, 0, memory_order_relaxed);
	flz_pages_free(engine->audio.scratch, engine->scratch_bytes);
	engine->audio.scratch = NULL;
	engine->scratch_bytes = 0;
	flz_pages_free(engine->stack_map, engine->stack_map_bytes);
	engine->stack_map = NULL;
	engine->stack_map_bytes = 0;
	engine->active->close(&engine->audio, &engine->device);
}

void flz_engine_set_flush_denormals(struct flz_engine *engine, bool on)
{
	engine->no_flush_denormals = !on;
}

uint32_t flz_engine_audio_fp_mode(struct flz_engine *engine)
{
	/* relaxed: a plain snapshot for a test. */
	return atomic_load_explicit(&engine->audio.fp_mode, memory_order_relaxed);
}

void flz_engine_last_stop(struct flz_engine *engine, bool *wake_written, bool *stopped_by_wake)
{
	*wake_written = engine->wake_written;
	*stopped_by_wake = engine->audio.stopped_by_wake;
}

/*
 * Open engine->active's device and start. Called under lifecycle, not lock:
 * commands see the engine as not running until the end, where "running" is
 * published under lock. On failure everything is released.
 */
static int start_locked(struct flz_engine *engine, char *why, size_t why_size)
{
	const struct flz_backend *backend = engine->active;
	struct flz_backend_device *dev = &engine->device;
	struct flz_engine_audio *audio = &engine->audio;
	/* Before anything can fail: close() finds no descriptor of a past start. */
	memset(audio, 0, sizeof(*audio));
	audio->wake_fd = -1;
	audio->test_burn_ns = engine->test_wav_burn_ns;
	memset(dev, 0, sizeof(*dev));
	dev->log = engine->log_sink;
	struct flz_backend_request req = {
		.target = engine->active == engine->backend ? engine->target : "",
		.rate_hz = engine->config.rate_hz,
		.n_channels = engine->config.n_channels,
		.period_frames = engine->config.period_frames,
		.n_periods = engine->config.n_periods,
		.format = engine->config.format,
		.test_ring_frames = engine->test_wav_ring_frames,
		.test_hold_writer = engine->test_wav_hold_writer,
	};
	int err = backend->open(&req, dev, why, why_size);
	if (err < 0)
		return err;
	bool has_thread = backend->rt_main != NULL;
	uint32_t block = dev->period_frames;
	if (block > FLZ_MAX_BLOCK_FRAMES)
		block = FLZ_MAX_BLOCK_FRAMES;
	struct flz_mixer_config mc = flz_mixer_config_init();
	mc.rate_hz = dev->rate_hz;
	mc.n_channels = dev->n_channels;
	mc.max_block_frames = block;
	err = flz_engine_core_init(&engine->core, &mc, engine->config.trace_commands,
				   engine->config.key_lock_voices);
	if (err < 0) {
		flz_engine_set_why(why, why_size, "cannot create the mixer for \"%s\" (%u Hz, %u channels): %s",
			engine->device_name, dev->rate_hz, dev->n_channels, flz_strerror(err));
		backend->close(audio, dev);
		return err;
	}
	engine->mixer_latency_frames = flz_mixer_latency_frames(engine->core.mixer);
	flz_engine_core_meters_init(&engine->core, engine->config.meter_hz, &engine->meter_seq);

	engine->scratch_bytes = sizeof(float) * block * dev->n_channels;
	audio->scratch = flz_pages_alloc(engine->scratch_bytes);
	if (audio->scratch == NULL) {
		flz_engine_set_why(why, why_size, "out of memory");
		teardown(engine);
		return -ENOMEM;
	}
	audio->core = &engine->core;
	audio->format = dev->format;
	audio->convert = flz_format_converter(dev->format);
	audio->n_channels = dev->n_channels;
	audio->rate_hz = dev->rate_hz;
	audio->block_frames = block;
	audio->buffer_frames = dev->buffer_frames;
	atomic_init(&audio->quit, false);
	audio->flush_denormals = !engine->no_flush_denormals;
	atomic_init(&audio->fp_mode, 0);
	if (backend->start)
		err = backend->start(audio, dev, why, why_size);
	if (err == 0 && has_thread)
		err = stack_init(engine, why, why_size);
	if (err < 0) {
		teardown(engine);
		return err;
	}
	lock_memory(engine);
	engine->next_seq = 1;
	engine->sched_issued = 0;
	engine->default_quantize = FLZ_QUANTIZE_OFF;
	atomic_store_explicit(&engine->samples_in_flight, 0, memory_order_relaxed);

	engine->house_quit = false;
	engine->house_xruns_reported = 0;
	engine->house_lost_reported = false;
	engine->house_alsa_reported = 0;
	err = -flz_engine_create_thread(&engine->house_thread, NULL, house_main, engine);
	if (err < 0) {
		flz_engine_set_why(why, why_size, "cannot start the housekeeping thread: %s", strerror(-err));
		teardown(engine);
		return err;
	}
	pthread_setname_np(engine->house_thread, "flz-house");

	engine->rt_priority = 0;
	engine->rt_error = 0;
	if (has_thread) {
		pthread_attr_t attr;
		err = -stack_attr(engine, &attr);
		if (err == 0) {
			err = -flz_engine_create_thread(&engine->audio_thread, &attr, backend->rt_main, audio);
			pthread_attr_destroy(&attr);
		}
		if (err == -EINVAL) {
			/* A thread library that refuses a caller's stack
			 * (ThreadSanitizer's pthread_create does): the thread runs
			 * on a default stack, which is then not prefaulted or
			 * locked by the engine. Said, and no longer listed. */
			engine_log(engine, FLZ_LOG_WARNING,
				   "the audio thread's own stack was refused (%s): it runs on a "
				   "default stack, not prefaulted or locked",
				   strerror(EINVAL));
			if (engine->lock_tried && engine->locked_bytes >= FLZ_ENGINE_AUDIO_STACK_BYTES)
				engine->locked_bytes -= FLZ_ENGINE_AUDIO_STACK_BYTES; /* unmapped: unlocked */
			flz_pages_free(engine->stack_map, engine->stack_map_bytes);
			engine->stack_map = NULL;
			engine->stack_map_bytes = 0;
			err = -flz_engine_create_thread(&engine->audio_thread, NULL, backend->rt_main,
						       audio);
		}
		if (err < 0) {
			flz_engine_set_why(why, why_size, "cannot start the audio thread: %s", strerror(-err));
			stop_house(engine);
			teardown(engine);
			return err;
		}
		pthread_setname_np(engine->audio_thread, "flz-audio");
		set_priority(engine);
	}

	pthread_mutex_lock(&engine->lock);
	engine->running = true;
	/* release: is_running() readers see a fully started engine. */
	atomic_store_explicit(&engine->started, true, memory_order_release);
	pthread_mutex_unlock(&engine->lock);
	engine_log(engine, FLZ_LOG_INFO,
		   "playing on \"%s\": %s, %u Hz, %u channels, %u x %u frames, priority %d",
		   engine->device_name, flz_device_format_name(dev->format), dev->rate_hz,
		   dev->n_channels, dev->period_frames, dev->n_periods, engine->rt_priority);
	return 0;
}

int flz_engine_start(struct flz_engine *engine, char *why, size_t why_size)
{
	if (engine == NULL)
		return -EINVAL;
	flz_engine_set_why(why, why_size, "%s", "");
	/* A concurrent start waits here; the engine lock stays free meanwhile.
	 * If that start succeeded, this one finds the engine running; if it
	 * failed, this one opens the device itself and reports its own error. */
	pthread_mutex_lock(&engine->lifecycle);
	if (engine->running) {
		/* why stays empty: -EBUSY says it all, and an empty why is how a
		 * caller tells this from a busy device (which always names itself). */
		pthread_mutex_unlock(&engine->lifecycle);
		return -EBUSY;
	}
	engine->active = engine->backend;
	int err = start_locked(engine, why, why_size);
	pthread_mutex_unlock(&engine->lifecycle);
	return err;
}

int flz_engine_start_offline(struct flz_engine *engine)
{
	if (engine == NULL)
		return -EINVAL;
	pthread_mutex_lock(&engine->lifecycle);
	int err = -EBUSY;
	if (!engine->running) {
		engine->active = &flz_backend_offline;
		err = start_locked(engine, NULL, 0);
	}
	pthread_mutex_unlock(&engine->lifecycle);
	return err;
}

int flz_engine_render(struct flz_engine *engine, float *out, uint32_t n_frames)
{
	if (engine == NULL || out == NULL || n_frames == 0 ||
	    n_frames > FLZ_ENGINE_MAX_RENDER_FRAMES)
		return -EINVAL;
	/* Lifecycle, not lock: a render is the one consumer of the command ring
	 * (as the audio thread is on a device), so renders must not overlap, nor
	 * run while start or stop sets up or tears down the core; commands from
	 * other threads take only lock and queue meanwhile. */
	pthread_mutex_lock(&engine->lifecycle);
	int err = 0;
	if (engine->backend != &flz_backend_offline)
		err = -ENOTSUP;
	else if (!engine->running)
		err = -ENOTCONN;
	if (err < 0) {
		pthread_mutex_unlock(&engine->lifecycle);
		return err;
	}
	/* The same steps as a device's audio thread: one block at a time, each
	 * taking the commands queued so far, clipped as a FLOAT_LE device's
	 * buffer is. */
	uint32_t block = engine->audio.block_frames;
	uint32_t n_channels = engine->audio.n_channels;
	for (uint32_t done = 0; done < n_frames && err == 0;) {
		uint32_t n = n_frames - done < block ? n_frames - done : block;
		float *dst = out + (size_t)done * n_channels;
		err = flz_engine_core_process_rt(&engine->core, dst, n);
		if (err == 0)
			flz_format_clamp_float_rt(dst, (size_t)n * n_channels);
		done += n;
	}
	pthread_mutex_unlock(&engine->lifecycle);
	return err;
}

struct flz_engine_core *flz_engine_get_core(struct flz_engine *engine)
{
	return &engine->core;
}

void flz_engine_set_next_seq_for_test(struct flz_engine *engine, uint32_t seq)
{
	pthread_mutex_lock(&engine->lock);
	engine->next_seq = seq;
	pthread_mutex_unlock(&engine->lock);
}

int flz_engine_samples_in_flight(struct flz_engine *engine)
{
	/* relaxed: a snapshot for tests; it orders nothing. */
	return atomic_load_explicit(&engine->samples_in_flight, memory_order_relaxed);
}

/* ------------------------------------------------------------------------
 * Recording
 * ------------------------------------------------------------------------ */

/*
 * Take the recorder back from the audio side and finish its file. Called
 * under lifecycle (so no render runs), with the audio thread running or
 * not. Returns the frames written; 0 when not recording.
 */
static uint64_t end_recording_locked(struct flz_engine *engine)
{
	struct flz_frame_writer *rec = engine->recorder;
	if (rec == NULL)
		return 0;
	/* seq_cst: see flz_engine_core.recorder; from here on a block that
	 * raises busy reads NULL. */
	atomic_store_explicit(&engine->core.recorder, NULL, memory_order_seq_cst);
	/* A push already under way ends within its block: wait for it, in
	 * short sleeps (the audio thread never waits for us, we wait for it). */
	while (atomic_load_explicit(&engine->core.recorder_busy, memory_order_seq_cst)) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 200000L };
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&engine->lock);
	/* relaxed: the producer is done (above); the writer's counters only. */
	engine->record_dropped_last =
		atomic_load_explicit(&rec->dropped_frames, memory_order_relaxed);
	engine->recorder = NULL;
	pthread_mutex_unlock(&engine->lock);
	/* The writer's last drain may fail too: its count comes after the join. */
	uint64_t errors = 0;
	uint64_t written = flz_frame_writer_close(rec, &errors);
	pthread_mutex_lock(&engine->lock);
	engine->record_write_errors_last = errors;
	pthread_mutex_unlock(&engine->lock);
	return written;
}

int flz_engine_start_recording(struct flz_engine *engine, const char *path, char *why,
			       size_t why_size)
{
	if (engine == NULL || path == NULL || path[0] == '\0') {
		flz_engine_set_why(why, why_size, "the recording needs a path");
		return -EINVAL;
	}
	pthread_mutex_lock(&engine->lifecycle);
	int err = 0;
	if (!engine->running) {
		flz_engine_set_why(why, why_size, "engine is not running");
		err = -ENOTCONN;
	} else if (engine->recorder != NULL) {
		flz_engine_set_why(why, why_size, "already recording");
		err = -EBUSY;
	}
	struct flz_frame_writer *rec = NULL;
	if (err == 0) {
		struct flz_frame_writer_spec spec = {
			.path = path,
			.rate_hz = engine->device.rate_hz,
			.n_channels = engine->device.n_channels,
			.ring_frames = engine->test_record_ring_frames,
			.hold_writer = engine->test_record_hold_writer,
			.clamp = true,
			.log = engine->log_sink,
			.stat_dropped = "record_dropped",
			.stat_errors = "record_write_errors",
		};
		if (spec.ring_frames != 0 && spec.ring_frames < engine->audio.block_frames) {
			flz_engine_set_why(why, why_size,
					   "a test ring of %u frames holds no block of %u",
					   spec.ring_frames, engine->audio.block_frames);
			err = -EINVAL;
		} else {
			char reason[256] = "";
			err = flz_frame_writer_open(&rec, &spec, reason, sizeof(reason));
			if (err < 0)
				flz_engine_set_why(why, why_size,
						   "cannot open \"%s\" for writing: %s", path,
						   reason);
		}
	}
	if (err == 0) {
		int rc = flz_frame_writer_start(rec, "flz-recorder");
		if (rc != 0) {
			flz_engine_set_why(why, why_size, "cannot start the recorder's thread: %s",
					   strerror(rc));
			/* Nothing was pushed: the file is finalised empty and removed,
			 * as a failed call leaves nothing behind. */
			flz_frame_writer_close(rec, NULL);
			remove(path);
			err = -rc;
		}
	}
	if (err == 0 && engine->memory_locked) {
		/* Locked like the wav backend's ring, so that no push faults; a
		 * refusal costs only that guarantee (munmap unlocks at close). */
		if (mlock(rec, sizeof(*rec)) != 0 || mlock(rec->frames, rec->frames_bytes) != 0)
			engine_log(engine, FLZ_LOG_WARNING,
				   "cannot lock the recording's ring in memory (%s): the audio "
				   "thread may wait for its pages",
				   strerror(errno));
	}
	if (err == 0) {
		pthread_mutex_lock(&engine->lock);
		engine->recorder = rec;
		engine->record_dropped_last = 0;
		engine->record_write_errors_last = 0;
		pthread_mutex_unlock(&engine->lock);
		/* seq_cst: see flz_engine_core.recorder; it also releases the
		 * writer's set-up (its ring, its counters) to the audio side. */
		atomic_store_explicit(&engine->core.recorder, rec, memory_order_seq_cst);
	}
	pthread_mutex_unlock(&engine->lifecycle);
	return err;
}

uint64_t flz_engine_stop_recording(struct flz_engine *engine)
{
	if (engine == NULL)
		return 0;
	pthread_mutex_lock(&engine->lifecycle);
	uint64_t written = end_recording_locked(engine);
	pthread_mutex_unlock(&engine->lifecycle);
	return written;
}

int flz_engine_set_record_writer_test(struct flz_engine *engine, uint32_t ring_frames,
				      const atomic_bool *hold_writer)
{
	if (ring_frames & (ring_frames - 1))
		return -EINVAL;
	pthread_mutex_lock(&engine->lifecycle);
	engine->test_record_ring_frames = ring_frames;
	engine->test_record_hold_writer = hold_writer;
	pthread_mutex_unlock(&engine->lifecycle);
	return 0;
}

void flz_engine_stop(struct flz_engine *engine)
{
	if (engine == NULL)
		return;
	pthread_mutex_lock(&engine->lifecycle);
	pthread_mutex_lock(&engine->lock);
	bool was_running = engine->running;
	/* Withdrawn first, under lock: from here on no control call touches
	 * the rings, the mixer or the device, so the teardown below needs only
	 * lifecycle and other callers never wait for the join. */
	engine->running = false;
	/* A stop forgets every slot: no load claimed before it publishes after
	 * a later start. */
	for (int32_t i = 0; i < FLZ_NUM_SAMPLES; i++)
		engine->gens[i]++;
	/* release: pairs with is_running()'s acquire. */
	atomic_store_explicit(&engine->started, false, memory_order_release);
	/* relaxed: the count has only to differ from every count a reader
	 * kept from this run; the lock orders it against their snapshots (a
	 * reader's read of the count that precedes its locked read of a
	 * snapshot of this run cannot see this store, and one that sees it
	 * finds the engine stopped). The audio side may still raise it until
	 * it is joined below, which only changes it more. */
	atomic_fetch_add_explicit(&engine->meter_seq, 1, memory_order_relaxed);
	pthread_mutex_unlock(&engine->lock);
	if (!was_running) {
		pthread_mutex_unlock(&engine->lifecycle);
		return;
	}
	/* release: pairs with the audio thread's acquire load of quit. Then
	 * the wake descriptor ends its wait, or it sees quit at the top of its
	 * loop after the block it is rendering. */
	atomic_store_explicit(&engine->audio.quit, true, memory_order_release);
	engine->wake_written = false;
	if (engine->active->rt_main) {
		if (engine->active->wake)
			engine->wake_written = engine->active->wake(&engine->audio);
		pthread_join(engine->audio_thread, NULL);
	}
	stop_house(engine);
	end_recording_locked(engine);

	/* Both threads are gone: the mixer's samples, the queued loads and the
	 * retired samples are all freed here, and the backend closes its device. */
	teardown(engine);
	pthread_mutex_unlock(&engine->lifecycle);
}

bool flz_engine_is_running(struct flz_engine *engine)
{
	/* acquire: pairs with the release stores in start/stop. */
	return engine && atomic_load_explicit(&engine->started, memory_order_acquire);
}

/* ------------------------------------------------------------------------
 * Commands
 * ------------------------------------------------------------------------ */

static bool slot_valid(int32_t slot)
{
	return slot >= 0 && slot < FLZ_NUM_SAMPLES;
}

static bool gain_valid(float gain)
{
	/* NaN fails both comparisons. */
	return gain >= (float)FLZ_VOLUME_MIN && gain <= (float)FLZ_VOLUME_MAX;
}

/* Whether commands can reach the audio thread now. Called under lock. */
static int check_live(struct flz_engine *engine)
{
	if (!engine->running)
		return -ENOTCONN;
	/* relaxed: a hint only; a loss racing with this call is caught the
	 * next time, and a command queued to a dead thread is freed at stop. */
	if (atomic_load_explicit(&engine->core.device_lost, memory_order_relaxed))
		return -ENODEV;
	return 0;
}

/* Give @p cmd the next sequence number and queue it. Called under lock. */
static int queue_locked(struct flz_engine *engine, struct flz_engine_cmd *cmd)
{
	cmd->seq = engine->next_seq;
	if (!flz_ring_push(&engine->core.cmd_ring, cmd))
		return -EAGAIN;
	engine->next_seq++;
	return 0;
}

static int queue_cmd(struct flz_engine *engine, struct flz_engine_cmd cmd)
{
	if (engine == NULL)
		return -EINVAL;
	pthread_mutex_lock(&engine->lock);
	int err = check_live(engine);
	if (err == 0)
		err = queue_locked(engine, &cmd);
	pthread_mutex_unlock(&engine->lock);
	return err;
}

static int queue_slot_cmd(struct flz_engine *engine, enum flz_cmd_kind kind, int32_t slot)
{
	if (!slot_valid(slot))
		return -EINVAL;
	return queue_cmd(engine, (struct flz_engine_cmd){ .kind = kind, .slot = slot });
}

struct flz_engine_play flz_engine_play_init(int32_t slot)
{
	struct flz_engine_play play = { .slot = slot, .gain = 1.0f, .exclusive = false };
	return play;
}

static bool quantize_valid(int mode)
{
	return mode >= FLZ_QUANTIZE_OFF && mode < FLZ_QUANTIZE_N_MODES;
}

/* Starts queued and not yet started or cancelled by the audio side. Called under lock. */
static uint64_t pending_starts_locked(struct flz_engine *engine)
{
	/* acquire: pairs with the audio side's release store of the count;
	 * nothing else is read through it. The count only grows, and never
	 * past sched_issued, so the difference is the pending starts at some
	 * moment since the last block, never fewer than there are now. */
	uint64_t done = atomic_load_explicit(&engine->core.sched_done, memory_order_acquire);
	return engine->sched_issued - done;
}

int flz_engine_play_ex(struct flz_engine *engine, const struct flz_engine_play *play)
{
	if (engine == NULL || play == NULL || !slot_valid(play->slot) || !gain_valid(play->gain) ||
	    (int)play->start < FLZ_ENGINE_START_DEFAULT ||
	    (int)play->start > FLZ_ENGINE_START_AT_FRAME)
		return -EINVAL;
	if (play->start == FLZ_ENGINE_START_QUANTIZED && !quantize_valid((int)play->quantize))
		return -EINVAL;
	if (play->start == FLZ_ENGINE_START_AT_FRAME &&
	    (play->at_frame < 0 || play->at_frame > FLZ_TRANSPORT_FRAME_MAX))
		return -EINVAL;
	if (play->exclusive && play->start != FLZ_ENGINE_START_DEFAULT &&
	    play->start != FLZ_ENGINE_START_NOW)
		return -EINVAL;
	struct flz_engine_cmd cmd = {
		.kind = play->exclusive ? FLZ_CMD_PLAY_EXCLUSIVE : FLZ_CMD_PLAY,
		.slot = play->slot,
		.gain_lin = play->gain,
		.start = FLZ_ENGINE_CMD_START_NOW,
	};
	pthread_mutex_lock(&engine->lock);
	int err = check_live(engine);
	if (err == 0 && !play->exclusive) {
		/* The mode is resolved here, where the default lives, and
		 * travels in the command; the audio side finds the grid frame. */
		enum flz_quantize mode = play->start == FLZ_ENGINE_START_DEFAULT
						 ? engine->default_quantize
						 : play->quantize;
		if (play->start == FLZ_ENGINE_START_AT_FRAME) {
			cmd.start = FLZ_ENGINE_CMD_START_AT;
			cmd.frame = play->at_frame;
		} else if (play->start != FLZ_ENGINE_START_NOW && mode != FLZ_QUANTIZE_OFF) {
			cmd.start = FLZ_ENGINE_CMD_START_GRID;
			cmd.quantize = (uint32_t)mode;
		}
	}
	bool scheduled = cmd.start != FLZ_ENGINE_CMD_START_NOW;
	if (err == 0 && scheduled && pending_starts_locked(engine) >= FLZ_SCHEDULE_CAPACITY)
		err = -EAGAIN;
	if (err == 0)
		err = queue_locked(engine, &cmd);
	if (err == 0 && scheduled)
		engine->sched_issued++;
	pthread_mutex_unlock(&engine->lock);
	return err;
}

int flz_engine_set_trigger_quantization(struct flz_engine *engine, enum flz_quantize mode)
{
	if (engine == NULL || !quantize_valid((int)mode))
		return -EINVAL;
	pthread_mutex_lock(&engine->lock);
	int err = engine->running ? 0 : -ENOTCONN;
	if (err == 0)
		engine->default_quantize = mode;
	pthread_mutex_unlock(&engine->lock);
	return err;
}

int flz_engine_set_master_bpm(struct flz_engine *engine, double bpm)
{
	/* Written so that NaN fails. */
	if (!(bpm >= FLZ_TRANSPORT_BPM_MIN && bpm <= FLZ_TRANSPORT_BPM_MAX))
		return -EINVAL;
	return queue_cmd(engine, (struct flz_engine_cmd){
					 .kind = FLZ_CMD_MASTER_BPM, .slot = -1, .speed = bpm });
}

int flz_engine_set_pad_bpm(struct flz_engine *engine, int32_t slot, double bpm)
{
	/* 0 clears; NaN fails both comparisons. */
	if (!slot_valid(slot) ||
	    (bpm != 0.0 && !(bpm >= FLZ_TRANSPORT_BPM_MIN && bpm <= FLZ_TRANSPORT_BPM_MAX)))
		return -EINVAL;
	return queue_cmd(engine, (struct flz_engine_cmd){ .kind = FLZ_CMD_PAD_BPM, .slot = slot,
							  .speed = bpm });
}

int flz_engine_set_bpm_lock(struct flz_engine *engine, bool enabled)
{
	return queue_cmd(engine, (struct flz_engine_cmd){ .kind = FLZ_CMD_BPM_LOCK, .slot = -1,
							  .speed = enabled ? 1.0 : 0.0 });
}

bool flz_engine_has_key_lock(void)
{
	return FLZ_HAVE_STRETCH != 0;
}

int flz_engine_set_key_lock(struct flz_engine *engine, bool enabled)
{
	if (enabled && !flz_engine_has_key_lock())
		return -ENOTSUP;
	return queue_cmd(engine, (struct flz_engine_cmd){ .kind = FLZ_CMD_KEY_LOCK, .slot = -1,
							  .speed = enabled ? 1.0 : 0.0 });
}

int flz_engine_set_pad_key_lock(struct flz_engine *engine, int32_t slot, int mode)
{
	if (!slot_valid(slot) || mode < -1 || mode > 1)
		return -EINVAL;
	if (mode == 1 && !flz_engine_has_key_lock())
		return -ENOTSUP;
	return queue_cmd(engine, (struct flz_engine_cmd){ .kind = FLZ_CMD_PAD_KEY_LOCK,
							  .slot = slot, .speed = (double)mode });
}

int flz_engine_set_beats_per_bar(struct flz_engine *engine, uint32_t beats_per_bar)
{
	if (beats_per_bar < FLZ_TRANSPORT_BEATS_PER_BAR_MIN ||
	    beats_per_bar > FLZ_TRANSPORT_BEATS_PER_BAR_MAX)
		return -EINVAL;
	return queue_cmd(engine, (struct flz_engine_cmd){ .kind = FLZ_CMD_BEATS_PER_BAR,
							  .slot = -1,
							  .frame = beats_per_bar });
}

int flz_engine_anchor_transport(struct flz_engine *engine, int64_t frame)
{
	if (frame != FLZ_ENGINE_ANCHOR_NOW && (frame < 0 || frame > FLZ_TRANSPORT_FRAME_MAX))
		return -EINVAL;
	return queue_cmd(engine,
			 (struct flz_engine_cmd){ .kind = FLZ_CMD_ANCHOR, .slot = -1, .frame = frame });
}

void flz_engine_core_read_transport(struct flz_engine_core *core, struct flz_engine_transport *out)
{
	union {
		uint64_t u;
		double d;
	} beat;
	uint64_t bpm_micro;
	for (;;) {
		/* acquire: pairs with the writer's release store of the even
		 * count: the fields it wrote before are visible. */
		uint32_t s1 = atomic_load_explicit(&core->tp_seq, memory_order_acquire);
		if (s1 & 1u) {
			sched_yield(); /* the audio side is writing: a few stores */
			continue;
		}
		/* relaxed: validated by the recheck of the count below. */
		out->frame = atomic_load_explicit(&core->tp_frame, memory_order_relaxed);
		bpm_micro = atomic_load_explicit(&core->tp_bpm_micro, memory_order_relaxed);
		out->beats_per_bar = atomic_load_explicit(&core->tp_beats_per_bar,
							  memory_order_relaxed);
		out->bar = atomic_load_explicit(&core->tp_bar, memory_order_relaxed);
		beat.u = atomic_load_explicit(&core->tp_beat_bits, memory_order_relaxed);
		out->downbeat_frame = atomic_load_explicit(&core->tp_downbeat_frame,
							   memory_order_relaxed);
		/* acquire fence: the field loads above are ordered before the
		 * recheck, so a write that overlapped them shows as a new count
		 * (the writer's release fence orders its odd count first). */
		atomic_thread_fence(memory_order_acquire);
		/* relaxed: ordered by the fence. */
		if (atomic_load_explicit(&core->tp_seq, memory_order_relaxed) == s1)
			break;
	}
	out->bpm = (double)bpm_micro / 1e6;
	out->beat = beat.d;
}

int flz_engine_get_meters(struct flz_engine *engine, struct flz_engine_meters *out)
{
	if (engine == NULL || out == NULL)
		return -EINVAL;
	pthread_mutex_lock(&engine->lock);
	int err = engine->running ? 0 : -ENOTCONN;
	if (err == 0)
		flz_engine_core_read_meters(&engine->core, out);
	pthread_mutex_unlock(&engine->lock);
	return err;
}

int flz_engine_meters_frame(struct flz_engine *engine, int64_t *frame)
{
	if (engine == NULL || frame == NULL)
		return -EINVAL;
	pthread_mutex_lock(&engine->lock);
	int err = engine->running ? 0 : -ENOTCONN;
	if (err == 0)
		*frame = flz_engine_core_meters_frame(&engine->core);
	pthread_mutex_unlock(&engine->lock);
	return err;
}

uint64_t flz_engine_meters_seq(const struct flz_engine *engine)
{
	if (engine == NULL)
		return 0;
	/* acquire: pairs with publish()'s release, so a caller that then
	 * reads a snapshot (under the lock) gets the one this count was raised
	 * for or a newer one: a count kept with a snapshot is never ahead of
	 * it. Without the lock: a plain load, so any thread, at any time. */
	return atomic_load_explicit(&engine->meter_seq, memory_order_acquire);
}

int flz_engine_transport(struct flz_engine *engine, struct flz_engine_transport *out)
{
	if (engine == NULL || out == NULL)
		return -EINVAL;
	pthread_mutex_lock(&engine->lock);
	int err = engine->running ? 0 : -ENOTCONN;
	if (err == 0) {
		flz_engine_core_read_transport(&engine->core, out);
		uint64_t pending = pending_starts_locked(engine);
		out->n_pending = (uint32_t)pending;
	}
	pthread_mutex_unlock(&engine->lock);
	return err;
}

int flz_engine_play(struct flz_engine *engine, int32_t slot, float gain)
{
	struct flz_engine_play play = flz_engine_play_init(slot);
	play.gain = gain;
	return flz_engine_play_ex(engine, &play);
}

int flz_engine_stop_slot(struct flz_engine *engine, int32_t slot)
{
	return queue_slot_cmd(engine, FLZ_CMD_STOP, slot);
}

int flz_engine_stop_all(struct flz_engine *engine)
{
	return queue_cmd(engine, (struct flz_engine_cmd){ .kind = FLZ_CMD_STOP_ALL, .slot = -1 });
}

int flz_engine_unload(struct flz_engine *engine, int32_t slot)
{
	if (engine == NULL || !slot_valid(slot))
		return -EINVAL;
	struct flz_engine_cmd cmd = { .kind = FLZ_CMD_UNLOAD, .slot = slot };
	pthread_mutex_lock(&engine->lock);
	int err = check_live(engine);
	if (err == 0)
		err = queue_locked(engine, &cmd);
	/* Forgotten in command order: a seek queued after this finds the slot empty. */
	if (err == 0) {
		forget_record(&engine->records[slot]);
		engine->gens[slot]++;
	}
	pthread_mutex_unlock(&engine->lock);
	return err;
}

int flz_engine_ping(struct flz_engine *engine)
{
	return queue_cmd(engine, (struct flz_engine_cmd){ .kind = FLZ_CMD_PING, .slot = -1 });
}

int flz_engine_pause(struct flz_engine *engine, int32_t slot)
{
	return queue_slot_cmd(engine, FLZ_CMD_PAUSE, slot);
}

int flz_engine_resume(struct flz_engine *engine, int32_t slot)
{
	return queue_slot_cmd(engine, FLZ_CMD_RESUME, slot);
}

/*
 * Queue a command whose frames must lie in the slot's sample, checked by
 * @p check against the record of what was last published there, under the
 * same lock that orders the loads and unloads: the audio thread applies the
 * command to exactly that sample.
 */
static int queue_frames_cmd(struct flz_engine *engine, struct flz_engine_cmd cmd,
			    int (*check)(const struct slot_record *, struct flz_engine_cmd *))
{
	if (engine == NULL || !slot_valid(cmd.slot))
		return -EINVAL;
	pthread_mutex_lock(&engine->lock);
	int err = check_live(engine);
	if (err == 0) {
		const struct slot_record *record = &engine->records[cmd.slot];
		err = record->loaded ? check(record, &cmd) : -ENOENT;
	}
	if (err == 0)
		err = queue_locked(engine, &cmd);
	pthread_mutex_unlock(&engine->lock);
	return err;
}

static int check_seek(const struct slot_record *record, struct flz_engine_cmd *cmd)
{
	return cmd->frame >= 0 && cmd->frame < record->n_frames ? 0 : -EINVAL;
}

static int check_region(const struct slot_record *record, struct flz_engine_cmd *cmd)
{
	int64_t end = cmd->end_frame == -1 ? record->n_frames : cmd->end_frame;
	return cmd->frame >= 0 && cmd->frame < end && end <= record->n_frames ? 0 : -EINVAL;
}

int flz_engine_seek(struct flz_engine *engine, int32_t slot, int64_t frame)
{
	return queue_frames_cmd(engine,
				(struct flz_engine_cmd){ .kind = FLZ_CMD_SEEK, .slot = slot,
							 .frame = frame },
				check_seek);
}

int flz_engine_set_pad_downbeat(struct flz_engine *engine, int32_t slot, int64_t frame)
{
	return queue_frames_cmd(engine,
				(struct flz_engine_cmd){ .kind = FLZ_CMD_PAD_DOWNBEAT,
							 .slot = slot, .frame = frame },
				check_seek);
}

int flz_engine_set_loop_region(struct flz_engine *engine, int32_t slot, int64_t start,
			       int64_t end)
{
	if (end < -1)
		return -EINVAL;
	return queue_frames_cmd(engine,
				(struct flz_engine_cmd){ .kind = FLZ_CMD_LOOP_REGION,
							 .slot = slot, .frame = start,
							 .end_frame = end },
				check_region);
}

/* -60 dB and below is silence, exactly: a fader at its bottom must mute, and
 * 10^(-3) would leave the pad audible. */
static float pad_gain_lin(double gain_db)
{
	if (gain_db <= FLZ_PAD_GAIN_DB_MIN)
		return 0.0f;
	float lin = (float)pow(10.0, gain_db / 20.0);
	/* +12 dB rounds to the ceiling itself; never above what the mixer takes. */
	return lin > FLZ_PAD_GAIN_MAX_LIN ? FLZ_PAD_GAIN_MAX_LIN : lin;
}

int flz_engine_set_pad_gain(struct flz_engine *engine, int32_t slot, double gain_db)
{
	/* NaN fails both comparisons. */
	if (!slot_valid(slot) || !(gain_db >= FLZ_PAD_GAIN_DB_MIN && gain_db <= FLZ_PAD_GAIN_DB_MAX))
		return -EINVAL;
	return queue_cmd(engine, (struct flz_engine_cmd){ .kind = FLZ_CMD_PAD_GAIN, .slot = slot,
							  .gain_lin = pad_gain_lin(gain_db) });
}


int flz_engine_set_pad_eq(struct flz_engine *engine, int32_t slot, double low_db, double mid_db,
			  double high_db)
{
	const double db[3] = { low_db, mid_db, high_db };
	if (engine == NULL || !slot_valid(slot))
		return -EINVAL;
	/* NaN fails both comparisons. The range is libeq's
	 * (FLZ_EQ_GAIN_DB_MIN..MAX); engine-eq's tests check that they agree. */
	for (int b = 0; b < 3; b++)
		if (!(db[b] >= FLZ_PAD_EQ_DB_MIN && db[b] <= FLZ_PAD_EQ_DB_MAX))
			return -EINVAL;
	struct flz_engine_cmd cmd = { .kind = FLZ_CMD_PAD_EQ, .slot = slot };
	for (int b = 0; b < 3; b++)
		cmd.eq_db[b] = (float)db[b];
	pthread_mutex_lock(&engine->lock);
	int err = check_live(engine);
	if (err == 0 && engine->core.eq == NULL)
		err = -ENOTSUP;
	if (err == 0)
		err = queue_locked(engine, &cmd);
	pthread_mutex_unlock(&engine->lock);
	return err;
}

int flz_engine_set_pad_speed(struct flz_engine *engine, int32_t slot, double speed)
{
	if (!slot_valid(slot) || !(speed >= FLZ_PAD_SPEED_MIN && speed <= FLZ_PAD_SPEED_MAX))
		return -EINVAL;
	return queue_cmd(engine, (struct flz_engine_cmd){ .kind = FLZ_CMD_PAD_SPEED, .slot = slot,
							  .speed = speed });
}

int flz_engine_sample_info(struct flz_engine *engine, int32_t slot,
			   struct flz_engine_sample_info *info, char *source, size_t source_size)
{
	if (engine == NULL || info == NULL || !slot_valid(slot) ||
	    (source == NULL && source_size > 0))
		return -EINVAL;
	pthread_mutex_lock(&engine->lock);
	int ret = -ENOTCONN;
	if (engine->running) {
		const struct slot_record *record = &engine->records[slot];
		ret = record->loaded ? 1 : 0;
		if (ret == 1) {
			*info = (struct flz_engine_sample_info){
				.n_frames = record->n_frames,
				.n_channels = record->n_channels,
				.rate_hz = record->rate_hz,
				.source_rate_hz = record->source_rate_hz,
				.source_len = strlen(record->source),
			};
			if (source_size > 0)
				snprintf(source, source_size, "%s", record->source);
		}
	}
	pthread_mutex_unlock(&engine->lock);
	return ret;
}

int64_t flz_engine_frame(struct flz_engine *engine)
{
	if (engine == NULL)
		return -EINVAL;
	pthread_mutex_lock(&engine->lock);
	int64_t frame = -ENOTCONN;
	/* acquire: pairs with the audio side's release store, after which the
	 * messages of every frame before this count are in the ring. */
	if (engine->running)
		frame = atomic_load_explicit(&engine->core.stat_frames, memory_order_acquire);
	pthread_mutex_unlock(&engine->lock);
	return frame;
}

static int set_param(struct flz_engine *engine, struct flz_engine_param *param, float value)
{
	pthread_mutex_lock(&engine->lock);
	int err = check_live(engine);
	if (err == 0) {
		/* The same counter as the commands, under the same lock: the audio
		 * thread can place the value exactly among them. Any number will
		 * do, 0 included: newness is told by the word, not the number
		 * (struct flz_engine_param). release: the commands pushed before
		 * are visible to whoever takes this value. */
		atomic_store_explicit(&param->packed, flz_engine_param_pack(engine->next_seq, value),
				      memory_order_release);
		engine->next_seq++;
	}
	pthread_mutex_unlock(&engine->lock);
	return err;
}

int flz_engine_set_volume(struct flz_engine *engine, float gain)
{
	if (engine == NULL || !gain_valid(gain))
		return -EINVAL;
	return set_param(engine, &engine->core.volume, gain);
}

int flz_engine_set_speed(struct flz_engine *engine, double speed)
{
	if (engine == NULL || !(speed >= FLZ_SPEED_MIN && speed <= FLZ_SPEED_MAX))
		return -EINVAL;
	return set_param(engine, &engine->core.speed, (float)speed);
}

/* ------------------------------------------------------------------------
 * Samples
 * ------------------------------------------------------------------------ */

/*
 * Queue a LOAD taking over the caller's reference on success, and record it
 * as the slot's sample (taking over @p source, a malloc'd name, on success).
 * Called under lock.
 */
static int load_locked(struct flz_engine *engine, int32_t slot, struct flz_sample *sample,
		       char *source, uint32_t source_rate_hz, struct slot_view *view)
{
	int err = check_live(engine);
	if (err < 0)
		return err;
	if (sample->rate_hz != engine->core.rate_hz ||
	    sample->n_channels != engine->core.n_channels)
		return -EINVAL;
	/* relaxed: only this (locked) path increments; housekeeping only
	 * decrements, so the value read can only be too high: a safe refusal. */
	if (atomic_load_explicit(&engine->samples_in_flight, memory_order_relaxed) >=
	    FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT)
		return -EAGAIN;
	struct flz_engine_cmd cmd = { .kind = FLZ_CMD_LOAD, .slot = slot, .sample = sample };
	err = queue_locked(engine, &cmd);
	if (err < 0)
		return err;
	atomic_fetch_add_explicit(&engine->samples_in_flight, 1, memory_order_relaxed);
	engine->gens[slot]++;
	struct slot_record *record = &engine->records[slot];
	forget_record(record);
	*record = (struct slot_record){
		.loaded = true,
		.n_frames = sample->n_frames,
		.n_channels = sample->n_channels,
		.rate_hz = sample->rate_hz,
		.source_rate_hz = source_rate_hz,
		.source = source,
		.view = view,
	};
	return 0;
}

/* The source name of loads from memory or of decoded samples. */
#define MEMORY_SOURCE "<memory>"

int flz_engine_load_sample(struct flz_engine *engine, int32_t slot, struct flz_sample *sample)
{
	if (engine == NULL || sample == NULL || !slot_valid(slot))
		return -EINVAL;
	/* Copied before the lock, which stays short: no allocation under it. */
	char *source = strdup(MEMORY_SOURCE);
	if (source == NULL)
		return -ENOMEM;
	int err;
	struct slot_view *view = view_new(sample, &err);
	if (view == NULL) {
		free(source);
		/* A bad sample (no frames, too many channels) is the caller's error. */
		return err == -ENOMEM ? err : -EINVAL;
	}
	pthread_mutex_lock(&engine->lock);
	err = load_locked(engine, slot, sample, source, sample->rate_hz, view);
	pthread_mutex_unlock(&engine->lock);
	if (err < 0) {
		free(source);
		view_unref(view); /* drops the view's reference, never the caller's */
	}
	return err;
}

/* @p gen 0: an ordinary load; else the generation flz_engine_claim_slot_()
 * gave, published only if still current (else -ECANCELED). */
static int load_any(struct flz_engine *engine, int32_t slot, const char *path, const void *data,
		    size_t n_bytes, const struct pcm_source *pcm, uint64_t gen,
		    const struct load_gate *gate, double *duration_s, char *why, size_t why_size)
{
	flz_engine_set_why(why, why_size, "%s", "");
	if (engine == NULL || !slot_valid(slot) || (path == NULL && data == NULL && pcm == NULL)) {
		flz_engine_set_why(why, why_size, "%s", flz_strerror(-EINVAL));
		return -EINVAL;
	}

	/* Read the format under the lock, decode without it. */
	pthread_mutex_lock(&engine->lock);
	int err = check_live(engine);
	/* Only while running: a start in progress sets the core up under the
	 * lifecycle mutex alone. */
	uint32_t rate_hz = err == 0 ? engine->core.rate_hz : 0;
	uint32_t n_channels = err == 0 ? engine->core.n_channels : 0;
	pthread_mutex_unlock(&engine->lock);
	if (err < 0) {
		flz_engine_set_why(why, why_size, "%s", flz_strerror(err));
		return err;
	}

	struct flz_loader_config lc = flz_loader_config_init();
	lc.rate_hz = rate_hz;
	lc.n_channels = n_channels;
	struct flz_loader *loader = NULL;
	err = flz_loader_new(&lc, &loader);
	if (err < 0) {
		flz_engine_set_why(why, why_size, "%s", flz_strerror(err));
		return err;
	}
	if (gate != NULL)
		flz_loader_set_progress(loader, gate->progress, gate->ctx);
	struct flz_sample *sample = NULL;
	if (path != NULL)
		err = flz_loader_load_file(loader, path, &sample);
	else if (pcm != NULL)
		err = flz_loader_load_pcm(loader, pcm->data, pcm->format, pcm->n_frames,
					  pcm->n_channels, pcm->rate_hz, &sample);
	else
		err = flz_loader_load_memory(loader, data, n_bytes, &sample);
	if (err < 0) {
		flz_engine_set_why(why, why_size, "%s", flz_loader_strerror(loader));
		flz_loader_destroy(loader);
		return err;
	}
	struct flz_loader_replaced bad;
	flz_loader_get_replaced(loader, &bad);
	uint32_t source_rate_hz = flz_loader_source_rate_hz(loader);
	flz_loader_destroy(loader);
	char *source = strdup(path ? path : MEMORY_SOURCE);
	struct slot_view *view = source != NULL ? view_new(sample, &err) : NULL;
	if (view == NULL) {
		free(source);
		flz_sample_unref(sample);
		flz_engine_set_why(why, why_size, "%s", flz_strerror(-ENOMEM));
		return -ENOMEM;
	}

	pthread_mutex_lock(&engine->lock);
	/* The engine may have been stopped (or restarted at another rate)
	 * while decoding: load_locked() checks both. */
	err = gen != 0 && engine->gens[slot] != gen ? -ECANCELED : 0;
	bool gated = false;
	if (err == 0 && gate != NULL) {
		err = gate->allow(gate->ctx);
		gated = err < 0;
	}
	/* Read before the sample changes hands. */
	double seconds = (double)sample->n_frames / sample->rate_hz;
	if (err == 0)
		err = load_locked(engine, slot, sample, source, source_rate_hz, view);
	if (err == 0 && duration_s != NULL)
		*duration_s = seconds;
	pthread_mutex_unlock(&engine->lock);
	if (err < 0) {
		free(source);
		view_unref(view);
		flz_sample_unref(sample);
		if (err == -EINVAL)
			err = -ENOTCONN; /* restarted with another format meanwhile */
		if (gated)
			flz_engine_set_why(why, why_size, "%s", "cancelled");
		else if (err == -ECANCELED)
			flz_engine_set_why(why, why_size,
					   "superseded: pad %d was loaded or unloaded again meanwhile",
					   (int)slot);
		else
			flz_engine_set_why(why, why_size, "%s", flz_strerror(err));
		return err;
	}
	/* Said once the sample is in its slot, so a refused load says only why.
	 * The name comes last: a long path may be cut, the counts are not. */
	if (bad.n_nan + bad.n_pos_inf + bad.n_neg_inf + bad.n_overflow > 0)
		engine_log(engine, FLZ_LOG_WARNING,
			   "slot %d: %llu non-finite sample values replaced (NaN -> 0: %llu, "
			   "+Inf -> +1: %llu, -Inf -> -1: %llu, rate-conversion overflow: %llu) "
			   "in \"%s\"",
			   (int)slot,
			   (unsigned long long)(bad.n_nan + bad.n_pos_inf + bad.n_neg_inf +
						bad.n_overflow),
			   (unsigned long long)bad.n_nan, (unsigned long long)bad.n_pos_inf,
			   (unsigned long long)bad.n_neg_inf, (unsigned long long)bad.n_overflow,
			   path ? path : pcm ? "PCM buffer" : "memory buffer");
	return 0;
}

int flz_engine_load_file(struct flz_engine *engine, int32_t slot, const char *path, char *why,
			 size_t why_size)
{
	if (path == NULL) {
		flz_engine_set_why(why, why_size, "%s", flz_strerror(-EINVAL));
		return -EINVAL;
	}
	return load_any(engine, slot, path, NULL, 0, NULL, 0, NULL, NULL, why, why_size);
}

int flz_engine_load_memory(struct flz_engine *engine, int32_t slot, const void *data,
			   size_t n_bytes, char *why, size_t why_size)
{
	if (data == NULL) {
		flz_engine_set_why(why, why_size, "%s", flz_strerror(-EINVAL));
		return -EINVAL;
	}
	return load_any(engine, slot, NULL, data, n_bytes, NULL, 0, NULL, NULL, why, why_size);
}

int flz_engine_load_pcm(struct flz_engine *engine, int32_t slot, const void *data,
			enum flz_pcm_format format, int64_t n_frames, uint32_t n_channels,
			uint32_t rate_hz, char *why, size_t why_size)
{
	if (data == NULL) {
		flz_engine_set_why(why, why_size, "%s", flz_strerror(-EINVAL));
		return -EINVAL;
	}
	struct pcm_source pcm = { data, format, n_frames, n_channels, rate_hz };
	return load_any(engine, slot, NULL, NULL, 0, &pcm, 0, NULL, NULL, why, why_size);
}

uint64_t flz_engine_claim_slot_(struct flz_engine *engine, int32_t slot)
{
	pthread_mutex_lock(&engine->lock);
	uint64_t gen = ++engine->gens[slot];
	pthread_mutex_unlock(&engine->lock);
	return gen;
}

int flz_engine_load_claimed_(struct flz_engine *engine, int32_t slot, uint64_t gen,
			     const char *path, const void *data, size_t n_bytes,
			     const struct pcm_source *pcm, const struct load_gate *gate,
			     double *duration_s, char *why, size_t why_size)
{
	return load_any(engine, slot, path, data, n_bytes, pcm, gen, gate, duration_s, why,
			why_size);
}

int flz_engine_waveform(struct flz_engine *engine, int32_t slot, int64_t start, int64_t end,
			uint32_t width, float *out)
{
	if (engine == NULL || out == NULL || !slot_valid(slot))
		return -EINVAL;
	pthread_mutex_lock(&engine->lock);
	int ret = -ENOTCONN;
	struct slot_view *view = NULL;
	if (engine->running) {
		const struct slot_record *record = &engine->records[slot];
		ret = -ENOENT;
		if (record->loaded) {
			view = record->view;
			/* relaxed: the record's hold keeps the view alive while the
			 * lock is held, and the lock published its contents. */
			atomic_fetch_add_explicit(&view->refs, 1, memory_order_relaxed);
		}
	}
	pthread_mutex_unlock(&engine->lock);
	if (view == NULL)
		return ret;
	/* Outside the lock: thousands of columns over a long sample take
	 * milliseconds, which must not hold up commands from other threads. */
	if (end == -1)
		end = view->sample->n_frames;
	ret = flz_summary_query(view->summary, flz_sample_frames(view->sample), start, end, width,
				out);
	view_unref(view);
	return ret;
}

/* ------------------------------------------------------------------------
 * Messages, stats
 * ------------------------------------------------------------------------ */

int flz_engine_poll_message(struct flz_engine *engine, struct flz_engine_msg *msg)
{
	if (engine == NULL || msg == NULL)
		return -EINVAL;
	pthread_mutex_lock(&engine->lock);
	int ret = -ENOTCONN;
	if (engine->running)
		ret = flz_ring_pop(&engine->core.msg_ring, msg) ? 1 : 0;
	pthread_mutex_unlock(&engine->lock);
	return ret;
}

void flz_engine_get_stats(struct flz_engine *engine, struct flz_engine_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (engine == NULL)
		return;
	pthread_mutex_lock(&engine->lock);
	if (engine->running) {
		const struct flz_backend_device *dev = &engine->device;
		struct flz_engine_core *core = &engine->core;
		stats->running = true;
		stats->rate_hz = dev->rate_hz;
		stats->n_channels = dev->n_channels;
		stats->format = dev->format;
		stats->period_frames = dev->period_frames;
		stats->n_periods = dev->n_periods;
		stats->latency_frames = dev->buffer_frames + engine->mixer_latency_frames;
		stats->latency_ms = 1000.0 * stats->latency_frames / dev->rate_hz;
		stats->rt_priority = engine->rt_priority;
		stats->rt_error = engine->rt_error;
		/* relaxed: independent statistics, each a plain snapshot; device_lost
		 * uses acquire so that a true value comes with the final counters. */
		stats->device_lost = atomic_load_explicit(&core->device_lost, memory_order_acquire);
		/* acquire, first: pairs with the release increment, so xruns
		 * (read after) is at least xruns_stalled. */
		stats->xruns_stalled =
			atomic_load_explicit(&core->stat_xruns_stalled, memory_order_acquire);
		stats->xruns = atomic_load_explicit(&core->stat_xruns, memory_order_relaxed);
		stats->voices_playing = atomic_load_explicit(&core->stat_voices, memory_order_relaxed);
		stats->frames = atomic_load_explicit(&core->stat_frames, memory_order_relaxed);
		stats->messages_dropped =
			atomic_load_explicit(&core->stat_messages_dropped, memory_order_relaxed);
		stats->key_lock_refused =
			atomic_load_explicit(&core->stat_key_lock_refused, memory_order_relaxed);
		stats->key_lock_deferred =
			atomic_load_explicit(&core->stat_key_lock_deferred, memory_order_relaxed);
		stats->key_lock_deferred_frames = atomic_load_explicit(
			&core->stat_key_lock_deferred_frames, memory_order_relaxed);
		if (engine->audio.wav) {
			stats->file_dropped_frames = atomic_load_explicit(
				&engine->audio.wav->dropped_frames, memory_order_relaxed);
			stats->file_write_errors = atomic_load_explicit(
				&engine->audio.wav->write_errors, memory_order_relaxed);
		}
		union {
			uint32_t u;
			float f;
		} load = { .u = atomic_load_explicit(&core->stat_load_bits, memory_order_relaxed) };
		stats->load = load.f;
		stats->memory_locked = engine->memory_locked;
		stats->locked_bytes = engine->locked_bytes;
	}
	stats->recording = engine->recorder != NULL;
	stats->record_dropped = engine->record_dropped_last;
	stats->record_write_errors = engine->record_write_errors_last;
	if (engine->recorder) {
		/* relaxed: statistics, each a plain snapshot. */
		stats->record_dropped = atomic_load_explicit(&engine->recorder->dropped_frames,
							     memory_order_relaxed);
		stats->record_write_errors = atomic_load_explicit(
			&engine->recorder->write_errors, memory_order_relaxed);
	}
	pthread_mutex_unlock(&engine->lock);
}
