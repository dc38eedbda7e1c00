/* SPDX-License-Identifier: MIT */
/* test-engine: flz_engine_start_recording() / flz_engine_stop_recording(). */
#include "engine-tests.h"

/* The float frames of a WAV file; *n_frames their count. */
static float *read_wav(const char *path, uint32_t n_channels, int64_t *n_frames)
{
	SF_INFO info = { 0 };
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	ck_assert_msg(f != NULL, "%s: %s", path, sf_strerror(NULL));
	ck_assert_int_eq(info.channels, (int)n_channels);
	ck_assert_int_eq(info.format, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
	float *frames = malloc(sizeof(float) * n_channels * (size_t)info.frames + 1);
	ck_assert_ptr_nonnull(frames);
	ck_assert_int_eq(sf_readf_float(f, frames, info.frames), info.frames);
	sf_close(f);
	*n_frames = info.frames;
	return frames;
}

/*
 * engine:record-drops - on the offline device the writer held and a ring of
 * 1024 frames: the first 8 blocks of 128 fill it, every later block is
 * dropped whole and counted exactly (never a wait: each render returns), the
 * file holds exactly the first 1024 frames rendered, bit for bit, and the
 * writer says so in exactly one warning once it drains, with the count.
 */
START_TEST(record_writer_held_drops_whole_blocks)
{
	enum { RING = 1024, PERIOD = 128, BLOCKS = 40 };
	static struct log_lines lines = LOG_LINES_INIT;
	static atomic_bool hold;
	char path[] = "/tmp/flz-test-record-drops-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);

	struct flz_engine_config config = flz_engine_config_init();
	config.device = "offline";
	config.period_frames = PERIOD;
	config.log = log_collect;
	config.log_userdata = &lines;
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	char why[256] = "";
	ck_assert_int_eq(flz_engine_start(engine, why, sizeof(why)), 0);
	struct flz_sample *noise = make_noise(48000, 2, 48000, 0.5, 7);
	flz_sample_ref(noise);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, noise), 0);
	ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), 0);

	/* Refused: not a power of two; smaller than a block (at start_recording). */
	ck_assert_int_eq(flz_engine_set_record_writer_test(engine, 3000, NULL), -EINVAL);
	ck_assert_int_eq(flz_engine_set_record_writer_test(engine, 64, NULL), 0);
	ck_assert_int_eq(flz_engine_start_recording(engine, path, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "holds no block") != NULL, "why: %s", why);
	struct flz_engine_stats st;
	flz_engine_get_stats(engine, &st);
	ck_assert(!st.recording);

	atomic_store(&hold, true);
	ck_assert_int_eq(flz_engine_set_record_writer_test(engine, RING, &hold), 0);
	ck_assert_int_eq(flz_engine_start_recording(engine, path, why, sizeof(why)), 0);
	ck_assert_int_eq(flz_engine_start_recording(engine, path, why, sizeof(why)), -EBUSY);
	ck_assert_str_eq(why, "already recording");
	float *out = malloc(sizeof(float) * 2 * PERIOD * BLOCKS);
	ck_assert_ptr_nonnull(out);
	for (int b = 0; b < BLOCKS; b++)
		ck_assert_int_eq(flz_engine_render(engine, out + (size_t)b * PERIOD * 2, PERIOD), 0);
	flz_engine_get_stats(engine, &st);
	ck_assert(st.recording);
	ck_assert_uint_eq(st.record_dropped, (uint64_t)(BLOCKS * PERIOD - RING));
	/* Held, the writer has logged nothing yet. */
	pthread_mutex_lock(&lines.lock);
	for (int i = 0; i < lines.n && i < LOG_LINES; i++)
		ck_assert_msg(strstr(lines.text[i], "fell behind") == NULL, "held: %s", lines.text[i]);
	pthread_mutex_unlock(&lines.lock);
	atomic_store(&hold, false);
	ck_assert_uint_eq(flz_engine_stop_recording(engine), RING);
	flz_engine_get_stats(engine, &st);
	ck_assert(!st.recording);
	/* The last recording's counts stay readable after its end. */
	ck_assert_uint_eq(st.record_dropped, (uint64_t)(BLOCKS * PERIOD - RING));
	ck_assert_uint_eq(st.record_write_errors, 0);
	ck_assert_uint_eq(flz_engine_stop_recording(engine), 0);

	int64_t n_file = 0;
	float *file = read_wav(path, 2, &n_file);
	unlink(path);
	ck_assert_int_eq(n_file, RING);
	/* Bit for bit: the recording is render's output (both clipped alike). */
	ck_assert(memcmp(file, out, sizeof(float) * 2 * RING) == 0);
	int nonzero = 0;
	for (int i = 0; i < 2 * RING; i++)
		nonzero += file[i] != 0.0f;
	ck_assert_int_gt(nonzero, RING);

	int n_said = 0;
	unsigned long long said = 0;
	pthread_mutex_lock(&lines.lock);
	for (int i = 0; i < lines.n && i < LOG_LINES; i++) {
		const char *at = strstr(lines.text[i], "fell behind: ");
		if (at == NULL)
			continue;
		n_said++;
		ck_assert_int_eq(lines.level[i], FLZ_LOG_WARNING);
		ck_assert_msg(strstr(lines.text[i], path) != NULL, "line: %s", lines.text[i]);
		ck_assert_msg(strstr(lines.text[i], "(stats: record_dropped)") != NULL, "line: %s",
			      lines.text[i]);
		ck_assert_int_eq(sscanf(at, "fell behind: %llu frames", &said), 1);
	}
	pthread_mutex_unlock(&lines.lock);
	ck_assert_int_eq(n_said, 1);
	ck_assert_uint_eq(said, BLOCKS * PERIOD - RING);

	free(out);
	free(file);
	flz_engine_destroy(engine);
	flz_sample_unref(noise);
}
END_TEST

/*
 * engine:record-device - recording while the wav device's audio thread
 * plays, started and stopped twice: each recording is a run of consecutive
 * frames of the device's own file, bit for bit (the device gets the clipped
 * float mix; so does the recorder), as long as stop_recording() says, and
 * the second recording lies after the first. Stop returns after the audio
 * thread let go of the writer (freed at once: a use after free would show
 * under valgrind or ASan).
 */
START_TEST(record_while_the_device_plays)
{
	enum { PERIOD = 128 };
	char dev_path[] = "/tmp/flz-test-record-dev-XXXXXX";
	char rec_path[2][40] = { "/tmp/flz-test-record-a-XXXXXX", "/tmp/flz-test-record-b-XXXXXX" };
	for (int k = 0; k < 2; k++) {
		int fd = mkstemp(rec_path[k]);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	char device[64];
	struct flz_engine_config config = wav_device_config(dev_path, device, PERIOD);
	struct flz_engine *engine = NULL;
	ck_assert_int_eq(flz_engine_new(&config, &engine), 0);
	char why[256] = "";
	/* Not running: refused, nothing created. */
	ck_assert_int_eq(flz_engine_start_recording(engine, "/tmp/flz-never", why, sizeof(why)),
			 -ENOTCONN);
	ck_assert_int_eq(access("/tmp/flz-never", F_OK), -1);
	ck_assert_int_eq(flz_engine_start(engine, why, sizeof(why)), 0);
	/* Loud noise: peaks clipped on both sides. */
	struct flz_sample *noise = make_noise(48000, 2, 48000, 1.5, 11);
	flz_sample_ref(noise);
	ck_assert_int_eq(flz_engine_load_sample(engine, 0, noise), 0);
	ck_assert_int_eq(flz_engine_play(engine, 0, 1.0f), 0);
	sleep_ms(50);
	uint64_t written[2];
	for (int k = 0; k < 2; k++) {
		ck_assert_int_eq(flz_engine_start_recording(engine, rec_path[k], why, sizeof(why)), 0);
		sleep_ms(120);
		written[k] = flz_engine_stop_recording(engine);
		ck_assert_uint_gt(written[k], 0);
		ck_assert_uint_eq(written[k] % PERIOD, 0);
		sleep_ms(30);
	}
	struct flz_engine_stats st;
	flz_engine_get_stats(engine, &st);
	flz_engine_stop(engine);
	ck_assert_uint_eq(st.record_dropped, 0);
	ck_assert_uint_eq(st.file_dropped_frames, 0);

	int64_t n_dev = 0;
	float *dev = read_wav(dev_path, 2, &n_dev);
	unlink(dev_path);
	int64_t after = 0;
	for (int k = 0; k < 2; k++) {
		int64_t n_rec = 0;
		float *rec = read_wav(rec_path[k], 2, &n_rec);
		unlink(rec_path[k]);
		ck_assert_int_eq(n_rec, (int64_t)written[k]);
		/* Where its first block lies in the device's file (noise: unique). */
		int64_t at = -1;
		for (int64_t i = after; i + n_rec <= n_dev && at < 0; i += PERIOD)
			if (memcmp(dev + i * 2, rec, sizeof(float) * 2 * PERIOD) == 0)
				at = i;
		ck_assert_msg(at >= 0, "recording %d's first block is not in the device's file", k);
		ck_assert(memcmp(dev + at * 2, rec, sizeof(float) * 2 * (size_t)n_rec) == 0);
		after = at + n_rec;
		free(rec);
	}
	free(dev);
	flz_engine_destroy(engine);
	flz_sample_unref(noise);
}
END_TEST

TCase *engine_case_record(void)
{
	TCase *tc = engine_tcase("engine:record");
	tcase_add_test(tc, record_writer_held_drops_whole_blocks);
	tcase_add_test(tc, record_while_the_device_plays);
	return tc;
}
