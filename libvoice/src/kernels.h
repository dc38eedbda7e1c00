/* SPDX-License-Identifier: MIT */
/* Internal: the kernel tables each kernels*-rt.c file defines. */
#ifndef FLZ_VOICE_KERNELS_H
#define FLZ_VOICE_KERNELS_H

#include <flz/voice.h>

extern const struct flz_voice_kernels flz_voice_kernels_generic_table;
#ifdef FLZ_HAVE_AVX2_KERNELS
extern const struct flz_voice_kernels flz_voice_kernels_avx2_table;
#endif

#endif /* FLZ_VOICE_KERNELS_H */
