/* SPDX-License-Identifier: MIT */
/*
 * Opening and configuring the ALSA PCM for interleaved mmap playback, and
 * where alsa-lib's messages go on a control thread. Control side only.
 */
#include <stdio.h>
#include <string.h>

#include "engine-private.h"

/* The sink of the innermost flz_alsa_log_begin() on this thread. */
static _Thread_local const struct flz_alsa_log *alsa_log_sink;

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
	const struct flz_alsa_log *sink = alsa_log_sink;
	if (sink == NULL || sink->log == NULL)
		return;
	char message[512];
	flz_alsa_log_format(message, sizeof(message), file, line, func, errcode, fmt, arg);
	sink->log(sink->userdata, FLZ_LOG_INFO, message);
}

void flz_alsa_log_begin(struct flz_alsa_log_scope *scope, const struct flz_alsa_log *sink)
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

static int configure_hw(snd_pcm_t *pcm, const struct flz_alsa_request *req,
			struct flz_alsa_device *dev, char *why, size_t why_size)
{
	const char *name = req->device;
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

static int configure_sw(snd_pcm_t *pcm, const struct flz_alsa_device *dev, const char *name,
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

int flz_alsa_open(const struct flz_alsa_request *request, struct flz_alsa_device *device,
		  char *why, size_t why_size)
{
	const char *name = request->device ? request->device : "default";
	struct flz_alsa_request req = *request;
	req.device = name;
	snd_pcm_t *pcm = NULL;

	memset(device, 0, sizeof(*device));
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
		memset(device, 0, sizeof(*device));
		return err;
	}
	device->pcm = pcm;
	return 0;
}

void flz_alsa_close(struct flz_alsa_device *device)
{
	if (device->pcm) {
		snd_pcm_drop(device->pcm);
		snd_pcm_close(device->pcm);
	}
	memset(device, 0, sizeof(*device));
}
