/* SPDX-License-Identifier: MIT */
/*
 * The ALSA backend's control side: opening and configuring the PCM for
 * interleaved mmap playback, the audio thread's wait set, and where
 * alsa-lib's messages go on a control thread. Its loop is in
 * backend-alsa-rt.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/eventfd.h>

#include "engine-private.h"

/* The sink of the innermost flz_alsa_log_begin() on this thread. */
static _Thread_local const struct flz_backend_log *alsa_log_sink;

void flz_alsa_log_format(char *out, size_t out_size, const char *file, int line, const char *func,
			 int errcode, const char *fmt, va_list arg)
{
	char text[384];
	vsnprintf(text, sizeof(text), fmt ? fmt : "", arg);
	if (errcode != 0)
		snprintf(out, out_size, "alsa-lib: %s:%d (%s): %s: %s", file ? file : "?", line,
			 func ? func : "?", text, snd_strerror(errcode));
	else
		snprintf(out, out_size, "alsa-lib: %s:%d (%s): %s", file ? file : "?", line,
			 func ? func : "?", text);
}

/*
 * INFO, not WARNING: a message on a control thread comes with a call of the
 * engine's that fails (opening an unknown PCM, a configuration that does not
 * parse), and that failure reaches the caller as its return code and a
 * reason naming the device; the message is the detail behind it, for whoever
 * asks for INFO. Nothing reaches stderr unasked.
 */
static void control_handler(const char *file, int line, const char *func, int errcode,
			    const char *fmt, va_list arg)
{
	const struct flz_backend_log *sink = alsa_log_sink;
	if (sink == NULL || sink->log == NULL)
		return;
	char message[512];
	flz_alsa_log_format(message, sizeof(message), file, line, func, errcode, fmt, arg);
	sink->log(sink->userdata, FLZ_LOG_INFO, message);
}

void flz_alsa_log_begin(struct flz_alsa_log_scope *scope, const struct flz_backend_log *sink)
{
	scope->prev_sink = alsa_log_sink;
	alsa_log_sink = sink;
	scope->prev_handler = snd_lib_error_set_local(control_handler);
}

void flz_alsa_log_end(const struct flz_alsa_log_scope *scope)
{
	snd_lib_error_set_local(scope->prev_handler);
	alsa_log_sink = scope->prev_sink;
}

/* Preference order: float needs no conversion (and lets the audio thread
 * render straight into the mmap area); then the widest integer formats. */
static const struct {
	snd_pcm_format_t alsa;
	enum flz_device_format flz;
} formats[] = {
	{ SND_PCM_FORMAT_FLOAT_LE, FLZ_FORMAT_FLOAT_LE },
	{ SND_PCM_FORMAT_S32_LE, FLZ_FORMAT_S32_LE },
	{ SND_PCM_FORMAT_S24_3LE, FLZ_FORMAT_S24_3LE },
	{ SND_PCM_FORMAT_S16_LE, FLZ_FORMAT_S16_LE },
};

static int fail(char *why, size_t why_size, const char *what, const char *name, int err)
{
	if (why && why_size)
		snprintf(why, why_size, "ALSA device \"%s\": %s: %s", name, what,
			 snd_strerror(err));
	return err;
}

static int configure_hw(snd_pcm_t *pcm, const struct flz_backend_request *req,
			struct flz_backend_device *dev, char *why, size_t why_size)
{
	const char *name = req->target;
	snd_pcm_hw_params_t *hw;
	int err;

	snd_pcm_hw_params_alloca(&hw);
	err = snd_pcm_hw_params_any(pcm, hw);
	if (err < 0)
		return fail(why, why_size, "cannot read the hardware parameters", name, err);
	err = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_MMAP_INTERLEAVED);
	if (err < 0)
		return fail(why, why_size, "interleaved mmap access is not supported", name, err);

	dev->format = FLZ_FORMAT_UNKNOWN;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (req->format != FLZ_FORMAT_UNKNOWN && req->format != formats[i].flz)
			continue;
		if (snd_pcm_hw_params_test_format(pcm, hw, formats[i].alsa) == 0 &&
		    snd_pcm_hw_params_set_format(pcm, hw, formats[i].alsa) == 0) {
			dev->format = formats[i].flz;
			break;
		}
	}
	if (dev->format == FLZ_FORMAT_UNKNOWN && req->format != FLZ_FORMAT_UNKNOWN) {
		char what[64];
		snprintf(what, sizeof(what), "sample format %s is not supported",
			 flz_device_format_name(req->format));
		return fail(why, why_size, what, name, -ENOTSUP);
	}
	if (dev->format == FLZ_FORMAT_UNKNOWN)
		return fail(why, why_size,
			    "none of FLOAT_LE, S32_LE, S24_3LE, S16_LE is supported", name,
			    -ENOTSUP);

	unsigned int n_channels = req->n_channels;
	err = snd_pcm_hw_params_set_channels_near(pcm, hw, &n_channels);
	if (err < 0)
		return fail(why, why_size, "cannot set the channel count", name, err);
	if (n_channels < 1 || n_channels > FLZ_MAX_CHANNELS)
		return fail(why, why_size, "the granted channel count is out of range", name,
			    -ENOTSUP);

	unsigned int rate_hz = req->rate_hz;
	err = snd_pcm_hw_params_set_rate_near(pcm, hw, &rate_hz, NULL);
	if (err < 0)
		return fail(why, why_size, "cannot set the sample rate", name, err);
	if (rate_hz < FLZ_RATE_MIN_HZ || rate_hz > FLZ_RATE_MAX_HZ)
		return fail(why, why_size, "the granted sample rate is out of range", name,
			    -ENOTSUP);

	snd_pcm_uframes_t period = req->period_frames;
	err = snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, NULL);
	if (err < 0)
		return fail(why, why_size, "cannot set the period size", name, err);
	err = snd_pcm_hw_params_set_periods_integer(pcm, hw);
	if (err < 0)
		return fail(why, why_size, "cannot ask for whole periods", name, err);
	unsigned int n_periods = req->n_periods;
	err = snd_pcm_hw_params_set_periods_near(pcm, hw, &n_periods, NULL);
	if (err < 0)
		return fail(why, why_size, "cannot set the period count", name, err);

	err = snd_pcm_hw_params(pcm, hw);
	if (err < 0)
		return fail(why, why_size, "cannot apply the hardware parameters", name, err);

	snd_pcm_uframes_t buffer = 0;
	snd_pcm_hw_params_get_period_size(hw, &period, NULL);
	snd_pcm_hw_params_get_buffer_size(hw, &buffer);
	dev->n_channels = n_channels;
	dev->rate_hz = rate_hz;
	dev->period_frames = (uint32_t)period;
	dev->buffer_frames = (uint32_t)buffer;
	dev->n_periods = period ? (uint32_t)(buffer / period) : 0;
	return 0;
}

static int configure_sw(snd_pcm_t *pcm, const struct flz_backend_device *dev, const char *name,
			char *why, size_t why_size)
{
	snd_pcm_sw_params_t *sw;
	int err;

	snd_pcm_sw_params_alloca(&sw);
	err = snd_pcm_sw_params_current(pcm, sw);
	if (err < 0)
		return fail(why, why_size, "cannot read the software parameters", name, err);
	/* Start once the whole buffer is filled, so the first period has a full
	 * buffer of headroom; wake when a period is free. */
	err = snd_pcm_sw_params_set_start_threshold(pcm, sw, dev->buffer_frames);
	if (err == 0)
		err = snd_pcm_sw_params_set_avail_min(pcm, sw, dev->period_frames);
	if (err < 0)
		return fail(why, why_size, "cannot set the software parameters", name, err);
	err = snd_pcm_sw_params(pcm, sw);
	if (err < 0)
		return fail(why, why_size, "cannot apply the software parameters", name, err);
	return 0;
}

static int alsa_open_scoped(const struct flz_backend_request *request,
			    struct flz_backend_device *device, char *why, size_t why_size)
{
	const char *name = request->target[0] ? request->target : "default";
	struct flz_backend_request req = *request;
	req.target = name;
	snd_pcm_t *pcm = NULL;

	int err = snd_pcm_open(&pcm, name, SND_PCM_STREAM_PLAYBACK, 0);
	if (err < 0)
		return fail(why, why_size, "cannot open", name, err);
	err = configure_hw(pcm, &req, device, why, why_size);
	if (err == 0)
		err = configure_sw(pcm, device, name, why, why_size);
	if (err == 0) {
		err = snd_pcm_prepare(pcm);
		if (err < 0)
			fail(why, why_size, "cannot prepare", name, err);
	}
	if (err < 0) {
		snd_pcm_close(pcm);
		return err;
	}
	device->handle = pcm;
	return 0;
}

/* Every ALSA call of the backend (open, configure, poll descriptors, close)
 * logs alsa-lib's messages instead of printing them. */
static int alsa_open(const struct flz_backend_request *request, struct flz_backend_device *device,
		     char *why, size_t why_size)
{
	struct flz_alsa_log_scope scope;
	flz_alsa_log_begin(&scope, &device->log);
	int err = alsa_open_scoped(request, device, why, why_size);
	flz_alsa_log_end(&scope);
	return err;
}


/*
 * The audio thread's wait set: the PCM's poll descriptors, then an eventfd
 * that flz_engine_stop() writes.
 */
static int wake_init(struct flz_engine_audio *audio, char *why, size_t why_size)
{
	int n = snd_pcm_poll_descriptors_count(audio->pcm);
	if (n < 1 || n > FLZ_ENGINE_MAX_PCM_FDS) {
		flz_engine_set_why(why, why_size, "the device has %d poll descriptors (1..%d supported)", n,
			FLZ_ENGINE_MAX_PCM_FDS);
		return -ENOTSUP;
	}
	n = snd_pcm_poll_descriptors(audio->pcm, audio->pfds, (unsigned int)n);
	if (n < 1) {
		flz_engine_set_why(why, why_size, "cannot read the device's poll descriptors: %s",
			snd_strerror(n));
		return n < 0 ? n : -EIO;
	}
	audio->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (audio->wake_fd < 0) {
		int err = -errno;
		flz_engine_set_why(why, why_size, "cannot create the wake descriptor: %s", strerror(-err));
		return err;
	}
	audio->n_pcm_fds = (uint32_t)n;
	audio->pfds[n] = (struct pollfd){ .fd = audio->wake_fd, .events = POLLIN };
	return 0;
}

static int alsa_start(struct flz_engine_audio *audio, struct flz_backend_device *device,
		      char *why, size_t why_size)
{
	audio->pcm = device->handle;
	struct flz_alsa_log_scope scope;
	flz_alsa_log_begin(&scope, &device->log);
	int err = wake_init(audio, why, why_size);
	flz_alsa_log_end(&scope);
	return err;
}

/* Wake the audio thread out of its wait; quit is already set. */
static bool alsa_wake(struct flz_engine_audio *audio)
{
	uint64_t one = 1;
	/* Fails only when the counter would overflow: then it is readable anyway. */
	return write(audio->wake_fd, &one, sizeof(one)) == (ssize_t)sizeof(one);
}

/* Closing the PCM logs alsa-lib's messages instead of printing them. */
static void alsa_close(struct flz_engine_audio *audio, struct flz_backend_device *device)
{
	if (audio->wake_fd >= 0)
		close(audio->wake_fd);
	audio->wake_fd = -1;
	audio->pcm = NULL;
	snd_pcm_t *pcm = device->handle;
	device->handle = NULL;
	if (pcm == NULL)
		return;
	struct flz_alsa_log_scope scope;
	flz_alsa_log_begin(&scope, &device->log);
	snd_pcm_drop(pcm);
	snd_pcm_close(pcm);
	flz_alsa_log_end(&scope);
}

const struct flz_backend flz_backend_alsa = {
	.name = "alsa",
	.open = alsa_open,
	.start = alsa_start,
	.rt_main = flz_engine_audio_main,
	.wake = alsa_wake,
	.close = alsa_close,
};
