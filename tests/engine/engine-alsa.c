/* SPDX-License-Identifier: MIT */
/* test-engine: the ALSA backend on the null PCM, a missing PCM, alsa-lib's messages (ALSA builds only). */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * engine:alsa-null and engine:alsa-missing
 * ------------------------------------------------------------------------ */

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

TCase *engine_case_alsa_null(void)
{
	TCase *tc = engine_tcase("engine:alsa-null");
	tcase_add_test(tc, alsa_null_open_configure_close);
	return tc;
}

TCase *engine_case_alsa_missing(void)
{
	TCase *tc = engine_tcase("engine:alsa-missing");
	tcase_add_test(tc, alsa_missing_device);
	return tc;
}

TCase *engine_case_alsa_messages(void)
{
	TCase *tc = engine_tcase("engine:alsa-messages");
	tcase_add_test(tc, alsa_messages_open_to_log);
	tcase_add_test(tc, alsa_messages_listing_to_log);
	tcase_add_test(tc, alsa_messages_rt_handler);
	return tc;
}
