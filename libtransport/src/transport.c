/* SPDX-License-Identifier: MIT */
/* libtransport, control side: set-up and the mode names. */
#include <string.h>

#include <flz/transport.h>

#include "transport-internal.h"

/* The public structures have no padding (flz/transport.h), so tests and
 * hosts may compare them byte for byte. */
_Static_assert(sizeof(struct flz_transport) == 32, "struct flz_transport has padding");
_Static_assert(sizeof(struct flz_schedule_entry) == 32, "struct flz_schedule_entry has padding");
_Static_assert(sizeof(struct flz_schedule) == 8 + 32 * FLZ_SCHEDULE_CAPACITY,
	       "struct flz_schedule has padding");
_Static_assert(sizeof(struct flz_transport_locked) == 56, "struct flz_transport_locked has padding");

static const char *const mode_names[FLZ_QUANTIZE_N_MODES] = {
	[FLZ_QUANTIZE_OFF] = "off",   [FLZ_QUANTIZE_1_64] = "1/64", [FLZ_QUANTIZE_1_32] = "1/32",
	[FLZ_QUANTIZE_1_16] = "1/16", [FLZ_QUANTIZE_1_8] = "1/8",   [FLZ_QUANTIZE_1_4] = "1/4",
	[FLZ_QUANTIZE_1_2] = "1/2",   [FLZ_QUANTIZE_BAR] = "bar",
};

int flz_transport_init(struct flz_transport *t, uint32_t rate_hz)
{
	if (t == NULL || rate_hz < FLZ_RATE_MIN_HZ || rate_hz > FLZ_RATE_MAX_HZ)
		return -EINVAL;
	t->rate_hz = rate_hz;
	t->beats_per_bar = FLZ_TRANSPORT_BEATS_PER_BAR_DEFAULT;
	t->bpm_micro = flz_bpm_to_micro(FLZ_TRANSPORT_BPM_DEFAULT);
	t->downbeat_whole = 0;
	t->downbeat_frac = 0;
	t->reserved = 0;
	return 0;
}

int flz_quantize_parse(const char *name, enum flz_quantize *out)
{
	if (name == NULL || out == NULL)
		return -EINVAL;
	for (int m = 0; m < FLZ_QUANTIZE_N_MODES; m++) {
		if (strcmp(name, mode_names[m]) == 0) {
			*out = (enum flz_quantize)m;
			return 0;
		}
	}
	return -EINVAL;
}

const char *flz_quantize_name(enum flz_quantize mode)
{
	if ((unsigned)mode >= FLZ_QUANTIZE_N_MODES)
		return NULL;
	return mode_names[mode];
}
