/* SPDX-License-Identifier: MIT */
/*
 * Float mix -> device sample format. One converter per format, chosen once
 * when the device is configured. Every format clips to -1..1 and turns NaN
 * into silence, so nothing beyond full scale or non-finite reaches a device
 * (a NaN handed to JACK or PipeWire can poison every filter after it).
 * Integer formats then scale by the largest positive code (so +1.0 and -1.0
 * map to +max and -max, and the scale is symmetric); FLOAT_LE stores the
 * clipped float.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine-private.h"

static inline float clip_unit(float x)
{
	/* Written so that NaN fails both tests and ends up as 0. */
	if (x >= 1.0f)
		return 1.0f;
	if (x <= -1.0f)
		return -1.0f;
	return x == x ? x : 0.0f;
}

/* The same mapping as clip_unit() in a form the compiler vectorises at -O2
 * (GCC 12's very-cheap model takes a fixed-length inner loop; a bare loop of
 * unknown length stays scalar). Three passes rather than one chain of
 * selects: chained, GCC merges the conditions into twice the mask logic.
 * A NaN passes the two comparisons as +1 then stays there; the last pass,
 * src == src (false only for NaN), masks it to 0. */
#define FLZ_CLAMP_LANES 8

static inline void clamp_lanes(float *restrict dst, const float *restrict src)
{
	for (int k = 0; k < FLZ_CLAMP_LANES; k++)
		dst[k] = src[k] < 1.0f ? src[k] : 1.0f;
	for (int k = 0; k < FLZ_CLAMP_LANES; k++)
		dst[k] = dst[k] > -1.0f ? dst[k] : -1.0f;
	for (int k = 0; k < FLZ_CLAMP_LANES; k++)
		dst[k] = src[k] == src[k] ? dst[k] : 0.0f;
}

/* Clip n_samples floats from src to dst (bytes: the mmap area need not be
 * float-aligned), NaN to 0. In place (dst == src) too: each lane block goes
 * through a temporary. */
FLZ_RT FLZ_HOT static void clamp_float(unsigned char *dst, const float *src, size_t n_samples)
{
	size_t i = 0;
	for (; i + FLZ_CLAMP_LANES <= n_samples; i += FLZ_CLAMP_LANES) {
		float block[FLZ_CLAMP_LANES];
		clamp_lanes(block, src + i);
		memcpy(dst + i * sizeof(float), block, sizeof(block));
	}
	for (; i < n_samples; i++) {
		float x = clip_unit(src[i]);
		memcpy(dst + i * sizeof(float), &x, sizeof(x));
	}
}

FLZ_RT FLZ_HOT void flz_format_clamp_float_rt(float *samples, size_t n_samples)
{
	clamp_float((unsigned char *)samples, samples, n_samples);
}

FLZ_RT FLZ_HOT static void convert_float_le(void *dst, const float *src, size_t n_samples)
{
	/* Stored as the host's floats: FLOAT_LE on the little-endian hosts the
	 * engine runs on (as the plain-float path in write_block() assumes). */
	clamp_float(dst, src, n_samples);
}

FLZ_RT FLZ_HOT static void convert_s32_le(void *dst, const float *src, size_t n_samples)
{
	unsigned char *out = dst;
	for (size_t i = 0; i < n_samples; i++) {
		/* double, here and below: the product is exact before rounding
		 * (float would round it first, and 2^31 - 1 is not even a float). */
		int32_t v = (int32_t)lrint((double)clip_unit(src[i]) * 2147483647.0);
		uint32_t u = (uint32_t)v;
		out[4 * i + 0] = (unsigned char)u;
		out[4 * i + 1] = (unsigned char)(u >> 8);
		out[4 * i + 2] = (unsigned char)(u >> 16);
		out[4 * i + 3] = (unsigned char)(u >> 24);
	}
}

FLZ_RT FLZ_HOT static void convert_s24_3le(void *dst, const float *src, size_t n_samples)
{
	unsigned char *out = dst;
	for (size_t i = 0; i < n_samples; i++) {
		int32_t v = (int32_t)lrint((double)clip_unit(src[i]) * 8388607.0);
		uint32_t u = (uint32_t)v;
		out[3 * i + 0] = (unsigned char)u;
		out[3 * i + 1] = (unsigned char)(u >> 8);
		out[3 * i + 2] = (unsigned char)(u >> 16);
	}
}

FLZ_RT FLZ_HOT static void convert_s16_le(void *dst, const float *src, size_t n_samples)
{
	unsigned char *out = dst;
	for (size_t i = 0; i < n_samples; i++) {
		int32_t v = (int32_t)lrint((double)clip_unit(src[i]) * 32767.0);
		uint32_t u = (uint32_t)v;
		out[2 * i + 0] = (unsigned char)u;
		out[2 * i + 1] = (unsigned char)(u >> 8);
	}
}

flz_format_convert_fn flz_format_converter(enum flz_device_format format)
{
	switch (format) {
	case FLZ_FORMAT_FLOAT_LE:
		return convert_float_le;
	case FLZ_FORMAT_S32_LE:
		return convert_s32_le;
	case FLZ_FORMAT_S24_3LE:
		return convert_s24_3le;
	case FLZ_FORMAT_S16_LE:
		return convert_s16_le;
	case FLZ_FORMAT_UNKNOWN:
		break;
	}
	return NULL;
}

uint32_t flz_format_sample_bytes(enum flz_device_format format)
{
	switch (format) {
	case FLZ_FORMAT_FLOAT_LE:
	case FLZ_FORMAT_S32_LE:
		return 4;
	case FLZ_FORMAT_S24_3LE:
		return 3;
	case FLZ_FORMAT_S16_LE:
		return 2;
	case FLZ_FORMAT_UNKNOWN:
		break;
	}
	return 0;
}

const char *flz_device_format_name(enum flz_device_format format)
{
	switch (format) {
	case FLZ_FORMAT_FLOAT_LE:
		return "FLOAT_LE";
	case FLZ_FORMAT_S32_LE:
		return "S32_LE";
	case FLZ_FORMAT_S24_3LE:
		return "S24_3LE";
	case FLZ_FORMAT_S16_LE:
		return "S16_LE";
	case FLZ_FORMAT_UNKNOWN:
		break;
	}
	return "unknown";
}
