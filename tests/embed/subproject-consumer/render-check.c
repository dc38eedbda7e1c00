/* SPDX-License-Identifier: MIT */
/*
 * render-check: libmixer used from another Meson project. Plays one
 * generated sample at gain 0.25 and checks the rendered output frame by
 * frame against the sample (delayed by the mixer's constant latency, after
 * the voice's start ramp), then checks that a stop leads to exact silence
 * and a STOPPED event.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include <flz/mixer.h>
#include <flz/sample.h>

#define RATE_HZ 48000u
#define N_CHANNELS 2u
#define LOOP_FRAMES 1000u
#define BLOCK_FRAMES 128u
#define RENDER_FRAMES 4096u
#define SKIP_FRAMES 480u   /* start and stop ramps: twice the 5 ms default */
#define GAIN 0.25f
#define TOL 1e-6f          /* float32 rounding of gain * sample */

static int n_retired;
static int n_stopped;

static void retire(void *userdata, struct flz_sample *sample)
{
	(void)userdata;
	n_retired++;
	flz_sample_unref(sample);
}

static void on_event(void *userdata, const struct flz_mixer_event *event)
{
	(void)userdata;
	if (event->kind == FLZ_MIXER_EVENT_STOPPED && event->token == 7 && event->slot == 3)
		n_stopped++;
}

static float out[RENDER_FRAMES * N_CHANNELS];

static int render_into(struct flz_mixer *m, float *dst, uint32_t n_frames)
{
	for (uint32_t done = 0; done < n_frames; done += BLOCK_FRAMES) {
		uint32_t n = n_frames - done < BLOCK_FRAMES ? n_frames - done : BLOCK_FRAMES;
		int err = flz_mixer_render(m, dst + (size_t)done * N_CHANNELS, n);
		if (err < 0)
			return err;
	}
	return 0;
}

int main(void)
{
	struct flz_mixer_config cfg = flz_mixer_config_init();
	cfg.rate_hz = RATE_HZ;
	cfg.n_channels = N_CHANNELS;
	cfg.max_block_frames = BLOCK_FRAMES;
	cfg.retire = retire;
	cfg.event = on_event;

	struct flz_mixer *m = NULL;
	if (flz_mixer_new(&cfg, &m) < 0) {
		fprintf(stderr, "flz_mixer_new failed\n");
		return 1;
	}

	/* Left: a ramp pattern; right: its negative. Every frame differs. */
	struct flz_sample *s = flz_sample_new(LOOP_FRAMES, N_CHANNELS, RATE_HZ);
	if (s == NULL)
		return 1;
	for (uint32_t i = 0; i < LOOP_FRAMES; i++) {
		float x = (float)((int)((i * 37u) % 801u) - 400) / 512.0f;
		s->data[2 * i] = x;
		s->data[2 * i + 1] = -x;
	}
	const float *ref = s->data; /* the mixer keeps the sample alive */
	if (flz_mixer_load(m, 3, s) < 0 || flz_mixer_play(m, 3, GAIN) != 1) {
		fprintf(stderr, "load or play failed\n");
		return 1;
	}
	if (render_into(m, out, RENDER_FRAMES) < 0)
		return 1;

	const uint32_t lat = flz_mixer_latency_frames(m);
	int n_bad = 0;
	for (uint32_t t = 0; t < RENDER_FRAMES; t++) {
		for (uint32_t c = 0; c < N_CHANNELS; c++) {
			float got = out[t * N_CHANNELS + c];
			float want;
			if (t < lat)
				want = 0.0f;
			else if (t - lat < SKIP_FRAMES)
				continue;
			else
				want = GAIN * ref[((t - lat) % LOOP_FRAMES) * N_CHANNELS + c];
			if (fabsf(got - want) > TOL && n_bad++ < 5)
				fprintf(stderr, "frame %u channel %u: got %.9g, want %.9g\n", t, c,
					(double)got, (double)want);
		}
	}

	/* Stop: after the ramp and the latency, exact silence and one event. */
	int silenced = flz_mixer_stop_slot(m, 3, 7);
	if (silenced != 1 || render_into(m, out, RENDER_FRAMES) < 0) {
		fprintf(stderr, "stop failed (%d)\n", silenced);
		return 1;
	}
	for (uint32_t t = lat + SKIP_FRAMES; t < RENDER_FRAMES; t++)
		for (uint32_t c = 0; c < N_CHANNELS; c++)
			if (out[t * N_CHANNELS + c] != 0.0f && n_bad++ < 5)
				fprintf(stderr, "after stop, frame %u is not silent\n", t);
	if (n_stopped != 1) {
		fprintf(stderr, "expected one STOPPED event, got %d\n", n_stopped);
		n_bad++;
	}

	/* Unload: the sample goes back through retire once no voice plays it. */
	if (flz_mixer_unload(m, 3, 8) < 0 || render_into(m, out, BLOCK_FRAMES) < 0)
		return 1;
	if (n_retired != 1) {
		fprintf(stderr, "expected the sample to be retired once, got %d\n", n_retired);
		n_bad++;
	}
	flz_mixer_destroy(m);

	if (n_bad > 0) {
		fprintf(stderr, "render-check: %d mismatches\n", n_bad);
		return 1;
	}
	printf("render-check: %u frames as expected (mixer latency %u frames)\n",
	       2 * RENDER_FRAMES, lat);
	return 0;
}
