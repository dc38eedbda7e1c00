/* SPDX-License-Identifier: MIT */
/*
 * play-file: embed the engine from C. Starts it on an ALSA device, loads a
 * file into slot 0, loops it for a number of seconds, stops.
 *
 *   play-file FILE [SECONDS] [DEVICE]
 *
 * DEVICE defaults to $FLITZIS_AUDIO_DEVICE, else "default".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <flz/engine.h>

static void print_log(void *userdata, enum flz_log_level level, const char *message)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	(void)userdata;
	fprintf(stderr, "play-file: %s: %s\n", names[level], message);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s FILE [SECONDS] [DEVICE]\n", argv[0]);
		return 2;
	}
	const char *path = argv[1];
	double seconds = argc > 2 ? atof(argv[2]) : 3.0;
	if (!(seconds >= 0.0 && seconds <= 86400.0)) {
		fprintf(stderr, "play-file: SECONDS must be 0..86400\n");
		return 2;
	}

	struct flz_engine_config config = flz_engine_config_init();
	config.device = argc > 3 ? argv[3] : getenv("FLITZIS_AUDIO_DEVICE");
	config.log = print_log;
	struct flz_engine *engine = NULL;
	int err = flz_engine_new(&config, &engine);
	if (err < 0) {
		fprintf(stderr, "play-file: %s\n", flz_strerror(err));
		return 1;
	}

	char why[512];
	err = flz_engine_start(engine, why, sizeof(why));
	if (err < 0) {
		fprintf(stderr, "play-file: %s\n", why);
		flz_engine_destroy(engine);
		return 1;
	}
	err = flz_engine_load_file(engine, 0, path, why, sizeof(why));
	if (err == 0)
		err = flz_engine_play(engine, 0, 1.0f);
	if (err < 0) {
		fprintf(stderr, "play-file: %s: %s\n", path, why[0] ? why : flz_strerror(err));
		flz_engine_destroy(engine);
		return 1;
	}

	/* Report what the audio thread says while the sample plays. */
	long remaining_ms = (long)(seconds * 1000.0);
	while (remaining_ms > 0) {
		long step = remaining_ms < 100 ? remaining_ms : 100;
		sleep_ms(step);
		remaining_ms -= step;
		struct flz_engine_msg msg;
		while (flz_engine_poll_message(engine, &msg) == 1) {
			if (msg.kind == FLZ_MSG_DEVICE_LOST) {
				fprintf(stderr, "play-file: device lost: %s\n",
					flz_strerror(msg.error));
				remaining_ms = 0;
			}
		}
	}

	struct flz_engine_stats stats;
	flz_engine_get_stats(engine, &stats);
	printf("%s, %u Hz, %u ch, %u x %u frames (%.1f ms), priority %d, "
	       "%lld frames, %llu xruns, load %.1f%%\n",
	       flz_device_format_name(stats.format), stats.rate_hz, stats.n_channels,
	       stats.period_frames, stats.n_periods, stats.latency_ms, stats.rt_priority,
	       (long long)stats.frames, (unsigned long long)stats.xruns, stats.load * 100.0);
	bool lost = stats.device_lost;
	flz_engine_destroy(engine);
	return lost ? 1 : 0;
}
