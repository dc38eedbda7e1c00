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
 * alone and zero once it is over. With O = delta x n / 2 + e:
 *  - for k < n (the glide, speed_ramp_ms): delta x (k - k^2 / 2n) + e, so
 *    the step goes linearly from the old rate to num / den; e is the
 *    offset a previous, unfinished glide still had at the re-anchor (the
 *    voice's distance from where the old ratio alone would have put it);
 *  - then over M frames (the catch-up): O, the glide's lag (the old rate's
 *    extra distance compared with the new one) plus e, fades out along a
 *    smoothstep, so the rate returns to num / den continuously and the
 *    voice ends up exactly where the new ratio alone would have put it:
 *    the phase holds, and glides chained by a dragged tempo fader too.
 * The catch-up departs from num / den by at most 1.5 |O| / M, below it
 * when the voice is ahead (O > 0), above it when it is behind. M is at
 * least 4n and long enough that this stays within a quarter of the lower
 * of the old and new rate and within the overall range 0.25..4
 * (FLZ_RATE_MIN..FLZ_RATE_MAX): the rate never leaves the range, so the
 * interpolator stays band-limited and the tap window is the one of rate 4.
 * Where that would take M beyond LOCK_CATCH_MAX_GLIDES glides (a new rate
 * at or next to an end of the range, with the voice on the wrong side of
 * it), the glide is shortened, halving n down to 0 (the rate steps, so
 * there is no lag); if even the carried e cannot be caught up within the
 * range, the voice is moved onto the new ratio's position at once,
 * crossfaded like a seek (flz_mixer_voice_shift()). Either way the
 * position converges exactly. c is evaluated in double from k and rounded
 * to 2^-32 frame, deterministically, once per frame; with the floor term's
 * own 2^-32, a step may pass an end of the range by 2^-31 frame per frame.
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
	if (m == 0 || k >= n + m)
		return 0;
	const double kd = (double)k, nd = (double)n;
	double c;
	if (k < n)
		c = l->delta_fp * (kd - kd * kd / (2.0 * nd)) + l->e_fp;
	else
		c = (l->delta_fp * nd * 0.5 + l->e_fp) * (1.0 - smoothstep((kd - nd) / (double)m));
	return (int64_t)(c >= 0.0 ? c + 0.5 : c - 0.5);
}

/* Whether frames k .. k + n_frames touch the glide. */
FLZ_RT FLZ_HOT static inline bool gliding(const struct flz_mixer_lock *l, int64_t k)
{
	return l->catch_frames > 0 && k < (int64_t)l->glide_frames + l->catch_frames;
}

/* The catch-up's longest span, in glides (10 s for the 20 ms glide). */
#define LOCK_CATCH_MAX_GLIDES 500
/* 2^-32 frames kept off the range's ends for the rounding of the steps. */
#define LOCK_RATE_MARGIN_FP 4.0

/* The catch-up span that takes @p o (2^-32 frames) back to 0 within the
 * budget of its direction, or 0 when none within @p m_max does. */
FLZ_RT FLZ_HOT static double catch_span(double o, double budget_up, double budget_down,
					double n, double m_max)
{
	if (o == 0.0)
		return 4.0 * n;
	/* Ahead (o > 0): the catch-up slows the voice; behind: it hurries. */
	const double budget = o > 0.0 ? budget_down : budget_up;
	if (!(budget > 0.0))
		return 0.0;
	double m = 1.5 * (o < 0.0 ? -o : o) / budget + 1.0;
	if (m < 4.0 * n)
		m = 4.0 * n;
	return m <= m_max ? m : 0.0;
}

FLZ_RT FLZ_HOT int64_t flz_mixer_lock_retarget(struct flz_mixer_lock *l, uint64_t num, uint64_t den,
					       uint64_t old_inc_fp, uint32_t glide_frames)
{
	/* The offset the old glide has now: the new ideal position is the
	 * current one minus it (see the top of the file). */
	const double e = l->on ? (double)glide_offset(l, l->k) : 0.0;
	struct flz_mixer_lock next;
	flz_mixer_lock_begin(&next, num, den);
	const double delta = (double)old_inc_fp - (double)next.inc_fp;
	int64_t jump = 0;
	if (delta != 0.0 || e != 0.0) {
		/* The catch-up's budget each way: a quarter of the lower of the
		 * two rates (so the rate stays well positive), and no further
		 * than the range's ends. */
		const double one = (double)((uint64_t)1 << 32);
		const double r_new = (double)next.inc_fp;
		const double low = old_inc_fp < next.inc_fp ? (double)old_inc_fp : r_new;
		const double quarter = 0.25 * low;
		const double up = FLZ_RATE_MAX * one - LOCK_RATE_MARGIN_FP - r_new;
		const double down = r_new - FLZ_RATE_MIN * one - LOCK_RATE_MARGIN_FP;
		const double budget_up = up < quarter ? up : quarter;
		const double budget_down = down < quarter ? down : quarter;
		double m_max = (double)LOCK_CATCH_MAX_GLIDES * glide_frames;
		if (m_max > (double)(UINT32_MAX / 2))
			m_max = (double)(UINT32_MAX / 2);
		/* The longest glide, n halved down to 0, whose lag plus e can be
		 * caught up within the range. */
		uint32_t n = glide_frames;
		double m;
		for (;;) {
			m = catch_span(delta * n * 0.5 + e, budget_up, budget_down, n, m_max);
			if (m > 0.0 || n == 0)
				break;
			n /= 2;
		}
		if (m > 0.0 && (n > 0 || e != 0.0)) {
			next.delta_fp = delta;
			next.e_fp = e;
			next.glide_frames = n;
			next.catch_frames = (uint32_t)m;
		} else if (m == 0.0) {
			/* Not even e: the caller moves the voice onto the ideal. */
			jump = (int64_t)e;
		}
	}
	*l = next;
	return jump;
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
	if (l->catch_frames > 0 && l->k >= (int64_t)l->glide_frames + l->catch_frames) {
		/* Over: c is 0 from here on. */
		l->glide_frames = 0;
		l->catch_frames = 0;
		l->delta_fp = 0.0;
		l->e_fp = 0.0;
	}
}

/* ---- The servo of a key-locked, tempo-locked voice ---- */

/*
 * The source (a stretcher) reads the material in chunks of its own, so the
 * diff (material read minus the lock's advance) is a sawtooth around the
 * frames it holds; only its mean says where the output is. Settling, the
 * first SERVO_SETTLE_S after the servo begins, takes that mean as the
 * source's latency: the voice's start is compensated (its first output
 * frame is its first frame), so in those frames the output is on the
 * lock's position, and what the mean holds then is the latency. From then
 * on the diff is low-passed (one pole, SERVO_TAU_S) and the rate given to
 * the source is trimmed in proportion to the mean's distance from the
 * latency, to take it back within SERVO_CORRECT_S, plus its integral over
 * SERVO_INTEGRAL_S (a source whose own rate is off by e needs a trim of
 * e for ever; the integral holds it, so that no offset remains), by at
 * most FLZ_MIXER_SERVO_TRIM_MAX of the rate: a pitch change of 0.5 % at
 * most while it corrects, e in the steady state. With the integral over
 * 4 x SERVO_CORRECT_S the loop (s^2 + s / C + 1 / (C x I)) has a damping
 * of sqrt(I / C) / 2 = 1: a bias of 0.1..0.3 % is taken back to within 2
 * frames in about 20 s (mixer:keylock-servo). While the trim is at its
 * bound the integral stands still (it does not wind up).
 */
#define SERVO_SETTLE_S 0.5
#define SERVO_TAU_S 0.5
#define SERVO_CORRECT_S 2.0
#define SERVO_INTEGRAL_S 8.0
/* The trim changes once a second at most: Rubber Band's R2 loses a
 * fraction of a frame of input at every rate change (bench: 0.3 frame per
 * call at rate 1.42, so a trim moved every block would drift the source
 * by 10 frames a second and more, against the servo). Sampled once a
 * second, the proportional loop's gain per step is 1 s / SERVO_CORRECT_S
 * = 0.5, well inside its bound of 2. */
#define SERVO_UPDATE_S 1.0

FLZ_RT FLZ_HOT void flz_mixer_servo_begin(struct flz_mixer_servo *s, uint32_t rate_hz)
{
	*s = (struct flz_mixer_servo){
		.on = true,
		.settle_left = (uint32_t)(SERVO_SETTLE_S * rate_hz),
	};
}

FLZ_RT FLZ_HOT void flz_mixer_servo_behind(struct flz_mixer_servo *s, uint64_t adv_fp)
{
	if (!s->on)
		return;
	s->diff_fp -= (int64_t)adv_fp;
	s->behind += (double)adv_fp / 4294967296.0;
	if (s->settle_left == 0)
		s->ref += (double)adv_fp / 4294967296.0;
}

FLZ_RT FLZ_HOT double flz_mixer_servo_rate(const struct flz_mixer_servo *s,
					   const struct flz_mixer_lock *l, uint32_t n_frames)
{
	const double step = (double)flz_mixer_lock_advance(l, n_frames) / (double)n_frames /
			    4294967296.0;
	double rate = step * (1.0 + s->trim);
	rate = rate < FLZ_RATE_MIN ? FLZ_RATE_MIN : rate;
	return rate > FLZ_RATE_MAX ? FLZ_RATE_MAX : rate;
}

FLZ_RT FLZ_HOT void flz_mixer_servo_read(struct flz_mixer_servo *s, uint32_t n_frames)
{
	s->diff_fp += (int64_t)n_frames << 32;
}

FLZ_RT FLZ_HOT void flz_mixer_servo_commit(struct flz_mixer_servo *s, uint64_t adv_fp,
					   uint32_t n_frames, uint32_t rate_hz, double rate)
{
	if (!s->on || n_frames == 0)
		return;
	s->diff_fp -= (int64_t)adv_fp;
	const double d = (double)s->diff_fp / 4294967296.0;
	if (s->settle_left > 0) {
		s->settle_sum += d * n_frames;
		s->settle_n += n_frames;
		s->settle_left = n_frames < s->settle_left ? s->settle_left - n_frames : 0;
		if (s->settle_left == 0) {
			s->avg = s->settle_sum / s->settle_n;
			/* On time, the mean would have been higher by what the
			 * source started behind (flz_mixer_servo_behind()). */
			s->ref = s->avg + s->behind;
			s->update_left = (uint32_t)(SERVO_UPDATE_S * rate_hz);
		}
		return;
	}
	double a = (double)n_frames / (SERVO_TAU_S * rate_hz);
	a = a > 1.0 ? 1.0 : a;
	s->avg += a * (d - s->avg);
	if (s->update_left > n_frames) {
		s->update_left -= n_frames;
		return;
	}
	const double dt = (SERVO_UPDATE_S * rate_hz - s->update_left + n_frames) / rate_hz;
	s->update_left = (uint32_t)(SERVO_UPDATE_S * rate_hz);
	/* Ahead (the mean above the latency): slower; behind: faster. */
	const double e = s->avg - s->ref;
	const double integ = s->integ + e * dt;
	const double t = -(e + integ / SERVO_INTEGRAL_S) / (SERVO_CORRECT_S * rate_hz * rate);
	if (t > FLZ_MIXER_SERVO_TRIM_MAX) {
		s->trim = FLZ_MIXER_SERVO_TRIM_MAX;
	} else if (t < -FLZ_MIXER_SERVO_TRIM_MAX) {
		s->trim = -FLZ_MIXER_SERVO_TRIM_MAX;
	} else {
		s->trim = t;
		s->integ = integ;
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
			v->servo.on = false;
		} else {
			if (v->lock.on && v->lock.num == num && v->lock.den == den)
				continue;
			const bool was_on = v->lock.on;
			const int64_t off = flz_mixer_lock_retarget(&v->lock, num, den,
								    current_inc(m, v), glide);
			if (off != 0)
				flz_mixer_voice_shift(v, -off);
			/* A key-locked voice locked now: its servo holds it on the
			 * lock's position from here (its source reads on; a
			 * retarget keeps the servo, the source follows the glide). */
			if (!was_on && v->src >= 0)
				flz_mixer_servo_begin(&v->servo, m->config.rate_hz);
		}
		n++;
	}
	return n;
}
