/* SPDX-License-Identifier: MIT */
/*
 * flz-render: render a command script offline with libloader + libmixer.
 *
 *   flz-render --frames N --out FILE [--rate 48000] [--channels 2]
 *              [--block 128] [--events FILE] SCRIPT
 *
 * SCRIPT holds one command per line (blank lines and lines starting with #
 * are skipped):
 *
 *   FRAME CMD SLOT VALUE [PATH]
 *
 * CMD is a command name of flz/vocabulary.h: load, play, stop, stop_all,
 * unload, volume, speed, ping (which has no effect offline), play_exclusive,
 * pause, resume, seek, pad_gain, pad_speed, loop_region, and the transport
 * and tempo sync's master_bpm, beats_per_bar, anchor, pad_bpm, pad_downbeat
 * and bpm_lock. FRAME is the output frame (counted from 0) at whose start
 * the command takes effect; frames never decrease. SLOT is ignored by the
 * global commands (stop_all, volume, speed, ping, master_bpm, beats_per_bar,
 * anchor, bpm_lock), VALUE by every command without a value (load/stop/
 * stop_all/unload/ping/pause/resume). VALUE is what AudioMessage.Applied.value
 * carries: the gain of play/play_exclusive/volume, the speed of
 * speed/pad_speed, the linear gain of pad_gain, the sample frame of seek, the
 * start frame of loop_region, the tempo of master_bpm and pad_bpm (0: none),
 * the count of beats_per_bar, the downbeat frame of anchor, the sample frame
 * of pad_downbeat, 1 or 0 of bpm_lock. The rest of the line is PATH for load,
 * for loop_region the end frame (absent: -1, the sample's end), and for play
 * optionally "at=N" (a scheduled start at output frame N; one already past
 * starts at once) or "quantize=MODE" (a start on the next grid frame of MODE,
 * "1/64" .. "bar", at or after FRAME): the play is the one command of the
 * script that does not take effect at FRAME, exactly as in the engine, whose
 * Applied message reports the frame the play reached the audio thread.
 *
 * The transport and tempo sync are the engine's: a transport (120 BPM, 4
 * beats per bar, downbeat 0) the transport commands change at their frame,
 * the pending starts in a schedule that a stop, stop_all, unload or
 * play_exclusive cancels, and, with bpm_lock on, every play of a pad with a
 * tempo started tempo-locked in phase with the bar (libtransport's
 * flz_transport_locked_start() from the pad's downbeat) and every change of
 * the master tempo, a pad's tempo or the lock relocking the pads' voices.
 *
 * The renderer does what the engine does with the same commands at the same
 * output frames: files are decoded by the loader at the output rate and
 * channel count, the mixer is created with the same defaults, every command
 * is applied right before the first frame of its FRAME, in script order.
 * The mixer's output does not depend on how rendering is split into blocks,
 * so the engine's period size does not matter. The result, exactly N frames
 * of interleaved float (host order), goes to FILE ("-" for stdout).
 *
 * --events FILE writes one line per mixer event: "stopped TOKEN SLOT FRAME"
 * or "started TOKEN SLOT FRAME", where TOKEN is the script line number of the
 * command.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flz/loader.h>
#include <flz/mixer.h>
#include <flz/transport.h>
#include <flz/vocabulary.h>

struct render_line {
	int64_t frame;
	enum flz_cmd_kind cmd;
	int32_t slot;
	double value;
	/* loop_region: the end frame (-1: the sample's end); play: the frame
	 * of an "at=" start. */
	int64_t end_frame;
	/* play: "at=" (START_AT), "quantize=" (START_GRID) or neither. */
	enum { START_NOW, START_AT, START_GRID } start;
	enum flz_quantize quantize;
	uint32_t line_no;
	struct flz_sample *sample; /* load: decoded before rendering; owned until applied */
};

struct render_script {
	struct render_line *lines;
	size_t n_lines;
	size_t capacity;
};

static FILE *events_file;

/* What the engine's audio side keeps beside the mixer for the transport and
 * the tempo sync (engine-rt.c): the renderer plays it the same way. */
struct render_tempo {
	struct flz_transport transport;
	struct flz_schedule schedule;
	double pad_bpm[FLZ_NUM_SAMPLES];
	int64_t pad_downbeat[FLZ_NUM_SAMPLES];
	bool lock_on;
};

static void on_retire(void *userdata, struct flz_sample *sample)
{
	(void)userdata;
	/* Offline there is no audio thread: the load's reference is dropped here. */
	flz_sample_unref(sample);
}

static void on_event(void *userdata, const struct flz_mixer_event *event)
{
	(void)userdata;
	if (events_file && (event->kind == FLZ_MIXER_EVENT_STOPPED ||
			    event->kind == FLZ_MIXER_EVENT_STARTED))
		fprintf(events_file, "%s %u %d %lld\n",
			event->kind == FLZ_MIXER_EVENT_STOPPED ? "stopped" : "started",
			(unsigned)event->token, (int)event->slot, (long long)event->frame);
}

/* The script words are the vocabulary's command names (flz/vocabulary.h),
 * the spelling of the Python API's Applied.cmd. */
static int parse_cmd(const char *word, enum flz_cmd_kind *out)
{
#define MATCH(suffix, number, name, has_value, doc) \
	if (strcmp(word, name) == 0) {              \
		*out = FLZ_CMD_##suffix;            \
		return 0;                           \
	}
	FLZ_CMD_KINDS(MATCH)
#undef MATCH
	return -EINVAL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
			 s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static int load_script(const char *path, struct flz_loader *loader, struct render_script *script)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(stderr, "flz-render: cannot open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	char buf[8192];
	uint32_t line_no = 0;
	int64_t last_frame = 0;
	int err = 0;
	while (!err && fgets(buf, sizeof buf, f)) {
		line_no++;
		char *s = trim(buf);
		if (*s == '\0' || *s == '#')
			continue;
		long long frame;
		char word[32];
		int slot;
		double value;
		int consumed = 0;
		if (sscanf(s, "%lld %31s %d %lf %n", &frame, word, &slot, &value, &consumed) < 4) {
			fprintf(stderr, "flz-render: %s:%u: expected FRAME CMD SLOT VALUE [PATH]\n",
				path, line_no);
			err = -EINVAL;
			break;
		}
		struct render_line line = { .frame = frame, .slot = slot, .value = value,
					    .end_frame = -1, .line_no = line_no };
		if (parse_cmd(word, &line.cmd) != 0) {
			fprintf(stderr, "flz-render: %s:%u: unknown command '%s'\n", path, line_no,
				word);
			err = -EINVAL;
			break;
		}
		if (frame < last_frame) {
			fprintf(stderr, "flz-render: %s:%u: frame %lld is before frame %lld\n", path,
				line_no, frame, (long long)last_frame);
			err = -EINVAL;
			break;
		}
		last_frame = frame;
		if (line.cmd == FLZ_CMD_STOP_ALL)
			line.slot = -1;
		if (line.cmd == FLZ_CMD_PLAY && s[consumed] != '\0') {
			const char *opt = s + consumed;
			char *end = NULL;
			if (strncmp(opt, "at=", 3) == 0) {
				line.start = START_AT;
				line.end_frame = strtoll(opt + 3, &end, 10);
				if (end == opt + 3 || *trim(end) != '\0')
					line.start = START_NOW;
			} else if (strncmp(opt, "quantize=", 9) == 0 &&
				   flz_quantize_parse(opt + 9, &line.quantize) == 0) {
				line.start = START_GRID;
			}
			if (line.start == START_NOW) {
				fprintf(stderr, "flz-render: %s:%u: play takes at=FRAME or "
						"quantize=MODE, not '%s'\n", path, line_no, opt);
				err = -EINVAL;
				break;
			}
		}
		if (line.cmd == FLZ_CMD_LOOP_REGION && s[consumed] != '\0') {
			char *end;
			line.end_frame = strtoll(s + consumed, &end, 10);
			if (*trim(end) != '\0') {
				fprintf(stderr, "flz-render: %s:%u: loop_region END must be a frame\n",
					path, line_no);
				err = -EINVAL;
				break;
			}
		}
		if (line.cmd == FLZ_CMD_LOAD) {
			const char *file = s + consumed;
			if (*file == '\0') {
				fprintf(stderr, "flz-render: %s:%u: load needs a PATH\n", path, line_no);
				err = -EINVAL;
				break;
			}
			int r = flz_loader_load_file(loader, file, &line.sample);
			if (r < 0) {
				fprintf(stderr, "flz-render: %s:%u: %s\n", path, line_no,
					flz_loader_strerror(loader));
				err = r;
				break;
			}
		}
		if (script->n_lines == script->capacity) {
			size_t cap = script->capacity ? 2 * script->capacity : 64;
			struct render_line *grown = realloc(script->lines, cap * sizeof *grown);
			if (!grown) {
				flz_sample_unref(line.sample);
				err = -ENOMEM;
				break;
			}
			script->lines = grown;
			script->capacity = cap;
		}
		script->lines[script->n_lines++] = line;
	}
	if (f != stdin)
		fclose(f);
	return err;
}

/* The pad's tempo-lock ratio now: false when the lock is off or the pad has
 * no tempo. */
static bool pad_ratio(const struct render_tempo *tp, int32_t slot, struct flz_transport_lock *lock)
{
	return tp->lock_on && slot >= 0 && slot < FLZ_NUM_SAMPLES && tp->pad_bpm[slot] != 0.0 &&
	       flz_transport_lock_ratio(flz_transport_bpm(&tp->transport), tp->pad_bpm[slot],
					lock) == 0;
}

/* Start a voice of t->slot at the mixer's frame, tempo-locked in phase with
 * the bar when its pad is locked (its downbeat, or the loop region's start
 * when the region no longer holds it, on the bar's downbeats). */
static int start_play(struct flz_mixer *mixer, const struct render_tempo *tp,
		      struct flz_mixer_trigger *t)
{
	struct flz_transport_lock lock;
	struct flz_transport_locked at;
	int64_t ls, le;
	if (pad_ratio(tp, t->slot, &lock) && flz_mixer_loop_region(mixer, t->slot, &ls, &le) == 0) {
		const int64_t now = flz_mixer_frame(mixer);
		const uint64_t downbeat_fp = (uint64_t)tp->pad_downbeat[t->slot] << 32;
		if (flz_transport_locked_start(&at, &tp->transport, now, downbeat_fp, &lock, ls, le) ==
			    0 ||
		    flz_transport_locked_start(&at, &tp->transport, now, (uint64_t)ls << 32, &lock, ls,
					       le) == 0) {
			t->lock_num = lock.num;
			t->lock_den = lock.den;
			t->lock_pos_fp = at.pos0_fp;
		}
	}
	return flz_mixer_trigger(mixer, t);
}

/* Lock, relock or unlock pad @p slot's voices after a tempo change; with
 * @p slot < 0 every pad with a tempo. */
static void relock(struct flz_mixer *mixer, const struct render_tempo *tp, int32_t slot)
{
	for (int32_t s = slot < 0 ? 0 : slot; s < (slot < 0 ? FLZ_NUM_SAMPLES : slot + 1); s++) {
		struct flz_transport_lock lock = { 0 };
		if (slot < 0 && tp->pad_bpm[s] == 0.0)
			continue;
		const bool on = pad_ratio(tp, s, &lock);
		if (flz_mixer_set_pad_lock(mixer, s, on ? lock.num : 0, on ? lock.den : 0) < 0)
			fprintf(stderr, "flz-render: pad %d: the relock was refused\n", (int)s);
	}
}

/* The pending starts due by @p frame (the mixer's), in (frame, line) order. */
static void start_due(struct flz_mixer *mixer, struct render_tempo *tp, int64_t frame)
{
	struct flz_schedule_entry e;
	while (flz_schedule_take(&tp->schedule, frame + 1, &e)) {
		struct flz_mixer_trigger t = { .slot = e.slot, .gain = e.gain, .token = e.token };
		if (start_play(mixer, tp, &t) < 0)
			fprintf(stderr, "flz-render: line %u: the scheduled play was refused\n",
				(unsigned)e.token);
	}
}

static bool pad_ok(int32_t slot)
{
	return slot >= 0 && slot < FLZ_NUM_SAMPLES;
}

static void apply(struct flz_mixer *mixer, struct render_tempo *tp, struct render_line *line)
{
	int r = 0;
	const int64_t now = flz_mixer_frame(mixer);
	switch (line->cmd) {
	case FLZ_CMD_LOAD:
		r = flz_mixer_load(mixer, line->slot, line->sample);
		if (r == 0)
			line->sample = NULL; /* the mixer owns the reference now */
		break;
	case FLZ_CMD_PLAY:
	case FLZ_CMD_PLAY_EXCLUSIVE: {
		/* As the engine triggers: the token is the command's (here its line). */
		struct flz_mixer_trigger t = {
			.slot = line->slot,
			.gain = (float)line->value,
			.token = line->line_no,
			.exclusive = line->cmd == FLZ_CMD_PLAY_EXCLUSIVE,
			.stop_token = line->line_no,
		};
		if (line->start != START_NOW) {
			struct flz_schedule_entry e = {
				.frame = line->end_frame,
				.seq = line->line_no,
				.slot = line->slot,
				.gain = (float)line->value,
				.token = line->line_no,
			};
			if (line->start == START_GRID)
				r = flz_transport_next_grid_frame(&tp->transport, line->quantize, now,
								  &e.frame);
			if (r == 0 && !pad_ok(line->slot))
				r = -EINVAL;
			if (r == 0)
				r = flz_schedule_insert(&tp->schedule, &e);
			break;
		}
		if (t.exclusive)
			(void)flz_schedule_cancel_all(&tp->schedule);
		r = start_play(mixer, tp, &t);
		break;
	}
	case FLZ_CMD_PAUSE:
		r = flz_mixer_pause_slot(mixer, line->slot);
		break;
	case FLZ_CMD_RESUME:
		r = flz_mixer_resume_slot(mixer, line->slot);
		break;
	case FLZ_CMD_SEEK:
		r = flz_mixer_seek_slot(mixer, line->slot, (int64_t)line->value);
		break;
	case FLZ_CMD_PAD_GAIN:
		r = flz_mixer_set_pad_gain(mixer, line->slot, (float)line->value);
		break;
	case FLZ_CMD_PAD_SPEED:
		r = flz_mixer_set_pad_speed(mixer, line->slot, line->value);
		break;
	case FLZ_CMD_LOOP_REGION:
		r = flz_mixer_set_loop_region(mixer, line->slot, (int64_t)line->value,
					      line->end_frame);
		break;
	case FLZ_CMD_STOP:
		if (pad_ok(line->slot) && flz_schedule_cancel_slot(&tp->schedule, line->slot) < 0)
			r = -EINVAL;
		else
			r = flz_mixer_stop_slot(mixer, line->slot, line->line_no);
		break;
	case FLZ_CMD_STOP_ALL:
		(void)flz_schedule_cancel_all(&tp->schedule);
		r = flz_mixer_stop_all(mixer, line->line_no);
		break;
	case FLZ_CMD_UNLOAD:
		if (pad_ok(line->slot) && flz_schedule_cancel_slot(&tp->schedule, line->slot) < 0)
			r = -EINVAL;
		else
			r = flz_mixer_unload(mixer, line->slot, line->line_no);
		break;
	case FLZ_CMD_VOLUME:
		r = flz_mixer_set_master_gain(mixer, (float)line->value);
		break;
	case FLZ_CMD_SPEED:
		r = flz_mixer_set_speed(mixer, line->value);
		break;
	case FLZ_CMD_PING:
		/* Answered by the engine with a message; no effect on the audio. */
		break;
	case FLZ_CMD_MASTER_BPM:
		r = flz_transport_set_bpm(&tp->transport, now, line->value);
		if (r == 0 && tp->lock_on)
			relock(mixer, tp, -1);
		break;
	case FLZ_CMD_BEATS_PER_BAR:
		r = line->value >= 1.0 && line->value <= 16.0
			    ? flz_transport_set_beats_per_bar(&tp->transport, (uint32_t)line->value)
			    : -EINVAL;
		break;
	case FLZ_CMD_ANCHOR:
		/* Applied reports the frame taken; a negative one means now. */
		r = flz_transport_anchor(&tp->transport,
					 line->value < 0.0 ? now : (int64_t)line->value);
		break;
	case FLZ_CMD_PAD_BPM:
		if (!pad_ok(line->slot) || (line->value != 0.0 &&
					    !(line->value >= FLZ_TRANSPORT_BPM_MIN &&
					      line->value <= FLZ_TRANSPORT_BPM_MAX))) {
			r = -EINVAL;
			break;
		}
		tp->pad_bpm[line->slot] = line->value;
		relock(mixer, tp, line->slot);
		break;
	case FLZ_CMD_PAD_DOWNBEAT:
		/* For later plays: a playing voice keeps its phase. */
		if (!pad_ok(line->slot) || !(line->value >= 0.0)) {
			r = -EINVAL;
			break;
		}
		tp->pad_downbeat[line->slot] = (int64_t)line->value;
		break;
	case FLZ_CMD_BPM_LOCK:
		if (tp->lock_on != (line->value != 0.0)) {
			tp->lock_on = line->value != 0.0;
			relock(mixer, tp, -1);
		}
		break;
	case FLZ_CMD_PAD_EQ:
	case FLZ_CMD_KEY_LOCK:
	case FLZ_CMD_PAD_KEY_LOCK:
		/* The EQ and key lock's stretchers are the engine's; this bare
		 * mixer has neither. */
		r = -ENOTSUP;
		break;
	}
	if (r < 0)
		fprintf(stderr, "flz-render: line %u: %s refused: %s\n", line->line_no,
			flz_cmd_name(line->cmd), flz_strerror(r));
}

static void usage(FILE *f)
{
	fprintf(f, "usage: flz-render --frames N --out FILE [--rate HZ] [--channels N] "
		   "[--block N] [--events FILE] SCRIPT\n");
}

int main(int argc, char **argv)
{
	long long n_frames_total = -1;
	const char *out_path = NULL;
	const char *events_path = NULL;
	unsigned long rate_hz = 48000, n_channels = 2, block_frames = 128;
	static const struct option options[] = {
		{ "frames", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "rate", required_argument, NULL, 'r' },
		{ "channels", required_argument, NULL, 'c' },
		{ "block", required_argument, NULL, 'b' },
		{ "events", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "n:o:r:c:b:e:h", options, NULL)) != -1) {
		switch (opt) {
		case 'n': n_frames_total = strtoll(optarg, NULL, 10); break;
		case 'o': out_path = optarg; break;
		case 'r': rate_hz = strtoul(optarg, NULL, 10); break;
		case 'c': n_channels = strtoul(optarg, NULL, 10); break;
		case 'b': block_frames = strtoul(optarg, NULL, 10); break;
		case 'e': events_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 64;
		}
	}
	if (optind != argc - 1 || n_frames_total < 0 || !out_path || block_frames < 1 ||
	    block_frames > FLZ_MAX_BLOCK_FRAMES || n_channels < 1 ||
	    n_channels > FLZ_MAX_CHANNELS || rate_hz < 1) {
		usage(stderr);
		return 64;
	}

	struct flz_loader_config lcfg = flz_loader_config_init();
	lcfg.rate_hz = (uint32_t)rate_hz;
	lcfg.n_channels = (uint32_t)n_channels;
	struct flz_loader *loader = NULL;
	if (flz_loader_new(&lcfg, &loader) < 0) {
		fprintf(stderr, "flz-render: cannot create the loader\n");
		return 70;
	}
	struct render_script script = { 0 };
	int err = load_script(argv[optind], loader, &script);
	flz_loader_destroy(loader);

	struct flz_mixer *mixer = NULL;
	if (!err) {
		struct flz_mixer_config mcfg = flz_mixer_config_init();
		mcfg.rate_hz = (uint32_t)rate_hz;
		mcfg.n_channels = (uint32_t)n_channels;
		mcfg.max_block_frames = (uint32_t)block_frames;
		mcfg.retire = on_retire;
		mcfg.event = on_event;
		err = flz_mixer_new(&mcfg, &mixer);
		if (err)
			fprintf(stderr, "flz-render: cannot create the mixer: %s\n", flz_strerror(err));
	}

	FILE *out = NULL;
	if (!err) {
		out = strcmp(out_path, "-") == 0 ? stdout : fopen(out_path, "wb");
		if (events_path)
			events_file = fopen(events_path, "w");
		if (!out || (events_path && !events_file)) {
			fprintf(stderr, "flz-render: cannot create %s: %s\n",
				out ? events_path : out_path, strerror(errno));
			err = -EIO;
		}
	}

	float *block = NULL;
	if (!err) {
		block = calloc(block_frames * n_channels, sizeof *block);
		if (!block)
			err = -ENOMEM;
	}

	static struct render_tempo tempo;
	if (!err && flz_transport_init(&tempo.transport, (uint32_t)rate_hz) < 0) {
		fprintf(stderr, "flz-render: no transport at %lu Hz\n", rate_hz);
		err = -EINVAL;
	}
	flz_schedule_init(&tempo.schedule);

	size_t next = 0;
	int64_t frame = 0;
	while (!err && frame < n_frames_total) {
		/* As the engine: a block's commands, then the starts due at its
		 * first frame (a start due inside it splits it there). */
		while (next < script.n_lines && script.lines[next].frame <= frame)
			apply(mixer, &tempo, &script.lines[next++]);
		start_due(mixer, &tempo, frame);
		/* Render up to the next command's frame, the next pending start,
		 * the block size or the end. */
		int64_t until = frame + (int64_t)block_frames, due;
		if (next < script.n_lines && script.lines[next].frame < until)
			until = script.lines[next].frame;
		if (flz_schedule_earliest(&tempo.schedule, &due) && due < until)
			until = due;
		if (until > n_frames_total)
			until = n_frames_total;
		uint32_t n = (uint32_t)(until - frame);
		err = flz_mixer_render(mixer, block, n);
		if (err) {
			fprintf(stderr, "flz-render: render failed: %s\n", flz_strerror(err));
			break;
		}
		if (fwrite(block, sizeof *block, (size_t)n * n_channels, out) !=
		    (size_t)n * n_channels) {
			fprintf(stderr, "flz-render: write error: %s\n", strerror(errno));
			err = -EIO;
		}
		frame = until;
	}
	if (!err && next < script.n_lines)
		fprintf(stderr, "flz-render: %zu commands lie at or beyond frame %lld; not applied\n",
			script.n_lines - next, n_frames_total);

	free(block);
	if (out && out != stdout && fclose(out) != 0 && !err)
		err = -EIO;
	if (events_file)
		fclose(events_file);
	flz_mixer_destroy(mixer);
	for (size_t i = 0; i < script.n_lines; i++)
		flz_sample_unref(script.lines[i].sample);
	free(script.lines);
	return err ? 1 : 0;
}
