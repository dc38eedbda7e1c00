/* SPDX-License-Identifier: MIT */
/*
 * libtransport, audio-thread side: the grid, positions, tempo changes and
 * tempo-locked positions. All exact integer arithmetic (see flz/transport.h);
 * every range check comes before any 128-bit product, whose bound is noted
 * where it is formed.
 */
#include <flz/transport.h>

#include "transport-internal.h"

/* A grid step in beats, as the rational num / den (flz/transport.h: 4 /
 * denominator beats, or beats_per_bar for "bar"). */
static bool step_beats(const struct flz_transport *t, enum flz_quantize mode, uint32_t *num,
		       uint32_t *den)
{
	switch (mode) {
	case FLZ_QUANTIZE_1_64: *num = 1; *den = 16; return true;
	case FLZ_QUANTIZE_1_32: *num = 1; *den = 8; return true;
	case FLZ_QUANTIZE_1_16: *num = 1; *den = 4; return true;
	case FLZ_QUANTIZE_1_8: *num = 1; *den = 2; return true;
	case FLZ_QUANTIZE_1_4: *num = 1; *den = 1; return true;
	case FLZ_QUANTIZE_1_2: *num = 2; *den = 1; return true;
	case FLZ_QUANTIZE_BAR: *num = t->beats_per_bar; *den = 1; return true;
	case FLZ_QUANTIZE_OFF:
	default: return false;
	}
}

/* Frames per step as sn / sd: sn = num x rate x 60 x 10^6 (< 2^49),
 * sd = den x bpm_micro (< 2^33). */
static void step_frames(const struct flz_transport *t, uint32_t num, uint32_t den, flz_i128 *sn,
			flz_i128 *sd)
{
	*sn = (flz_i128)num * t->rate_hz * 60 * FLZ_BPM_SCALE;
	*sd = (flz_i128)den * (flz_i128)t->bpm_micro;
}

static flz_i128 downbeat_fp(const struct flz_transport *t)
{
	return (flz_i128)t->downbeat_whole * FLZ_FP_ONE + t->downbeat_frac;
}

static bool frame_ok(int64_t frame)
{
	return frame >= -FLZ_TRANSPORT_FRAME_MAX && frame <= FLZ_TRANSPORT_FRAME_MAX;
}

/* floor(downbeat + k sn / sd + 1/2) over the common denominator sd x 2^32.
 * Callers bound |k sn / sd| by 2^57 frames, so every term is below 2^122. */
static int64_t grid_at(flz_i128 d_fp, flz_i128 sn, flz_i128 sd, flz_i128 k)
{
	flz_i128 m = sd * FLZ_FP_ONE;
	flz_i128 x = d_fp * sd + k * sn * FLZ_FP_ONE;
	return (int64_t)flz_floor_div(x + m / 2, m);
}

FLZ_RT FLZ_HOT double flz_transport_bpm(const struct flz_transport *t)
{
	return (double)t->bpm_micro / (double)FLZ_BPM_SCALE;
}

FLZ_RT FLZ_HOT uint32_t flz_transport_beats_per_bar(const struct flz_transport *t)
{
	return t->beats_per_bar;
}

FLZ_RT FLZ_HOT int64_t flz_transport_downbeat_frame(const struct flz_transport *t)
{
	return t->downbeat_whole + (t->downbeat_frac >= ((uint32_t)1 << 31) ? 1 : 0);
}

FLZ_RT FLZ_HOT void flz_transport_downbeat_exact(const struct flz_transport *t, int64_t *whole,
						 uint32_t *frac)
{
	*whole = t->downbeat_whole;
	*frac = t->downbeat_frac;
}

FLZ_RT FLZ_HOT int flz_transport_set_bpm(struct flz_transport *t, int64_t frame, double bpm)
{
	uint64_t new_u = flz_bpm_to_micro(bpm);
	if (new_u == 0 || !frame_ok(frame))
		return -EINVAL;
	/* The distance from the downbeat to frame, in 2^-32 frames (< 2^89),
	 * scales by old / new tempo so that the beats between them stay the
	 * same; rounded half up, that keeps the position to 2^-33 frame. */
	flz_i128 f_fp = (flz_i128)frame * FLZ_FP_ONE;
	flz_i128 offset = f_fp - downbeat_fp(t);
	flz_i128 scaled = flz_floor_div(2 * offset * (flz_i128)t->bpm_micro + (flz_i128)new_u,
					2 * (flz_i128)new_u);
	flz_i128 d = f_fp - scaled;
	const flz_i128 limit = (flz_i128)FLZ_TRANSPORT_DOWNBEAT_MAX * FLZ_FP_ONE;
	if (d < -limit || d > limit)
		return -EINVAL;
	t->bpm_micro = new_u;
	t->downbeat_whole = (int64_t)flz_floor_div(d, FLZ_FP_ONE);
	t->downbeat_frac = (uint32_t)(d - (flz_i128)t->downbeat_whole * FLZ_FP_ONE);
	return 0;
}

FLZ_RT FLZ_HOT int flz_transport_set_beats_per_bar(struct flz_transport *t, uint32_t beats_per_bar)
{
	if (beats_per_bar < FLZ_TRANSPORT_BEATS_PER_BAR_MIN ||
	    beats_per_bar > FLZ_TRANSPORT_BEATS_PER_BAR_MAX)
		return -EINVAL;
	t->beats_per_bar = beats_per_bar;
	return 0;
}

FLZ_RT FLZ_HOT int flz_transport_anchor(struct flz_transport *t, int64_t frame)
{
	if (!frame_ok(frame))
		return -EINVAL;
	t->downbeat_whole = frame;
	t->downbeat_frac = 0;
	return 0;
}

FLZ_RT FLZ_HOT int flz_transport_next_grid_frame(const struct flz_transport *t,
						 enum flz_quantize mode, int64_t frame,
						 int64_t *out)
{
	if (out == NULL || !frame_ok(frame) || (unsigned)mode >= FLZ_QUANTIZE_N_MODES)
		return -EINVAL;
	uint32_t num, den;
	if (!step_beats(t, mode, &num, &den)) {
		*out = frame;
		return 0;
	}
	flz_i128 sn, sd;
	step_frames(t, num, den, &sn, &sd);
	/* grid_at(k) >= frame  <=>  downbeat + k sn / sd + 1/2 >= frame
	 *                      <=>  k sn 2^32 >= (frame 2^32 - 2^31 - downbeat) sd.
	 * The right side is below 2^89 x 2^33. */
	flz_i128 d_fp = downbeat_fp(t);
	flz_i128 rhs = ((flz_i128)frame * FLZ_FP_ONE - FLZ_FP_ONE / 2 - d_fp) * sd;
	flz_i128 k = flz_ceil_div(rhs, sn * FLZ_FP_ONE);
	*out = grid_at(d_fp, sn, sd, k);
	return 0;
}

FLZ_RT FLZ_HOT int flz_transport_grid_frame(const struct flz_transport *t, enum flz_quantize mode,
					    int64_t k, int64_t *out)
{
	uint32_t num, den;
	if (out == NULL || (unsigned)mode >= FLZ_QUANTIZE_N_MODES || !step_beats(t, mode, &num, &den))
		return -EINVAL;
	flz_i128 sn, sd;
	step_frames(t, num, den, &sn, &sd);
	/* |k sn| < 2^63 x 2^49; past this bound the frame is out of range
	 * whatever the downbeat, so grid_at() never sees a larger product. */
	flz_i128 ksn = (flz_i128)k * sn;
	flz_i128 bound = ((flz_i128)FLZ_TRANSPORT_FRAME_MAX + FLZ_TRANSPORT_DOWNBEAT_MAX + 1) * sd;
	if (ksn > bound || ksn < -bound)
		return -EINVAL;
	int64_t g = grid_at(downbeat_fp(t), sn, sd, k);
	if (!frame_ok(g))
		return -EINVAL;
	*out = g;
	return 0;
}

FLZ_RT FLZ_HOT int flz_transport_position(const struct flz_transport *t, int64_t frame,
					  struct flz_transport_position *out)
{
	if (out == NULL || !frame_ok(frame))
		return -EINVAL;
	/* Beats since the downbeat = n / q exactly, with
	 * n = (frame 2^32 - downbeat) x bpm_micro (< 2^89 x 2^29) and
	 * q = 2^32 x rate x 60 x 10^6 (< 2^77). */
	flz_i128 n = ((flz_i128)frame * FLZ_FP_ONE - downbeat_fp(t)) * (flz_i128)t->bpm_micro;
	flz_i128 q = FLZ_FP_ONE * t->rate_hz * 60 * FLZ_BPM_SCALE;
	flz_i128 bar = flz_floor_div(n, q * t->beats_per_bar);
	flz_i128 rest = n - bar * q * t->beats_per_bar;
	flz_i128 whole = rest / q;
	/* Only the fraction of a beat is converted to double; q > 2^53, so the
	 * quotient of the largest fraction may round up to 1.0, which would
	 * read as the next beat: keep it below. */
	double frac = (double)(rest - whole * q) / (double)q;
	if (frac >= 1.0)
		frac = 1.0 - 0x1p-53;
	out->bar = (int64_t)bar;
	out->beat = (double)whole + frac;
	return 0;
}

FLZ_RT FLZ_HOT int flz_transport_lock_ratio(double master_bpm, double pad_bpm,
					    struct flz_transport_lock *out)
{
	uint64_t num = flz_bpm_to_micro(master_bpm), den = flz_bpm_to_micro(pad_bpm);
	if (out == NULL || num == 0 || den == 0)
		return -EINVAL;
	/* Doubling the pad's tempo halves the ratio and the reverse; within
	 * 20..300 BPM (ratio 1/15..15) each loop runs at most twice. */
	while (num > 4 * den)
		den *= 2;
	while (4 * num < den)
		num *= 2;
	out->num = num;
	out->den = den;
	out->inc_fp = (uint64_t)(((flz_u128)num << 33) + den) / (2 * (flz_u128)den);
	return 0;
}

/* A lock as flz_transport_lock_ratio() makes one: terms below 2^31, the
 * ratio within 0.25..4, and the increment its rounding. */
static bool lock_ok(const struct flz_transport_lock *lock)
{
	if (lock == NULL || lock->num == 0 || lock->den == 0 || lock->num >= ((uint64_t)1 << 31) ||
	    lock->den >= ((uint64_t)1 << 31) || lock->num > 4 * lock->den || 4 * lock->num < lock->den)
		return false;
	return lock->inc_fp == (uint64_t)((((flz_u128)lock->num << 33) + lock->den) /
					 (2 * (flz_u128)lock->den));
}

FLZ_RT FLZ_HOT int flz_transport_locked_init(struct flz_transport_locked *l, int64_t frame0,
					     uint64_t pos0_fp, const struct flz_transport_lock *lock,
					     int64_t loop_start, int64_t loop_end)
{
	if (l == NULL || !lock_ok(lock) || !frame_ok(frame0) || loop_start < 0 ||
	    loop_end <= loop_start || loop_end > INT32_MAX ||
	    pos0_fp >= ((uint64_t)loop_end << 32))
		return -EINVAL;
	l->frame0 = frame0;
	l->pos0_fp = pos0_fp;
	l->lock = *lock;
	l->loop_start = loop_start;
	l->loop_end = loop_end;
	return 0;
}

/* Wrap an unwrapped 32.32 position into the loop once it reached the end. */
static uint64_t wrap_position(const struct flz_transport_locked *l, flz_u128 u)
{
	flz_u128 end = (flz_u128)l->loop_end << 32;
	if (u >= end) {
		flz_u128 len = (flz_u128)(l->loop_end - l->loop_start) << 32;
		u = ((flz_u128)l->loop_start << 32) + (u - end) % len;
	}
	return (uint64_t)u;
}

FLZ_RT FLZ_HOT int flz_transport_locked_start(struct flz_transport_locked *l,
					      const struct flz_transport *t, int64_t frame0,
					      uint64_t pad_downbeat_fp, const struct flz_transport_lock *lock,
					      int64_t loop_start, int64_t loop_end)
{
	struct flz_transport_locked start;
	if (t == NULL || flz_transport_locked_init(&start, frame0, pad_downbeat_fp, lock, loop_start,
						   loop_end) < 0)
		return -EINVAL;
	/* The beats since the bar's start are rest / q (flz_transport_position());
	 * in 2^-32 frames that is rest / bpm_micro, and the voice has moved
	 * num / den times as far: rest x num / (bpm_micro x den), with rest
	 * below 2^81 and num below 2^31. */
	flz_i128 n = ((flz_i128)frame0 * FLZ_FP_ONE - downbeat_fp(t)) * (flz_i128)t->bpm_micro;
	flz_i128 bar_q = FLZ_FP_ONE * t->rate_hz * 60 * FLZ_BPM_SCALE * t->beats_per_bar;
	flz_i128 rest = n - flz_floor_div(n, bar_q) * bar_q;
	flz_u128 moved = (flz_u128)rest * lock->num / ((flz_u128)t->bpm_micro * lock->den);
	start.pos0_fp = wrap_position(&start, (flz_u128)pad_downbeat_fp + moved);
	*l = start;
	return 0;
}

FLZ_RT FLZ_HOT int flz_transport_locked_position(const struct flz_transport_locked *l,
						 int64_t frame, uint64_t *out)
{
	if (l == NULL || out == NULL || !frame_ok(frame) || frame < l->frame0)
		return -EINVAL;
	/* (frame - frame0) < 2^54, num < 2^31: the product is below 2^117. */
	flz_u128 delta = (flz_u128)(frame - l->frame0);
	*out = wrap_position(l, l->pos0_fp + delta * l->lock.num * ((flz_u128)1 << 32) / l->lock.den);
	return 0;
}

FLZ_RT FLZ_HOT int flz_transport_locked_reanchor(struct flz_transport_locked *l, int64_t frame,
						 const struct flz_transport_lock *lock)
{
	uint64_t pos;
	if (!lock_ok(lock) || flz_transport_locked_position(l, frame, &pos) < 0)
		return -EINVAL;
	l->frame0 = frame;
	l->pos0_fp = pos;
	l->lock = *lock;
	return 0;
}
