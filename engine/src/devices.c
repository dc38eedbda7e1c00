/* SPDX-License-Identifier: MIT */
/*
 * Listing the ALSA PCMs a playback engine can open. Control side only: ALSA
 * reads its configuration (and may probe cards) while it builds the hints.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <flz/engine.h>

#include "engine-private.h"

#if FLZ_HAVE_ALSA
/* ALSA's IOID hint: NULL when the PCM does both directions, else "Input" or
 * "Output". Only capture-only PCMs are of no use to a playback engine. */
static bool is_playback(const char *ioid)
{
	return ioid == NULL || strcmp(ioid, "Output") == 0;
}

#endif

void flz_engine_free_devices(struct flz_device *devices, size_t n_devices)
{
	if (devices == NULL)
		return;
	for (size_t i = 0; i < n_devices; i++) {
		free(devices[i].name);
		free(devices[i].description);
	}
	free(devices);
}

int64_t flz_engine_list_devices(struct flz_device **out)
{
	return flz_engine_list_devices_log(out, NULL, NULL);
}

#if !FLZ_HAVE_ALSA
/* Without ALSA there is nothing to list: "offline" and "wav:PATH" are not
 * devices found on the system. */
int64_t flz_engine_list_devices_log(struct flz_device **out,
				    void (*log)(void *userdata, enum flz_log_level level,
						const char *message),
				    void *log_userdata)
{
	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	return 0;
}
#else

int64_t flz_engine_list_devices_log(struct flz_device **out,
				    void (*log)(void *userdata, enum flz_log_level level,
						const char *message),
				    void *log_userdata)
{
	void **hints = NULL;
	int err;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;

	/* Only building the hints reads the configuration (and may complain
	 * about it); the rest reads the list alsa-lib built. */
	const struct flz_backend_log sink = { .log = log, .userdata = log_userdata };
	struct flz_alsa_log_scope scope;
	flz_alsa_log_begin(&scope, &sink);
	err = snd_device_name_hint(-1, "pcm", &hints);
	flz_alsa_log_end(&scope);
	if (err < 0)
		return err;

	size_t n_hints = 0;
	while (hints[n_hints] != NULL)
		n_hints++;
	if (n_hints == 0) {
		snd_device_name_free_hint(hints);
		return 0;
	}

	struct flz_device *devices = calloc(n_hints, sizeof *devices);
	if (devices == NULL) {
		snd_device_name_free_hint(hints);
		return -ENOMEM;
	}

	size_t n_devices = 0;
	for (size_t i = 0; i < n_hints; i++) {
		/* snd_device_name_get_hint() returns malloc'd copies (or NULL). */
		char *name = snd_device_name_get_hint(hints[i], "NAME");
		char *ioid = snd_device_name_get_hint(hints[i], "IOID");
		bool keep = name != NULL && name[0] != '\0' && is_playback(ioid);
		free(ioid);
		if (!keep) {
			free(name);
			continue;
		}
		devices[n_devices].name = name;
		devices[n_devices].description = snd_device_name_get_hint(hints[i], "DESC");
		n_devices++;
	}
	snd_device_name_free_hint(hints);

	if (n_devices == 0) {
		free(devices);
		return 0;
	}
	*out = devices;
	return (int64_t)n_devices;
}
#endif /* FLZ_HAVE_ALSA */
