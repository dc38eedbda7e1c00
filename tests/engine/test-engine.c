/* SPDX-License-Identifier: MIT */
/*
 * Check suite 'engine': the rings, the command and parameter semantics
 * (driven without a device), sample retirement, the format converters,
 * the ALSA setup against the null PCM, and (with --rig, inside the JACK
 * rig) real-time playback compared frame by frame with an offline render.
 */
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

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* A sample of deterministic noise (amplitude amp) at the given format. */
static struct flz_sample *make_noise(int64_t n_frames, uint32_t n_channels, uint32_t rate_hz,
				     double amp, uint32_t seed)
{
	struct flz_sample *s = flz_sample_new(n_frames, n_channels, rate_hz);
	ck_assert_ptr_nonnull(s);
	flz_test_noise(s->data, (size_t)n_frames * n_channels, amp, seed);
	return s;
}

static int refcount(struct flz_sample *s)
{
	return atomic_load(&s->refcount);
}

/* Messages taken from an engine, in order. */
struct msg_log {
	struct flz_engine_msg msgs[8192];
	size_t n;
};

static void collect(struct flz_engine *engine, struct msg_log *log)
{
	struct flz_engine_msg m;
	int rc;
	while ((rc = flz_engine_poll_message(engine, &m)) == 1) {
		ck_assert_uint_lt(log->n, sizeof(log->msgs) / sizeof(log->msgs[0]));
		log->msgs[log->n++] = m;
	}
	ck_assert_int_eq(rc, 0);
}

static struct flz_engine *offline_engine(uint32_t period_frames, bool trace)
{
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "offline";
	config.period_frames = period_frames;
	config.trace_commands = trace;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	char why[256] = "";
	ck_assert_int_eq(flz_engine_start(engine, why, sizeof(why)), 0);
	/* The rings' counters are cache-line aligned members: the engine (and
	 * so its core) must be allocated at that alignment. */
	ck_assert_uint_eq((uintptr_t)flz_engine_get_core(engine) % _Alignof(struct flz_engine_core),
			  0);
	return engine;
}

/* The reference: a plain mixer driven with the commands the engine reported
 * (FLZ_MSG_APPLIED) at the frames it reported them. */
struct ref_retired {
	struct flz_sample *samples[256];
	size_t n;
};

static void ref_retire(void *userdata, struct flz_sample *sample)
{
	struct ref_retired *r = userdata;
	ck_assert_uint_lt(r->n, 256);
	r->samples[r->n++] = sample;
}

/*
 * Render n_frames with a fresh mixer, applying each APPLIED message of @p log
 * at its frame, in blocks of at most block_frames that also split at command
 * frames. LOAD takes load_sample (a reference is taken here).
 */
static void ref_render(const struct msg_log *log, struct flz_sample *load_sample, uint32_t rate_hz,
		       uint32_t n_channels, uint32_t block_frames, float *out, int64_t n_frames)
{
	struct ref_retired retired = { .n = 0 };
	struct flz_mixer_config mc = flz_mixer_config_init();
	mc.rate_hz = rate_hz;
	mc.n_channels = n_channels;
	mc.max_block_frames = block_frames;
	mc.retire = ref_retire;
	mc.userdata = &retired;
	struct flz_mixer *mixer = NULL;
	ck_assert_int_eq(flz_mixer_new(&mc, &mixer), 0);

	size_t next = 0;
	int64_t frame = 0;
	while (frame < n_frames) {
		while (next < log->n && (log->msgs[next].kind != FLZ_MSG_APPLIED ||
					 log->msgs[next].frame <= frame)) {
			const struct flz_engine_msg *m = &log->msgs[next++];
			if (m->kind != FLZ_MSG_APPLIED)
				continue;
			ck_assert_int_eq(m->frame, frame);
			switch (m->cmd) {
			case FLZ_CMD_LOAD:
				flz_sample_ref(load_sample);
				ck_assert_int_eq(flz_mixer_load(mixer, m->slot, load_sample), 0);
				break;
			case FLZ_CMD_PLAY:
				ck_assert_int_ge(flz_mixer_play(mixer, m->slot, (float)m->value), 0);
				break;
			case FLZ_CMD_STOP:
				ck_assert_int_ge(flz_mixer_stop_slot(mixer, m->slot, m->seq), 0);
				break;
			case FLZ_CMD_STOP_ALL:
				ck_assert_int_ge(flz_mixer_stop_all(mixer, m->seq), 0);
				break;
			case FLZ_CMD_UNLOAD:
				ck_assert_int_ge(flz_mixer_unload(mixer, m->slot, m->seq), 0);
				break;
			case FLZ_CMD_VOLUME:
				ck_assert_int_eq(flz_mixer_set_master_gain(mixer, (float)m->value), 0);
				break;
			case FLZ_CMD_SPEED:
				ck_assert_int_eq(flz_mixer_set_speed(mixer, m->value), 0);
				break;
			case FLZ_CMD_PING:
				break;
			}
		}
		int64_t end = frame + block_frames;
		if (end > n_frames)
			end = n_frames;
		for (size_t k = next; k < log->n; k++) {
			if (log->msgs[k].kind == FLZ_MSG_APPLIED) {
				if (log->msgs[k].frame < end)
					end = log->msgs[k].frame;
				break;
			}
		}
		ck_assert_int_eq(flz_mixer_render(mixer, out + frame * n_channels,
						  (uint32_t)(end - frame)),
				 0);
		frame = end;
	}
	flz_mixer_destroy(mixer);
	for (size_t i = 0; i < retired.n; i++)
		flz_sample_unref(retired.samples[i]);
}

/* ------------------------------------------------------------------------
 * engine:ring
 * ------------------------------------------------------------------------ */

START_TEST(ring_order_capacity)
{
	uint32_t storage[8];
	struct flz_ring ring;
	ck_assert_int_eq(flz_ring_init(&ring, storage, sizeof(uint32_t), 6), -EINVAL);
	ck_assert_int_eq(flz_ring_init(&ring, storage, sizeof(uint32_t), 8), 0);

	uint32_t v, next_in = 0, next_out = 0;
	/* Many rounds, so that the counters wrap around the storage often, with
	 * fill levels 0, 1, odd and full. */
	const unsigned fills[] = { 0, 1, 5, 8 };
	for (int round = 0; round < 100; round++) {
		unsigned fill = fills[round % 4];
		for (unsigned i = 0; i < fill; i++) {
			ck_assert(flz_ring_push(&ring, &next_in));
			next_in++;
		}
		ck_assert_uint_eq(flz_ring_count(&ring), fill);
		if (fill == 8) {
			v = 12345;
			ck_assert(!flz_ring_push(&ring, &v)); /* full: refused, nothing written */
			ck_assert_uint_eq(flz_ring_count(&ring), 8);
		}
		for (unsigned i = 0; i < fill; i++) {
			ck_assert(flz_ring_pop(&ring, &v));
			ck_assert_uint_eq(v, next_out);
			next_out++;
		}
		ck_assert(!flz_ring_pop(&ring, &v));
	}
	ck_assert_uint_eq(next_in, next_out);
}
END_TEST

struct stress_msg {
	uint64_t seq;
	uint64_t value;
};

#define STRESS_COUNT 400000u

struct stress {
	struct flz_ring ring;
	struct stress_msg storage[64];
	uint64_t producer_sum;
};

static uint64_t stress_value(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static void *stress_producer(void *arg)
{
	struct stress *st = arg;
	uint64_t sum = 0;
	for (uint64_t i = 0; i < STRESS_COUNT; i++) {
		struct stress_msg m = { i, stress_value(i) };
		sum += m.value * (i + 1);
		while (!flz_ring_push(&st->ring, &m))
			sched_yield();
	}
	st->producer_sum = sum;
	return NULL;
}

START_TEST(ring_two_thread_stress)
{
	/* The ring's counters are cache-line aligned: calloc's 16 would not do. */
	const size_t n_bytes = (sizeof(struct stress) + FLZ_CACHE_LINE - 1) / FLZ_CACHE_LINE *
			       FLZ_CACHE_LINE;
	struct stress *st = aligned_alloc(_Alignof(struct stress), n_bytes);
	ck_assert_ptr_nonnull(st);
	memset(st, 0, n_bytes);
	ck_assert_int_eq(flz_ring_init(&st->ring, st->storage, sizeof(struct stress_msg), 64), 0);
	pthread_t producer;
	ck_assert_int_eq(pthread_create(&producer, NULL, stress_producer, st), 0);

	uint64_t sum = 0;
	for (uint64_t i = 0; i < STRESS_COUNT; i++) {
		struct stress_msg m;
		while (!flz_ring_pop(&st->ring, &m))
			sched_yield();
		/* In order, nothing lost or duplicated, the payload intact. */
		ck_assert_uint_eq(m.seq, i);
		ck_assert_uint_eq(m.value, stress_value(i));
		sum += m.value * (i + 1);
	}
	pthread_join(producer, NULL);
	ck_assert_uint_eq(sum, st->producer_sum);
	struct stress_msg extra;
	ck_assert(!flz_ring_pop(&st->ring, &extra));
	free(st);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:seq
 * ------------------------------------------------------------------------ */

START_TEST(seq_wrap_and_pack)
{
	ck_assert(flz_engine_seq_after(2, 1));
	ck_assert(!flz_engine_seq_after(1, 2));
	ck_assert(!flz_engine_seq_after(7, 7));
	/* Across the wrap: 0 and 5 come after 0xfffffff0. */
	ck_assert(flz_engine_seq_after(0, 0xfffffff0u));
	ck_assert(flz_engine_seq_after(5, 0xffffffffu));
	ck_assert(!flz_engine_seq_after(0xffffffffu, 5));

	uint64_t p = flz_engine_param_pack(0xdeadbeefu, 0.625f);
	ck_assert_uint_eq(flz_engine_param_seq(p), 0xdeadbeefu);
	ck_assert(flz_engine_param_value(p) == 0.625f);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:format
 * ------------------------------------------------------------------------ */

static double clip_ref(float x)
{
	if (isnan(x))
		return 0.0;
	return x > 1.0f ? 1.0 : (x < -1.0f ? -1.0 : (double)x);
}

static void check_converter(enum flz_device_format format, size_t n_samples)
{
	flz_format_convert_fn fn = flz_format_converter(format);
	ck_assert(fn != NULL);
	uint32_t bytes = flz_format_sample_bytes(format);
	float *src = malloc((n_samples + 1) * sizeof(float));
	unsigned char *dst = malloc((n_samples + 1) * 4 + 1);
	ck_assert(src && dst);
	flz_test_noise(src, n_samples, 1.5, 77u + (uint32_t)n_samples);
	/* Fixed points where present: silence, full scale both ways, clipping,
	 * NaN, the infinities, the largest floats, a NaN with its sign set. */
	const float special[] = { 0.0f, 1.0f,      -1.0f,     2.0f,     -3.0f,    NAN,   0.5f,
				  -0.25f, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, -NAN, 8.0f };
	const size_t n_special = sizeof(special) / sizeof(special[0]);
	for (size_t i = 0; i < n_samples && i < n_special; i++)
		src[i] = special[i];
	/* In the largest block, NaN also lands in the last vector lanes and the tail. */
	if (n_samples > 64) {
		src[n_samples - 1] = NAN;
		src[n_samples - 9] = -NAN;
		src[n_samples - 10] = INFINITY;
	}
	memset(dst, 0xa5, (n_samples + 1) * 4 + 1);
	fn(dst, src, n_samples);
	/* The byte after the last sample is untouched. */
	ck_assert_uint_eq(dst[n_samples * bytes], 0xa5);

	for (size_t i = 0; i < n_samples; i++) {
		const unsigned char *b = dst + i * bytes;
		switch (format) {
		case FLZ_FORMAT_FLOAT_LE: {
			float f;
			memcpy(&f, b, 4);
			/* exact: the value itself within -1..1, else the bound; NaN 0 */
			ck_assert_msg(f == (float)clip_ref(src[i]), "sample %zu: %g from %g", i,
				      f, src[i]);
			break;
		}
		case FLZ_FORMAT_S32_LE: {
			int32_t v = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
					      (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
			int64_t want = (int64_t)nearbyint(clip_ref(src[i]) * 2147483647.0);
			ck_assert_int_eq(v, want); /* exact: round to nearest */
			break;
		}
		case FLZ_FORMAT_S24_3LE: {
			int32_t v = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
					      (uint32_t)b[2] << 16);
			if (v & 0x800000)
				v -= 0x1000000;
			ck_assert_int_eq(v, (int64_t)nearbyint(clip_ref(src[i]) * 8388607.0));
			break;
		}
		case FLZ_FORMAT_S16_LE: {
			int16_t v = (int16_t)((uint16_t)b[0] | (uint16_t)b[1] << 8);
			ck_assert_int_eq(v, (int64_t)nearbyint(clip_ref(src[i]) * 32767.0));
			break;
		}
		case FLZ_FORMAT_UNKNOWN:
			ck_abort();
		}
	}
	if (n_samples >= 6) {
		/* Full scale is symmetric and clipping holds. */
		if (format == FLZ_FORMAT_S16_LE) {
			int16_t v[6];
			for (int k = 0; k < 6; k++)
				v[k] = (int16_t)(dst[2 * k] | dst[2 * k + 1] << 8);
			ck_assert_int_eq(v[0], 0);
			ck_assert_int_eq(v[1], 32767);
			ck_assert_int_eq(v[2], -32767);
			ck_assert_int_eq(v[3], 32767);
			ck_assert_int_eq(v[4], -32767);
			ck_assert_int_eq(v[5], 0);
		}
	}
	free(src);
	free(dst);
}

/* The in-place clamp of the plain-float path stores what the FLOAT_LE
 * converter stores, bit for bit (signed zeros included), and touches
 * nothing past n_samples. */
static void check_clamp(size_t n_samples)
{
	float *x = malloc((n_samples + 1) * sizeof(float));
	float *want = malloc((n_samples + 1) * sizeof(float));
	ck_assert(x && want);
	flz_test_noise(x, n_samples + 1, 9.0, 5u + (uint32_t)n_samples);
	const float special[] = { NAN, INFINITY, -INFINITY, 8.0f, -8.0f, -0.0f, 1.0f, -1.0f, -NAN };
	for (size_t i = 0; i < n_samples && i < 9; i++)
		x[i] = special[i];
	if (n_samples > 16)
		x[n_samples - 1] = NAN;
	const float guard = x[n_samples];
	flz_format_converter(FLZ_FORMAT_FLOAT_LE)(want, x, n_samples);
	flz_format_clamp_float_rt(x, n_samples);
	ck_assert_int_eq(memcmp(x, want, n_samples * sizeof(float)), 0);
	ck_assert(x[n_samples] == guard);
	for (size_t i = 0; i < n_samples; i++)
		ck_assert(x[i] >= -1.0f && x[i] <= 1.0f); /* false for NaN */
	if (n_samples >= 9) {
		ck_assert(x[0] == 0.0f && x[1] == 1.0f && x[2] == -1.0f && x[3] == 1.0f &&
			  x[4] == -1.0f && x[8] == 0.0f);
		ck_assert(x[5] == 0.0f && signbit(x[5])); /* -0 stays -0 */
	}
	free(x);
	free(want);
}

START_TEST(format_converters)
{
	const enum flz_device_format formats[] = { FLZ_FORMAT_FLOAT_LE, FLZ_FORMAT_S32_LE,
						   FLZ_FORMAT_S24_3LE, FLZ_FORMAT_S16_LE };
	/* 0, 1, an odd count, one vector block and a tail, and the largest
	 * block (8 channels). */
	const size_t counts[] = { 0, 1, 7, 13, (size_t)FLZ_MAX_BLOCK_FRAMES * FLZ_MAX_CHANNELS };
	const size_t n_counts = sizeof(counts) / sizeof(counts[0]);
	for (size_t f = 0; f < 4; f++)
		for (size_t c = 0; c < n_counts; c++)
			check_converter(formats[f], counts[c]);
	for (size_t c = 0; c < n_counts; c++)
		check_clamp(counts[c]);
	check_clamp(FLZ_MAX_BLOCK_FRAMES * FLZ_MAX_CHANNELS - 3);
	ck_assert(flz_format_converter(FLZ_FORMAT_UNKNOWN) == NULL);
	ck_assert_str_eq(flz_device_format_name(FLZ_FORMAT_S24_3LE), "S24_3LE");
	ck_assert_str_eq(flz_device_format_name(FLZ_FORMAT_FLOAT_LE), "FLOAT_LE");
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:api (arguments, states)
 * ------------------------------------------------------------------------ */

START_TEST(api_arguments_and_states)
{
	struct flz_engine_config config = flz_engine_config_init();
	ck_assert_uint_eq(config.rate_hz, 48000);
	ck_assert_uint_eq(config.n_channels, 2);
	ck_assert_uint_eq(config.period_frames, 128);
	ck_assert_uint_eq(config.n_periods, 2);
	ck_assert_int_eq(config.rt_priority, 70);

	struct flz_engine *engine = NULL;
	struct flz_engine_config bad = config;
	bad.n_channels = 0;
	ck_assert_int_eq(flz_engine_new(&bad, &engine), -EINVAL);
	bad = config;
	bad.rate_hz = 1000;
	ck_assert_int_eq(flz_engine_new(&bad, &engine), -EINVAL);
	bad = config;
	bad.n_periods = 1;
	ck_assert_int_eq(flz_engine_new(&bad, &engine), -EINVAL);
	bad = config;
	bad.rt_priority = 100;
	ck_assert_int_eq(flz_engine_new(&bad, &engine), -EINVAL);
	ck_assert_ptr_null(engine);

	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	/* Not running: every command says so. */
	ck_assert(!flz_engine_is_running(engine));
	ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), -ENOTCONN);
	ck_assert_int_eq(flz_engine_stop_slot(engine, 0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_stop_all(engine), -ENOTCONN);
	ck_assert_int_eq(flz_engine_unload(engine, 0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.5f), -ENOTCONN);
	ck_assert_int_eq(flz_engine_set_speed(engine, 1.0), -ENOTCONN);
	ck_assert_int_eq(flz_engine_ping(engine), -ENOTCONN);
	struct flz_engine_msg m;
	ck_assert_int_eq(flz_engine_poll_message(engine, &m), -ENOTCONN);
	char why[256];
	ck_assert_int_eq(flz_engine_load_file(engine, 0, "/nonexistent.wav", why, sizeof(why)),
			 -ENOTCONN);
	flz_engine_stop(engine); /* idempotent when stopped */

	ck_assert_int_eq(flz_engine_start_offline(engine), 0);
	ck_assert(flz_engine_is_running(engine));
	ck_assert_int_eq(flz_engine_start_offline(engine), -EBUSY);
	snprintf(why, sizeof(why), "stale");
	ck_assert_int_eq(flz_engine_start(engine, why, sizeof(why)), -EBUSY);
	/* "Already running" leaves why empty; a busy device would name itself. */
	ck_assert_str_eq(why, "");
	/* Bad arguments, NaN and infinities included, change nothing. */
	ck_assert_int_eq(flz_engine_play(engine, -1, 0.5f), -EINVAL);
	ck_assert_int_eq(flz_engine_play(engine, FLZ_NUM_SAMPLES, 0.5f), -EINVAL);
	ck_assert_int_eq(flz_engine_play(engine, 0, 1.5f), -EINVAL);
	ck_assert_int_eq(flz_engine_play(engine, 0, NAN), -EINVAL);
	ck_assert_int_eq(flz_engine_stop_slot(engine, 216), -EINVAL);
	ck_assert_int_eq(flz_engine_unload(engine, -5), -EINVAL);
	ck_assert_int_eq(flz_engine_set_volume(engine, -0.1f), -EINVAL);
	ck_assert_int_eq(flz_engine_set_volume(engine, INFINITY), -EINVAL);
	ck_assert_int_eq(flz_engine_set_speed(engine, 0.49), -EINVAL);
	ck_assert_int_eq(flz_engine_set_speed(engine, NAN), -EINVAL);
	ck_assert_int_eq(flz_engine_poll_message(engine, &m), 0);

	struct flz_sample *wrong_rate = make_noise(10, 2, 44100, 0.5, 1);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, wrong_rate), -EINVAL);
	struct flz_sample *wrong_ch = make_noise(10, 1, 48000, 0.5, 1);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, wrong_ch), -EINVAL);
	/* The caller keeps its reference on failure. */
	ck_assert_int_eq(refcount(wrong_rate), 1);
	flz_sample_unref(wrong_rate);
	flz_sample_unref(wrong_ch);

	ck_assert_int_eq(flz_engine_load_file(engine, 0, "/nonexistent/x.wav", why, sizeof(why)),
			 -ENOENT);
	ck_assert_str_ne(why, "");

	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	ck_assert(stats.running);
	ck_assert_uint_eq(stats.rate_hz, 48000);
	ck_assert_uint_eq(stats.n_channels, 2);

	flz_engine_stop(engine);
	ck_assert(!flz_engine_is_running(engine));
	flz_engine_get_stats(engine, &stats);
	ck_assert(!stats.running);
	flz_engine_destroy(engine);
	flz_engine_destroy(NULL);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:commands
 * ------------------------------------------------------------------------ */

START_TEST(commands_order_and_content)
{
	const uint32_t block = 64;
	struct flz_engine *engine = offline_engine(block, true);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	struct flz_sample *sample = make_noise(1000, 2, 48000, 0.5, 42);
	flz_sample_ref(sample); /* ours, for the reference render */

	const int64_t n_frames = 64 * 60;
	float *out = calloc((size_t)n_frames * 2, sizeof(float));
	float *want = calloc((size_t)n_frames * 2, sizeof(float));
	static struct msg_log log;
	log.n = 0;

	/* Commands are applied at the start of the next block, in call order. */
	ck_assert_int_eq(flz_engine_load_sample(engine, 3, sample), 0);
	ck_assert_int_eq(flz_engine_play(engine, 3, 0.5f), 0);
	ck_assert_int_eq(flz_engine_play(engine, 7, 1.0f), 0); /* empty slot: ignored */
	int64_t frame = 0;
	for (int b = 0; b < 60; b++) {
		if (b == 10)
			ck_assert_int_eq(flz_engine_play(engine, 3, 0.25f), 0);
		if (b == 20)
			ck_assert_int_eq(flz_engine_set_volume(engine, 0.5f), 0);
		if (b == 25) {
			ck_assert_int_eq(flz_engine_stop_slot(engine, 3), 0);
			ck_assert_int_eq(flz_engine_ping(engine), 0);
		}
		if (b == 40) {
			ck_assert_int_eq(flz_engine_play(engine, 3, 1.0f), 0);
			ck_assert_int_eq(flz_engine_set_speed(engine, 1.5), 0);
		}
		if (b == 50) {
			ck_assert_int_eq(flz_engine_unload(engine, 3), 0);
			ck_assert_int_eq(flz_engine_stop_all(engine), 0);
		}
		ck_assert_int_eq(flz_engine_core_process_rt(core, out + frame * 2, block), 0);
		frame += block;
	}
	collect(engine, &log);

	/* The applied commands, in order, with their frames. */
	struct {
		enum flz_cmd_kind cmd;
		int32_t slot;
		double value;
		int64_t frame;
	} expect[] = {
		{ FLZ_CMD_LOAD, 3, 0.0, 0 },	   { FLZ_CMD_PLAY, 3, 0.5, 0 },
		{ FLZ_CMD_PLAY, 7, 1.0, 0 },	   { FLZ_CMD_PLAY, 3, 0.25, 640 },
		{ FLZ_CMD_VOLUME, -1, 0.5, 1280 }, { FLZ_CMD_STOP, 3, 0.0, 1600 },
		{ FLZ_CMD_PING, -1, 0.0, 1600 },   { FLZ_CMD_PLAY, 3, 1.0, 2560 },
		{ FLZ_CMD_SPEED, -1, 1.5, 2560 },  { FLZ_CMD_UNLOAD, 3, 0.0, 3200 },
		{ FLZ_CMD_STOP_ALL, -1, 0.0, 3200 },
	};
	size_t n_expect = sizeof(expect) / sizeof(expect[0]);
	size_t k = 0;
	uint32_t last_seq = 0, stop_seq = 0, ping_seq = 0, unload_seq = 0;
	int n_pong = 0, n_stopped = 0;
	for (size_t i = 0; i < log.n; i++) {
		const struct flz_engine_msg *m = &log.msgs[i];
		if (m->kind == FLZ_MSG_APPLIED) {
			ck_assert_uint_lt(k, n_expect);
			ck_assert_int_eq(m->cmd, expect[k].cmd);
			ck_assert_int_eq(m->slot, expect[k].slot);
			ck_assert_double_eq_tol(m->value, expect[k].value, 1e-7);
			ck_assert_int_eq(m->frame, expect[k].frame);
			/* Sequence numbers rise in call order. */
			ck_assert(flz_engine_seq_after(m->seq, last_seq));
			last_seq = m->seq;
			if (m->cmd == FLZ_CMD_STOP)
				stop_seq = m->seq;
			if (m->cmd == FLZ_CMD_PING)
				ping_seq = m->seq;
			if (m->cmd == FLZ_CMD_UNLOAD)
				unload_seq = m->seq;
			k++;
		} else if (m->kind == FLZ_MSG_PONG) {
			ck_assert_uint_eq(m->seq, ping_seq);
			ck_assert_int_eq(m->frame, 1600);
			n_pong++;
		} else if (m->kind == FLZ_MSG_STOPPED) {
			/* Once per stop that silenced a voice, after the fade (5 ms at
			 * 48 kHz = 240 frames, plus the block it ends in). */
			if (n_stopped == 0) {
				ck_assert_uint_eq(m->seq, stop_seq);
				ck_assert_int_eq(m->slot, 3);
				ck_assert_int_gt(m->frame, 1600);
				ck_assert_int_le(m->frame, 1600 + 240 + 2 * block);
			} else {
				/* The unload silenced the voice; stop_all found none playing. */
				ck_assert_uint_eq(m->seq, unload_seq);
				ck_assert_int_eq(m->slot, 3);
			}
			n_stopped++;
		} else {
			ck_abort_msg("unexpected message kind %d", m->kind);
		}
	}
	ck_assert_uint_eq(k, n_expect);
	ck_assert_int_eq(n_pong, 1);
	ck_assert_int_eq(n_stopped, 2);

	/* Content: the engine's output equals a plain mixer given the same
	 * commands at the same frames (same arithmetic: tolerance 1e-6). */
	ref_render(&log, sample, 48000, 2, block, want, n_frames);
	size_t at = 0;
	double diff = flz_test_max_diff(out, want, (size_t)n_frames * 2, &at);
	ck_assert_msg(diff <= 1e-6, "engine vs reference: %g at sample %zu", diff, at);
	/* And it is not silence (so the comparison means something). */
	double peak = 0.0;
	for (int64_t i = 0; i < n_frames * 2; i++)
		peak = fmax(peak, fabs(out[i]));
	ck_assert_double_gt(peak, 0.1);

	flz_engine_destroy(engine);
	ck_assert_int_eq(refcount(sample), 1);
	flz_sample_unref(sample);
	free(out);
	free(want);
}
END_TEST

/* Several control threads at once, the audio side draining concurrently:
 * every command arrives once, each thread's commands in its call order. */
#define MT_THREADS 4
#define MT_PER_THREAD 3000

struct mt_ctx {
	struct flz_engine *engine;
	int32_t slot;
	atomic_bool *quit;
};

static void *mt_producer(void *arg)
{
	struct mt_ctx *ctx = arg;
	for (int i = 0; i < MT_PER_THREAD; i++) {
		float gain = (float)(i + 1) / (float)MT_PER_THREAD;
		int err;
		while ((err = flz_engine_play(ctx->engine, ctx->slot, gain)) == -EAGAIN) {
			/* acquire: pairs with the main thread's release store. */
			if (atomic_load_explicit(ctx->quit, memory_order_acquire))
				return NULL; /* the test gave up; it reports why */
			sched_yield();
		}
		if (err != 0)
			return (void *)1;
		if (i % 97 == 0 && flz_engine_set_volume(ctx->engine, gain) != 0)
			return (void *)1;
	}
	return NULL;
}

static void *mt_drainer(void *arg)
{
	struct mt_ctx *ctx = arg;
	struct flz_engine_core *core = flz_engine_get_core(ctx->engine);
	float out[64 * 2];
	/* acquire: pairs with the main thread's release store. */
	while (!atomic_load_explicit(ctx->quit, memory_order_acquire)) {
		/* Stand in for a real-time pace: let the reader keep up, so that
		 * no trace message is dropped (a block yields at most 1024 + 2). */
		if (flz_ring_count(&core->msg_ring) > FLZ_ENGINE_MSG_CAPACITY - 1100) {
			sched_yield();
			continue;
		}
		if (flz_engine_core_process_rt(core, out, 64) != 0)
			return (void *)1;
	}
	return NULL;
}

START_TEST(commands_many_threads)
{
	struct flz_engine *engine = offline_engine(64, true);
	atomic_bool quit;
	atomic_init(&quit, false);
	struct mt_ctx ctx[MT_THREADS + 1];
	pthread_t threads[MT_THREADS + 1];
	for (int t = 0; t <= MT_THREADS; t++) {
		ctx[t] = (struct mt_ctx){ engine, 10 + t, &quit };
		ck_assert_int_eq(pthread_create(&threads[t], NULL,
						t == MT_THREADS ? mt_drainer : mt_producer,
						&ctx[t]),
				 0);
	}

	/* No assertion while the threads run (a failing one would leave them
	 * running on this stack without fork mode): note the first problem. */
	int32_t n_seen[MT_THREADS] = { 0 };
	int n_total = 0;
	uint32_t last_seq = 0;
	char failure[160] = "";
	/* Give up after a long stretch without messages (about a minute of
	 * 100 us naps: generous for sanitizers and valgrind). */
	int idle = 0;
	while (n_total < MT_THREADS * MT_PER_THREAD && !failure[0]) {
		struct flz_engine_msg m;
		int rc = flz_engine_poll_message(engine, &m);
		if (rc == 0) {
			if (++idle > 600000) {
				snprintf(failure, sizeof(failure), "only %d of %d commands arrived",
					 n_total, MT_THREADS * MT_PER_THREAD);
				break;
			}
			struct timespec nap = { 0, 100000 };
			nanosleep(&nap, NULL);
			continue;
		}
		idle = 0;
		if (rc < 0 || m.kind != FLZ_MSG_APPLIED) {
			snprintf(failure, sizeof(failure), "poll %d kind %d", rc, (int)m.kind);
			break;
		}
		/* Applied in one global order: sequence numbers only rise. */
		if (n_total > 0 && !flz_engine_seq_after(m.seq, last_seq))
			snprintf(failure, sizeof(failure), "seq %u after %u", m.seq, last_seq);
		last_seq = m.seq;
		if (m.cmd == FLZ_CMD_VOLUME)
			continue;
		int t = m.slot - 10;
		if (m.cmd != FLZ_CMD_PLAY || t < 0 || t >= MT_THREADS) {
			snprintf(failure, sizeof(failure), "cmd %d slot %d", (int)m.cmd, m.slot);
			break;
		}
		/* Per thread: exactly its calls, in its order. */
		n_seen[t]++;
		if (fabs(m.value - (double)n_seen[t] / MT_PER_THREAD) > 1e-6)
			snprintf(failure, sizeof(failure), "thread %d call %d has gain %g", t,
				 n_seen[t], m.value);
		n_total++;
	}
	atomic_store_explicit(&quit, true, memory_order_release);
	for (int t = 0; t <= MT_THREADS; t++) {
		void *ret = NULL;
		pthread_join(threads[t], &ret);
		ck_assert_ptr_null(ret);
	}
	ck_assert_msg(failure[0] == '\0', "%s", failure);
	ck_assert_int_eq(n_total, MT_THREADS * MT_PER_THREAD);
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	ck_assert_uint_eq(stats.messages_dropped, 0);
	flz_engine_destroy(engine);
}
END_TEST

/* Loading from a file and from memory: decoded at the engine's format,
 * queued, applied; errors leave the slot unchanged and say why. */
START_TEST(commands_load_file)
{
	const uint32_t block = 128;
	struct flz_engine *engine = offline_engine(block, true);
	struct flz_engine_core *core = flz_engine_get_core(engine);

	/* A 48 kHz stereo float WAV of noise. */
	char path[] = "/tmp/flz-test-engine-load-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const int n_frames = 2000;
	float *data = malloc(sizeof(float) * n_frames * 2);
	flz_test_noise(data, (size_t)n_frames * 2, 0.5, 1234);
	SF_INFO info = { .samplerate = 48000, .channels = 2,
			 .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
	ck_assert_ptr_nonnull(sf);
	ck_assert_int_eq(sf_writef_float(sf, data, n_frames), n_frames);
	sf_close(sf);

	char why[256];
	ck_assert_int_eq(flz_engine_load_file(engine, 4, path, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
	ck_assert_int_eq(flz_engine_load_file(engine, 216, path, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(flz_engine_load_file(engine, 5, "/nonexistent/a.wav", why, sizeof(why)),
			 -ENOENT);
	ck_assert_str_ne(why, "");
	const char junk[] = "this is not audio at all, not even close";
	int err = flz_engine_load_memory(engine, 6, junk, sizeof(junk), why, sizeof(why));
	ck_assert_int_lt(err, 0);
	ck_assert_str_ne(why, "");
	ck_assert_int_eq(flz_engine_play(engine, 4, 1.0f), 0);
	ck_assert_int_eq(flz_engine_play(engine, 5, 1.0f), 0); /* empty: silent */
	ck_assert_int_eq(flz_engine_play(engine, 6, 1.0f), 0); /* empty: silent */

	float *out = calloc((size_t)block * 10 * 2, sizeof(float));
	for (int b = 0; b < 10; b++)
		ck_assert_int_eq(flz_engine_core_process_rt(core, out + b * block * 2, block), 0);
	static struct msg_log log;
	log.n = 0;
	collect(engine, &log);
	ck_assert_uint_eq(log.n, 4);
	ck_assert_int_eq(log.msgs[0].cmd, FLZ_CMD_LOAD);
	ck_assert_int_eq(log.msgs[0].slot, 4);

	/* The file's frames at the same rate: the output is the reference mix
	 * of the original data (tolerance 1e-5 for the decode path). */
	struct flz_sample *orig = flz_sample_new(n_frames, 2, 48000);
	memcpy(orig->data, data, sizeof(float) * n_frames * 2);
	float *want = calloc((size_t)block * 10 * 2, sizeof(float));
	log.n = 2; /* LOAD and PLAY slot 4 */
	ref_render(&log, orig, 48000, 2, block, want, block * 10);
	size_t at = 0;
	double diff = flz_test_max_diff(out, want, (size_t)block * 10 * 2, &at);
	ck_assert_msg(diff <= 1e-5, "loaded file vs original: %g at %zu", diff, at);
	double peak = 0.0;
	for (uint32_t i = 0; i < block * 10 * 2; i++)
		peak = fmax(peak, fabs(out[i]));
	ck_assert_double_gt(peak, 0.1);

	flz_engine_destroy(engine);
	flz_sample_unref(orig);
	unlink(path);
	free(data);
	free(out);
	free(want);
}
END_TEST

/* The engine's log lines, as its callback delivers them. */
struct log_lines {
	int n;
	enum flz_log_level level[8];
	char text[8][512];
};

static void log_collect(void *userdata, enum flz_log_level level, const char *message)
{
	struct log_lines *l = userdata;
	if (l->n < 8) {
		l->level[l->n] = level;
		snprintf(l->text[l->n], sizeof(l->text[0]), "%s", message);
	}
	l->n++;
}

/* A file with NaN and infinities: it loads, and the load says what was
 * replaced, per kind, naming the slot and the file; a clean file says nothing. */
START_TEST(commands_load_nonfinite)
{
	static struct log_lines lines;
	memset(&lines, 0, sizeof(lines));
	struct flz_engine_config config = flz_engine_config_init();
	config.log = log_collect;
	config.log_userdata = &lines;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	ck_assert_int_eq(flz_engine_start_offline(engine), 0);
	int n_start = lines.n;

	char path[] = "/tmp/flz-test-engine-bad-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	enum { N = 1000 };
	float data[N * 2];
	flz_test_noise(data, N * 2, 0.5, 99);
	data[10] = NAN;
	data[11] = NAN;
	data[12] = INFINITY;
	data[13] = -INFINITY;
	data[14] = -INFINITY;
	data[15] = 8.0f; /* finite: kept, not counted */
	data[2 * N - 1] = NAN;
	SF_INFO info = { .samplerate = 48000, .channels = 2,
			 .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
	ck_assert_ptr_nonnull(sf);
	ck_assert_int_eq(sf_writef_float(sf, data, N), N);
	sf_close(sf);

	char why[256];
	ck_assert_int_eq(flz_engine_load_file(engine, 7, path, why, sizeof(why)), 0);
	ck_assert_int_eq(lines.n, n_start + 1);
	ck_assert_int_eq(lines.level[n_start], FLZ_LOG_WARNING);
	char want[512];
	snprintf(want, sizeof(want),
		 "slot 7: 6 non-finite sample values replaced (NaN -> 0: 3, +Inf -> +1: 1, "
		 "-Inf -> -1: 2, rate-conversion overflow: 0) in \"%s\"",
		 path);
	ck_assert_str_eq(lines.text[n_start], want);

	/* From memory: the same counts, the source named as such. */
	int rfd = open(path, O_RDONLY);
	ck_assert_int_ge(rfd, 0);
	static unsigned char bytes[1 << 16];
	ssize_t n_bytes = read(rfd, bytes, sizeof(bytes));
	close(rfd);
	ck_assert_int_gt(n_bytes, N * 8);
	ck_assert_int_eq(flz_engine_load_memory(engine, 8, bytes, (size_t)n_bytes, why,
						sizeof(why)),
			 0);
	ck_assert_int_eq(lines.n, n_start + 2);
	ck_assert_str_eq(lines.text[n_start + 1],
			 "slot 8: 6 non-finite sample values replaced (NaN -> 0: 3, +Inf -> +1: 1, "
			 "-Inf -> -1: 2, rate-conversion overflow: 0) in \"memory buffer\"");

	/* A refused load and a clean file: no line. */
	flz_test_noise(data, N * 2, 0.5, 98);
	ck_assert_int_eq(flz_engine_load_memory(engine, 9, bytes, 0, why, sizeof(why)) < 0, 1);
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
	ck_assert_ptr_nonnull(sf);
	ck_assert_int_eq(sf_writef_float(sf, data, N), N);
	sf_close(sf);
	ck_assert_int_eq(flz_engine_load_file(engine, 9, path, why, sizeof(why)), 0);
	ck_assert_int_eq(lines.n, n_start + 2);

	flz_engine_destroy(engine);
	unlink(path);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:params (latest value wins, in call order, even with a full queue)
 * ------------------------------------------------------------------------ */

START_TEST(params_full_queue)
{
	struct flz_engine *engine = offline_engine(128, true);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	static struct msg_log log;
	log.n = 0;

	/* Fill the command queue exactly. */
	int n_ok = 0;
	while (flz_engine_play(engine, 1, 0.5f) == 0)
		n_ok++;
	ck_assert_int_eq(n_ok, FLZ_QUEUE_CAPACITY);
	ck_assert_int_eq(flz_engine_ping(engine), -EAGAIN);
	/* Parameters are never refused; the last value wins. */
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.1f), 0);
	ck_assert_int_eq(flz_engine_set_speed(engine, 0.75), 0);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.7f), 0);
	ck_assert_int_eq(flz_engine_set_speed(engine, 1.5), 0);
	ck_assert_int_eq(flz_engine_stop_all(engine), -EAGAIN); /* still full */

	flz_engine_core_drain_rt(core);
	collect(engine, &log);
	ck_assert_uint_eq(log.n, FLZ_QUEUE_CAPACITY + 2);
	for (size_t i = 0; i < FLZ_QUEUE_CAPACITY; i++)
		ck_assert_int_eq(log.msgs[i].cmd, FLZ_CMD_PLAY);
	/* After every queued command (they were older), older parameter first. */
	ck_assert_int_eq(log.msgs[FLZ_QUEUE_CAPACITY].cmd, FLZ_CMD_VOLUME);
	ck_assert_double_eq_tol(log.msgs[FLZ_QUEUE_CAPACITY].value, 0.7, 1e-7);
	ck_assert_int_eq(log.msgs[FLZ_QUEUE_CAPACITY + 1].cmd, FLZ_CMD_SPEED);
	ck_assert_double_eq_tol(log.msgs[FLZ_QUEUE_CAPACITY + 1].value, 1.5, 1e-7);

	/* Nothing pending any more: a second drain applies nothing. */
	log.n = 0;
	flz_engine_core_drain_rt(core);
	collect(engine, &log);
	ck_assert_uint_eq(log.n, 0);

	/* Interleaved: each parameter lands before the first newer command. */
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.2f), 0); /* superseded below */
	ck_assert_int_eq(flz_engine_play(engine, 2, 0.5f), 0);
	ck_assert_int_eq(flz_engine_set_speed(engine, 0.75), 0);
	ck_assert_int_eq(flz_engine_play(engine, 3, 0.5f), 0);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.9f), 0);
	flz_engine_core_drain_rt(core);
	collect(engine, &log);
	ck_assert_uint_eq(log.n, 4);
	ck_assert_int_eq(log.msgs[0].cmd, FLZ_CMD_PLAY);
	ck_assert_int_eq(log.msgs[0].slot, 2);
	ck_assert_int_eq(log.msgs[1].cmd, FLZ_CMD_SPEED);
	ck_assert_double_eq_tol(log.msgs[1].value, 0.75, 1e-7);
	ck_assert_int_eq(log.msgs[2].cmd, FLZ_CMD_PLAY);
	ck_assert_int_eq(log.msgs[2].slot, 3);
	ck_assert_int_eq(log.msgs[3].cmd, FLZ_CMD_VOLUME);
	ck_assert_double_eq_tol(log.msgs[3].value, 0.9, 1e-7);

	/* A parameter set before a command takes effect before it. */
	log.n = 0;
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.3f), 0);
	ck_assert_int_eq(flz_engine_stop_slot(engine, 4), 0);
	flz_engine_core_drain_rt(core);
	collect(engine, &log);
	ck_assert_uint_eq(log.n, 2);
	ck_assert_int_eq(log.msgs[0].cmd, FLZ_CMD_VOLUME);
	ck_assert_double_eq_tol(log.msgs[0].value, 0.3, 1e-7);
	ck_assert_int_eq(log.msgs[1].cmd, FLZ_CMD_STOP);
	ck_assert_uint_eq(log.msgs[1].seq, log.msgs[0].seq + 1);

	flz_engine_destroy(engine);
}
END_TEST

/* The steady output gain follows the latest master volume. */
START_TEST(params_volume_content)
{
	const uint32_t block = 128;
	struct flz_engine *engine = offline_engine(block, false);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	/* A constant (DC) sample: the output level is then the gain itself. */
	struct flz_sample *dc = flz_sample_new(4800, 2, 48000);
	for (int i = 0; i < 4800 * 2; i++)
		dc->data[i] = 0.5f;
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, dc), 0);
	ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), 0);
	for (int v = 0; v < 50; v++)
		ck_assert_int_eq(flz_engine_set_volume(engine, (float)v / 100.0f), 0);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.25f), 0);
	float out[128 * 2];
	/* 100 ms: well past the voice and master ramps and the mixer's delay. */
	for (int b = 0; b < 40; b++)
		ck_assert_int_eq(flz_engine_core_process_rt(core, out, block), 0);
	for (uint32_t i = 0; i < block * 2; i++)
		ck_assert_float_eq_tol(out[i], 0.5f * 0.25f, 1e-4f);
	flz_engine_destroy(engine);
}
END_TEST

/*
 * Across the wrap of the 32-bit sequence counter (started near UINT32_MAX
 * through the test hook), every parameter value and command is applied, in
 * call order: a value numbered 0 is not taken for "nothing new" (the volume
 * was never set before it, which once made it look applied already), and
 * values and commands queued into one block on both sides of the wrap keep
 * their order. Content: the output equals a plain mixer given the traced
 * commands, and ends at the level the last values set.
 */
START_TEST(params_seq_wrap)
{
	const uint32_t block = 64;
	const int n_blocks = 40;
	struct flz_engine *engine = offline_engine(block, true);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	struct flz_sample *dc = flz_sample_new(4800, 2, 48000);
	for (int i = 0; i < 4800 * 2; i++)
		dc->data[i] = 0.5f;
	flz_sample_ref(dc); /* ours, for the reference render */
	float *out = calloc((size_t)block * n_blocks * 2, sizeof(float));
	float *want = calloc((size_t)block * n_blocks * 2, sizeof(float));
	static struct msg_log log;
	log.n = 0;

	ck_assert_int_eq(flz_engine_load_sample(engine, 0, dc), 0); /* seq 1 */
	flz_engine_set_next_seq_for_test(engine, UINT32_MAX - 2);
	for (int b = 0; b < n_blocks; b++) {
		switch (b) {
		case 1:
			ck_assert_int_eq(flz_engine_set_speed(engine, 1.5), 0); /* MAX - 2 */
			break;
		case 2:
			ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), 0); /* MAX - 1 */
			break;
		case 3:
			ck_assert_int_eq(flz_engine_ping(engine), 0); /* MAX */
			break;
		case 4:
			/* One block: a value numbered 0, then a command. */
			ck_assert_int_eq(flz_engine_set_volume(engine, 0.25f), 0); /* 0 */
			ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), 0);	    /* 1 */
			break;
		case 5:
			ck_assert_int_eq(flz_engine_set_volume(engine, 0.5f), 0); /* 2 */
			ck_assert_int_eq(flz_engine_set_speed(engine, 1.0), 0);   /* 3 */
			ck_assert_int_eq(flz_engine_ping(engine), 0);		  /* 4 */
			break;
		case 8:
			/* One block across the wrap itself: MAX - 1, MAX, 0, 1. */
			flz_engine_set_next_seq_for_test(engine, UINT32_MAX - 1);
			ck_assert_int_eq(flz_engine_set_speed(engine, 0.75), 0);
			ck_assert_int_eq(flz_engine_play(engine, 0, 0.25f), 0);
			ck_assert_int_eq(flz_engine_set_volume(engine, 0.75f), 0);
			ck_assert_int_eq(flz_engine_set_speed(engine, 1.0), 0);
			break;
		default:
			break;
		}
		ck_assert_int_eq(flz_engine_core_process_rt(core, out + (size_t)b * block * 2, block),
				 0);
	}
	collect(engine, &log);

	const uint32_t max = UINT32_MAX;
	struct {
		enum flz_cmd_kind cmd;
		double value;
		uint32_t seq;
		int64_t frame;
	} expect[] = {
		{ FLZ_CMD_LOAD, 0.0, 1, 0 },
		{ FLZ_CMD_SPEED, 1.5, max - 2, 1 * 64 },
		{ FLZ_CMD_PLAY, 1.0, max - 1, 2 * 64 },
		{ FLZ_CMD_PING, 0.0, max, 3 * 64 },
		{ FLZ_CMD_VOLUME, 0.25, 0, 4 * 64 },
		{ FLZ_CMD_PLAY, 0.5, 1, 4 * 64 },
		{ FLZ_CMD_VOLUME, 0.5, 2, 5 * 64 },
		{ FLZ_CMD_SPEED, 1.0, 3, 5 * 64 },
		{ FLZ_CMD_PING, 0.0, 4, 5 * 64 },
		/* Speed 0.75 (MAX - 1) was overwritten by speed 1.0 (1) before
		 * the block: only the latest speed counts, in its own place. */
		{ FLZ_CMD_PLAY, 0.25, max, 8 * 64 },
		{ FLZ_CMD_VOLUME, 0.75, 0, 8 * 64 },
		{ FLZ_CMD_SPEED, 1.0, 1, 8 * 64 },
	};
	const size_t n_expect = sizeof(expect) / sizeof(expect[0]);
	size_t k = 0;
	int n_pong = 0;
	for (size_t i = 0; i < log.n; i++) {
		const struct flz_engine_msg *m = &log.msgs[i];
		if (m->kind == FLZ_MSG_PONG) {
			n_pong++;
			continue;
		}
		ck_assert_int_eq(m->kind, FLZ_MSG_APPLIED);
		ck_assert_msg(k < n_expect, "unexpected trace: cmd %d seq %u", m->cmd, m->seq);
		ck_assert_msg(m->cmd == expect[k].cmd && m->seq == expect[k].seq,
			      "trace %zu: cmd %d seq %u, want cmd %d seq %u", k, m->cmd, m->seq,
			      expect[k].cmd, expect[k].seq);
		ck_assert_double_eq_tol(m->value, expect[k].value, 1e-7);
		ck_assert_int_eq(m->frame, expect[k].frame);
		k++;
	}
	ck_assert_uint_eq(k, n_expect);
	ck_assert_int_eq(n_pong, 2);

	/* The same commands at the same frames through a plain mixer (same
	 * arithmetic: tolerance 1e-6), and the end level: DC 0.5 x voices
	 * (1 + 0.5 + 0.25) x master 0.75, through the interpolator's unit DC
	 * gain at speed 1 (tolerance 1e-4). */
	const int64_t n_frames = (int64_t)block * n_blocks;
	ref_render(&log, dc, 48000, 2, block, want, n_frames);
	size_t at = 0;
	double diff = flz_test_max_diff(out, want, (size_t)n_frames * 2, &at);
	ck_assert_msg(diff <= 1e-6, "engine vs reference: %g at sample %zu", diff, at);
	ck_assert_float_eq_tol(out[(n_frames - 1) * 2], 0.5f * 1.75f * 0.75f, 1e-4f);

	flz_engine_destroy(engine);
	ck_assert_int_eq(refcount(dc), 1);
	flz_sample_unref(dc);
	free(out);
	free(want);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:memory (retired samples go back and are freed; nothing leaks)
 * ------------------------------------------------------------------------ */

static bool wait_refcount(struct flz_sample *s, int want)
{
	for (int i = 0; i < 400; i++) { /* the housekeeping thread runs every 20 ms */
		if (refcount(s) == want)
			return true;
		sleep_ms(5);
	}
	return false;
}

START_TEST(memory_retire_and_free)
{
	const uint32_t block = 128;
	struct flz_engine *engine = offline_engine(block, false);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	float out[128 * 2];
	struct flz_sample *s[6];
	for (int i = 0; i < 6; i++) {
		s[i] = make_noise(500 + i, 2, 48000, 0.3, 100 + (uint32_t)i);
		flz_sample_ref(s[i]); /* the test's own reference: refcount 2 */
	}

	ck_assert_int_eq(flz_engine_load_sample(engine, 0, s[0]), 0);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, s[1]), 0); /* replaces s0 */
	ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), 0);
	ck_assert_int_eq(flz_engine_load_sample(engine, 1, s[2]), 0);
	ck_assert_int_eq(flz_engine_load_sample(engine, 2, s[3]), 0);
	ck_assert_int_eq(flz_engine_play(engine, 2, 1.0f), 0);
	ck_assert_int_eq(flz_engine_core_process_rt(core, out, block), 0);
	/* s1 plays and is in slot 0 while s0 was never played: retired at once. */
	ck_assert_msg(wait_refcount(s[0], 1), "s0 not freed: refcount %d", refcount(s[0]));

	ck_assert_int_eq(flz_engine_load_sample(engine, 0, s[4]), 0); /* s1 keeps playing */
	ck_assert_int_eq(flz_engine_unload(engine, 1), 0);	      /* s2: no voice */
	ck_assert_int_eq(flz_engine_core_process_rt(core, out, block), 0);
	ck_assert_msg(wait_refcount(s[2], 1), "s2 not freed");
	/* s1 still plays (slot 0 now holds s4): the engine still holds it. */
	ck_assert_int_ge(refcount(s[1]), 2);
	ck_assert_int_eq(flz_engine_stop_slot(engine, 0), 0);
	for (int b = 0; b < 10; b++) /* past the 5 ms fade */
		ck_assert_int_eq(flz_engine_core_process_rt(core, out, block), 0);
	ck_assert_msg(wait_refcount(s[1], 1), "s1 not freed after its voice ended");

	/* Left in the engine at stop: s3 (slot, playing), s4 (slot), s5 (queued). */
	ck_assert_int_eq(flz_engine_load_sample(engine, 5, s[5]), 0);
	ck_assert_int_eq(refcount(s[3]), 2); /* test + the load's (its voice takes none) */
	ck_assert_int_eq(refcount(s[4]), 2);
	ck_assert_int_eq(refcount(s[5]), 2);
	flz_engine_stop(engine);
	for (int i = 0; i < 6; i++) {
		ck_assert_msg(refcount(s[i]) == 1, "sample %d refcount %d after stop", i,
			      refcount(s[i]));
		flz_sample_unref(s[i]);
	}
	flz_engine_destroy(engine);
}
END_TEST

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll (1 ms naps, up to 20 s: the housekeeping thread may be slow to
 * run on a loaded machine, but it runs) until at most @p most loads are in flight. */
static bool wait_in_flight(struct flz_engine *engine, int most)
{
	const int64_t deadline = mono_ms() + 20000;
	while (flz_engine_samples_in_flight(engine) > most) {
		if (mono_ms() > deadline)
			return false;
		sleep_ms(1);
	}
	return true;
}

/*
 * A C caller keeps its own reference and loads the same sample into a slot
 * again and again, more often than FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT, some
 * loads played: every replaced load leaves the in-flight count once nothing
 * plays it, so every load is accepted (the test waits for housekeeping when
 * the count reaches the bound; before the loads came back with the caller
 * holding a reference, that wait never ended), and at the end the caller's
 * reference is the only one left.
 */
START_TEST(memory_reload_shared)
{
	const uint32_t block = 64;
	struct flz_engine *engine = offline_engine(block, false);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	float out[64 * 2];
	struct flz_sample *s = make_noise(300, 2, 48000, 0.3, 41); /* the test's reference */
	const int n_loads = FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT + 300;
	for (int i = 0; i < n_loads; i++) {
		if (flz_engine_samples_in_flight(engine) >= FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT) {
			/* Only the slot's load and those voices still play stay. */
			ck_assert_msg(wait_in_flight(engine, FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT / 2),
				      "load %d: %d loads still in flight after 20 s", i,
				      flz_engine_samples_in_flight(engine));
		}
		flz_sample_ref(s); /* the one this load hands over */
		int err = flz_engine_load_sample(engine, 0, s);
		ck_assert_msg(err == 0, "load %d of the same sample: %s", i, flz_strerror(err));
		if (i % 50 == 0)
			ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), 0);
		if (i % 50 == 25)
			ck_assert_int_eq(flz_engine_stop_all(engine), 0);
		ck_assert_int_eq(flz_engine_core_process_rt(core, out, block), 0);
	}

	/* Unload and let the fades end: every load comes back. */
	ck_assert_int_eq(flz_engine_unload(engine, 0), 0);
	for (int b = 0; b < 20; b++) /* 1280 frames: past the 240-frame fade and the look-ahead */
		ck_assert_int_eq(flz_engine_core_process_rt(core, out, block), 0);
	ck_assert_msg(wait_in_flight(engine, 0), "%d loads never came back",
		      flz_engine_samples_in_flight(engine));
	/* relaxed: a statistic, read after the count said everything is back. */
	ck_assert_uint_eq(atomic_load_explicit(&core->stat_retire_lost, memory_order_relaxed), 0);
	ck_assert_int_eq(refcount(s), 1);
	flz_engine_stop(engine);
	ck_assert_int_eq(refcount(s), 1);
	/* Still the caller's, and readable. */
	ck_assert(isfinite(s->data[0]) && isfinite(s->data[599]));
	flz_sample_unref(s);
	flz_engine_destroy(engine);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:alsa-null and engine:alsa-missing
 * ------------------------------------------------------------------------ */

static struct flz_engine *null_engine(enum flz_device_format format, bool trace)
{
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "flznull";
	config.format = format;
	/* The null PCM is not paced: the audio thread spins; keep it ordinary. */
	config.rt_priority = 0;
	config.trace_commands = trace;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	return engine;
}

START_TEST(alsa_null_open_configure_close)
{
	const enum flz_device_format formats[] = { FLZ_FORMAT_UNKNOWN, FLZ_FORMAT_FLOAT_LE,
						   FLZ_FORMAT_S32_LE, FLZ_FORMAT_S24_3LE,
						   FLZ_FORMAT_S16_LE };
	for (size_t f = 0; f < 5; f++) {
		struct flz_engine *engine = null_engine(formats[f], true);
		char why[256] = "x";
		int err = flz_engine_start(engine, why, sizeof(why));
		ck_assert_msg(err == 0, "start: %s", why);
		ck_assert_str_eq(why, "");
		struct flz_engine_stats stats;
		flz_engine_get_stats(engine, &stats);
		ck_assert(stats.running);
		ck_assert(!stats.device_lost);
		ck_assert_int_eq(stats.format, formats[f] == FLZ_FORMAT_UNKNOWN
						       ? FLZ_FORMAT_FLOAT_LE
						       : formats[f]);
		ck_assert_uint_eq(stats.rate_hz, 48000);
		ck_assert_uint_eq(stats.n_channels, 2);
		ck_assert_uint_eq(stats.period_frames, 128);
		ck_assert_uint_eq(stats.n_periods, 2);
		ck_assert_uint_ge(stats.latency_frames, 256);
		ck_assert_int_eq(stats.rt_priority, 0);
		ck_assert_int_eq(stats.rt_error, 0);

		struct flz_sample *s = make_noise(300, 2, 48000, 0.5, 9);
		ck_assert_int_eq(flz_engine_load_sample(engine, 0, s), 0);
		ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), 0);
		ck_assert_int_eq(flz_engine_ping(engine), 0);
		/* The thread runs: a Pong comes back, frames advance. */
		bool pong = false;
		for (int i = 0; i < 400 && !pong; i++) {
			struct flz_engine_msg m;
			int rc;
			while ((rc = flz_engine_poll_message(engine, &m)) == 1)
				if (m.kind == FLZ_MSG_PONG)
					pong = true;
			ck_assert_int_eq(rc, 0);
			if (!pong)
				sleep_ms(5);
		}
		ck_assert(pong);
		flz_engine_get_stats(engine, &stats);
		ck_assert_int_gt(stats.frames, 0);
		ck_assert_int_eq(stats.frames % 128, 0);
		ck_assert(!stats.device_lost);
		flz_engine_stop(engine);
		ck_assert(!flz_engine_is_running(engine));
		/* And again: start after stop works. */
		err = flz_engine_start(engine, why, sizeof(why));
		ck_assert_msg(err == 0, "restart: %s", why);
		flz_engine_destroy(engine); /* stops it */
	}
}
END_TEST

/* The thread id of this process's thread named @p name, or -1. */
static pid_t thread_named(const char *name)
{
	glob_t found;
	pid_t tid = -1;
	if (glob("/proc/self/task/*/comm", 0, NULL, &found) != 0)
		return -1;
	for (size_t i = 0; i < found.gl_pathc && tid < 0; i++) {
		char comm[32] = "";
		FILE *f = fopen(found.gl_pathv[i], "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
		if (strcmp(comm, name) == 0)
			sscanf(found.gl_pathv[i], "/proc/self/task/%d/comm", &tid);
	}
	globfree(&found);
	return tid;
}

/* The blocked-signal mask (SigBlk) of thread @p tid. */
static unsigned long long thread_sigblk(pid_t tid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	unsigned long long mask = 0;
	bool seen = false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigBlk: %llx", &mask) == 1) {
			seen = true;
			break;
		}
	fclose(f);
	ck_assert_msg(seen, "no SigBlk in %s", path);
	return mask;
}

static bool sig_in(unsigned long long mask, int sig)
{
	return (mask >> (sig - 1)) & 1;
}

/*
 * engine:signals - flz-audio and flz-house block every signal that can be
 * blocked (all but SIGKILL, SIGSTOP and glibc's two internal ones), so the
 * host's handlers never run there, except the faults a thread raises itself
 * (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS); the thread that started
 * the engine keeps its own mask.
 */
START_TEST(engine_threads_block_signals)
{
	sigset_t mine;
	sigemptyset(&mine);
	pthread_sigmask(SIG_SETMASK, &mine, NULL);
	struct flz_engine *engine = null_engine(FLZ_FORMAT_UNKNOWN, false);
	char why[256];
	int err = flz_engine_start(engine, why, sizeof(why));
	ck_assert_msg(err == 0, "start: %s", why);
	const char *names[] = { "flz-audio", "flz-house" };
	for (size_t i = 0; i < 2; i++) {
		pid_t tid = -1;
		/* Named right after creation: wait for it. */
		for (int k = 0; k < 200 && tid < 0; k++) {
			tid = thread_named(names[i]);
			if (tid < 0)
				sleep_ms(5);
		}
		ck_assert_msg(tid > 0, "no thread %s", names[i]);
		/* Until the new thread runs its own code, glibc keeps every signal
		 * blocked on it (its internal signals 32 and 33 included); then it
		 * installs the mask the thread inherited. Read that one. */
		unsigned long long mask = thread_sigblk(tid);
		for (int k = 0; k < 400 && sig_in(mask, 32); k++) {
			sleep_ms(5);
			mask = thread_sigblk(tid);
		}
		ck_assert_msg(!sig_in(mask, 32), "%s: never left its start-up mask (SigBlk %llx)",
			      names[i], mask);
		for (int sig = 1; sig <= SIGRTMAX; sig++) {
			bool unblockable = sig == SIGKILL || sig == SIGSTOP ||
					   (sig >= 32 && sig < SIGRTMIN);
			/* The thread's own faults stay deliverable, so that a
			 * crash there runs the host's handler. */
			bool fault = sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
				     sig == SIGILL || sig == SIGTRAP || sig == SIGSYS;
			if (unblockable)
				continue;
			ck_assert_msg(sig_in(mask, sig) == !fault,
				      "%s: signal %d %s (SigBlk %llx)", names[i], sig,
				      fault ? "blocked" : "not blocked", mask);
		}
	}
	/* The caller's mask is back as it was. */
	unsigned long long caller = thread_sigblk((pid_t)syscall(SYS_gettid));
	ck_assert_msg(!sig_in(caller, SIGINT) && !sig_in(caller, SIGTERM),
		      "the starting thread's mask changed: %llx", caller);
	flz_engine_destroy(engine);
}
END_TEST

/*
 * engine:denormals - the audio thread runs with flush-to-zero and
 * denormals-are-zero (x86-64 MXCSR FTZ|DAZ, aarch64 FPCR FZ); the hook of
 * bench/denormals.c turns it off; the starting thread's mode is untouched.
 */
START_TEST(audio_thread_flushes_denormals)
{
	const uint32_t mine = flz_fp_mode_get();
	for (int on = 1; on >= 0; on--) {
		struct flz_engine *engine = null_engine(FLZ_FORMAT_UNKNOWN, false);
		flz_engine_set_flush_denormals(engine, on);
		char why[256];
		int err = flz_engine_start(engine, why, sizeof(why));
		ck_assert_msg(err == 0, "start: %s", why);
		uint32_t mode = 0;
		for (int k = 0; k < 200 && mode == 0; k++) {
			mode = flz_engine_audio_fp_mode(engine);
			if (mode == 0)
				sleep_ms(5);
		}
		ck_assert_uint_ne(mode, 0);
		ck_assert_uint_eq(mode & FLZ_FP_FLUSH_BITS, on ? FLZ_FP_FLUSH_BITS : 0u);
		flz_engine_destroy(engine);
	}
	/* (Compared on the flush bits: the rest holds sticky exception flags.) */
	ck_assert_uint_eq(mine & FLZ_FP_FLUSH_BITS, 0u);
	ck_assert_uint_eq(flz_fp_mode_get() & FLZ_FP_FLUSH_BITS, 0u);
	/* And what the mode means, on this thread for a moment: 1e-40 is
	 * subnormal; flushed, the product is 0. */
	volatile float tiny = 1e-20f;
	volatile float x = tiny * tiny;
	ck_assert(x != 0.0f);
	flz_fp_flush_denormals(true);
	x = tiny * tiny;
	volatile float y = x + 0.0f;
	flz_fp_mode_set(mine);
	if (FLZ_FP_FLUSH_BITS != 0)
		ck_assert_msg(y == 0.0f, "flushed 1e-40 is %g", (double)y);
}
END_TEST

START_TEST(alsa_missing_device)
{
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "flz_no_such_pcm";
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	char why[256];
	int err = flz_engine_start(engine, why, sizeof(why));
	ck_assert_int_lt(err, 0);
	/* The message names the device and carries ALSA's reason. */
	ck_assert_msg(strstr(why, "\"flz_no_such_pcm\"") != NULL, "why: %s", why);
	ck_assert_msg(strstr(why, snd_strerror(err)) != NULL, "why: %s", why);
	ck_assert(!flz_engine_is_running(engine));
	ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), -ENOTCONN);
	flz_engine_destroy(engine);
}
END_TEST


/* ------------------------------------------------------------------------
 * engine:alsa-messages (alsa-lib's error messages go to the engine's log)
 * ------------------------------------------------------------------------ */

/* Lines given to a log callback, from any thread. */
struct locked_lines {
	pthread_mutex_t lock;
	size_t n;
	enum flz_log_level level[64];
	char text[64][512];
};

static void locked_lines_cb(void *userdata, enum flz_log_level level, const char *message)
{
	struct locked_lines *l = userdata;
	pthread_mutex_lock(&l->lock);
	if (l->n < 64) {
		l->level[l->n] = level;
		snprintf(l->text[l->n], sizeof(l->text[0]), "%s", message);
		l->n++;
	}
	pthread_mutex_unlock(&l->lock);
}

/* The index of the first line containing @p needle, or -1. */
static int log_find(struct locked_lines *l, const char *needle)
{
	int found = -1;
	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->n && found < 0; i++)
		if (strstr(l->text[i], needle))
			found = (int)i;
	pthread_mutex_unlock(&l->lock);
	return found;
}

/* fd 2 sent to a temporary file between capture_begin() and capture_end(). */
struct capture {
	int saved;
	int fd;
	char text[4096];
};

static void capture_begin(struct capture *c)
{
	char path[] = "/tmp/flz-test-stderr-XXXXXX";
	fflush(stderr);
	c->fd = mkstemp(path);
	ck_assert_int_ge(c->fd, 0);
	unlink(path);
	c->saved = dup(2);
	ck_assert_int_ge(c->saved, 0);
	ck_assert_int_eq(dup2(c->fd, 2), 2);
}

/* Restore fd 2; c->text is what was written meanwhile. */
static const char *capture_end(struct capture *c)
{
	fflush(stderr);
	ck_assert_int_eq(dup2(c->saved, 2), 2);
	close(c->saved);
	ssize_t n = pread(c->fd, c->text, sizeof(c->text) - 1, 0);
	close(c->fd);
	c->text[n > 0 ? n : 0] = '\0';
	return c->text;
}

/* A host's local handler, to see that the engine puts it back. */
static int host_local_calls;
static void host_local_handler(const char *file, int line, const char *func, int errcode,
			       const char *fmt, va_list arg)
{
	(void)file, (void)line, (void)func, (void)errcode, (void)fmt, (void)arg;
	host_local_calls++;
}

/*
 * engine:alsa-messages - alsa-lib's "Unknown PCM" at the engine's open goes
 * to the log callback (INFO), not to stderr; afterwards the host's own
 * snd_pcm_open() of a bad name still reaches alsa-lib's default handler
 * (stderr), and a local handler the host had set on its thread is back.
 */
START_TEST(alsa_messages_open_to_log)
{
	static struct locked_lines lines = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "flz_no_such_pcm";
	config.log = locked_lines_cb;
	config.log_userdata = &lines;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);

	struct capture cap;
	char why[256];
	capture_begin(&cap);
	int err = flz_engine_start(engine, why, sizeof(why));
	const char *printed = capture_end(&cap);
	ck_assert_int_lt(err, 0);
	ck_assert_msg(printed[0] == '\0', "the engine's open printed: %s", printed);
	int i = log_find(&lines, "Unknown PCM flz_no_such_pcm");
	ck_assert_msg(i >= 0, "no alsa-lib line in the log (%zu lines)", lines.n);
	ck_assert_int_eq(lines.level[i], FLZ_LOG_INFO);
	ck_assert_msg(strncmp(lines.text[i], "alsa-lib: pcm", 13) == 0, "line: %s", lines.text[i]);
	ck_assert_msg(strstr(lines.text[i], "(snd_pcm_open") != NULL, "line: %s", lines.text[i]);
	/* The engine's reason is unchanged. */
	ck_assert_msg(strstr(why, "\"flz_no_such_pcm\"") != NULL, "why: %s", why);

	/* The host's own call: alsa-lib's process-wide default, to stderr. */
	snd_pcm_t *pcm = NULL;
	capture_begin(&cap);
	err = snd_pcm_open(&pcm, "flz_host_bad_pcm", SND_PCM_STREAM_PLAYBACK, 0);
	printed = capture_end(&cap);
	ck_assert_int_lt(err, 0);
	ck_assert_msg(strstr(printed, "Unknown PCM flz_host_bad_pcm") != NULL, "stderr: '%s'",
		      printed);
	ck_assert_int_lt(log_find(&lines, "flz_host_bad_pcm"), 0);

	/* A host's local handler on this thread: replaced during the engine's
	 * call, back afterwards. */
	host_local_calls = 0;
	ck_assert(snd_lib_error_set_local(host_local_handler) == NULL);
	size_t n_before = lines.n;
	err = flz_engine_start(engine, why, sizeof(why));
	ck_assert_int_lt(err, 0);
	ck_assert_int_eq(host_local_calls, 0);
	ck_assert_uint_gt(lines.n, n_before);
	err = snd_pcm_open(&pcm, "flz_host_bad_pcm", SND_PCM_STREAM_PLAYBACK, 0);
	ck_assert_int_lt(err, 0);
	ck_assert_int_eq(host_local_calls, 1);
	ck_assert(snd_lib_error_set_local(NULL) == host_local_handler);

	/* An engine without a log drops them: still nothing on stderr. */
	config.log = NULL;
	struct flz_engine *quiet = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &quiet), 0);
	capture_begin(&cap);
	err = flz_engine_start(quiet, why, sizeof(why));
	printed = capture_end(&cap);
	ck_assert_int_lt(err, 0);
	ck_assert_msg(printed[0] == '\0', "printed: %s", printed);
	flz_engine_destroy(quiet);
	flz_engine_destroy(engine);
}
END_TEST

/*
 * engine:alsa-messages - a configuration that does not parse makes alsa-lib
 * complain while the devices are listed: flz_engine_list_devices_log() gives
 * that to its log, flz_engine_list_devices() drops it, neither prints; the
 * host's own snd_device_name_hint() still prints.
 */
START_TEST(alsa_messages_listing_to_log)
{
	static struct locked_lines lines = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char bad_path[] = "/tmp/flz-test-bad-asound-XXXXXX";
	int fd = mkstemp(bad_path);
	ck_assert_int_ge(fd, 0);
	const char bad[] = "pcm.flzbroken {{{\n";
	ck_assert_int_eq(write(fd, bad, sizeof(bad) - 1), (ssize_t)(sizeof(bad) - 1));
	close(fd);
	const char *saved = getenv("ALSA_CONFIG_PATH");
	char saved_path[256] = "";
	if (saved)
		snprintf(saved_path, sizeof(saved_path), "%s", saved);
	/* alsa-lib reads the configuration again when its file list changes. */
	setenv("ALSA_CONFIG_PATH", bad_path, 1);

	struct capture cap;
	struct flz_device *devices = NULL;
	capture_begin(&cap);
	int64_t n = flz_engine_list_devices_log(&devices, locked_lines_cb, &lines);
	const char *printed = capture_end(&cap);
	ck_assert_int_lt(n, 0);
	ck_assert_ptr_null(devices);
	ck_assert_msg(printed[0] == '\0', "the listing printed: %s", printed);
	int i = log_find(&lines, "Unexpected char");
	ck_assert_msg(i >= 0, "no alsa-lib line in the log (%zu lines)", lines.n);
	ck_assert_int_eq(lines.level[i], FLZ_LOG_INFO);
	ck_assert_msg(strncmp(lines.text[i], "alsa-lib: conf.c", 16) == 0, "line: %s",
		      lines.text[i]);

	capture_begin(&cap);
	n = flz_engine_list_devices(&devices);
	printed = capture_end(&cap);
	ck_assert_int_lt(n, 0);
	ck_assert_msg(printed[0] == '\0', "the listing printed: %s", printed);

	void **hints = NULL;
	capture_begin(&cap);
	int err = snd_device_name_hint(-1, "pcm", &hints);
	printed = capture_end(&cap);
	ck_assert_int_lt(err, 0);
	ck_assert_msg(strstr(printed, "Unexpected char") != NULL, "stderr: '%s'", printed);

	if (saved)
		setenv("ALSA_CONFIG_PATH", saved_path, 1);
	else
		unsetenv("ALSA_CONFIG_PATH");
	unlink(bad_path);
	/* And with a configuration that parses, the listing works again. */
	n = flz_engine_list_devices_log(&devices, locked_lines_cb, &lines);
	ck_assert_int_ge(n, 0);
	flz_engine_free_devices(devices, (size_t)n);
}
END_TEST

static void call_rt_handler(const char *file, int line, const char *func, int errcode,
			    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	flz_engine_alsa_error_rt(file, line, func, errcode, fmt, ap);
	va_end(ap);
}

/*
 * engine:alsa-messages - the audio thread's handler, called as alsa-lib
 * would on a thread attached to a core: it counts and records (no
 * formatting), flz-house logs one WARNING with the count and the last
 * message; on a thread not attached it does nothing.
 */
START_TEST(alsa_messages_rt_handler)
{
	static struct locked_lines lines = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct flz_engine_config config = flz_engine_config_init();
	config.log = locked_lines_cb;
	config.log_userdata = &lines;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	ck_assert_int_eq(flz_engine_start_offline(engine), 0);
	struct flz_engine_core *core = flz_engine_get_core(engine);
	struct flz_engine_alsa_last last;
	ck_assert(!flz_engine_core_alsa_last(core, &last));

	ck_assert(flz_engine_alsa_attach_rt(core));
	call_rt_handler("pcm.c", 41, "snd_pcm_first", 0, "first %s", "x");
	ck_assert_uint_eq(atomic_load(&core->stat_alsa_messages), 1);
	ck_assert(flz_engine_core_alsa_last(core, &last));
	ck_assert_str_eq(last.file, "pcm.c");
	ck_assert_int_eq(last.line, 41);
	ck_assert_str_eq(last.func, "snd_pcm_first");
	ck_assert_str_eq(last.fmt, "first %s");
	ck_assert_int_eq(last.errcode, 0);
	call_rt_handler("pcm_ioplug.c", 42, "snd_pcm_second", EPIPE, "second %d", 2);
	ck_assert_uint_eq(atomic_load(&core->stat_alsa_messages), 2);
	ck_assert(flz_engine_core_alsa_last(core, &last));
	ck_assert_str_eq(last.func, "snd_pcm_second");
	ck_assert_int_eq(last.errcode, EPIPE);
	flz_engine_alsa_detach_rt();
	/* Not attached: not counted (and nothing printed). */
	call_rt_handler("pcm.c", 43, "snd_pcm_third", 0, "third");
	ck_assert_uint_eq(atomic_load(&core->stat_alsa_messages), 2);

	const char *expect = "alsa-lib on the audio thread: 2 messages so far, last: "
			     "pcm_ioplug.c:42 (snd_pcm_second): second %d: Broken pipe";
	int i = -1;
	for (int k = 0; k < 400 && i < 0; k++) {
		i = log_find(&lines, expect);
		if (i < 0)
			sleep_ms(5);
	}
	ck_assert_msg(i >= 0, "flz-house did not log '%s' (%zu lines)", expect, lines.n);
	ck_assert_int_eq(lines.level[i], FLZ_LOG_WARNING);
	/* Said once: the count has not moved since. */
	sleep_ms(3 * FLZ_ENGINE_HOUSE_PERIOD_MS);
	ck_assert_int_lt(log_find(&lines, "snd_pcm_third"), 0);
	pthread_mutex_lock(&lines.lock);
	size_t n_alsa = 0;
	for (size_t k = 0; k < lines.n; k++)
		n_alsa += strstr(lines.text[k], "alsa-lib on the audio thread") != NULL;
	pthread_mutex_unlock(&lines.lock);
	ck_assert_uint_le(n_alsa, 2); /* one per count seen: 1 then 2, or 2 */

	/* The table has room for every engine that plays at once, then refuses. */
	ck_assert(flz_engine_alsa_attach_rt(core));
	flz_engine_alsa_detach_rt();
	flz_engine_destroy(engine);
}
END_TEST


/* ------------------------------------------------------------------------
 * engine:suspend (a device that suspends, through struct flz_engine_pcm_ops)
 * ------------------------------------------------------------------------ */

/* A device whose resume says -EAGAIN n_again times, then resume_result;
 * and a clock that advances step_ns at each reading. */
struct fake_pcm {
	int n_again;
	int resume_result;
	int prepare_result;
	int n_resume;
	int n_prepare;
	int64_t now;
	int64_t step_ns;
};

static int fake_resume(void *userdata)
{
	struct fake_pcm *f = userdata;
	f->n_resume++;
	if (f->n_again > 0) {
		f->n_again--;
		return -EAGAIN;
	}
	return f->resume_result;
}

static int fake_prepare(void *userdata)
{
	struct fake_pcm *f = userdata;
	f->n_prepare++;
	return f->prepare_result;
}

static int64_t fake_now(void *userdata)
{
	struct fake_pcm *f = userdata;
	f->now += f->step_ns;
	return f->now;
}

static int64_t real_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* An audio side with no PCM descriptors: pfds[0] is the wake eventfd. */
static void fake_audio(struct flz_engine_audio *audio, struct flz_engine_pcm_ops *ops,
		       struct fake_pcm *f)
{
	memset(audio, 0, sizeof(*audio));
	*ops = (struct flz_engine_pcm_ops){ .resume = fake_resume, .prepare = fake_prepare,
					    .now_ns = fake_now, .userdata = f };
	audio->ops = ops;
	audio->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(audio->wake_fd, 0);
	audio->n_pcm_fds = 0;
	audio->pfds[0] = (struct pollfd){ .fd = audio->wake_fd, .events = POLLIN };
	audio->last_progress_ns = f->now;
}

/*
 * engine:suspend - suspended for 60 resume attempts on a clock that runs
 * 50 ms per reading (about 6 s, far beyond the 1 s stall limit): never
 * declared lost, one bounded wait per -EAGAIN (so no spin: the attempts fit
 * the real time elapsed at one per 10 ms), resumed without a prepare; after
 * that the stall check is live again.
 */
START_TEST(suspend_waits_not_lost)
{
	enum { N = 60 };
	struct fake_pcm f = { .n_again = N, .resume_result = 0, .step_ns = 50000000LL,
			      .now = 1000000000LL };
	struct flz_engine_audio audio;
	struct flz_engine_pcm_ops ops;
	fake_audio(&audio, &ops, &f);
	const int64_t fake_start = f.now;

	int64_t t0 = real_now_ns();
	int turns = 0;
	while (f.n_resume <= N) {
		/* What audio_loop() does while avail_update says -ESTRPIPE. */
		int rc = flz_engine_settle_rt(&audio, -ESTRPIPE);
		ck_assert_msg(rc == 0, "turn %d: %d (%s)", turns, rc, snd_strerror(rc));
		turns++;
		ck_assert_int_le(turns, N + 1);
	}
	int64_t elapsed = real_now_ns() - t0;
	ck_assert_int_eq(f.n_resume, N + 1);
	ck_assert_uint_eq(audio.n_suspend_waits, N);
	ck_assert_int_eq(f.n_prepare, 0);
	ck_assert_int_gt(f.now - fake_start, 5 * FLZ_ENGINE_STALL_NS);
	/* Each wait lasted its full timeout (poll's timeout is a minimum). */
	ck_assert_msg(f.n_resume <= elapsed / (FLZ_ENGINE_RESUME_WAIT_MS * 1000000LL) + 1,
		      "%d resume attempts in %lld ns", f.n_resume, (long long)elapsed);

	/* Resumed: the device plays on; without progress, it is lost after the
	 * stall limit as before. */
	ck_assert_int_eq(flz_engine_settle_rt(&audio, 0), 0);
	f.now += FLZ_ENGINE_STALL_NS;
	ck_assert_int_eq(flz_engine_settle_rt(&audio, 0), -ENODEV);
	close(audio.wake_fd);
}
END_TEST

struct wake_later {
	int fd;
	int delay_ms;
};

static void *write_wake_later(void *arg)
{
	struct wake_later *w = arg;
	sleep_ms(w->delay_ms);
	uint64_t one = 1;
	ck_assert_int_eq(write(w->fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	return NULL;
}

/*
 * engine:suspend - a device that never resumes: the thread goes on waiting
 * (never lost) until the wake descriptor is written, which ends the wait it
 * is in (settle says 1); with the descriptor written, a wait returns at
 * once whatever its timeout.
 */
START_TEST(suspend_wake_ends_wait)
{
	struct fake_pcm f = { .n_again = 1 << 30, .step_ns = 100000000LL, .now = 1 };
	struct flz_engine_audio audio;
	struct flz_engine_pcm_ops ops;
	fake_audio(&audio, &ops, &f);

	struct wake_later w = { .fd = audio.wake_fd, .delay_ms = 100 };
	pthread_t writer;
	ck_assert_int_eq(pthread_create(&writer, NULL, write_wake_later, &w), 0);
	int rc = 0;
	int turns = 0;
	int64_t t0 = real_now_ns();
	while (rc == 0 && turns < 100000) {
		rc = flz_engine_settle_rt(&audio, -ESTRPIPE);
		turns++;
	}
	int64_t elapsed = real_now_ns() - t0;
	pthread_join(writer, NULL);
	ck_assert_int_eq(rc, 1);
	ck_assert_uint_eq(audio.n_suspend_waits, (uint64_t)turns);
	/* No spin: one attempt per full wait, the last one cut short. */
	ck_assert_msg(turns <= elapsed / (FLZ_ENGINE_RESUME_WAIT_MS * 1000000LL) + 1,
		      "%d attempts in %lld ns", turns, (long long)elapsed);
	/* Suspended for longer than the stall limit on the fake clock. */
	ck_assert_int_gt(f.now, FLZ_ENGINE_STALL_NS);
	/* Still readable (the loop then sees quit): every further wait ends at once. */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(flz_engine_settle_rt(&audio, -ESTRPIPE), 1);
	close(audio.wake_fd);
}
END_TEST

/*
 * engine:suspend - a resume that fails otherwise (-ENOSYS: the device cannot
 * resume) prepares instead, once, with no wait; a prepare that fails too
 * loses the device with that error.
 */
START_TEST(suspend_resume_fails_prepares)
{
	struct fake_pcm f = { .resume_result = -ENOSYS, .prepare_result = 0, .step_ns = 1 };
	struct flz_engine_audio audio;
	struct flz_engine_pcm_ops ops;
	fake_audio(&audio, &ops, &f);
	ck_assert_int_eq(flz_engine_settle_rt(&audio, -ESTRPIPE), 0);
	ck_assert_int_eq(f.n_resume, 1);
	ck_assert_int_eq(f.n_prepare, 1);
	ck_assert_uint_eq(audio.n_suspend_waits, 0);
	f.prepare_result = -EIO;
	ck_assert_int_eq(flz_engine_settle_rt(&audio, -ESTRPIPE), -EIO);
	ck_assert_int_eq(f.n_prepare, 2);
	close(audio.wake_fd);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:priority (SCHED_FIFO refused: runs anyway, reports EPERM)
 * ------------------------------------------------------------------------ */

/* In a child without the right to real-time scheduling: as root, drop to
 * nobody (no CAP_SYS_NICE, RLIMIT_RTPRIO 0). Exit code = the failed step. */
static int priority_child(void)
{
	struct rlimit none = { 0, 0 };
	if (setrlimit(RLIMIT_RTPRIO, &none) != 0)
		return 10;
	if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
			       setresuid(65534, 65534, 65534) != 0))
		return 11;
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "flznull";
	config.rt_priority = 70;
	struct flz_engine *engine = NULL;
	if (flz_engine_new(&config, &engine) != 0)
		return 12;
	char why[256];
	if (flz_engine_start(engine, why, sizeof(why)) != 0)
		return 13;
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	int rc = 0;
	if (stats.rt_priority != 0)
		rc = 14;
	else if (stats.rt_error != EPERM)
		rc = 15;
	sleep_ms(20);
	flz_engine_get_stats(engine, &stats);
	if (rc == 0 && (stats.frames <= 0 || stats.device_lost))
		rc = 16; /* it plays all the same */
	flz_engine_destroy(engine);
	return rc;
}

START_TEST(priority_refused)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(priority_child());
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:prefault, engine:mlock, engine:mlock-refused
 * ------------------------------------------------------------------------ */

/* This process's locked memory (VmLck in /proc/self/status), in bytes. */
static long long vm_locked_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	ck_assert_ptr_nonnull(f);
	char line[256];
	long long kib = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %lld kB", &kib) == 1)
			break;
	fclose(f);
	ck_assert_int_ge(kib, 0);
	return kib * 1024;
}

/* Regions of a started engine; their count is returned, the sum in *total. */
static int engine_regions(struct flz_engine *engine, struct flz_mem_region *regions,
			  size_t *total)
{
	int n = flz_engine_rt_regions(engine, regions, FLZ_ENGINE_MAX_RT_REGIONS);
	ck_assert_int_le(n, FLZ_ENGINE_MAX_RT_REGIONS);
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	*total = 0;
	for (int i = 0; i < n; i++)
		*total += (regions[i].n_bytes + page - 1) / page * page;
	return n;
}

/* How many regions have a page that was never written (-1: mincore failed). */
static int regions_not_written(const struct flz_mem_region *regions, int n, char *which,
			       size_t which_size)
{
	int bad = 0;
	which[0] = '\0';
	for (int i = 0; i < n; i++) {
		long missing = flz_test_pages_not_resident(regions[i].addr, regions[i].n_bytes);
		if (missing != 0) {
			size_t len = strlen(which);
			snprintf(which + len, which_size - len, " #%d (%zu bytes: %ld pages)", i,
				 regions[i].n_bytes, missing);
			bad++;
		}
	}
	return bad;
}

/*
 * Right after the start, before a single period, every page of every
 * buffer the audio thread works in is resident: the engine struct, the
 * rings, the scratch block, the thread's stack and all the mixer's
 * buffers and tables. Locking is off here, since mlock() would fault the
 * pages in itself. Each region is a fresh mapping (flz/pages.h), so a
 * buffer nobody wrote shows up as not resident whatever the heap did
 * before (checked: without the write in flz_pages_alloc() every region
 * fails). The device start (null PCM) lists the stack, the offline one
 * does not.
 */
START_TEST(prefault_all_rt_memory)
{
	for (int offline = 0; offline < 2; offline++) {
		struct flz_engine_config config = flz_engine_config_init();
		config.device = "flznull";
		config.rt_priority = 0;
		struct flz_engine *engine = NULL;
		ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
		flz_engine_set_lock_memory(engine, false);
		char why[256] = "";
		int err = offline ? flz_engine_start_offline(engine)
				  : flz_engine_start(engine, why, sizeof(why));
		ck_assert_msg(err == 0, "start: %s", why);
		struct flz_mem_region regions[FLZ_ENGINE_MAX_RT_REGIONS];
		size_t total = 0;
		int n = engine_regions(engine, regions, &total);
		/* struct, 3 rings, scratch, (stack), 12 mixer regions */
		ck_assert_int_eq(n, offline ? 17 : 18);
		char which[512];
		ck_assert_msg(regions_not_written(regions, n, which, sizeof(which)) == 0,
			      "%s start: regions with unwritten pages:%s",
			      offline ? "offline" : "device", which);
		/* After the scratch block: the whole stack the thread was given. */
		if (!offline)
			ck_assert_uint_eq(regions[5].n_bytes, FLZ_ENGINE_AUDIO_STACK_BYTES);
		struct flz_engine_stats stats;
		flz_engine_get_stats(engine, &stats);
		ck_assert(!stats.memory_locked);
		ck_assert_uint_eq(stats.locked_bytes, 0);
		flz_engine_destroy(engine);
	}
}
END_TEST

/*
 * Where mlock is allowed (as root: CAP_IPC_LOCK), start locks every region:
 * stats say so, VmLck grows by at least the regions' pages, and stop gives
 * them all back (VmLck as before: no page left locked, none unlocked that
 * was not the engine's). Under ASan and TSan, mlock() is their interceptor,
 * which locks nothing and returns 0: VmLck is not checked there.
 */
START_TEST(mlock_locks_rt_memory)
{
	struct rlimit limit;
	ck_assert_int_eq(getrlimit(RLIMIT_MEMLOCK, &limit), 0);
	bool allowed = geteuid() == 0 || limit.rlim_cur == RLIM_INFINITY ||
		       limit.rlim_cur >= 4u * 1024 * 1024;
	for (int offline = 0; offline < 2; offline++) {
		struct flz_engine_config config = flz_engine_config_init();
		config.device = "flznull";
		config.rt_priority = 0;
		struct flz_engine *engine = NULL;
		ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
		long long before = vm_locked_bytes();
		char why[256] = "";
		int err = offline ? flz_engine_start_offline(engine)
				  : flz_engine_start(engine, why, sizeof(why));
		ck_assert_msg(err == 0, "start: %s", why);
		struct flz_mem_region regions[FLZ_ENGINE_MAX_RT_REGIONS];
		size_t total = 0;
		engine_regions(engine, regions, &total);
		struct flz_engine_stats stats;
		flz_engine_get_stats(engine, &stats);
		long long during = vm_locked_bytes();
		if (allowed) {
			ck_assert(stats.memory_locked);
			ck_assert_uint_eq(stats.locked_bytes, total);
#ifndef FLZ_TEST_SANITIZED
			ck_assert_msg(during - before >= (long long)total,
				      "VmLck grew by %lld, %zu locked", during - before, total);
#else
			(void)during;
#endif
		} else {
			ck_assert(stats.memory_locked || stats.locked_bytes < total);
		}
		flz_engine_stop(engine);
		ck_assert_int_eq(vm_locked_bytes(), before);
		flz_engine_get_stats(engine, &stats);
		ck_assert(!stats.memory_locked); /* stopped: nothing to report */
		flz_engine_destroy(engine);
	}
}
END_TEST

/* In a child that may not lock memory (RLIMIT_MEMLOCK 0 and, as root, drop
 * to nobody: no CAP_IPC_LOCK): start succeeds, reports nothing locked, warns
 * once through the log, plays, and the pages are written all the same.
 * Under ASan and TSan nothing can refuse (their mlock() does nothing and
 * succeeds), so only the rest is checked. Exit code = the failed step. */
static int mlock_child(void)
{
	struct rlimit none = { 0, 0 };
	if (setrlimit(RLIMIT_MEMLOCK, &none) != 0)
		return 10;
	if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
			       setresuid(65534, 65534, 65534) != 0))
		return 11;
	static struct log_lines lines;
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "flznull";
	config.rt_priority = 0;
	config.log = log_collect;
	config.log_userdata = &lines;
	struct flz_engine *engine = NULL;
	if (flz_engine_new(&config, &engine) != 0)
		return 12;
	char why[256];
	if (flz_engine_start(engine, why, sizeof(why)) != 0)
		return 13;
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
#ifndef FLZ_TEST_SANITIZED
	if (stats.memory_locked || stats.locked_bytes != 0)
		return 14;
	int n_warn = 0;
	for (int i = 0; i < lines.n && i < 8; i++)
		if (lines.level[i] == FLZ_LOG_WARNING &&
		    strstr(lines.text[i], "cannot lock the audio thread's memory") != NULL &&
		    strstr(lines.text[i], "RLIMIT_MEMLOCK 0 bytes") != NULL)
			n_warn++;
	if (n_warn != 1)
		return 15;
#endif
	struct flz_mem_region regions[FLZ_ENGINE_MAX_RT_REGIONS];
	int n = flz_engine_rt_regions(engine, regions, FLZ_ENGINE_MAX_RT_REGIONS);
	for (int i = 0; i < n; i++)
		if (flz_test_pages_not_resident(regions[i].addr, regions[i].n_bytes) != 0)
			return 16;
	sleep_ms(20);
	flz_engine_get_stats(engine, &stats);
	if (stats.frames <= 0 || stats.device_lost)
		return 17; /* it plays all the same */
	flz_engine_destroy(engine);
	return 0;
}

START_TEST(mlock_refused)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(mlock_child());
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:rig-playback (only with --rig, inside tests/rig/rig.py --tee)
 * ------------------------------------------------------------------------ */

static void drain_into(struct flz_engine *engine, struct msg_log *log)
{
	collect(engine, log);
}

static int64_t first_xrun_frame(const struct msg_log *log)
{
	for (size_t i = 0; i < log->n; i++)
		if (log->msgs[i].kind == FLZ_MSG_XRUN)
			return log->msgs[i].frame;
	return -1;
}

START_TEST(rig_playback)
{
	const char *tee = getenv("FLZ_RIG_TEE");
	ck_assert_msg(tee != NULL, "run inside the rig with --tee");
	struct flz_engine_config config = flz_engine_config_init();
	config.device = getenv("FLITZIS_AUDIO_DEVICE");
	config.trace_commands = true;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	char why[256];
	int err = flz_engine_start(engine, why, sizeof(why));
	ck_assert_msg(err == 0, "start: %s", why);
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	ck_assert_int_eq(stats.format, FLZ_FORMAT_FLOAT_LE);
	ck_assert_uint_eq(stats.period_frames, 128);
	ck_assert_uint_eq(stats.n_periods, 2);
	if (geteuid() == 0) {
		ck_assert_int_eq(stats.rt_priority, 70);
	} else {
		ck_assert(stats.rt_priority == 70 || stats.rt_error != 0);
	}

	/* 0.3 s of a 440 Hz sine, looped. */
	uint32_t rate = stats.rate_hz;
	struct flz_sample *sine = flz_sample_new(rate * 3 / 10, 2, rate);
	flz_test_sine(sine->data, rate * 3 / 10, 2, 440.0, rate, 0.8, 0.5);
	flz_sample_ref(sine);
	static struct msg_log log;
	log.n = 0;

	ck_assert_int_eq(flz_engine_load_sample(engine, 0, sine), 0);
	sleep_ms(100);
	ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), 0);
	sleep_ms(600);
	drain_into(engine, &log);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.5f), 0);
	ck_assert_int_eq(flz_engine_set_speed(engine, 1.25), 0);
	sleep_ms(500);
	ck_assert_int_eq(flz_engine_stop_slot(engine, 0), 0);
	ck_assert_int_eq(flz_engine_ping(engine), 0);
	sleep_ms(300);
	drain_into(engine, &log);
	flz_engine_get_stats(engine, &stats);
	flz_engine_stop(engine);

	/* Real time: ~1.5 s of audio went out. Uninstrumented, without an
	 * underrun: the normal build is where deadlines are checked.
	 * Instrumented (sanitizers, valgrind), underruns are allowed, because
	 * a sanitizer can make one block late: under ThreadSanitizer the block
	 * in which the speed glide ends (it builds the stretch table: 0.14-0.17
	 * ms natively) takes 3-6 ms of the audio thread's CPU, more than the
	 * 2.7 ms of audio queued at 128 x 2. Each must then be counted
	 * and reported once, and the content check below still holds in full:
	 * the tee records every committed frame, and the engine renders every
	 * frame once whatever the device did, so a late block cannot change
	 * what was committed, only when JACK played it. */
	const bool instrumented = flz_test_instrumented();
	if (!instrumented)
		ck_assert_int_eq(stats.xruns, 0);
	ck_assert(!stats.device_lost);
	ck_assert_int_ge(stats.frames, (int64_t)rate * 13 / 10);
	ck_assert_uint_eq(stats.messages_dropped, 0);
	int n_applied = 0, n_pong = 0, n_stopped = 0, n_xrun = 0;
	for (size_t i = 0; i < log.n; i++) {
		n_applied += log.msgs[i].kind == FLZ_MSG_APPLIED;
		n_pong += log.msgs[i].kind == FLZ_MSG_PONG;
		n_stopped += log.msgs[i].kind == FLZ_MSG_STOPPED;
		if (log.msgs[i].kind == FLZ_MSG_XRUN) {
			n_xrun++;
			ck_assert_int_eq(log.msgs[i].error, -EPIPE);
			ck_assert_int_ge(log.msgs[i].frame, 0);
			ck_assert_int_le(log.msgs[i].frame, stats.frames);
		}
	}
	ck_assert_int_eq(n_xrun, (int)stats.xruns);
	if (n_xrun > 0)
		fprintf(stderr, "rig-playback: %d xrun(s) under instrumentation, first at frame %lld\n",
			n_xrun, (long long)first_xrun_frame(&log));
	ck_assert_int_eq(n_applied, 6);
	ck_assert_int_eq(n_pong, 1);
	ck_assert_int_eq(n_stopped, 1);

	/* What was committed (the tee in front of JACK) equals the offline render. */
	FILE *f = fopen(tee, "rb");
	ck_assert_ptr_nonnull(f);
	size_t cap = (size_t)stats.frames * 2 + 1024;
	float *heard = calloc(cap, sizeof(float));
	size_t n_read = fread(heard, sizeof(float), cap, f);
	fclose(f);
	int64_t n_frames = (int64_t)(n_read / 2);
	if (n_frames > stats.frames)
		n_frames = stats.frames;
	ck_assert_int_ge(n_frames, (int64_t)rate * 12 / 10);
	float *want = calloc((size_t)n_frames * 2, sizeof(float));
	ref_render(&log, sine, rate, 2, 128, want, n_frames);
	size_t at = 0;
	double diff = flz_test_max_diff(heard, want, (size_t)n_frames * 2, &at);
	if (diff > 1e-6)
		flz_test_dump("rig-heard.f32", heard, (size_t)n_frames * 2);
	ck_assert_msg(diff <= 1e-6, "heard vs offline render: %g at sample %zu of %lld", diff,
		      at, (long long)n_frames * 2);
	double peak = 0.0;
	for (int64_t i = 0; i < n_frames * 2; i++)
		peak = fmax(peak, fabs(heard[i]));
	ck_assert_double_gt(peak, 0.2);

	flz_engine_destroy(engine);
	ck_assert_int_eq(refcount(sine), 1);
	flz_sample_unref(sine);
	free(heard);
	free(want);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:device-lost (only with --rig: a private JACK server is killed)
 * ------------------------------------------------------------------------ */

START_TEST(rig_device_lost)
{
	char name[64];
	snprintf(name, sizeof(name), "flzlost%d", (int)getpid());
	pid_t jackd = fork();
	ck_assert_int_ge(jackd, 0);
	if (jackd == 0) {
		/* Never outlive the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		setenv("JACK_NO_AUDIO_RESERVATION", "1", 1);
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("jackd", "jackd", "-n", name, "-S", "-d", "dummy", "-r", "48000", "-p", "64",
		       (char *)NULL);
		_exit(127);
	}
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "jack_wait -s %s -w -t 10 >/dev/null 2>&1", name);
	ck_assert_int_eq(system(cmd), 0);
	/* The ALSA jack plugin connects to the server named here. The rig's
	 * own name is put back at the end: with CK_FORK=no (the sanitizers,
	 * valgrind) the next cases run in this process and need it. */
	const char *rig_server = getenv("JACK_DEFAULT_SERVER");
	char saved_server[128] = "";
	if (rig_server)
		snprintf(saved_server, sizeof(saved_server), "%s", rig_server);
	setenv("JACK_DEFAULT_SERVER", name, 1);

	struct flz_engine_config config = flz_engine_config_init();
	config.device = "flzjack";
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	char why[256];
	int err = flz_engine_start(engine, why, sizeof(why));
	ck_assert_msg(err == 0, "start: %s", why);
	struct flz_sample *s = make_noise(4800, 2, 48000, 0.3, 5);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, s), 0);
	ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), 0);
	sleep_ms(300);
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	ck_assert_int_gt(stats.frames, 0);
	ck_assert(!stats.device_lost);

	/* SIGTERM, not SIGKILL: the server's clients see it vanish all the
	 * same, and it leaves the JACK server registry clean (a killed server's
	 * entry stays until its name is reused; eight block any new server). */
	kill(jackd, SIGTERM);
	waitpid(jackd, NULL, 0);

	/* Within a few seconds the loss is reported: stats and a message. */
	bool lost_msg = false;
	for (int i = 0; i < 100 && !lost_msg; i++) {
		struct flz_engine_msg m;
		while (flz_engine_poll_message(engine, &m) == 1)
			if (m.kind == FLZ_MSG_DEVICE_LOST) {
				lost_msg = true;
				ck_assert_int_lt(m.error, 0);
			}
		if (!lost_msg)
			sleep_ms(50);
	}
	ck_assert(lost_msg);
	flz_engine_get_stats(engine, &stats);
	ck_assert(stats.device_lost);
	ck_assert(flz_engine_is_running(engine));
	/* Commands now say the device is gone; stop returns (the test timeout
	 * would catch a hang) and frees everything. */
	ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), -ENODEV);
	flz_engine_stop(engine);
	ck_assert(!flz_engine_is_running(engine));
	flz_engine_destroy(engine);
	if (rig_server)
		setenv("JACK_DEFAULT_SERVER", saved_server, 1);
	else
		unsetenv("JACK_DEFAULT_SERVER");

	/* The client side of a vanished server leaves its semaphore files. */
	char pattern[128];
	snprintf(pattern, sizeof(pattern), "/dev/shm/jack_sem.*_%s_*", name);
	glob_t found;
	if (glob(pattern, 0, NULL, &found) == 0) {
		for (size_t i = 0; i < found.gl_pathc; i++)
			unlink(found.gl_pathv[i]);
		globfree(&found);
	}
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:wake-stop (only with --rig)
 * ------------------------------------------------------------------------ */

/* A device engine on the rig's default PCM, started. */
static struct flz_engine *rig_engine(void)
{
	struct flz_engine_config config = flz_engine_config_init();
	config.device = getenv("FLITZIS_AUDIO_DEVICE");
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	char why[256];
	int err = flz_engine_start(engine, why, sizeof(why));
	ck_assert_msg(err == 0, "start: %s", why);
	return engine;
}

/*
 * flz_engine_stop() writes the wake descriptor, and the audio thread leaves
 * its wait through it. The thread spends most of a period waiting, so a stop
 * lands in the wait nearly every time; one that lands while a block renders
 * sees quit at the top of the loop instead. Of 8 stops, none leaving by the
 * wake descriptor means it does not work. (How long stop takes is measured
 * by bench/shutdown.py, not asserted.)
 */
START_TEST(rig_wake_stop)
{
	struct flz_engine *engine = rig_engine();
	int n_by_wake = 0;
	for (int i = 0; i < 8; i++) {
		if (i > 0) {
			char why[256];
			int err = flz_engine_start(engine, why, sizeof(why));
			ck_assert_msg(err == 0, "start: %s", why);
		}
		sleep_ms(60);
		struct flz_engine_stats stats;
		flz_engine_get_stats(engine, &stats);
		ck_assert(!stats.device_lost);
		flz_engine_stop(engine);
		bool written = false, by_wake = false;
		flz_engine_last_stop(engine, &written, &by_wake);
		ck_assert(written);
		n_by_wake += by_wake;
	}
	ck_assert_int_ge(n_by_wake, 1);
	flz_engine_destroy(engine);
}
END_TEST

/* ------------------------------------------------------------------------
 * engine:page-faults (only with --rig)
 * ------------------------------------------------------------------------ */

/* Minor page faults of thread @p tid so far (/proc/.../stat field 10). */
static long long thread_minflt(pid_t tid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name (field 2) may hold spaces: count fields after its ')'. */
	char *p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	long long minflt = -1;
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %lld", &minflt), 1);
	return minflt;
}

/*
 * Once it plays, the audio thread takes no page fault: everything it writes
 * (rings, mixer buffers, the resampler's stretch table, its stack) was
 * written before it started. The window opens after 0.5 s of playback, when
 * the device's own buffers (the jack plugin's mmap area, alsa-lib's state)
 * have been through one full cycle; it covers new voices, volume, the
 * first speed-up (the stretch table is built then), a slow-down and stops.
 * It catches faults that reach the thread, whatever their cause (as root
 * the buffers are locked too, which maps them by itself); that every
 * buffer is written by the engine is engine:prefault's (and
 * mixer:memory's) to prove.
 */
START_TEST(rig_no_page_faults)
{
	struct flz_engine *engine = rig_engine();
	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	struct flz_sample *s = make_noise(stats.rate_hz, 2, stats.rate_hz, 0.2, 3);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, s), 0);
	ck_assert_int_eq(flz_engine_play(engine, 0, 0.5f), 0);
	sleep_ms(500);
	pid_t tid = thread_named("flz-audio");
	ck_assert_int_gt(tid, 0);
	long long before = thread_minflt(tid);

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(flz_engine_play(engine, 0, 0.25f), 0);
	ck_assert_int_eq(flz_engine_set_volume(engine, 0.7f), 0);
	sleep_ms(100);
	ck_assert_int_eq(flz_engine_set_speed(engine, 1.5), 0);
	sleep_ms(400);
	ck_assert_int_eq(flz_engine_set_speed(engine, 0.75), 0);
	sleep_ms(300);
	ck_assert_int_eq(flz_engine_set_speed(engine, 1.9), 0);
	sleep_ms(300);
	ck_assert_int_eq(flz_engine_stop_all(engine), 0);
	sleep_ms(100);

	long long after = thread_minflt(tid);
	flz_engine_get_stats(engine, &stats);
	ck_assert(!stats.device_lost);
	flz_engine_destroy(engine);
	/* Instrumented, the faults are the tool's own (ASan's shadow pages
	 * written on first poisoning, valgrind's translations; ASan's mlock()
	 * locks nothing): counted, not asserted. */
	if (flz_test_instrumented()) {
		if (after != before)
			fprintf(stderr, "engine:page-faults: %lld minor faults (instrumented)\n",
				after - before);
		return;
	}
	ck_assert_msg(after == before, "flz-audio took %lld minor page faults while playing",
		      after - before);
}
END_TEST

/* ------------------------------------------------------------------------ */

static char alsa_conf_path[64];

/* A hermetic ALSA configuration with only the null PCM (unless the rig has
 * provided one), set before the first ALSA call. */
static void setup_alsa_config(bool rig)
{
	if (rig && getenv("ALSA_CONFIG_PATH"))
		return;
	snprintf(alsa_conf_path, sizeof(alsa_conf_path), "/tmp/flz-test-engine-XXXXXX");
	int fd = mkstemp(alsa_conf_path);
	if (fd < 0) {
		perror("mkstemp");
		exit(1);
	}
	const char conf[] = "pcm.flznull { type null }\n";
	if (write(fd, conf, sizeof(conf) - 1) != (ssize_t)(sizeof(conf) - 1)) {
		perror("write");
		exit(1);
	}
	/* Readable by the unprivileged child of engine:priority too. */
	fchmod(fd, 0644);
	close(fd);
	setenv("ALSA_CONFIG_PATH", alsa_conf_path, 1);
}

/* ------------------------------------------------------------------------
 * engine:offline: the offline device, rendered with flz_engine_render()
 * ------------------------------------------------------------------------ */

/* An offline engine (period 64), with one noise sample loaded in slot 3
 * and played at 0.5 before the first render, rendering n_frames. */
static void offline_play_render(float *out, uint32_t n_frames, struct flz_sample *sample)
{
	struct flz_engine *engine = offline_engine(64, false);
	flz_sample_ref(sample);
	ck_assert_int_eq(flz_engine_load_sample(engine, 3, sample), 0);
	ck_assert_int_eq(flz_engine_play(engine, 3, 0.5f), 0);
	ck_assert_int_eq(flz_engine_ping(engine), 0);
	/* Odd sizes: the engine splits them into blocks of its own. */
	uint32_t first = 1000;
	ck_assert_int_eq(flz_engine_render(engine, out, first), 0);
	ck_assert_int_eq(flz_engine_render(engine, out + (size_t)first * 2, n_frames - first), 0);
	struct flz_engine_msg m;
	ck_assert_int_eq(flz_engine_poll_message(engine, &m), 1);
	ck_assert_int_eq(m.kind, FLZ_MSG_PONG);
	ck_assert_int_eq(m.frame, 0);
	struct flz_engine_stats st;
	flz_engine_get_stats(engine, &st);
	ck_assert_int_eq(st.frames, n_frames);
	flz_engine_destroy(engine);
}

START_TEST(offline_render_exact)
{
	enum { N = 4801 };
	struct flz_sample *sample = make_noise(3000, 2, 48000, 0.9, 77);
	static float a[N * 2], b[N * 2], ref[N * 2];
	offline_play_render(a, N, sample);
	offline_play_render(b, N, sample);
	/* Deterministic: the same calls give the same bits. */
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);

	/* The reference: the mixer alone, the play applied before frame 0. */
	struct ref_retired retired = { .n = 0 };
	struct flz_mixer_config mc = flz_mixer_config_init();
	mc.max_block_frames = 64;
	mc.retire = ref_retire;
	mc.userdata = &retired;
	struct flz_mixer *mixer = NULL;
	ck_assert_int_eq(flz_mixer_new(&mc, &mixer), 0);
	flz_sample_ref(sample);
	ck_assert_int_eq(flz_mixer_load(mixer, 3, sample), 0);
	ck_assert_int_eq(flz_mixer_play(mixer, 3, 0.5f), 1);
	for (uint32_t done = 0; done < N; done += 64) {
		uint32_t n = N - done < 64 ? N - done : 64;
		ck_assert_int_eq(flz_mixer_render(mixer, ref + (size_t)done * 2, n), 0);
	}
	flz_mixer_destroy(mixer);
	for (size_t i = 0; i < retired.n; i++)
		flz_sample_unref(retired.samples[i]);
	double worst = 0;
	for (size_t i = 0; i < (size_t)N * 2; i++) {
		double d = fabs((double)a[i] - (double)ref[i]);
		worst = d > worst ? d : worst;
	}
	ck_assert_msg(worst <= 1e-6, "offline render differs from the mixer by %g", worst);
	/* Sound from the very first frame (the sample loops: never silent). */
	ck_assert(a[0] != 0.0f || a[1] != 0.0f);
	ck_assert_float_eq_tol(a[0], 0.5f * sample->data[0], 1e-6);
	flz_sample_unref(sample);
}
END_TEST

START_TEST(offline_render_errors)
{
	float out[256];
	ck_assert_int_eq(flz_engine_render(NULL, out, 1), -EINVAL);
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "offline";
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	ck_assert_int_eq(flz_engine_render(engine, out, 64), -ENOTCONN);
	char why[256] = "";
	ck_assert_int_eq(flz_engine_start(engine, why, sizeof(why)), 0);
	ck_assert_int_eq(flz_engine_render(engine, out, 0), -EINVAL);
	ck_assert_int_eq(flz_engine_render(engine, NULL, 64), -EINVAL);
	ck_assert_int_eq(flz_engine_render(engine, out, FLZ_ENGINE_MAX_RENDER_FRAMES + 1), -EINVAL);
	ck_assert_int_eq(flz_engine_render(engine, out, 128), 0);
	/* Nothing played: silence. */
	for (size_t i = 0; i < 256; i++)
		ck_assert(out[i] == 0.0f);
	/* Bad commands are refused as on a device. */
	ck_assert_int_eq(flz_engine_play(engine, FLZ_NUM_SAMPLES, 0.5f), -EINVAL);
	ck_assert_int_eq(flz_engine_set_speed(engine, NAN), -EINVAL);
	flz_engine_stop(engine);
	ck_assert_int_eq(flz_engine_render(engine, out, 64), -ENOTCONN);
	flz_engine_destroy(engine);

	/* Another device: render is refused, running or not. */
	config.device = "flznull";
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	ck_assert_int_eq(flz_engine_render(engine, out, 64), -ENOTSUP);
	flz_engine_destroy(engine);
}
END_TEST

static TCase *add_case(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tc;
}

/* Without --rig: everything that needs no real-time device. With --rig
 * (inside the JACK rig): the real-time cases only. */
static Suite *engine_suite(bool rig)
{
	Suite *s = suite_create("engine");
	TCase *tc;
	if (rig) {
		tc = add_case(s, "engine:rig-playback");
		tcase_add_test(tc, rig_playback);
		tc = add_case(s, "engine:device-lost");
		tcase_add_test(tc, rig_device_lost);
		tc = add_case(s, "engine:wake-stop");
		tcase_add_test(tc, rig_wake_stop);
		tc = add_case(s, "engine:page-faults");
		tcase_add_test(tc, rig_no_page_faults);
		return s;
	}
	tc = add_case(s, "engine:ring");
	tcase_add_test(tc, ring_order_capacity);
	tcase_add_test(tc, ring_two_thread_stress);
	tc = add_case(s, "engine:seq");
	tcase_add_test(tc, seq_wrap_and_pack);
	tc = add_case(s, "engine:format");
	tcase_add_test(tc, format_converters);
	tc = add_case(s, "engine:api");
	tcase_add_test(tc, api_arguments_and_states);
	tc = add_case(s, "engine:offline");
	tcase_add_test(tc, offline_render_exact);
	tcase_add_test(tc, offline_render_errors);
	tc = add_case(s, "engine:commands");
	tcase_add_test(tc, commands_order_and_content);
	tcase_add_test(tc, commands_many_threads);
	tcase_add_test(tc, commands_load_file);
	tcase_add_test(tc, commands_load_nonfinite);
	tc = add_case(s, "engine:params");
	tcase_add_test(tc, params_full_queue);
	tcase_add_test(tc, params_volume_content);
	tcase_add_test(tc, params_seq_wrap);
	tc = add_case(s, "engine:memory");
	tcase_add_test(tc, memory_retire_and_free);
	tcase_add_test(tc, memory_reload_shared);
	tc = add_case(s, "engine:alsa-null");
	tcase_add_test(tc, alsa_null_open_configure_close);
	tc = add_case(s, "engine:signals");
	tcase_add_test(tc, engine_threads_block_signals);
	tc = add_case(s, "engine:denormals");
	tcase_add_test(tc, audio_thread_flushes_denormals);
	tc = add_case(s, "engine:alsa-missing");
	tcase_add_test(tc, alsa_missing_device);
	tc = add_case(s, "engine:alsa-messages");
	tcase_add_test(tc, alsa_messages_open_to_log);
	tcase_add_test(tc, alsa_messages_listing_to_log);
	tcase_add_test(tc, alsa_messages_rt_handler);
	tc = add_case(s, "engine:suspend");
	tcase_add_test(tc, suspend_waits_not_lost);
	tcase_add_test(tc, suspend_wake_ends_wait);
	tcase_add_test(tc, suspend_resume_fails_prepares);
	tc = add_case(s, "engine:priority");
	tcase_add_test(tc, priority_refused);
	tc = add_case(s, "engine:prefault");
	tcase_add_test(tc, prefault_all_rt_memory);
	tc = add_case(s, "engine:mlock");
	tcase_add_test(tc, mlock_locks_rt_memory);
	tcase_add_test(tc, mlock_refused);
	return s;
}

int main(int argc, char **argv)
{
	bool rig = argc > 1 && strcmp(argv[1], "--rig") == 0;
	setup_alsa_config(rig);
	int status = flz_test_run_tap(engine_suite(rig));
	if (alsa_conf_path[0])
		unlink(alsa_conf_path);
	return status;
}
