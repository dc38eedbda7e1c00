/* SPDX-License-Identifier: MIT */
/*
 * libmixer's meter read-out (its own src/meters-rt.c, compiled here under
 * other names) behind a switch, for meter-bench: with flz_bench_meters_on
 * the four entry points do what libmixer's do; without it they do no
 * work at all, which is the mixer as it was before the meters. meter-bench
 * links this file in place of libmixer's meters-rt.c object, so one binary
 * times the same render with and without the meter work.
 */
#include <stdbool.h>

#define flz_mixer_meter_voice flz_bench_meter_voice_on
#define flz_mixer_meter_block flz_bench_meter_block_on
#define flz_mixer_meter_frames flz_bench_meter_frames_on
#define flz_mixer_take_meters flz_bench_take_meters_on
#include "meters-rt.c"
#undef flz_mixer_meter_voice
#undef flz_mixer_meter_block
#undef flz_mixer_meter_frames
#undef flz_mixer_take_meters

#include "meter-switch.h"

bool flz_bench_meters_on = true;

/* libmixer's declarations of these were renamed above with the rest. */
FLZ_RT void flz_mixer_meter_voice(struct flz_mixer *m, struct flz_mixer_voice *v);
FLZ_RT void flz_mixer_meter_block(struct flz_mixer *m, const float *out, uint32_t n_frames);
FLZ_RT void flz_mixer_meter_frames(struct flz_mixer *m, uint32_t n_frames);
FLZ_RT void flz_mixer_take_meters(struct flz_mixer *m, struct flz_mixer_meters *out);

FLZ_RT void flz_mixer_meter_voice(struct flz_mixer *m, struct flz_mixer_voice *v)
{
	if (flz_bench_meters_on)
		flz_bench_meter_voice_on(m, v);
}

FLZ_RT void flz_mixer_meter_block(struct flz_mixer *m, const float *out, uint32_t n_frames)
{
	if (flz_bench_meters_on)
		flz_bench_meter_block_on(m, out, n_frames);
}

FLZ_RT void flz_mixer_meter_frames(struct flz_mixer *m, uint32_t n_frames)
{
	if (flz_bench_meters_on)
		flz_bench_meter_frames_on(m, n_frames);
}

FLZ_RT void flz_mixer_take_meters(struct flz_mixer *m, struct flz_mixer_meters *out)
{
	flz_bench_take_meters_on(m, out);
}
