/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libstretch, audio thread: reset, rate, prime, render. The Rubber Band
 * calls made here are the ones tests/rt/meson.build lists; that none of them
 * allocates, frees, locks or does I/O in the configuration flz_stretch_new()
 * makes is what tests/stretch's stretch:rtcheck case checks at run time.
 */
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include "stretch-internal.h"

static bool rate_ok(double rate)
{
	/* isfinite first: a NaN compares false with both bounds. */
	return isfinite(rate) && rate >= FLZ_STRETCH_RATE_MIN && rate <= FLZ_STRETCH_RATE_MAX;
}

FLZ_RT int flz_stretch_reset(struct flz_stretch *st, double rate)
{
	if (st == NULL || !rate_ok(rate))
		return -EINVAL;
	rubberband_reset(st->rb);
	/* Rubber Band's time ratio is output duration over input duration. */
	rubberband_set_time_ratio(st->rb, 1.0 / rate);
	st->rate = rate;
	/* Both depend on the ratio, so they are read after it is set. */
	st->preroll_left = rubberband_get_preferred_start_pad(st->rb);
	st->latency_frames = rubberband_get_start_delay(st->rb);
	st->discard_left = st->latency_frames;
	st->primed = false;
	st->frames_read = 0;
	return 0;
}

FLZ_RT int64_t flz_stretch_preroll_frames(const struct flz_stretch *st)
{
	if (st == NULL)
		return -EINVAL;
	return st->preroll_left;
}

FLZ_RT int64_t flz_stretch_latency_frames(const struct flz_stretch *st)
{
	if (st == NULL)
		return -EINVAL;
	return st->latency_frames;
}

FLZ_RT int64_t flz_stretch_frames_read(const struct flz_stretch *st)
{
	if (st == NULL)
		return -EINVAL;
	return st->frames_read;
}

FLZ_RT int flz_stretch_set_rate(struct flz_stretch *st, double rate)
{
	if (st == NULL || !rate_ok(rate))
		return -EINVAL;
	if (rate != st->rate) {
		rubberband_set_time_ratio(st->rb, 1.0 / rate);
		st->rate = rate;
	}
	return 0;
}

/* What the stretcher asks for: at most one chunk, and no further than the
 * pre-roll while it lasts. */
static uint32_t next_want(const struct flz_stretch *st)
{
	uint32_t want = (uint32_t)rubberband_get_samples_required(st->rb);
	if (want == 0)
		want = 1;
	if (want > st->chunk_frames)
		want = st->chunk_frames;
	if (st->preroll_left > 0 && want > st->preroll_left)
		want = st->preroll_left;
	return want;
}

/* Read next_want() frames, de-interleave, process. Returns the frames
 * handed to the stretcher. */
static uint32_t feed(struct flz_stretch *st, flz_stretch_read_fn read, void *cb_ctx)
{
	const uint32_t want = next_want(st);
	uint32_t got = read(cb_ctx, st->in_frames, want);
	if (got > want)
		got = want;
	const uint32_t n_ch = st->n_channels;
	for (uint32_t c = 0; c < n_ch; c++) {
		float *plane = st->in_planes[c];
		const float *src = st->in_frames + c;
		for (uint32_t i = 0; i < got; i++)
			plane[i] = src[(size_t)i * n_ch];
		/* Past the material's end the stretcher hears silence, so its
		 * buffered tail still comes out. */
		memset(plane + got, 0, (size_t)(want - got) * sizeof(float));
	}
	if (st->preroll_left > 0)
		st->preroll_left -= want;
	else
		st->frames_read += got;
	rubberband_process(st->rb, (const float *const *)st->in_planes, want, 0);
	return want;
}

/*
 * Read the pre-roll, process, and discard the start delay's output, until
 * done or until the next feed would take this call's reads past budget (a
 * feed is never split; the call's first feed is made whatever its size, so
 * every call progresses). It stops only where the next thing to do is a
 * feed, so flz_stretch_prime_read_frames() then tells that feed's size.
 * Returns whether priming is complete.
 */
static bool prime(struct flz_stretch *st, flz_stretch_read_fn read, void *cb_ctx,
		  uint64_t budget)
{
	uint64_t fed = 0;
	while (st->preroll_left > 0 || st->discard_left > 0) {
		int avail = rubberband_available(st->rb);
		if (st->preroll_left == 0 && avail > 0) {
			uint32_t k = (uint32_t)avail;
			if (k > st->discard_left)
				k = st->discard_left;
			if (k > st->chunk_frames)
				k = st->chunk_frames;
			k = rubberband_retrieve(st->rb, st->out_planes, k);
			st->discard_left -= k;
			continue;
		}
		if (fed > 0 && fed + next_want(st) > budget)
			return false;
		fed += feed(st, read, cb_ctx);
	}
	st->primed = true;
	return true;
}

FLZ_RT int flz_stretch_prime(struct flz_stretch *st, flz_stretch_read_fn read, void *cb_ctx)
{
	if (st == NULL || read == NULL)
		return -EINVAL;
	if (!st->primed)
		(void)prime(st, read, cb_ctx, UINT64_MAX);
	return 0;
}

FLZ_RT int flz_stretch_prime_step(struct flz_stretch *st, flz_stretch_read_fn read, void *cb_ctx,
				  uint32_t max_read_frames)
{
	if (st == NULL || read == NULL || max_read_frames == 0)
		return -EINVAL;
	if (st->primed)
		return 1;
	return prime(st, read, cb_ctx, max_read_frames) ? 1 : 0;
}

FLZ_RT int64_t flz_stretch_prime_read_frames(const struct flz_stretch *st)
{
	if (st == NULL)
		return -EINVAL;
	return st->primed ? 0 : (int64_t)next_want(st);
}

FLZ_RT int flz_stretch_render(struct flz_stretch *st, flz_stretch_read_fn read, void *cb_ctx,
			      float *out, uint32_t n_frames)
{
	if (st == NULL || read == NULL || (out == NULL && n_frames > 0) ||
	    n_frames > st->max_block_frames)
		return -EINVAL;
	if (n_frames == 0)
		return 0;
	if (!st->primed)
		(void)prime(st, read, cb_ctx, UINT64_MAX);
	const uint32_t n_ch = st->n_channels;
	uint32_t done = 0;
	while (done < n_frames) {
		int avail = rubberband_available(st->rb);
		if (avail <= 0) {
			(void)feed(st, read, cb_ctx);
			continue;
		}
		uint32_t k = n_frames - done;
		if ((uint32_t)avail < k)
			k = (uint32_t)avail;
		k = rubberband_retrieve(st->rb, st->out_planes, k);
		for (uint32_t c = 0; c < n_ch; c++) {
			const float *plane = st->out_planes[c];
			float *dst = out + (size_t)done * n_ch + c;
			for (uint32_t i = 0; i < k; i++)
				dst[(size_t)i * n_ch] = plane[i];
		}
		done += k;
	}
	return 0;
}
