/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libstretch's processor, shared by the control side (stretch.c) and the
 * audio-thread code (stretch-rt.c). */
#ifndef FLZ_STRETCH_INTERNAL_H
#define FLZ_STRETCH_INTERNAL_H

#include <stdbool.h>

#include <rubberband/rubberband-c.h>

#include <flz/stretch.h>

struct flz_stretch {
	RubberBandState rb;
	uint32_t rate_hz;
	uint32_t n_channels;
	uint32_t max_block_frames;
	/* The largest input chunk handed to rubberband_process(); Rubber Band
	 * was told it (set_max_process_size) before its first process call,
	 * so it never grows a buffer for our chunks. */
	uint32_t chunk_frames;
	enum flz_stretch_engine engine;

	/* Everything below is touched only by the thread that renders. */
	double rate;
	/* Pre-roll frames still to read, output frames still to discard. */
	uint32_t preroll_left;
	uint32_t discard_left;
	uint32_t latency_frames;
	bool primed;
	int64_t frames_read;
	/* Scratch: interleaved input as the reader writes it, and planar
	 * input and output for Rubber Band's per-channel pointers. */
	float *in_frames;
	float *in_planes[FLZ_STRETCH_MAX_CHANNELS];
	float *out_planes[FLZ_STRETCH_MAX_CHANNELS];
};

#endif /* FLZ_STRETCH_INTERNAL_H */
