/* SPDX-License-Identifier: MIT */
/* test-engine: the shared helpers, the suite in its order, and main(). */
#include "engine-tests.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

void run_in_child(int (*child)(void))
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child());
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}

/* A sample of deterministic noise (amplitude amp) at the given format. */
struct flz_sample *make_noise(int64_t n_frames, uint32_t n_channels, uint32_t rate_hz,
			      double amp, uint32_t seed)
{
	struct flz_sample *s = flz_sample_new(n_frames, n_channels, rate_hz);
	ck_assert_ptr_nonnull(s);
	flz_test_noise(s->data, (size_t)n_frames * n_channels, amp, seed);
	return s;
}

int refcount(struct flz_sample *s)
{
	return atomic_load(&s->refcount);
}

void collect(struct flz_engine *engine, struct msg_log *log)
{
	struct flz_engine_msg m;
	int rc;
	while ((rc = flz_engine_poll_message(engine, &m)) == 1) {
		ck_assert_uint_lt(log->n, sizeof(log->msgs) / sizeof(log->msgs[0]));
		log->msgs[log->n++] = m;
	}
	ck_assert_int_eq(rc, 0);
}

struct flz_engine *offline_engine_new(uint32_t period_frames, bool trace)
{
	struct flz_engine_config config = flz_engine_config_init();
	config.device = "offline";
	config.period_frames = period_frames;
	config.trace_commands = trace;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	return engine;
}

void check_applied(const struct msg_log *log, const struct applied_want *want, size_t n_want,
		   size_t first)
{
	size_t n_applied = 0;
	for (size_t i = 0; i < log->n; i++) {
		const struct flz_engine_msg *m = &log->msgs[i];
		if (m->kind != FLZ_MSG_APPLIED)
			continue;
		const size_t k = first + n_applied;
		ck_assert_uint_lt(k, n_want);
		ck_assert_int_eq(m->cmd, want[k].cmd);
		ck_assert_uint_eq(m->seq, n_applied + 1);
		ck_assert_int_eq(m->slot, want[k].slot);
		ck_assert_msg(m->value == want[k].value, "%s: value %.17g, not %.17g",
			      flz_cmd_name(m->cmd), m->value, want[k].value);
		n_applied++;
	}
	ck_assert_uint_eq(first + n_applied, n_want);
}

struct flz_engine *offline_engine(uint32_t period_frames, bool trace)
{
	struct flz_engine *engine = offline_engine_new(period_frames, trace);
	char why[256] = "";
	ck_assert_int_eq(flz_engine_start(engine, why, sizeof(why)), 0);
	/* The rings' counters are cache-line aligned members: the engine (and
	 * so its core) must be allocated at that alignment. */
	ck_assert_uint_eq((uintptr_t)flz_engine_get_core(engine) % _Alignof(struct flz_engine_core),
			  0);
	return engine;
}

void ref_retire(void *userdata, struct flz_sample *sample)
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
void ref_render(const struct msg_log *log, struct flz_sample *load_sample, uint32_t rate_hz,
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
			case FLZ_CMD_PLAY_EXCLUSIVE: {
				struct flz_mixer_trigger t = { .slot = m->slot,
							       .gain = (float)m->value,
							       .token = m->seq,
							       .exclusive = true,
							       .stop_token = m->seq };
				ck_assert_int_ge(flz_mixer_trigger(mixer, &t), 0);
				break;
			}
			case FLZ_CMD_PAUSE:
				ck_assert_int_ge(flz_mixer_pause_slot(mixer, m->slot), 0);
				break;
			case FLZ_CMD_RESUME:
				ck_assert_int_ge(flz_mixer_resume_slot(mixer, m->slot), 0);
				break;
			case FLZ_CMD_SEEK:
				ck_assert_int_ge(flz_mixer_seek_slot(mixer, m->slot, (int64_t)m->value), 0);
				break;
			case FLZ_CMD_PAD_GAIN:
				ck_assert_int_eq(flz_mixer_set_pad_gain(mixer, m->slot, (float)m->value), 0);
				break;
			case FLZ_CMD_PAD_SPEED:
				ck_assert_int_eq(flz_mixer_set_pad_speed(mixer, m->slot, m->value), 0);
				break;
			case FLZ_CMD_LOOP_REGION:
				/* The trace carries the start only. */
				ck_abort_msg("ref_render cannot replay loop_region");
				break;
			case FLZ_CMD_MASTER_BPM:
			case FLZ_CMD_BEATS_PER_BAR:
			case FLZ_CMD_ANCHOR:
				/* The transport moves no sample: nothing to replay. */
				break;
			case FLZ_CMD_PAD_BPM:
			case FLZ_CMD_PAD_DOWNBEAT:
			case FLZ_CMD_BPM_LOCK:
				/* Locked voices need the engine's transport. */
				ck_abort_msg("ref_render cannot replay the tempo lock");
				break;
			case FLZ_CMD_PAD_EQ:
				/* The trace carries no gains, and this mixer has no EQ. */
				ck_abort_msg("ref_render cannot replay pad_eq");
				break;
			case FLZ_CMD_KEY_LOCK:
			case FLZ_CMD_PAD_KEY_LOCK:
				/* This mixer has no stretchers. */
				ck_abort_msg("ref_render cannot replay key lock");
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

void log_collect(void *userdata, enum flz_log_level level, const char *message)
{
	struct log_lines *l = userdata;
	pthread_mutex_lock(&l->lock);
	if (l->n < LOG_LINES) {
		l->level[l->n] = level;
		snprintf(l->text[l->n], sizeof(l->text[0]), "%s", message);
	}
	l->n++;
	pthread_mutex_unlock(&l->lock);
}

struct flz_engine_config wav_device_config(char *path_template, char device[64],
					   uint32_t period_frames)
{
	int fd = mkstemp(path_template);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(device, 64, "wav:%s", path_template);
	struct flz_engine_config config = flz_engine_config_init();
	config.device = device;
	config.period_frames = period_frames;
	return config;
}

struct flz_engine *thread_engine(const char *device, enum flz_device_format format, bool trace)
{
	struct flz_engine_config config = flz_engine_config_init();
	config.device = device;
	config.format = format;
	/* The null PCM is not paced: the audio thread spins; keep it ordinary
	 * (and the wav device alike, for the same cases on both). */
	config.rt_priority = 0;
	config.trace_commands = trace;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	return engine;
}

struct flz_engine *null_engine(enum flz_device_format format, bool trace)
{
	return thread_engine("flznull", format, trace);
}

/* "wav:" and a temporary file of main()'s, which each start rewrites. */
static char wav_device[64];

int thread_devices(const char *devices[2])
{
	int n = 0;
#if FLZ_HAVE_ALSA
	devices[n++] = "flznull";
#endif
	devices[n++] = wav_device;
	return n;
}

int engine_regions(struct flz_engine *engine, struct flz_mem_region *regions, size_t *total)
{
	int n = flz_engine_rt_regions(engine, regions, FLZ_ENGINE_MAX_RT_REGIONS);
	ck_assert_int_le(n, FLZ_ENGINE_MAX_RT_REGIONS);
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	*total = 0;
	for (int i = 0; i < n; i++)
		*total += (regions[i].n_bytes + page - 1) / page * page;
	return n;
}

int child_start(const struct flz_engine_config *config, struct flz_engine **engine)
{
	if (flz_engine_new(config, engine) != 0)
		return 12;
	char why[256];
	if (flz_engine_start(*engine, why, sizeof(why)) != 0)
		return 13;
	return 0;
}

int drop_privileges(int resource)
{
	struct rlimit none = { 0, 0 };
	if (setrlimit(resource, &none) != 0)
		return 10;
	if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
			       setresuid(65534, 65534, 65534) != 0))
		return 11;
	return 0;
}

/* The thread id of this process's thread named @p name, or -1. */
pid_t thread_named(const char *name)
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

TCase *engine_tcase(const char *name)
{
	TCase *tc = tcase_create(name);
	tcase_set_timeout(tc, 60);
	return tc;
}

/* Without --rig: everything that needs no real-time device (without ALSA,
 * the cases that need no ALSA device; the audio thread's own cases run on
 * wav:PATH, and with ALSA on the null PCM too). With --rig (inside the JACK rig):
 * the real-time cases only. */
static Suite *engine_suite(bool rig)
{
	Suite *s = suite_create("engine");
	if (rig) {
#if FLZ_HAVE_ALSA
		suite_add_tcase(s, engine_case_rig_playback());
		suite_add_tcase(s, engine_case_device_lost());
		suite_add_tcase(s, engine_case_wake_stop());
		suite_add_tcase(s, engine_case_page_faults());
#endif
		return s;
	}
	TCase *(*const cases[])(void) = {
		engine_case_ring,
		engine_case_seq,
		engine_case_format,
		engine_case_api,
		engine_case_offline,
		engine_case_commands,
		engine_case_params,
		engine_case_memory,
		engine_case_pads,
		engine_case_transport,
		engine_case_meters,
		engine_case_loading,
		engine_case_loadpool,
		engine_case_tempo_lock,
		engine_case_key_lock,
		engine_case_wav_drops,
		engine_case_wav_xruns,
		engine_case_record,
		engine_case_signals,
		engine_case_denormals,
		engine_case_prefault,
#if FLZ_HAVE_ALSA
		engine_case_alsa_null,
		engine_case_alsa_missing,
		engine_case_alsa_messages,
		engine_case_suspend,
		engine_case_priority,
		engine_case_mlock,
#endif
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		suite_add_tcase(s, cases[i]());
	return s;
}

/* The file of thread_devices()' wav device, made before the cases fork. */
static void setup_wav_device(void)
{
	char path[] = "/tmp/flz-test-engine-wav-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(1);
	}
	close(fd);
	snprintf(wav_device, sizeof(wav_device), "wav:%s", path);
}

int main(int argc, char **argv)
{
	bool rig = argc > 1 && strcmp(argv[1], "--rig") == 0;
	setup_alsa_config(rig);
	setup_wav_device();
	int status = flz_test_run_tap(engine_suite(rig));
	if (alsa_conf_path[0])
		unlink(alsa_conf_path);
	unlink(wav_device + 4);
	return status;
}
