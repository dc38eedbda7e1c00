/* SPDX-License-Identifier: MIT */
/* Control-side voice functions: kernel selection, ramp sizing, init. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flz/voice.h>

#include "kernels.h"

const struct flz_voice_kernels *flz_voice_kernels_generic(void)
{
	return &flz_voice_kernels_generic_table;
}

const struct flz_voice_kernels *flz_voice_kernels_avx2(void)
{
#if defined(FLZ_HAVE_AVX2_KERNELS) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return &flz_voice_kernels_avx2_table;
#endif
	return NULL;
}

const struct flz_voice_kernels *flz_voice_kernels_get(void)
{
	/* A test switch: run the portable code on a machine with AVX2. */
	const char *force = getenv("FLZ_KERNELS");
	if (force != NULL && strcmp(force, "generic") == 0)
		return &flz_voice_kernels_generic_table;
	const struct flz_voice_kernels *k = flz_voice_kernels_avx2();
	return k != NULL ? k : &flz_voice_kernels_generic_table;
}

uint32_t flz_voice_ramp_frames(float ramp_ms, uint32_t rate_hz)
{
	if (!(ramp_ms > 0.0f))
		return 1;
	double n = round((double)ramp_ms * (double)rate_hz / 1000.0);
	if (n < 1.0)
		return 1;
	if (n > (double)UINT32_MAX / 2)
		return UINT32_MAX / 2;
	return (uint32_t)n;
}

void flz_voice_init(struct flz_voice *voice, uint32_t ramp_frames)
{
	memset(voice, 0, sizeof(*voice));
	voice->slot = -1;
	voice->ramp_frames = ramp_frames > 0 ? ramp_frames : 1;
}
