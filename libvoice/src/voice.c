/* SPDX-License-Identifier: MIT */
/* Control-side voice functions: kernel selection, ramp sizing, init. */
#include <math.h>
#include <string.h>

#include <flz/voice.h>

#include "kernels.h"

const struct flz_voice_kernels *flz_voice_kernels_generic(void)
{
	return &flz_voice_kernels_generic_table;
}

uint32_t flz_cpu_detect(void)
{
#if defined(FLZ_HAVE_AVX2_KERNELS) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	uint32_t flags = 0;
	if (__builtin_cpu_supports("avx2"))
		flags |= FLZ_CPU_AVX2;
	if (__builtin_cpu_supports("fma"))
		flags |= FLZ_CPU_FMA;
	return flags;
#else
	return 0;
#endif
}

const struct flz_voice_kernels *flz_voice_kernels_for(uint32_t cpu_flags)
{
#ifdef FLZ_HAVE_AVX2_KERNELS
	const uint32_t want = FLZ_CPU_AVX2 | FLZ_CPU_FMA;
	if ((cpu_flags & want) == want)
		return &flz_voice_kernels_avx2_table;
#else
	(void)cpu_flags;
#endif
	return &flz_voice_kernels_generic_table;
}

const struct flz_voice_kernels *flz_voice_kernels_avx2(void)
{
	const uint32_t want = FLZ_CPU_AVX2 | FLZ_CPU_FMA;
	if ((flz_cpu_detect() & want) != want)
		return NULL;
	return flz_voice_kernels_for(want);
}

const struct flz_voice_kernels *flz_voice_kernels_get(void)
{
	return flz_voice_kernels_for(flz_cpu_detect());
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
