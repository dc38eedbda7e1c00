/* SPDX-License-Identifier: MIT */
/*
 * Choosing a backend for a device string, and the offline backend: no
 * device, no audio thread; flz_engine_render() drives the core on the
 * caller's thread. Control side only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine-private.h"

/* The offline device grants what was asked: it has no hardware to refuse. */
static int offline_open(const struct flz_backend_request *request,
			struct flz_backend_device *device, char *why, size_t why_size)
{
	device->format = FLZ_FORMAT_FLOAT_LE;
	device->rate_hz = request->rate_hz;
	device->n_channels = request->n_channels;
	device->period_frames = request->period_frames;
	device->n_periods = request->n_periods;
	/* Nothing is buffered between a render and whoever takes it: the
	 * caller's frames are in its hands at once. */
	device->buffer_frames = 0;
	device->handle = NULL;
	return 0;
}

static void offline_close(struct flz_engine_audio *audio, struct flz_backend_device *device)
{
	device->handle = NULL;
}

const struct flz_backend flz_backend_offline = {
	.name = "offline",
	.open = offline_open,
	.close = offline_close,
};

#if !FLZ_HAVE_ALSA
/* A build without ALSA still accepts an ALSA name, and says at start why it
 * cannot play it. */
static int no_alsa_open(const struct flz_backend_request *request,
			struct flz_backend_device *device, char *why, size_t why_size)
{
	flz_engine_set_why(why, why_size,
			 "ALSA device \"%s\": this build has no ALSA backend (device \"offline\" "
			 "renders without one)",
			 request->target[0] ? request->target : "default");
	return -ENOTSUP;
}

static void no_alsa_close(struct flz_engine_audio *audio, struct flz_backend_device *device)
{
}

static const struct flz_backend no_alsa = {
	.name = "alsa",
	.open = no_alsa_open,
	.close = no_alsa_close,
};
#endif

const struct flz_backend *flz_backend_for(const char *device, const char **target)
{
	if (device == NULL)
		device = "default";
	if (strcmp(device, "offline") == 0) {
		*target = "";
		return &flz_backend_offline;
	}
	if (strncmp(device, "wav:", 4) == 0) {
		*target = device + 4;
		return &flz_backend_wav;
	}
#if FLZ_HAVE_ALSA
	*target = device;
	return &flz_backend_alsa;
#else
	*target = device;
	return &no_alsa;
#endif
}
