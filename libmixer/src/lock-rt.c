/* SPDX-License-Identifier: MIT */
/*
 * Tempo-locked voices: positions as a pure function of the output frame.
 *
 * A locked voice's reader is advanced by the differences of
 *     D(k) = floor(k x num x 2^32 / den) + c(k)
 * where k counts output frames since the voice's anchor. The floor term is
 * stepped exactly (quotient plus a remainder carried modulo den), so after
 * any number of blocks of any sizes it equals the one division from k: it
 * never drifts, and render(a) + render(b) advances exactly as render(a + b).
 * Stepping by the rounded 32.32 rate instead would gain up to 2^-33 frame
 * per frame, a frame every two days, and with it the beat would slide.
 *
 * c(k) is the glide after a re-anchor (a tempo change), a function of k
 * alone and zero once it is over:
 *  - for k <= n (the glide, speed_ramp_ms): delta x (k - k^2 / 2n), so the
 *    step goes linearly from the old rate to num / den;
 *  - then over M frames: the glide's lag delta x n / 2 (the old rate's
 *    extra distance compared with the new one) fades out along a
 *    smoothstep, so the rate returns to num / den continuously and the
 *    voice ends up exactly where the new ratio alone would have put it:
 *    the phase holds;
 *  - plus the offset e a previous, unfinished glide still had at the
 *    re-anchor, faded out along a smoothstep over n + M, so that glides
 *    chained by a dragged tempo fader keep the phase too.
 * M is at least 4n and long enough that the catch-up moves the rate by at
 * most a quarter of the lower of the old and new rate (see
 * FLZ_MIXER_LOCK_RATE_MAX), so the rate stays positive and the tap window
 * large enough. c is evaluated in double from
 * k and rounded to 2^-32 frame, deterministically, once per frame.
 */
#include <string.h>

#include "mixer-internal.h"

__extension__ typedef unsigned __int128 flz_lock_u128;

/* The lock ratio's bounds, as the transport folds it (flz/transport.h). */
#define LOCK_TERM_MAX ((uint64_t)1 << 31)

FLZ_RT FLZ_HOT bool flz_mixer_lock_ratio_ok(uint64_t num, uint64_t den)
{
	return num > 0 && den > 0 && num < LOCK_TERM_MAX && den < LOCK_TERM_MAX &&
	       num <= 4 * den && 4 * num >= den;
}

FLZ_RT FLZ_HOT void flz_mixer_lock_begin(struct flz_mixer_lock *l, uint64_t num, uint64_t den)
{
	const flz_lock_u128 one = (flz_lock_u128)num << 32;
	*l = (struct flz_mixer_lock){
		.on = true,
		.num = num,
		.den = den,
		.step_q = (uint64_t)(one / den),
		.step_r = (uint64_t)(one % den),
		.inc_fp = (uint64_t)((((flz_lock_u128)num << 33) + den) / (2 * (flz_lock_u128)den)),
	};
}

FLZ_RT FLZ_HOT static inline double smoothstep(double y)
{
	return y * y * (3.0 - 2.0 * y);
}

/* The glide offset at frame k, 2^-32 frames, rounded half away from zero. */
FLZ_RT FLZ_HOT static int64_t glide_offset(const struct flz_mixer_lock *l, int64_t k)
{
	const int64_t n = l->glide_frames, m = l->catch_frames;
	if (n == 0 || k >= n + m)
		return 0;
	const double kd = (double)k, nd = (double)n;
	double c;
	if (k <= n)
		c = l->delta_fp * (kd - kd * kd / (2.0 * nd));
	else
		c = l->delta_fp * nd * 0.5 * (1.0 - smoothstep((kd - nd) / (double)m));
	c += l->e_fp * (1.0 - smoothstep(kd / (double)(n + m)));
	return (int64_t)(c >= 0.0 ? c + 0.5 : c - 0.5);
}

/* Whether frames k .. k + n_frames touch the glide. */
FLZ_RT FLZ_HOT static inline bool gliding(const struct flz_mixer_lock *l, int64_t k)
{
	return l->glide_frames > 0 && k < (int64_t)l->glide_frames + l->catch_frames;
}

FLZ_RT FLZ_HOT void flz_mixer_lock_retarget(struct flz_mixer_lock *l, uint64_t num, uint64_t den,
					    uint64_t old_inc_fp, uint32_t glide_frames)
{
	/* The offset the old glide has now: the new ideal position is the
	 * current one minus it (see the top of the file). */
	const double e = l->on ? (double)glide_offset(l, l->k) : 0.0;
	struct flz_mixer_lock next;
	flz_mixer_lock_begin(&next, num, den);
	const double delta = (double)old_inc_fp - (double)next.inc_fp;
	if (glide_frames > 0 && (delta != 0.0 || e != 0.0)) {
		/* Budget for the catch-up's departure from the glide's rate: a
		 * quarter of the lower of the two rates, so that the step stays
		 * above three quarters of it (positive) and below the higher
		 * plus a quarter of the lower (at most 5). The catch-up's peak
		 * departure is 0.75 |delta| n / M (the lag's smoothstep) plus
		 * 1.5 |e| / (n + M) (the carried offset's). */
		const double low = old_inc_fp < next.inc_fp ? (double)old_inc_fp : (double)next.inc_fp;
		const double budget = 0.25 * (low > 0.0 ? low : 1.0);
		const double need = (0.75 * (delta < 0 ? -delta : delta) * glide_frames +
				     1.5 * (e < 0 ? -e : e)) / budget;
		double m = 4.0 * glide_frames;
		if (need > m)
			m = need + 1.0;
		/* A glide across the whole 0.25..4 range with a large carried
		 * offset stays below a few seconds; the bound only keeps the
		 * frame counts in range. */
		if (m > (double)(UINT32_MAX / 2))
			m = (double)(UINT32_MAX / 2);
		next.delta_fp = delta;
		next.e_fp = e;
		next.glide_frames = glide_frames;
		next.catch_frames = (uint32_t)m;
	}
	*l = next;
}

/* One step of the exact floor term from (k, rem): returns it, updates rem. */
FLZ_RT FLZ_HOT static inline uint64_t floor_step(const struct flz_mixer_lock *l, uint64_t *rem)
{
	uint64_t r = *rem + l->step_r;
	uint64_t carry = r >= l->den;
	*rem = carry ? r - l->den : r;
	return l->step_q + carry;
}

FLZ_RT FLZ_HOT bool flz_mixer_lock_gliding(const struct flz_mixer_lock *l)
{
	return gliding(l, l->k);
}

FLZ_RT FLZ_HOT uint64_t flz_mixer_lock_offsets(const struct flz_mixer_lock *l, uint32_t frac0,
					       uint32_t n_frames, int64_t *off, uint32_t *frac,
					       uint64_t *steps)
{
	uint64_t rem = l->rem;
	uint64_t acc = frac0;
	if (!gliding(l, l->k)) {
		for (uint32_t j = 0; j < n_frames; j++) {
			off[j] = (int64_t)(acc >> 32);
			frac[j] = (uint32_t)acc;
			acc += floor_step(l, &rem);
		}
		return acc;
	}
	int64_t c_prev = glide_offset(l, l->k);
	for (uint32_t j = 0; j < n_frames; j++) {
		off[j] = (int64_t)(acc >> 32);
		frac[j] = (uint32_t)acc;
		int64_t c = glide_offset(l, l->k + j + 1);
		const uint64_t step = (uint64_t)((int64_t)floor_step(l, &rem) + (c - c_prev));
		acc += step;
		/* Past the glide a frame's kernel is the ratio's, as in a block
		 * that starts there: a frame's value never depends on the block. */
		steps[j] = gliding(l, l->k + j) ? step : l->inc_fp;
		c_prev = c;
	}
	return acc;
}

FLZ_RT FLZ_HOT uint64_t flz_mixer_lock_advance(const struct flz_mixer_lock *l, uint32_t n_frames)
{
	/* The floor term's advance over n frames from (k, rem), in one step:
	 * rem + n x step_r < 2^31 x 2^31 + 2^31 fits 64 bits. */
	const uint64_t r = l->rem + (uint64_t)n_frames * l->step_r;
	uint64_t adv = (uint64_t)n_frames * l->step_q + r / l->den;
	if (gliding(l, l->k))
		adv += (uint64_t)(glide_offset(l, l->k + n_frames) - glide_offset(l, l->k));
	return adv;
}

FLZ_RT FLZ_HOT void flz_mixer_lock_commit(struct flz_mixer_lock *l, uint32_t n_frames)
{
	l->rem = (l->rem + (uint64_t)n_frames * l->step_r) % l->den;
	l->k += n_frames;
	if (l->glide_frames > 0 && l->k >= (int64_t)l->glide_frames + l->catch_frames) {
		/* Over: c is 0 from here on. */
		l->glide_frames = 0;
		l->catch_frames = 0;
		l->delta_fp = 0.0;
		l->e_fp = 0.0;
	}
}

/* ---- Commands ---- */

FLZ_RT FLZ_HOT int flz_mixer_loop_region(const struct flz_mixer *m, int32_t slot, int64_t *start,
					 int64_t *end)
{
	if (slot < 0 || slot >= FLZ_NUM_SAMPLES || start == NULL || end == NULL)
		return -EINVAL;
	if (m->slots[slot] < 0)
		return -ENOENT;
	*start = m->pads[slot].loop_start;
	*end = m->pads[slot].loop_end;
	return 0;
}

/* The voice's rate at its next frame: its lock's step, or global x pad
 * speed as the render code computes them. */
FLZ_RT FLZ_HOT static uint64_t current_inc(const struct flz_mixer *m, const struct flz_mixer_voice *v)
{
	if (v->lock.on)
		return flz_mixer_lock_advance(&v->lock, 1);
	const struct flz_mixer_glide *g = &m->pads[v->slot].speed;
	const uint64_t pad = g->active && g->done_frames < g->n_frames ? g->start_fp : g->target_fp;
	/* Within a running glide the start is a fair guess of "now"; the
	 * lock's own glide smooths whatever is left. */
	return (uint64_t)(((flz_lock_u128)m->inc_fp * pad + ((uint64_t)1 << 31)) >> 32);
}

FLZ_RT FLZ_HOT int flz_mixer_set_pad_lock(struct flz_mixer *m, int32_t slot, uint64_t num,
					  uint64_t den)
{
	if (slot < 0 || slot >= FLZ_NUM_SAMPLES || (num != 0 && !flz_mixer_lock_ratio_ok(num, den)))
		return -EINVAL;
	const uint32_t glide = m->pads[slot].speed.n_frames;
	int n = 0;
	for (uint32_t i = 0; i < m->n_active; i++) {
		struct flz_mixer_voice *v = &m->voices[m->active[i]];
		if (v->slot != slot)
			continue;
		if (num == 0) {
			if (!v->lock.on)
				continue;
			v->lock.on = false;
		} else {
			if (v->lock.on && v->lock.num == num && v->lock.den == den)
				continue;
			flz_mixer_lock_retarget(&v->lock, num, den, current_inc(m, v), glide);
		}
		n++;
	}
	return n;
}
