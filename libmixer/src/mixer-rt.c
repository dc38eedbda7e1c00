/* SPDX-License-Identifier: MIT */
/*
 * The mixer's audio-thread functions: commands and render.
 *
 * Render, per block: every voice in start order adds its chain's output
 * into the (cleared) block: its reader (the sample read through the
 * voice's own interpolator at the voice's rate, or copied at rate 1 with a
 * whole-frame position), the crossfade of a seek or a wrap, its gain
 * (voice x pad x fade), its stages, its meter. Then the master gain, the
 * master meter, the glides' progress, and the events. Nothing is rendered
 * ahead of the output: a command acts on the next output frame, and a
 * voice's frame j of a block depends only on the frame index (positions,
 * ramps and glides are computed from it), so render(a) + render(b) is
 * bit-identical to render(a + b).
 */
#include <math.h>
#include <string.h>

#include "mixer-internal.h"

/* ---- Samples, events ---- */

/* A slot or a voice stops using sample entry @p idx. The last user hands
 * the entry's reference to retire: the mixer holds none of it any more,
 * whatever other references exist, and it never drops one on this thread. */
FLZ_RT FLZ_HOT static void drop_sample_use(struct flz_mixer *m, int32_t idx)
{
	struct flz_mixer_sample *e = &m->samples[idx];
	if (--e->users > 0)
		return;
	struct flz_sample *s = e->sample;
	e->sample = NULL;
	m->free_samples[m->n_free_samples++] = (uint16_t)idx;
	m->config.retire(m->config.userdata, s);
}

FLZ_RT FLZ_HOT static void emit(struct flz_mixer *m, enum flz_mixer_event_kind kind, uint32_t token,
			int32_t slot, int64_t frame)
{
	if (m->config.event == NULL)
		return;
	struct flz_mixer_event ev = { .kind = kind, .token = token, .slot = slot, .frame = frame };
	m->config.event(m->config.userdata, &ev);
}

/* The event's frame is the first output frame from which none of the
 * stop's voices sounds. */
FLZ_RT FLZ_HOT static void send_stopped(struct flz_mixer *m, struct flz_mixer_pending *p)
{
	emit(m, FLZ_MIXER_EVENT_STOPPED, p->token, p->slot, p->last_frame + 1);
	p->in_use = false;
	m->n_pending--;
}

FLZ_RT FLZ_HOT static void send_started(struct flz_mixer *m)
{
	/* The queue's head; its voice sounds from the next output frame on. */
	struct flz_mixer_started *s = &m->started[0];
	emit(m, FLZ_MIXER_EVENT_STARTED, s->token, s->slot, m->frame);
	memmove(&m->started[0], &m->started[1], (m->n_started - 1) * sizeof(m->started[0]));
	m->n_started--;
}

/* A voice is cut before the render that would have sounded its first
 * frame: its trigger started nothing that sounded, so its Started event
 * (still queued, if @p serial is there) is dropped. Returns whether it was. */
FLZ_RT FLZ_HOT static bool drop_started(struct flz_mixer *m, uint64_t serial)
{
	for (uint32_t i = 0; i < m->n_started; i++) {
		if (m->started[i].serial != serial)
			continue;
		memmove(&m->started[i], &m->started[i + 1],
			(m->n_started - i - 1) * sizeof(m->started[0]));
		m->n_started--;
		return true;
	}
	return false;
}

/* A pending-stop entry for a new stop command. */
FLZ_RT FLZ_HOT static int32_t take_pending(struct flz_mixer *m, uint32_t token, int32_t slot)
{
	int32_t idx = -1;
	for (int32_t i = 0; i < FLZ_MIXER_MAX_PENDING; i++) {
		if (!m->pending[i].in_use) {
			idx = i;
			break;
		}
	}
	if (idx < 0) {
		/* Full: at most VOICE_STRUCTS entries have voices still fading,
		 * so the others are ready (their voices went silent since the
		 * last render). Send the oldest of those now and reuse it. */
		uint64_t best = UINT64_MAX;
		for (int32_t i = 0; i < FLZ_MIXER_MAX_PENDING; i++) {
			if (m->pending[i].n_voices == 0 && m->pending[i].serial < best) {
				best = m->pending[i].serial;
				idx = i;
			}
		}
		send_stopped(m, &m->pending[idx]);
	}
	struct flz_mixer_pending *p = &m->pending[idx];
	p->in_use = true;
	p->token = token;
	p->slot = slot;
	p->n_voices = 0;
	p->last_frame = INT64_MIN;
	p->serial = m->next_serial++;
	m->n_pending++;
	return idx;
}

/* ---- Ramps and glides ---- */

/* The value at ramp frame @p k (1-based from the command). */
FLZ_RT FLZ_HOT static inline float ramp_at(const struct flz_mixer_ramp *r, uint32_t k)
{
	if (!r->active || k >= r->n_frames)
		return r->target;
	return r->start + (r->target - r->start) * ((float)k / (float)r->n_frames);
}

/* The value at the last rendered frame. */
FLZ_RT FLZ_HOT static inline float ramp_now(const struct flz_mixer_ramp *r)
{
	return ramp_at(r, r->done_frames);
}

FLZ_RT FLZ_HOT static void ramp_begin(struct flz_mixer_ramp *r, float target)
{
	r->start = ramp_now(r);
	r->target = target;
	r->done_frames = 0;
	r->active = true;
}

/* Frames of the next @p n_frames that are still on the ramp (k < n_frames). */
FLZ_RT FLZ_HOT static inline uint32_t ramp_left(const struct flz_mixer_ramp *r, uint32_t n_frames)
{
	if (!r->active)
		return 0;
	uint32_t left = r->n_frames - 1 - r->done_frames;
	return left < n_frames ? left : n_frames;
}

FLZ_RT FLZ_HOT static void ramp_commit(struct flz_mixer_ramp *r, uint32_t n_frames)
{
	if (!r->active)
		return;
	r->done_frames += n_frames;
	if (r->done_frames >= r->n_frames) {
		r->active = false;
		r->start = r->target;
	}
}

FLZ_RT FLZ_HOT static inline uint64_t glide_at(const struct flz_mixer_glide *g, uint32_t k)
{
	if (!g->active || k >= g->n_frames)
		return g->target_fp;
	double d = (double)g->target_fp - (double)g->start_fp;
	return (uint64_t)((double)g->start_fp + d * (double)k / (double)g->n_frames + 0.5);
}

FLZ_RT FLZ_HOT static void glide_begin(struct flz_mixer_glide *g, uint64_t target_fp)
{
	g->start_fp = glide_at(g, g->done_frames);
	g->target_fp = target_fp;
	g->done_frames = 0;
	g->active = true;
}

FLZ_RT FLZ_HOT static void glide_commit(struct flz_mixer_glide *g, uint32_t n_frames)
{
	if (!g->active)
		return;
	g->done_frames += n_frames;
	if (g->done_frames >= g->n_frames) {
		g->active = false;
		g->start_fp = g->target_fp;
	}
}

/* The 64 x 64 -> 128-bit product (one instruction on x86-64 and arm64). */
__extension__ typedef unsigned __int128 flz_u128;
__extension__ typedef __int128 flz_i128;

/* Global x pad rate, 32.32, rounded: exact integers, so 1 x 1 is exactly 1. */
FLZ_RT FLZ_HOT static inline uint64_t rate_mul(uint64_t a_fp, uint64_t b_fp)
{
	return (uint64_t)(((flz_u128)a_fp * b_fp + ((uint64_t)1 << 31)) >> 32);
}

/* ---- Readers ---- */

FLZ_RT FLZ_HOT static inline void reader_at(struct flz_mixer_reader *rd, int64_t frame)
{
	rd->pos_frames = frame;
	rd->pos_frac = 0;
	rd->run_start = frame;
	rd->age_frames = 0;
	rd->wrapped = false;
	rd->prev_start = rd->prev_end = frame;
}

/* Where the reader's current contiguous run ends: the loop end, or the
 * sample's end for a position at or past the loop end (after a seek there,
 * or a region moved below it), which plays on and then wraps. */
FLZ_RT FLZ_HOT static inline int64_t run_end(const struct flz_mixer_voice *v,
				     const struct flz_mixer_reader *rd)
{
	return rd->pos_frames < v->loop_end ? v->loop_end : v->sample->n_frames;
}

/*
 * Copy stream frames at offsets d .. d + n_frames - 1 from the reader's
 * position into dst, with the loop applied: forward, the run to its end
 * then the loop region repeated; backward, the frames played before (after
 * a wrap, the end of the run it ended), and silence before the voice's
 * start or seek.
 */
FLZ_RT FLZ_HOT static void gather(const struct flz_mixer_voice *v, const struct flz_mixer_reader *rd,
			  int64_t d, uint32_t n_frames, float *dst, uint32_t n_channels)
{
	const float *data = v->sample->data;
	const int64_t ls = v->loop_start, le = v->loop_end, len = le - ls;
	const int64_t end = run_end(v, rd);
	while (n_frames > 0) {
		int64_t idx = -1, run;
		const int64_t at = rd->pos_frames + d;
		if (d < 0 && -d > rd->age_frames) {
			run = -rd->age_frames - d;
		} else if (at >= rd->run_start && at < end) {
			idx = at;
			run = end - at;
		} else if (at >= end) {
			idx = ls + (at - end) % len;
			run = le - idx;
		} else if (!rd->wrapped) {
			run = rd->run_start - at;
		} else {
			/* Back from the wrap: the run it ended, then the loop. */
			const int64_t back = rd->run_start - at;
			const int64_t in_prev = rd->prev_end - back;
			if (in_prev >= rd->prev_start) {
				idx = in_prev;
				run = back;
			} else {
				const int64_t before = rd->prev_start - in_prev;
				int64_t r = (le - before - ls) % len;
				idx = ls + (r < 0 ? r + len : r);
				run = le - idx;
				if (run > before)
					run = before;
			}
		}
		const uint32_t k = run < (int64_t)n_frames ? (uint32_t)run : n_frames;
		const size_t n_bytes = (size_t)k * n_channels * sizeof(float);
		if (idx < 0)
			memset(dst, 0, n_bytes);
		else
			memcpy(dst, data + (size_t)idx * n_channels, n_bytes);
		dst += (size_t)k * n_channels;
		d += k;
		n_frames -= k;
	}
}

/* Move the reader on by @p n_frames whole frames to fraction @p frac,
 * wrapping into the loop region at the end of its run. */
FLZ_RT FLZ_HOT static void reader_advance(const struct flz_mixer_voice *v, struct flz_mixer_reader *rd,
				  int64_t n_frames, uint32_t frac)
{
	const int64_t end = run_end(v, rd);
	rd->pos_frames += n_frames;
	rd->pos_frac = frac;
	rd->age_frames += n_frames;
	if (rd->pos_frames >= end) {
		const int64_t len = v->loop_end - v->loop_start;
		const int64_t past = rd->pos_frames - end;
		if (past < len) {
			rd->prev_start = rd->run_start;
			rd->prev_end = end;
		} else {
			/* Wrapped more than once: the last run was the region. */
			rd->prev_start = v->loop_start;
			rd->prev_end = v->loop_end;
		}
		rd->pos_frames = v->loop_start + past % len;
		rd->run_start = v->loop_start;
		rd->wrapped = true;
	}
}

/* The voice's rate for the block: constant (returned, *constant true) or
 * per frame into scratch_inc. */
FLZ_RT FLZ_HOT static uint64_t voice_rates(struct flz_mixer *m, const struct flz_mixer_pad *pad,
				   uint32_t n_frames, bool *constant)
{
	if (!m->speed.active && !pad->speed.active) {
		*constant = true;
		return rate_mul(m->inc_fp, pad->speed.target_fp);
	}
	*constant = false;
	for (uint32_t j = 0; j < n_frames; j++)
		m->scratch_inc[j] = rate_mul(glide_at(&m->speed, m->speed.done_frames + j + 1),
					     glide_at(&pad->speed, pad->speed.done_frames + j + 1));
	return 0;
}

/*
 * The reader's next @p n_frames frames before gain into @p x: copied at
 * rate 1 with a whole-frame position (the interpolator's phase 0 is an
 * exact unit impulse, so this is its value too), else interpolated, each
 * frame at its own rate. Taps come straight from the sample when the tap
 * window is one contiguous run of it, else from the window gathered with
 * the loop applied.
 */
FLZ_RT FLZ_HOT static void read_frames(struct flz_mixer *m, const struct flz_mixer_voice *v,
			       struct flz_mixer_reader *rd, uint32_t n_frames, bool constant,
			       uint64_t inc, float *x)
{
	const uint32_t ch = m->n_channels;
	const float *data = v->sample->data;
	const int64_t end = run_end(v, rd);
	if (constant && inc == FLZ_MIXER_POS_ONE && rd->pos_frac == 0 && !v->lock.on) {
		if (rd->pos_frames + n_frames <= end)
			memcpy(x, data + (size_t)rd->pos_frames * ch, (size_t)n_frames * ch * sizeof(float));
		else
			gather(v, rd, 0, n_frames, x, ch);
		reader_advance(v, rd, n_frames, 0);
		return;
	}

	/* Positions as exact offsets from the reader's: the fraction plus the
	 * sum of the increments before the frame. */
	int64_t *off = m->scratch_off;
	uint32_t *frac = m->scratch_frac;
	uint64_t acc = rd->pos_frac;
	int32_t side = 0;
	if (rd == &v->rd && v->lock.on) {
		/* Tempo-locked: the exact positions of lock-rt.c; on a glide every
		 * frame's own step picks its kernel, as for a varispeed glide, so
		 * the values do not depend on the block. */
		acc = flz_mixer_lock_offsets(&v->lock, rd->pos_frac, n_frames, off, frac,
					     m->scratch_inc);
		if (flz_mixer_lock_gliding(&v->lock)) {
			constant = false;
			for (uint32_t j = 0; j < n_frames; j++) {
				int32_t s = flz_resampler_side(&m->resampler, m->scratch_inc[j]);
				side = s > side ? s : side;
			}
		} else {
			side = flz_resampler_side(&m->resampler, inc);
		}
	} else if (constant) {
		/* acc + j x inc by additions (exact: integers), which the compiler
		 * does not turn into emulated 64-bit vector multiplies. */
		for (uint32_t j = 0; j < n_frames; j++, acc += inc) {
			off[j] = (int64_t)(acc >> 32);
			frac[j] = (uint32_t)acc;
		}
		side = flz_resampler_side(&m->resampler, inc);
	} else {
		for (uint32_t j = 0; j < n_frames; j++) {
			off[j] = (int64_t)(acc >> 32);
			frac[j] = (uint32_t)acc;
			acc += m->scratch_inc[j];
			int32_t s = flz_resampler_side(&m->resampler, m->scratch_inc[j]);
			side = s > side ? s : side;
		}
	}
	const int64_t dmin = 1 - side, dmax = off[n_frames - 1] + side;
	const float *base;
	if (rd->pos_frames + dmin >= rd->run_start && -dmin <= rd->age_frames &&
	    rd->pos_frames + dmax < end) {
		base = data + (size_t)rd->pos_frames * ch;
	} else {
		gather(v, rd, dmin, (uint32_t)(dmax - dmin + 1), m->window, ch);
		base = m->window + (size_t)(-dmin) * ch;
	}

	struct flz_resampler_speed sp;
	if (constant) {
		/* One call for the block: the frame kernel inlined in a loop. */
		flz_resampler_prepare_table(&m->resampler, &sp, inc);
		m->ops.interp_run(&m->resampler, &sp, base, 0, off, frac, ch, n_frames, 1.0f, x);
	} else {
		sp.inc_fp = 0;
		for (uint32_t j = 0; j < n_frames; j++) {
			if (m->scratch_inc[j] != sp.inc_fp)
				flz_resampler_prepare_table(&m->resampler, &sp, m->scratch_inc[j]);
			m->ops.interp(&m->resampler, &sp, base + off[j] * (int64_t)ch, ch, frac[j],
				  1.0f, x + (size_t)j * ch);
		}
	}
	reader_advance(v, rd, (int64_t)(acc >> 32), (uint32_t)acc);
}

/* ---- The voice chain ---- */

/* What the stages of voice struct @p vi do to this block. */
enum chain_mode {
	/* Every stage idle (or none): the voice is one without stages. */
	CHAIN_NONE,
	/* Every stage idle or transparent, one at least transparent: they see
	 * the voice's gained frames, and the voice mixes as without stages. */
	CHAIN_WARM,
	/* A stage changes the frames: the voice mixes its stages' output. */
	CHAIN_ACTIVE,
};

FLZ_RT FLZ_HOT static inline bool stage_idle(const struct flz_mixer_stage_ops *ops, const void *st)
{
	return ops->idle != NULL && ops->idle(st);
}

FLZ_RT FLZ_HOT static inline enum chain_mode chain_mode(const struct flz_mixer *m, uint32_t vi)
{
	enum chain_mode mode = CHAIN_NONE;
	for (uint32_t s = 0; s < m->n_stages; s++) {
		const struct flz_mixer_stage_ops *ops = m->stages[s].ops;
		const void *st = m->stages[s].states[vi];
		if (stage_idle(ops, st))
			continue;
		if (ops->transparent == NULL || !ops->transparent(st))
			return CHAIN_ACTIVE;
		mode = CHAIN_WARM;
	}
	return mode;
}

/* Hand the voice's states the pad's stage parameters that changed. */
FLZ_RT FLZ_HOT static inline void chain_sync(struct flz_mixer *m, struct flz_mixer_voice *v,
					     uint32_t vi)
{
	const struct flz_mixer_pad *pad = &m->pads[v->slot];
	for (uint32_t s = 0; s < m->n_stages; s++) {
		if (v->params_serial[s] == pad->stage_serial[s])
			continue;
		(void)m->stages[s].ops->set_params(m->stages[s].states[vi], pad->stage_params[s],
						   pad->stage_n_params[s]);
		v->params_serial[s] = pad->stage_serial[s];
	}
}

/* ---- Key lock: sources ---- */

/* The reader a source pulls through (flz_mixer_read_fn): the pre-roll's
 * silence, then the voice's stream at rate 1 from its position, the loop
 * applied; it never ends. @p ctx is the voice. */
FLZ_RT FLZ_HOT static uint32_t source_read(void *ctx, float *dst, uint32_t n_frames)
{
	struct flz_mixer_voice *v = ctx;
	const uint32_t ch = v->src_channels;
	uint32_t k = 0;
	if (v->src_preroll > 0) {
		k = v->src_preroll < (int64_t)n_frames ? (uint32_t)v->src_preroll : n_frames;
		if (v->src_preroll_material)
			gather(v, &v->rd, -v->src_preroll, k, dst, ch);
		else
			memset(dst, 0, (size_t)k * ch * sizeof(float));
		v->src_preroll -= k;
	}
	if (k < n_frames) {
		gather(v, &v->rd, 0, n_frames - k, dst + (size_t)k * ch, ch);
		reader_advance(v, &v->rd, n_frames - k, 0);
		if (v->servo.on)
			flz_mixer_servo_read(&v->servo, n_frames - k);
	}
	return n_frames;
}

/* The reader of a source on its way out (a switch to unlocked): the
 * voice's stream at rate 1 from the old path's reader, sw_rd. */
FLZ_RT FLZ_HOT static uint32_t source_read_old(void *ctx, float *dst, uint32_t n_frames)
{
	struct flz_mixer_voice *v = ctx;
	gather(v, &v->sw_rd, 0, n_frames, dst, v->src_channels);
	reader_advance(v, &v->sw_rd, n_frames, 0);
	return n_frames;
}

/* The rate, as a double, of the voice's next frame (global x pad speed). */
FLZ_RT FLZ_HOT static double next_rate(const struct flz_mixer *m, const struct flz_mixer_pad *pad)
{
	const uint64_t inc = rate_mul(glide_at(&m->speed, m->speed.done_frames + 1),
				      glide_at(&pad->speed, pad->speed.done_frames + 1));
	return (double)inc / 4294967296.0;
}

/* A source was started for the voice at its reader's position: its output
 * is there (the audible position), and a tempo-locked voice's servo
 * settles from here. @p material: the pre-roll is the material before the
 * position (a switch mid-play), else silence (a start). */
FLZ_RT FLZ_HOT static void source_began(struct flz_mixer *m, struct flz_mixer_voice *v,
					bool material)
{
	v->src_preroll_material = material;
	v->src_coasted = false;
	v->aud = v->rd;
	if (v->lock.on)
		flz_mixer_servo_begin(&v->servo, m->config.rate_hz);
	else
		v->servo.on = false;
}

FLZ_RT FLZ_HOT static bool pad_key_locked(const struct flz_mixer *m, const struct flz_mixer_pad *pad)
{
	return pad->key_lock < 0 ? m->key_lock : pad->key_lock > 0;
}

FLZ_RT FLZ_HOT static bool evict_standby(struct flz_mixer *m, int32_t slot);

/* A free source state (a standby's if none is free) started at @p rate
 * for reader @p v (a voice or a prepared start's), or false (none free,
 * or its start failed). */
FLZ_RT FLZ_HOT static bool source_take(struct flz_mixer *m, struct flz_mixer_voice *v, double rate)
{
	if (m->n_free_sources == 0 && !evict_standby(m, v->slot))
		return false;
	const uint32_t s = m->free_sources[--m->n_free_sources];
	const int64_t preroll = m->source_ops->start(m->source_states[s], rate);
	if (preroll < 0) {
		m->free_sources[m->n_free_sources++] = (uint8_t)s;
		return false;
	}
	v->src = (int32_t)s;
	v->src_rate = rate;
	v->src_preroll = preroll;
	v->src_channels = m->n_channels;
	v->src_priming = false;
	v->src_prime_read = 0;
	return true;
}

/* The voice's source state back to the free list. */
FLZ_RT FLZ_HOT static void source_release(struct flz_mixer *m, struct flz_mixer_voice *v)
{
	if (v->src < 0)
		return;
	if (v->src_priming) {
		v->src_priming = false;
		m->n_priming--;
	}
	m->free_sources[m->n_free_sources++] = (uint8_t)v->src;
	v->src = -1;
	m->standby_dirty = true; /* a free state: maybe a pad's standby */
}

/* ---- Key lock: priming within a budget ---- */

/* A prepared start given back: its state freed, its sample use dropped. */
FLZ_RT FLZ_HOT static void unprepare_at(struct flz_mixer *m, uint32_t i)
{
	struct flz_mixer_prepared *p = &m->prepared[i];
	if (p->standby) {
		m->n_standby--;
		m->standby_dirty = true; /* its pad has none now */
	}
	source_release(m, &p->v);
	drop_sample_use(m, p->v.entry);
	m->prepared[i] = m->prepared[--m->n_prepared];
}

/* Give back the prepared starts of @p slot (all when slot < 0): their
 * pending starts are cancelled with the slot's voices. Its standby too
 * when @p standbys (an unload), else it stays (a stop). */
FLZ_RT FLZ_HOT static void unprepare_slot(struct flz_mixer *m, int32_t slot, bool standbys)
{
	for (uint32_t i = m->n_prepared; i-- > 0;)
		if ((slot < 0 || m->prepared[i].v.slot == slot) &&
		    (standbys || !m->prepared[i].standby))
			unprepare_at(m, i);
}

/* A standby of @p slot, a primed one if it has one, or -1. */
FLZ_RT FLZ_HOT static int32_t find_standby(const struct flz_mixer *m, int32_t slot)
{
	int32_t at = -1;
	for (uint32_t i = 0; i < m->n_prepared; i++) {
		const struct flz_mixer_prepared *p = &m->prepared[i];
		if (!p->standby || p->v.slot != slot)
			continue;
		if (p->primed)
			return (int32_t)i;
		if (at < 0)
			at = (int32_t)i;
	}
	return at;
}

/* The standbys @p slot has (0..FLZ_MIXER_STANDBYS_PER_PAD). */
FLZ_RT FLZ_HOT static uint32_t count_standbys(const struct flz_mixer *m, int32_t slot)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->n_prepared; i++)
		n += m->prepared[i].standby && m->prepared[i].v.slot == slot;
	return n;
}

/* The last made of the standbys of pads that have more than one, or -1. */
FLZ_RT FLZ_HOT static int32_t find_second_standby(const struct flz_mixer *m)
{
	for (uint32_t i = m->n_prepared; i-- > 0;)
		if (m->prepared[i].standby && count_standbys(m, m->prepared[i].v.slot) > 1)
			return (int32_t)i;
	return -1;
}

/* A state for a start that found none free: a standby's (a second one
 * first, @p slot's own before another pad's, then @p slot's only one,
 * else the last made) given back. False: no standby. */
FLZ_RT FLZ_HOT static bool evict_standby(struct flz_mixer *m, int32_t slot)
{
	if (m->n_standby == 0)
		return false;
	int32_t at = -1;
	if (count_standbys(m, slot) > 1)
		at = find_standby(m, slot);
	if (at < 0)
		at = find_second_standby(m);
	if (at < 0)
		at = find_standby(m, slot);
	for (uint32_t i = m->n_prepared; at < 0 && i-- > 0;)
		if (m->prepared[i].standby)
			at = (int32_t)i;
	unprepare_at(m, (uint32_t)at);
	return true;
}

/* Whether a standby still primes what its pad's next start plays: the
 * slot's load and loop region, the pad key-locked. */
FLZ_RT FLZ_HOT static bool standby_valid(const struct flz_mixer *m,
					 const struct flz_mixer_prepared *p)
{
	const struct flz_mixer_pad *pad = &m->pads[p->v.slot];
	return m->slots[p->v.slot] == p->v.entry && pad_key_locked(m, pad) &&
	       p->v.loop_start == pad->loop_start && p->v.loop_end == pad->loop_end;
}

/* Whether a standby was started at another rate than its pad's now,
 * which has settled (no glide): a start from it would begin at the old
 * rate, not as a fresh start does. During a glide it is kept: a start
 * then takes it and changes its rate. */
FLZ_RT FLZ_HOT static bool standby_stale(const struct flz_mixer *m,
					 const struct flz_mixer_prepared *p)
{
	const struct flz_mixer_pad *pad = &m->pads[p->v.slot];
	return !m->speed.active && !pad->speed.active && p->v.src_rate != next_rate(m, pad);
}

/* Before a render: standbys no longer valid given back (their sample
 * uses with them, so a replaced load retires now), and one stale one a
 * render (standby_fill() starts it again at the rate now: one source
 * start a render). */
FLZ_RT FLZ_HOT static void standby_check(struct flz_mixer *m)
{
	bool restarted = false;
	for (uint32_t i = m->n_prepared; m->n_standby > 0 && i-- > 0;) {
		const struct flz_mixer_prepared *p = &m->prepared[i];
		if (!p->standby)
			continue;
		if (!standby_valid(m, p)) {
			unprepare_at(m, i);
		} else if (!restarted && standby_stale(m, p)) {
			unprepare_at(m, i);
			restarted = true;
		}
	}
}

/* The reader of priming steps: source_read(), counted per reader. */
FLZ_RT FLZ_HOT static uint32_t prime_read(void *ctx, float *dst, uint32_t n_frames)
{
	struct flz_mixer_voice *v = ctx;
	v->src_prime_read += n_frames;
	return source_read(ctx, dst, n_frames);
}

/* One priming step of reader @p v's source within what is left of the
 * period's budget: 1 primed, 0 not yet (its next read does not fit), or a
 * negative errno. A source whose single read exceeds the whole budget
 * would never fit: it is let through (its render() primes at once). */
FLZ_RT FLZ_HOT static int prime_one(struct flz_mixer *m, struct flz_mixer_voice *v)
{
	const uint64_t before = v->src_prime_read;
	const int r = m->source_ops->prime_step(m->source_states[v->src], prime_read, v,
						m->prime_left);
	const uint64_t read = v->src_prime_read - before;
	m->key_lock_prime_frames += read;
	m->prime_left -= read < m->prime_left ? (uint32_t)read : m->prime_left;
	if (r == 0 && read == 0 && m->prime_left == m->prime_budget)
		return 1;
	return r;
}

/* Queue a STARTED event in trigger order (by serial). */
FLZ_RT FLZ_HOT static void queue_started(struct flz_mixer *m, uint32_t token, int32_t slot,
				 uint64_t serial)
{
	if (m->n_started == FLZ_MIXER_MAX_STARTED)
		send_started(m); /* its frame is this one's: the next output frame */
	uint32_t i = m->n_started;
	while (i > 0 && m->started[i - 1].serial > serial)
		i--;
	memmove(&m->started[i + 1], &m->started[i], (m->n_started - i) * sizeof(m->started[0]));
	m->started[i] = (struct flz_mixer_started){ .token = token, .slot = slot, .serial = serial };
	m->n_started++;
}

/* A key-locked voice whose source still needs priming: silent and held
 * until primed, its STARTED event taken back until then (unless a full
 * queue sent it already, see flz_mixer_trigger()). */
FLZ_RT FLZ_HOT static void begin_priming(struct flz_mixer *m, struct flz_mixer_voice *v,
				 uint32_t token)
{
	v->src_started_held = drop_started(m, v->serial);
	v->src_priming = true;
	v->src_trigger_frame = m->frame;
	v->src_token = token;
	m->n_priming++;
}

/* A priming voice's source is primed (or failed: it plays unlocked from
 * its start, refused): it sounds from the next output frame. */
FLZ_RT FLZ_HOT static void end_priming(struct flz_mixer *m, struct flz_mixer_voice *v, bool failed)
{
	v->src_priming = false;
	m->n_priming--;
	if (failed) {
		source_release(m, v);
		/* It plays through the interpolator from its start: a
		 * tempo-locked one from where its lock is now, a resume from
		 * where it resumed. */
		if (v->lock.on || v->src_preroll_material)
			v->rd = v->aud;
		else
			reader_at(&v->rd, v->loop_start);
		m->key_lock_refused++;
	}
	if (m->frame > v->src_trigger_frame) {
		const int64_t late = m->frame - v->src_trigger_frame;
		m->key_lock_deferred++;
		m->key_lock_deferred_frames += (uint64_t)late;
	}
	if (v->src_started_held)
		queue_started(m, v->src_token, v->slot, v->serial);
}

/* Before a render: the period's budget, spent first on priming voices (in
 * the order they began waiting: they are late), then on prepared starts
 * (earliest due first). Each stops at the first step that does not fit, so
 * the earliest keeps its place. */
/* The budget of the period the next output frame is in, refilled when a
 * new period began. */
FLZ_RT FLZ_HOT static void prime_period_begin(struct flz_mixer *m)
{
	const int64_t period = m->frame / (int64_t)m->config.max_block_frames;
	if (period != m->prime_period) {
		m->prime_period = period;
		m->prime_left = m->prime_budget;
	}
}

FLZ_RT FLZ_HOT static void prime_sources(struct flz_mixer *m)
{
	standby_check(m);
	if (m->n_priming == 0 && m->n_prepared == 0)
		return;
	prime_period_begin(m);
	while (m->n_priming > 0 && m->prime_left > 0) {
		/* The one waiting longest (began priming first; a resume
		 * waits from its resume, not from its voice's start). */
		struct flz_mixer_voice *v = NULL;
		for (uint32_t i = 0; i < m->n_active; i++) {
			struct flz_mixer_voice *w = &m->voices[m->active[i]];
			if (w->src_priming && (v == NULL || w->src_trigger_frame < v->src_trigger_frame))
				v = w;
		}
		if (v == NULL)
			break;
		const int r = prime_one(m, v);
		if (r == 0)
			return;
		end_priming(m, v, r < 0);
	}
	while (m->prime_left > 0) {
		struct flz_mixer_prepared *next = NULL;
		for (uint32_t i = 0; i < m->n_prepared; i++) {
			struct flz_mixer_prepared *p = &m->prepared[i];
			/* Standbys not while a voice waits to switch to key lock
			 * (they would keep the budget from it). */
			if (!p->primed && !(p->standby && m->switch_waiting) &&
			    (next == NULL || p->due_frame < next->due_frame))
				next = p;
		}
		if (next == NULL)
			return;
		const int r = prime_one(m, &next->v);
		if (r == 0)
			return;
		if (r < 0) {
			/* Its trigger starts unprepared. */
			unprepare_at(m, (uint32_t)(next - m->prepared));
			continue;
		}
		next->primed = true;
	}
}

/* The prepared start of @p slot with @p token, or -1. */
FLZ_RT FLZ_HOT static int32_t find_prepared(const struct flz_mixer *m, int32_t slot, uint32_t token)
{
	for (uint32_t i = 0; i < m->n_prepared; i++)
		if (!m->prepared[i].standby && m->prepared[i].v.slot == slot &&
		    m->prepared[i].token == token)
			return (int32_t)i;
	return -1;
}

/* Give back the preparation trigger @p t would take, if any. */
FLZ_RT FLZ_HOT static void unprepare_trigger(struct flz_mixer *m, const struct flz_mixer_trigger *t)
{
	const int32_t prep = t->prepared ? find_prepared(m, t->slot, t->token) : -1;
	if (prep >= 0)
		unprepare_at(m, (uint32_t)prep);
}

/* A prepared start of @p slot at @p rate from @p pos_fp (32.32 frames),
 * with the lock its trigger must carry (lock_num 0: none). */
FLZ_RT FLZ_HOT static int prepare(struct flz_mixer *m, int32_t slot, uint32_t token,
				  int64_t due_frame, double rate, uint64_t pos_fp, uint32_t lock_num,
				  uint32_t lock_den)
{
	const int32_t entry = m->slots[slot];
	const struct flz_mixer_pad *pad = &m->pads[slot];
	if (entry < 0 || m->source_ops == NULL || m->source_ops->prime_step == NULL ||
	    !pad_key_locked(m, pad))
		return 0;
	/* A standby's state if none is free (before p: it moves the array). */
	if (m->n_free_sources == 0 && !evict_standby(m, slot))
		return 0;
	struct flz_mixer_prepared *p = &m->prepared[m->n_prepared];
	struct flz_mixer_voice *v = &p->v;
	if (!source_take(m, v, rate))
		return 0;
	m->n_prepared++; /* each holds a state: never more than n_sources */
	m->samples[entry].users++;
	v->sample = m->samples[entry].sample;
	v->entry = entry;
	v->slot = slot;
	v->loop_start = pad->loop_start;
	v->loop_end = pad->loop_end;
	reader_at(&v->rd, (int64_t)(pos_fp >> 32));
	v->rd.pos_frac = (uint32_t)pos_fp;
	v->src_preroll_material = false; /* a start's pre-roll is silence */
	v->lock.on = false;
	v->servo.on = false;
	p->token = token;
	p->due_frame = due_frame;
	p->primed = false;
	p->standby = false;
	p->lock_num = lock_num;
	p->lock_den = lock_den;
	p->lock_pos_fp = pos_fp;
	return 1;
}

FLZ_RT FLZ_HOT int flz_mixer_prepare(struct flz_mixer *m, int32_t slot, uint32_t token,
				     int64_t due_frame)
{
	if (slot < 0 || slot >= FLZ_NUM_SAMPLES)
		return -EINVAL;
	const struct flz_mixer_pad *pad = &m->pads[slot];
	/* The slot's standby is this start's preparation if it is what a
	 * fresh one would be (valid, at the rate now); else it makes room. */
	const int32_t sb = find_standby(m, slot);
	if (sb >= 0 && (!standby_valid(m, &m->prepared[sb]) ||
			m->prepared[sb].v.src_rate != next_rate(m, pad))) {
		unprepare_at(m, (uint32_t)sb);
	} else if (sb >= 0) {
		struct flz_mixer_prepared *p = &m->prepared[sb];
		p->standby = false;
		m->n_standby--;
		m->standby_dirty = true;
		p->token = token;
		p->due_frame = due_frame;
		return 1;
	}
	return prepare(m, slot, token, due_frame, next_rate(m, pad), (uint64_t)pad->loop_start << 32,
		       0, 0);
}

FLZ_RT FLZ_HOT int flz_mixer_prepare_locked(struct flz_mixer *m, int32_t slot, uint32_t token,
					    int64_t due_frame, uint32_t lock_num,
					    uint32_t lock_den, uint64_t lock_pos_fp)
{
	if (slot < 0 || slot >= FLZ_NUM_SAMPLES || lock_num == 0 ||
	    !flz_mixer_lock_ratio_ok(lock_num, lock_den) ||
	    lock_pos_fp >= ((uint64_t)m->pads[slot].loop_end << 32))
		return -EINVAL;
	return prepare(m, slot, token, due_frame, (double)lock_num / (double)lock_den,
		       lock_pos_fp, lock_num, lock_den);
}

/* ---- Key lock: standbys ---- */

/* After a render, when a state was freed or a pad may want one: a free
 * state to the first loaded key-locked pad (in slot order) without a
 * standby, else to the first with one only (its retrigger's); with none
 * free, a pad's first standby takes another's second. One a render: a source's start() (a stretcher's reset) is not
 * free, and a burst of them would weigh on one block. */
FLZ_RT FLZ_HOT static void standby_fill(struct flz_mixer *m)
{
	if (!m->standby_dirty || m->switch_waiting)
		return; /* a voice waiting to switch comes first */
	m->standby_dirty = false;
	/* First one standby for every pad, then a second (a retrigger: the
	 * pad's next start but one) while states are free. */
	for (uint32_t want = 1; want <= FLZ_MIXER_STANDBYS_PER_PAD; want++) {
		for (int32_t slot = 0; slot < FLZ_NUM_SAMPLES; slot++) {
			const struct flz_mixer_pad *pad = &m->pads[slot];
			if (m->slots[slot] < 0 || !pad_key_locked(m, pad) ||
			    count_standbys(m, slot) >= want)
				continue;
			if (m->n_free_sources == 0) {
				/* A pad's first standby before another's second. */
				const int32_t second = want == 1 ? find_second_standby(m) : -1;
				if (second < 0)
					return;
				unprepare_at(m, (uint32_t)second);
			}
			if (prepare(m, slot, 0, INT64_MAX, next_rate(m, pad),
				    (uint64_t)pad->loop_start << 32, 0, 0) <= 0)
				continue;
			m->prepared[m->n_prepared - 1].standby = true;
			m->n_standby++;
			m->standby_dirty = true; /* the next render looks for another */
			return;
		}
	}
}

/*
 * A key-locked voice starting: it takes its prepared start's source when
 * that primed for what it plays (the same load and loop region; a rate
 * changed since goes to set_rate() as for any voice), else a free state,
 * started at its rate; none free (or a start that fails): it plays
 * unlocked, counted. A source with prime_step() that is not primed yet
 * primes within the budget first (begin_priming()).
 */
FLZ_RT FLZ_HOT static void source_attach(struct flz_mixer *m, struct flz_mixer_voice *v,
				 const struct flz_mixer_trigger *t)
{
	const struct flz_mixer_pad *pad = &m->pads[v->slot];
	v->kl_serial = m->key_lock_serial;
	int32_t prep = t->prepared ? find_prepared(m, v->slot, t->token) : -1;
	if (prep < 0 && !v->lock.on)
		prep = find_standby(m, v->slot); /* an immediate start */
	if (prep >= 0) {
		struct flz_mixer_prepared *p = &m->prepared[prep];
		const bool same_lock =
			v->lock.on ? p->lock_num == t->lock_num && p->lock_den == t->lock_den &&
					     p->lock_pos_fp == t->lock_pos_fp
				   : p->lock_num == 0;
		if (same_lock && pad_key_locked(m, pad) && p->v.entry == v->entry &&
		    p->v.loop_start == v->loop_start && p->v.loop_end == v->loop_end) {
			/* Audible from the voice's start; the reader is past it by
			 * what the priming read. */
			source_began(m, v, false);
			v->src = p->v.src;
			v->src_rate = p->v.src_rate;
			v->src_preroll = p->v.src_preroll;
			v->src_channels = p->v.src_channels;
			v->src_prime_read = p->v.src_prime_read;
			v->src_priming = false;
			v->rd = p->v.rd;
			const bool primed = p->primed;
			p->v.src = -1; /* the voice has it now */
			unprepare_at(m, (uint32_t)prep);
			if (!primed)
				begin_priming(m, v, t->token);
			return;
		}
		unprepare_at(m, (uint32_t)prep);
	}
	if (!pad_key_locked(m, pad))
		return;
	/* A tempo-locked voice's rate is its lock's. */
	const double rate = v->lock.on ? (double)v->lock.inc_fp / 4294967296.0 : next_rate(m, pad);
	if (!source_take(m, v, rate)) {
		m->key_lock_refused++;
		return;
	}
	source_began(m, v, false);
	/* A tempo-locked one too: deferred, it catches up with its lock
	 * (end_priming()). */
	if (m->source_ops->prime_step != NULL)
		begin_priming(m, v, t->token);
}

/* The rate a key-locked voice's source plays the block at: a tempo-locked
 * voice's the lock's mean step over the block (its glides included),
 * trimmed by the servo; else the rate of the block's last frame. */
FLZ_RT FLZ_HOT static double source_block_rate(const struct flz_mixer *m,
					       const struct flz_mixer_voice *v, uint32_t n_frames,
					       bool constant, uint64_t inc)
{
	if (v->lock.on)
		return flz_mixer_servo_rate(&v->servo, &v->lock, n_frames);
	return (double)(constant ? inc : m->scratch_inc[n_frames - 1]) / 4294967296.0;
}

/* Give source state @p st a new rate (the last given in *given). A
 * tempo-locked voice's rate moves by tiny steps (the lock's rounding, the
 * servo's trim): those below 2e-6 of it wait until they add up (the servo
 * takes back the 0.1 frame a second they may cost). */
FLZ_RT FLZ_HOT static void source_set_rate(struct flz_mixer *m, const struct flz_mixer_voice *v,
					   void *st, double *given, double rate)
{
	if (rate == *given)
		return;
	if (v->lock.on && fabs(rate - *given) < 2e-6 * *given)
		return;
	if (m->source_ops->set_rate(st, rate) == 0)
		*given = rate;
}

/* After a key-locked voice's block: its audible position moves on by the
 * block's advance (the lock's, or the rates'), and the servo sees it. */
FLZ_RT FLZ_HOT static void source_commit(struct flz_mixer *m, struct flz_mixer_voice *v,
					 uint32_t n_frames, bool constant, uint64_t inc)
{
	uint64_t adv;
	if (v->lock.on) {
		adv = flz_mixer_lock_advance(&v->lock, n_frames);
	} else if (constant) {
		adv = inc * n_frames;
	} else {
		adv = 0;
		for (uint32_t j = 0; j < n_frames; j++)
			adv += m->scratch_inc[j];
	}
	const uint64_t acc = v->aud.pos_frac + adv;
	reader_advance(v, &v->aud, (int64_t)(acc >> 32), (uint32_t)acc);
	flz_mixer_servo_commit(&v->servo, adv, n_frames, m->config.rate_hz, v->src_rate);
}

/* A key-locked voice's next @p n_frames before gain into @p x: its source
 * at the rate of the block's last frame (a glide moves it block by block;
 * the source glides between as it sees fit). A failed render is silence. */
FLZ_RT FLZ_HOT static void source_frames(struct flz_mixer *m, struct flz_mixer_voice *v,
					 uint32_t n_frames, bool constant, uint64_t inc, float *x)
{
	void *st = m->source_states[v->src];
	source_set_rate(m, v, st, &v->src_rate, source_block_rate(m, v, n_frames, constant, inc));
	if (m->source_ops->render(st, source_read, v, x, n_frames) < 0)
		memset(x, 0, (size_t)n_frames * m->n_channels * sizeof(float));
	source_commit(m, v, n_frames, constant, inc);
}

/* ---- Key lock: the switch between paths ---- */

/* A paused key-locked, tempo-locked voice resumes where its lock has
 * coasted to (lock_coast()), even if its lock was turned off meanwhile:
 * its source restarts there, the material before it as the pre-roll, and
 * its servo settles anew. A source with prime_step() primes within the
 * budget first, silent (begin_priming(); no STARTED event: it sent its
 * own). A start that fails, or a priming that fails, leaves it unlocked
 * there (counted); so does key lock turned off while it was paused (not
 * counted). */
FLZ_RT FLZ_HOT static void source_resume(struct flz_mixer *m, struct flz_mixer_voice *v)
{
	if (v->src < 0 || !v->src_coasted)
		return;
	v->src_coasted = false;
	v->rd = v->aud;
	if (!pad_key_locked(m, &m->pads[v->slot])) {
		/* Key lock went off while it was paused: it resumes unlocked
		 * there, with nothing to prime or switch off. */
		source_release(m, v);
		return;
	}
	const double rate = v->lock.on
				    ? (double)flz_mixer_lock_advance(&v->lock, 1) / 4294967296.0
				    : next_rate(m, &m->pads[v->slot]);
	const int64_t preroll = m->source_ops->start(m->source_states[v->src], rate);
	if (preroll < 0) {
		source_release(m, v);
		m->key_lock_refused++;
		return;
	}
	v->src_rate = rate;
	v->src_preroll = preroll;
	source_began(m, v, true);
	if (m->source_ops->prime_step != NULL)
		begin_priming(m, v, 0);
}

/* The end of a switch: the old path goes (its source back to the list). */
FLZ_RT FLZ_HOT static void switch_end(struct flz_mixer *m, struct flz_mixer_voice *v)
{
	if (v->sw_src >= 0) {
		m->free_sources[m->n_free_sources++] = (uint8_t)v->sw_src;
		m->standby_dirty = true;
	}
	v->sw_src = -1;
	v->sw = false;
}

/* Key lock on while playing: a free source started at the voice's rate
 * and position (its pre-roll the material before it) becomes the new
 * path; the interpolator plays on from a copy of the reader and fades
 * out. None free (or a start that fails): the voice stays unlocked,
 * counted. */
FLZ_RT FLZ_HOT static void switch_on(struct flz_mixer *m, struct flz_mixer_voice *v)
{
	if (m->n_free_sources == 0 && !evict_standby(m, v->slot)) {
		m->key_lock_refused++;
		return;
	}
	const uint32_t s = m->free_sources[--m->n_free_sources];
	const double rate = v->lock.on ? (double)flz_mixer_lock_advance(&v->lock, 1) / 4294967296.0
				       : next_rate(m, &m->pads[v->slot]);
	const int64_t preroll = m->source_ops->start(m->source_states[s], rate);
	if (preroll < 0) {
		m->free_sources[m->n_free_sources++] = (uint8_t)s;
		m->key_lock_refused++;
		return;
	}
	v->sw_rd = v->rd;
	v->sw_src = -1;
	v->src = (int32_t)s;
	v->src_rate = rate;
	v->src_preroll = preroll;
	v->src_channels = m->n_channels;
	source_began(m, v, true);
	v->sw = true;
	v->sw_done = 0;
}

/* Key lock off while playing: the interpolator takes over at the source's
 * audible position (for a tempo-locked voice the lock's own), the source
 * reads on from its reader, moved to sw_rd, and fades out. */
FLZ_RT FLZ_HOT static void switch_off(struct flz_mixer_voice *v)
{
	v->sw_src = v->src;
	v->sw_rate = v->src_rate;
	v->sw_rd = v->rd;
	v->rd = v->aud;
	v->src = -1;
	v->servo.on = false;
	v->sw = true;
	v->sw_done = 0;
}

/* Whether the voice's key-lock setting (its pad's, or the global one) is on. */
FLZ_RT FLZ_HOT static inline bool wants_key_lock(const struct flz_mixer *m,
						 const struct flz_mixer_voice *v)
{
	const int8_t mode = m->pads[v->slot].key_lock;
	return mode < 0 ? m->key_lock : mode > 0;
}

/* A playing voice whose key-lock setting changed since it last looked
 * takes the other path, crossfaded (to key lock: one voice a period, as
 * the priming budget allows). A switch or a seek's crossfade still
 * running makes it wait for the next block; a paused or fading voice
 * looks when it plays again, a priming one once it sounds; a stopping one
 * keeps its path. */
FLZ_RT FLZ_HOT static void switch_check(struct flz_mixer *m, struct flz_mixer_voice *v)
{
	if (v->kl_serial == m->key_lock_serial || v->stopping || v->paused || v->pausing ||
	    v->sw || v->xfade || v->src_priming)
		return;
	const bool want = wants_key_lock(m, v);
	if (want && v->src < 0 && (m->n_free_sources > 0 || m->n_standby > 0)) {
		/* The new source primes at once in its first render: a switch
		 * takes a whole period's priming budget, so switches to key lock
		 * (a setting flipped under many voices) follow one another a
		 * period apart instead of piling into one block; the others
		 * look again at the next block (with no state free, a switch
		 * is refused at once and costs nothing). */
		prime_period_begin(m);
		if (m->prime_left < m->prime_budget) {
			m->switch_waiting = true; /* standbys wait for it */
			return;
		}
		m->prime_left = 0;
	}
	v->kl_serial = m->key_lock_serial;
	if (want == (v->src >= 0))
		return;
	if (want)
		switch_on(m, v);
	else
		switch_off(v);
}

/* The switch's old path over the block's first frames into vbuf_old,
 * mixed into @p x (the new path's frames) with equal-power gains: the
 * two are not phase-coherent (a stretcher's output against the
 * interpolator's), so equal gains would dip up to 6 dB mid-way. */
FLZ_RT FLZ_HOT static void switch_mix(struct flz_mixer *m, struct flz_mixer_voice *v,
				      uint32_t n_frames, bool constant, uint64_t inc, float *x)
{
	const uint32_t ch = m->n_channels, n = m->switch_frames;
	uint32_t n_old = n - v->sw_done;
	n_old = n_old < n_frames ? n_old : n_frames;
	float *y = m->vbuf_old;
	if (v->sw_src >= 0) {
		void *st = m->source_states[v->sw_src];
		source_set_rate(m, v, st, &v->sw_rate,
				source_block_rate(m, v, n_old, constant, inc));
		if (m->source_ops->render(st, source_read_old, v, y, n_old) < 0)
			memset(y, 0, (size_t)n_old * ch * sizeof(float));
	} else {
		read_frames(m, v, &v->sw_rd, n_old, constant, inc, y);
	}
	const float *g = m->switch_gain + 2 * (size_t)v->sw_done;
	for (uint32_t j = 0; j < n_old; j++)
		for (uint32_t c = 0; c < ch; c++)
			x[j * ch + c] = g[2 * j + 1] * x[j * ch + c] + g[2 * j] * y[j * ch + c];
	v->sw_done += n_old;
	if (v->sw_done >= n)
		switch_end(m, v);
}

/* The voice's gain at frame j of the block (voice x pad x fade). Frames
 * past every ramp get the same product of the targets. */
FLZ_RT FLZ_HOT static inline float gain_at(const struct flz_mixer_voice *v,
				   const struct flz_mixer_pad *pad, uint32_t j)
{
	return v->gain_lin * ramp_at(&pad->gain, pad->gain.done_frames + j + 1) *
	       ramp_at(&v->fade, v->fade.done_frames + j + 1);
}

/*
 * Add the voice's next @p n_frames frames into @p out. Frames on a gain
 * ramp get their own gain (one multiply and one add each); the frames after
 * get the constant gain through the add kernel, whether they came through
 * the interpolator or straight from the sample (the plain gain-and-add of
 * rate 1), so a frame's value never depends on how the block was split.
 */
FLZ_RT FLZ_HOT static void voice_chain(struct flz_mixer *m, struct flz_mixer_voice *v, uint32_t vi,
			       float *out, uint32_t n_frames)
{
	const uint32_t ch = m->n_channels;
	const struct flz_mixer_pad *pad = &m->pads[v->slot];
	uint32_t n_ramp = ramp_left(&pad->gain, n_frames);
	uint32_t nf = ramp_left(&v->fade, n_frames);
	n_ramp = nf > n_ramp ? nf : n_ramp;
	const float g_const = v->gain_lin * pad->gain.target * v->fade.target;
	bool constant = true;
	/* A locked voice's rate is its own (lock-rt.c), whatever the speeds. */
	const uint64_t inc = v->lock.on ? v->lock.inc_fp : voice_rates(m, pad, n_frames, &constant);
	float peak = 0.0f;

	const enum chain_mode mode = chain_mode(m, vi);
	if (mode == CHAIN_NONE && !v->xfade && n_ramp == 0 && constant && !v->lock.on &&
	    v->src < 0 && !v->sw && inc == FLZ_MIXER_POS_ONE && v->rd.pos_frac == 0) {
		/* Plain: gain-and-add straight from the sample, run by run. */
		const float *data = v->sample->data;
		for (uint32_t done = 0; done < n_frames;) {
			int64_t left = run_end(v, &v->rd) - v->rd.pos_frames;
			uint32_t k = left < (int64_t)(n_frames - done) ? (uint32_t)left : n_frames - done;
			const float *src = data + (size_t)v->rd.pos_frames * ch;
			if (g_const != 0.0f) {
				m->ops.add(out + (size_t)done * ch, src, (size_t)k * ch, g_const);
				float p = m->ops.peak(src, (size_t)k * ch);
				peak = p > peak ? p : peak;
			}
			reader_advance(v, &v->rd, k, 0);
			done += k;
		}
		voice_tap(v, peak * (g_const < 0.0f ? -g_const : g_const));
		return;
	}

	float *x = m->vbuf;
	if (v->src >= 0)
		source_frames(m, v, n_frames, constant, inc, x);
	else
		read_frames(m, v, &v->rd, n_frames, constant, inc, x);
	if (v->xfade) {
		/* The old position fades out while the new one fades in, both
		 * in front of the gain and the stages. */
		const uint32_t r = m->voice_ramp_frames;
		uint32_t n_old = r - 1 - v->xfade_done;
		n_old = n_old < n_frames ? n_old : n_frames;
		if (n_old > 0) {
			float *y = m->vbuf_old;
			/* The old reader's rates are those of the same frames. */
			read_frames(m, v, &v->old, n_old, constant, inc, y);
			for (uint32_t j = 0; j < n_old; j++) {
				uint32_t k = v->xfade_done + j + 1;
				float a = (float)k / (float)r, b = (float)(r - k) / (float)r;
				for (uint32_t c = 0; c < ch; c++)
					x[j * ch + c] = a * x[j * ch + c] + b * y[j * ch + c];
			}
		}
		v->xfade_done += n_frames;
		if (v->xfade_done >= r - 1)
			v->xfade = false;
	}
	if (v->sw)
		switch_mix(m, v, n_frames, constant, inc, x);

	if (mode != CHAIN_NONE) {
		/* The stages see the gained frames: in place when they change
		 * them; a copy when they are transparent (vbuf_old is free once
		 * the crossfade above has been merged), so that x mixes below
		 * exactly as a voice without stages. */
		float *y = mode == CHAIN_ACTIVE ? x : m->vbuf_old;
		for (uint32_t j = 0; j < n_frames; j++) {
			const float g = j < n_ramp ? gain_at(v, pad, j) : g_const;
			for (uint32_t c = 0; c < ch; c++)
				y[j * ch + c] = g * x[j * ch + c];
		}
		for (uint32_t s = 0; s < m->n_stages; s++) {
			const struct flz_mixer_stage_ops *ops = m->stages[s].ops;
			void *st = m->stages[s].states[vi];
			if (!stage_idle(ops, st))
				ops->process(st, y, n_frames, ch);
		}
		if (mode == CHAIN_ACTIVE) {
			peak = m->ops.peak(x, (size_t)n_frames * ch);
			m->ops.add(out, x, (size_t)n_frames * ch, 1.0f);
			voice_tap(v, peak);
			return;
		}
	}
	for (uint32_t j = 0; j < n_ramp; j++) {
		const float g = gain_at(v, pad, j);
		for (uint32_t c = 0; c < ch; c++) {
			const float y = g * x[j * ch + c];
			out[j * ch + c] += y;
			const float a = y < 0.0f ? -y : y;
			peak = a > peak ? a : peak;
		}
	}
	if (n_ramp < n_frames && g_const != 0.0f) {
		const size_t at = (size_t)n_ramp * ch, n = (size_t)(n_frames - n_ramp) * ch;
		m->ops.add(out + at, x + at, n, g_const);
		float p = m->ops.peak(x + at, n) * (g_const < 0.0f ? -g_const : g_const);
		peak = p > peak ? p : peak;
	}
	voice_tap(v, peak);
}

/* A voice has gone silent after output frame @p last_frame (or is cut
 * there): account it to its stop and end its use of its load's entry. The
 * caller removes it from the active list. */
FLZ_RT FLZ_HOT static void finish_voice(struct flz_mixer *m, struct flz_mixer_voice *mv,
				int64_t last_frame)
{
	if (mv->pending >= 0) {
		struct flz_mixer_pending *p = &m->pending[mv->pending];
		p->n_voices--;
		if (last_frame > p->last_frame)
			p->last_frame = last_frame;
		mv->pending = -1;
	}
	if (!mv->stopping)
		m->n_playing--;
	int32_t entry = mv->entry;
	switch_end(m, mv);
	source_release(m, mv);
	flz_mixer_meter_voice(m, mv); /* its last frames, before it goes */
	mv->entry = -1;
	mv->sample = NULL;
	mv->slot = -1;
	drop_sample_use(m, entry);
}

/*
 * A paused tempo-locked voice coasts: silently, its reader moves on by the
 * lock's exact advance over @p n_frames (glide included), so that its
 * position stays the lock's pure function of the output frame and a
 * resume fades it in where it would be had it played on: in phase with
 * the transport and the other loops. An unlocked paused voice holds.
 */
FLZ_RT FLZ_HOT static void lock_coast(struct flz_mixer_voice *v, uint32_t n_frames)
{
	if (!v->lock.on || n_frames == 0)
		return;
	/* A key-locked voice coasts its audible position; its source restarts
	 * there at the resume (source_resume()). */
	struct flz_mixer_reader *rd = v->src >= 0 ? &v->aud : &v->rd;
	v->src_coasted = v->src >= 0;
	const uint64_t acc = rd->pos_frac + flz_mixer_lock_advance(&v->lock, n_frames);
	reader_advance(v, rd, (int64_t)(acc >> 32), (uint32_t)acc);
	flz_mixer_lock_commit(&v->lock, n_frames);
}

/*
 * One voice's block. A fade to zero (stop, pause) ends inside it at the
 * frame whose gain is 0: the voice renders only the frames before, so a
 * pause holds the position after its last sounding frame (a locked voice
 * coasts on from there, see lock_coast()). Returns true when the voice
 * stopped and is finished.
 */
FLZ_RT FLZ_HOT static bool render_voice(struct flz_mixer *m, struct flz_mixer_voice *v, uint32_t vi,
				float *out, uint32_t n_frames)
{
	if (v->src_priming) {
		if (v->lock.on && n_frames > 0) {
			/* A tempo-locked voice not sounding yet: its lock and its
			 * audible position move on with the transport, and its servo
			 * learns that the source starts that much further behind (it
			 * takes it back at its bounded trim). Not coasted: the
			 * source has not started, a resume has nothing to restart. */
			const uint64_t adv = flz_mixer_lock_advance(&v->lock, n_frames);
			const uint64_t acc = v->aud.pos_frac + adv;
			reader_advance(v, &v->aud, (int64_t)(acc >> 32), (uint32_t)acc);
			flz_mixer_lock_commit(&v->lock, n_frames);
			flz_mixer_servo_behind(&v->servo, adv);
		}
		return false;
	}
	if (v->paused) {
		lock_coast(v, n_frames);
		return false;
	}
	uint32_t nv = n_frames;
	bool ends = false;
	if (v->fade.active && v->fade.target == 0.0f) {
		uint32_t left = v->fade.n_frames - 1 - v->fade.done_frames;
		if (left <= nv) {
			nv = left;
			ends = true;
		}
	}
	if (nv > 0)
		voice_chain(m, v, vi, out, nv);
	if (v->lock.on)
		flz_mixer_lock_commit(&v->lock, nv);
	ramp_commit(&v->fade, nv);
	if (!ends)
		return false;
	v->fade.active = false;
	v->fade.start = v->fade.target = 0.0f;
	if (v->stopping) {
		finish_voice(m, v, m->frame + (int64_t)nv - 1);
		return true;
	}
	v->pausing = false;
	v->paused = true;
	/* A seek's crossfade still running is dropped with the sound: the
	 * resume fades in from the new position alone. */
	v->xfade = false;
	/* So is a switch between key lock's paths: the new one alone resumes. */
	if (v->sw)
		switch_end(m, v);
	lock_coast(v, n_frames - nv);
	return false;
}

/* Take the finished voices (sample NULL) off the active list, keeping order. */
FLZ_RT FLZ_HOT static void compact_active(struct flz_mixer *m)
{
	uint32_t w = 0;
	for (uint32_t i = 0; i < m->n_active; i++)
		if (m->voices[m->active[i]].sample != NULL)
			m->active[w++] = m->active[i];
	m->n_active = w;
}

FLZ_RT FLZ_HOT static void remove_active_at(struct flz_mixer *m, uint32_t at)
{
	/* Keep start order: the steal policy and the summation order rely on it. */
	memmove(&m->active[at], &m->active[at + 1], m->n_active - at - 1);
	m->n_active--;
}

/* ---- Commands ---- */

FLZ_RT FLZ_HOT static bool slot_ok(int32_t slot)
{
	return slot >= 0 && slot < FLZ_NUM_SAMPLES;
}

FLZ_RT FLZ_HOT int flz_mixer_load(struct flz_mixer *m, int32_t slot, struct flz_sample *sample)
{
	if (!slot_ok(slot) || sample == NULL)
		return -EINVAL;
	if (sample->rate_hz != m->config.rate_hz || sample->n_channels != m->n_channels ||
	    sample->n_frames < 1)
		return -EINVAL;
	/* The old sample's entry first: with it free (or still played), a new
	 * entry is always there (see FLZ_MIXER_SAMPLE_ENTRIES). */
	int32_t old = m->slots[slot];
	m->slots[slot] = -1;
	if (old >= 0)
		drop_sample_use(m, old);
	int32_t idx = m->free_samples[--m->n_free_samples];
	m->samples[idx].sample = sample;
	m->samples[idx].users = 1;
	m->slots[slot] = (int16_t)idx;
	m->pads[slot].loop_start = 0;
	m->pads[slot].loop_end = sample->n_frames;
	m->standby_dirty = true;
	return 0;
}

/* Start a fade of a playing voice to silence (a stop or a steal). */
FLZ_RT FLZ_HOT static void begin_stop(struct flz_mixer *m, struct flz_mixer_voice *mv)
{
	m->n_playing--;
	mv->stopping = true;
	mv->pausing = false;
	ramp_begin(&mv->fade, 0.0f);
}

FLZ_RT FLZ_HOT static void start_voice(struct flz_mixer *m, int32_t slot, float gain, uint32_t token)
{
	const int32_t entry = m->slots[slot];
	if (m->n_playing >= FLZ_MAX_VOICES) {
		/* Steal the earliest-started playing (or paused) voice: the first
		 * one in the active list that is not already fading out. It fades
		 * without a Stopped event; a paused one is silent and goes at once. */
		for (uint32_t i = 0; i < m->n_active; i++) {
			struct flz_mixer_voice *mv = &m->voices[m->active[i]];
			if (mv->stopping)
				continue;
			if (mv->paused || mv->src_priming) {
				finish_voice(m, mv, m->frame - 1);
				remove_active_at(m, i);
			} else {
				begin_stop(m, mv);
			}
			break;
		}
	}
	if (m->n_active >= FLZ_MIXER_VOICE_STRUCTS) {
		/* Every fade slot is busy: cut the fading voice closest to silence
		 * (the earliest started among equals). */
		uint32_t cut = 0;
		float quietest = 2.0f * FLZ_PAD_GAIN_MAX_LIN;
		for (uint32_t i = 0; i < m->n_active; i++) {
			struct flz_mixer_voice *mv = &m->voices[m->active[i]];
			float level = mv->gain_lin * ramp_now(&mv->fade);
			if (mv->stopping && level < quietest) {
				quietest = level;
				cut = i;
			}
		}
		drop_started(m, m->voices[m->active[cut]].serial);
		finish_voice(m, &m->voices[m->active[cut]], m->frame - 1);
		remove_active_at(m, cut);
	}
	uint32_t idx = 0;
	while (m->voices[idx].sample != NULL)
		idx++;
	struct flz_mixer_voice *mv = &m->voices[idx];
	const struct flz_mixer_pad *pad = &m->pads[slot];
	/* The entry was not retired above: its slot still uses it. */
	m->samples[entry].users++;
	mv->sample = m->samples[entry].sample;
	mv->slot = slot;
	mv->entry = entry;
	mv->serial = m->next_serial++;
	mv->pending = -1;
	mv->gain_lin = gain;
	mv->fade = (struct flz_mixer_ramp){ .start = 1.0f, .target = 1.0f,
					    .n_frames = m->voice_ramp_frames };
	mv->stopping = mv->pausing = mv->paused = false;
	mv->loop_start = pad->loop_start;
	mv->loop_end = pad->loop_end;
	reader_at(&mv->rd, pad->loop_start);
	mv->xfade = false;
	mv->xfade_done = 0;
	mv->peak_lin = 0.0f;
	mv->lock.on = false;
	mv->src = -1; /* finish_voice() gave back the previous voice's */
	/* A new voice never hears the struct's previous one, and starts at its
	 * pad's stage parameters. */
	for (uint32_t s = 0; s < m->n_stages; s++) {
		const struct flz_mixer_stage_ops *ops = m->stages[s].ops;
		void *st = m->stages[s].states[idx];
		/* Values the stage refuses leave it at its defaults, not at what
		 * the struct's previous voice (maybe another pad's) had. */
		if (ops->set_params != NULL &&
		    (pad->stage_serial[s] == 0 ||
		     ops->set_params(st, pad->stage_params[s], pad->stage_n_params[s]) < 0))
			(void)ops->set_params(st, NULL, 0);
		mv->params_serial[s] = pad->stage_serial[s];
		ops->reset(st);
	}
	m->active[m->n_active++] = (uint8_t)idx;
	m->n_playing++;

	if (m->n_started == FLZ_MIXER_MAX_STARTED)
		send_started(m); /* its frame is this one's: the next output frame */
	m->started[m->n_started++] =
		(struct flz_mixer_started){ .token = token, .slot = slot, .serial = mv->serial };
}

/* Fade out the playing voices of @p slot (all when slot < 0). */
FLZ_RT FLZ_HOT static int stop_voices(struct flz_mixer *m, int32_t slot, uint32_t token)
{
	int32_t pending = -1;
	int n = 0;
	bool any_finished = false;
	for (uint32_t i = 0; i < m->n_active; i++) {
		struct flz_mixer_voice *mv = &m->voices[m->active[i]];
		if (mv->stopping || (slot >= 0 && mv->slot != slot))
			continue;
		if (pending < 0)
			pending = take_pending(m, token, slot);
		mv->pending = pending;
		m->pending[pending].n_voices++;
		if (mv->paused || mv->src_priming) {
			/* Already silent: done now, its event goes with the next render. */
			finish_voice(m, mv, m->frame - 1);
			any_finished = true;
		} else {
			begin_stop(m, mv);
		}
		n++;
	}
	if (any_finished)
		compact_active(m);
	return n;
}

FLZ_RT FLZ_HOT int flz_mixer_trigger(struct flz_mixer *m, const struct flz_mixer_trigger *t)
{
	if (t == NULL || !slot_ok(t->slot) || !(t->gain >= 0.0f && t->gain <= 1.0f))
		return -EINVAL;
	if (t->lock_num != 0 && !flz_mixer_lock_ratio_ok(t->lock_num, t->lock_den))
		return -EINVAL;
	if (m->slots[t->slot] < 0) {
		unprepare_trigger(m, t); /* nothing to start */
		return 0;
	}
	if (t->lock_num != 0 && t->lock_pos_fp >= ((uint64_t)m->pads[t->slot].loop_end << 32)) {
		unprepare_trigger(m, t); /* refused: its preparation is not kept */
		return -EINVAL;
	}
	if (t->exclusive) {
		unprepare_slot(m, -1, false);
		(void)stop_voices(m, -1, t->stop_token);
	}
	start_voice(m, t->slot, t->gain, t->token);
	if (t->lock_num != 0) {
		/* The newest voice is the last in start order. */
		struct flz_mixer_voice *mv = &m->voices[m->active[m->n_active - 1]];
		flz_mixer_lock_begin(&mv->lock, t->lock_num, t->lock_den);
		reader_at(&mv->rd, (int64_t)(t->lock_pos_fp >> 32));
		mv->rd.pos_frac = (uint32_t)t->lock_pos_fp;
	}
	/* A tempo-locked one too: at its lock ratio, kept there by its servo. */
	source_attach(m, &m->voices[m->active[m->n_active - 1]], t);
	return 1;
}

FLZ_RT FLZ_HOT int flz_mixer_play(struct flz_mixer *m, int32_t slot, float gain)
{
	struct flz_mixer_trigger t = { .slot = slot, .gain = gain };
	return flz_mixer_trigger(m, &t);
}

FLZ_RT FLZ_HOT int flz_mixer_stop_slot(struct flz_mixer *m, int32_t slot, uint32_t token)
{
	if (!slot_ok(slot))
		return -EINVAL;
	unprepare_slot(m, slot, false);
	return stop_voices(m, slot, token);
}

FLZ_RT FLZ_HOT int flz_mixer_stop_all(struct flz_mixer *m, uint32_t token)
{
	unprepare_slot(m, -1, false);
	return stop_voices(m, -1, token);
}

FLZ_RT FLZ_HOT int flz_mixer_unload(struct flz_mixer *m, int32_t slot, uint32_t token)
{
	if (!slot_ok(slot))
		return -EINVAL;
	unprepare_slot(m, slot, true);
	int n = stop_voices(m, slot, token);
	int32_t old = m->slots[slot];
	m->slots[slot] = -1;
	m->pads[slot].loop_start = 0;
	m->pads[slot].loop_end = 0;
	if (old >= 0)
		drop_sample_use(m, old);
	return n;
}

FLZ_RT FLZ_HOT int flz_mixer_pause_slot(struct flz_mixer *m, int32_t slot)
{
	if (!slot_ok(slot))
		return -EINVAL;
	int n = 0;
	for (uint32_t i = 0; i < m->n_active; i++) {
		struct flz_mixer_voice *mv = &m->voices[m->active[i]];
		if (mv->slot != slot || mv->stopping || mv->paused || mv->pausing)
			continue;
		if (mv->src_priming) {
			/* Nothing sounded yet: paused at once, silent (it primes
			 * on; a resume fades it in from its first frame). */
			mv->paused = true;
			mv->fade.active = false;
			mv->fade.start = mv->fade.target = 0.0f;
			n++;
			continue;
		}
		mv->pausing = true;
		ramp_begin(&mv->fade, 0.0f);
		n++;
	}
	return n;
}

FLZ_RT FLZ_HOT int flz_mixer_resume_slot(struct flz_mixer *m, int32_t slot)
{
	if (!slot_ok(slot))
		return -EINVAL;
	int n = 0;
	for (uint32_t i = 0; i < m->n_active; i++) {
		struct flz_mixer_voice *mv = &m->voices[m->active[i]];
		if (mv->slot != slot || mv->stopping || !(mv->paused || mv->pausing))
			continue;
		if (mv->paused)
			source_resume(m, mv);
		mv->paused = mv->pausing = false;
		ramp_begin(&mv->fade, 1.0f);
		n++;
	}
	return n;
}

/* Move a voice's reader to @p frame: at once when it is silent (paused),
 * else crossfaded from where it is. A move during a crossfade drops the
 * older fading position. A locked voice re-anchors there: from now on its
 * position is frame + ratio x (output frames since the seek), exactly as
 * if started there now (a glide still running ends: the seek's crossfade
 * covers the rate's step). */
FLZ_RT FLZ_HOT static void move_voice(struct flz_mixer_voice *mv, int64_t frame)
{
	if (mv->lock.on)
		flz_mixer_lock_begin(&mv->lock, mv->lock.num, mv->lock.den);
	if (mv->paused || mv->src >= 0) {
		/* A key-locked voice's source reads on from the new place: its
		 * analysis window, not a crossfade, smooths the jump. */
		reader_at(&mv->rd, frame);
		/* The source's output gets there once it has read through
		 * what it holds; as far as the switch back is concerned, now. */
		reader_at(&mv->aud, frame);
		mv->xfade = false;
		return;
	}
	mv->old = mv->rd;
	reader_at(&mv->rd, frame);
	mv->xfade = true;
	mv->xfade_done = 0;
}

/* Reader @p rd of voice @p v moved by @p delta_fp (2^-32 frames), wrapped
 * into the loop region as the voice would play: the new position. */
FLZ_RT FLZ_HOT static flz_i128 shifted(const struct flz_mixer_voice *v,
				       const struct flz_mixer_reader *rd, int64_t delta_fp)
{
	const flz_i128 one = (flz_i128)1 << 32;
	const flz_i128 ls = v->loop_start * one, le = v->loop_end * one;
	const flz_i128 from = rd->pos_frames * one + rd->pos_frac;
	flz_i128 to = from + delta_fp;
	const flz_i128 len = le - ls;
	if (from >= le) {
		/* Past the region's end (it was moved below the voice), where the
		 * reader wraps to its start at once: the end counts as the start. */
		to = ls + ((to - le) % len + len) % len;
	} else if (from >= ls || to >= ls) {
		/* In the region, or reaching it: wrapped into it, as the voice
		 * loops. */
		to = ls + ((to - ls) % len + len) % len;
	} else if (to < 0) {
		/* Before the region and moved back past the sample's start. */
		to = 0;
	}
	return to;
}

FLZ_RT FLZ_HOT void flz_mixer_voice_shift(struct flz_mixer_voice *v, int64_t delta_fp)
{
	if (v->src >= 0) {
		/* A key-locked voice: its source reads on from the moved reader
		 * (its analysis window smooths the jump, as for a seek), its
		 * audible position moves with it; the servo, which counts reads
		 * and the lock's advance, does not see the move. */
		const flz_i128 to = shifted(v, &v->rd, delta_fp);
		const flz_i128 aud = shifted(v, &v->aud, delta_fp);
		reader_at(&v->rd, (int64_t)(to >> 32));
		v->rd.pos_frac = (uint32_t)to;
		reader_at(&v->aud, (int64_t)(aud >> 32));
		v->aud.pos_frac = (uint32_t)aud;
		return;
	}
	const flz_i128 to = shifted(v, &v->rd, delta_fp);
	const bool paused = v->paused;
	/* Paused: at once (silent), as move_voice(). */
	v->xfade = !paused;
	if (!paused) {
		v->old = v->rd;
		v->xfade_done = 0;
	}
	reader_at(&v->rd, (int64_t)(to >> 32));
	v->rd.pos_frac = (uint32_t)to;
}

FLZ_RT FLZ_HOT int flz_mixer_seek_slot(struct flz_mixer *m, int32_t slot, int64_t frame)
{
	if (!slot_ok(slot))
		return -EINVAL;
	const int32_t entry = m->slots[slot];
	if (entry < 0)
		return -ENOENT;
	if (frame < 0 || frame >= m->samples[entry].sample->n_frames)
		return -EINVAL;
	int n = 0;
	for (uint32_t i = 0; i < m->n_active; i++) {
		struct flz_mixer_voice *mv = &m->voices[m->active[i]];
		/* Voices still playing a replaced sample keep their place: the
		 * frame is one of the slot's current sample. */
		if (mv->slot != slot || mv->stopping || mv->entry != entry)
			continue;
		move_voice(mv, frame);
		n++;
	}
	return n;
}

/* Whether any voice of the slot sounds (or is paused). */
FLZ_RT FLZ_HOT static bool slot_has_voices(const struct flz_mixer *m, int32_t slot)
{
	for (uint32_t i = 0; i < m->n_active; i++)
		if (m->voices[m->active[i]].slot == slot)
			return true;
	return false;
}

FLZ_RT FLZ_HOT int flz_mixer_set_pad_gain(struct flz_mixer *m, int32_t slot, float gain_lin)
{
	if (!slot_ok(slot) || !(gain_lin >= 0.0f && gain_lin <= FLZ_PAD_GAIN_MAX_LIN))
		return -EINVAL;
	struct flz_mixer_ramp *r = &m->pads[slot].gain;
	const bool was_active = r->active || m->pads[slot].speed.active;
	if (!r->active && gain_lin == r->target)
		return 0;
	if (!slot_has_voices(m, slot)) {
		/* Nothing to glide: the next trigger starts at the new gain. */
		r->active = false;
		r->start = r->target = gain_lin;
		if (was_active && !m->pads[slot].speed.active)
			m->n_pad_ramps--;
		return 0;
	}
	ramp_begin(r, gain_lin);
	if (!was_active)
		m->n_pad_ramps++;
	return 0;
}

FLZ_RT FLZ_HOT int flz_mixer_set_pad_speed(struct flz_mixer *m, int32_t slot, double speed)
{
	if (!slot_ok(slot) || !(speed >= FLZ_PAD_SPEED_MIN && speed <= FLZ_PAD_SPEED_MAX))
		return -EINVAL;
	struct flz_mixer_glide *g = &m->pads[slot].speed;
	const bool was_active = g->active || m->pads[slot].gain.active;
	/* Round to the 32.32 grid: speed 1.0 is exactly 2^32. */
	const uint64_t target = (uint64_t)(speed * 4294967296.0 + 0.5);
	if (!g->active && target == g->target_fp)
		return 0;
	if (!slot_has_voices(m, slot)) {
		g->active = false;
		g->start_fp = g->target_fp = target;
		if (was_active && !m->pads[slot].gain.active)
			m->n_pad_ramps--;
		return 0;
	}
	glide_begin(g, target);
	if (!was_active)
		m->n_pad_ramps++;
	return 0;
}

FLZ_RT FLZ_HOT int flz_mixer_set_pad_stage_params(struct flz_mixer *m, int32_t slot, uint32_t stage,
						  const float *params, uint32_t n_params)
{
	if (!slot_ok(slot) || stage >= m->n_stages || m->stages[stage].ops->set_params == NULL ||
	    params == NULL || n_params < 1 || n_params > FLZ_MIXER_STAGE_MAX_PARAMS)
		return -EINVAL;
	for (uint32_t i = 0; i < n_params; i++)
		if (!isfinite(params[i]))
			return -EINVAL;
	struct flz_mixer_pad *pad = &m->pads[slot];
	for (uint32_t i = 0; i < n_params; i++)
		pad->stage_params[stage][i] = params[i];
	pad->stage_n_params[stage] = n_params;
	/* Never 0, which means "never set". */
	if (++m->stage_params_serial == 0)
		m->stage_params_serial = 1;
	pad->stage_serial[stage] = m->stage_params_serial;
	return 0;
}

FLZ_RT FLZ_HOT int flz_mixer_set_loop_region(struct flz_mixer *m, int32_t slot, int64_t start,
					     int64_t end)
{
	if (!slot_ok(slot))
		return -EINVAL;
	const int32_t entry = m->slots[slot];
	if (entry < 0)
		return -ENOENT;
	const int64_t n_frames = m->samples[entry].sample->n_frames;
	if (end == -1)
		end = n_frames;
	if (!(start >= 0 && start < end && end <= n_frames))
		return -EINVAL;
	m->pads[slot].loop_start = start;
	m->pads[slot].loop_end = end;
	m->standby_dirty = true; /* its standby goes, a new one comes */
	for (uint32_t i = 0; i < m->n_active; i++) {
		struct flz_mixer_voice *mv = &m->voices[m->active[i]];
		if (mv->entry != entry || mv->slot != slot)
			continue;
		mv->loop_start = start;
		mv->loop_end = end;
		/* At or past the new end: wrap to the new start now (a fading
		 * voice plays on to the sample's end and wraps there). */
		if (mv->rd.pos_frames >= end && !mv->stopping)
			move_voice(mv, start);
	}
	return 0;
}

FLZ_RT FLZ_HOT void flz_mixer_set_key_lock(struct flz_mixer *m, bool on)
{
	m->key_lock = on;
	/* Playing voices look at their next block (switch_check()). */
	m->key_lock_serial++;
	m->standby_dirty = true;
}

FLZ_RT FLZ_HOT int flz_mixer_set_pad_key_lock(struct flz_mixer *m, int32_t slot, int mode)
{
	if (!slot_ok(slot) || mode < -1 || mode > 1)
		return -EINVAL;
	m->pads[slot].key_lock = (int8_t)mode;
	m->key_lock_serial++;
	m->standby_dirty = true;
	return 0;
}

FLZ_RT FLZ_HOT uint64_t flz_mixer_key_lock_refused(const struct flz_mixer *m)
{
	return m->key_lock_refused;
}

FLZ_RT FLZ_HOT uint32_t flz_mixer_key_locked_voices(const struct flz_mixer *m)
{
	return m->n_sources - m->n_free_sources - m->n_prepared;
}

FLZ_RT FLZ_HOT uint32_t flz_mixer_key_lock_prepared(const struct flz_mixer *m)
{
	return m->n_prepared - m->n_standby;
}

FLZ_RT FLZ_HOT uint32_t flz_mixer_key_lock_standby(const struct flz_mixer *m, uint32_t *primed)
{
	if (primed != NULL) {
		*primed = 0;
		for (uint32_t i = 0; i < m->n_prepared; i++)
			*primed += m->prepared[i].standby && m->prepared[i].primed;
	}
	return m->n_standby;
}

FLZ_RT FLZ_HOT uint64_t flz_mixer_key_lock_deferred(const struct flz_mixer *m)
{
	return m->key_lock_deferred;
}

FLZ_RT FLZ_HOT uint64_t flz_mixer_key_lock_deferred_frames(const struct flz_mixer *m)
{
	return m->key_lock_deferred_frames;
}

FLZ_RT FLZ_HOT uint64_t flz_mixer_key_lock_prime_frames(const struct flz_mixer *m)
{
	return m->key_lock_prime_frames;
}

FLZ_RT FLZ_HOT int flz_mixer_set_master_gain(struct flz_mixer *m, float gain)
{
	if (!(gain >= FLZ_VOLUME_MIN && gain <= FLZ_VOLUME_MAX))
		return -EINVAL;
	if (!m->master.active && gain == m->master.target)
		return 0;
	ramp_begin(&m->master, gain);
	return 0;
}

FLZ_RT FLZ_HOT int flz_mixer_set_speed(struct flz_mixer *m, double speed)
{
	if (!(speed >= FLZ_SPEED_MIN && speed <= FLZ_SPEED_MAX))
		return -EINVAL;
	/* Round to the 32.32 grid: speed 1.0 is exactly 2^32. */
	uint64_t target = (uint64_t)(speed * 4294967296.0 + 0.5);
	if (!m->speed.active && target == m->speed.target_fp)
		return 0;
	glide_begin(&m->speed, target);
	return 0;
}

/* ---- Render ---- */

/* Out times the master gain (ramped), in place. */
FLZ_RT FLZ_HOT static void apply_master(struct flz_mixer *m, float *out, uint32_t n_frames)
{
	const uint32_t ch = m->n_channels;
	const uint32_t n_ramp = ramp_left(&m->master, n_frames);
	for (uint32_t j = 0; j < n_ramp; j++) {
		const float g = ramp_at(&m->master, m->master.done_frames + j + 1);
		for (uint32_t c = 0; c < ch; c++)
			out[j * ch + c] = g * out[j * ch + c];
	}
	const float g = m->master.target;
	if (g != 1.0f) {
		/* 1 x s == s exactly: skipping the multiply changes nothing. */
		float *p = out + (size_t)n_ramp * ch;
		const size_t n = (size_t)(n_frames - n_ramp) * ch;
		for (size_t i = 0; i < n; i++)
			p[i] = g * p[i];
	}
}

/* Send the ready events in command order: Started ones (their voices
 * sounded from this block's first frame) and Stopped ones whose voices are
 * all silent within this block. */
FLZ_RT FLZ_HOT static __attribute__((noinline)) void send_events(struct flz_mixer *m,
								int64_t end_frame)
{
	for (;;) {
		/* A stop is ready once its voices are silent and the render call
		 * has produced its first silent frame (before end_frame). */
		struct flz_mixer_pending *next = NULL;
		for (uint32_t i = 0; i < FLZ_MIXER_MAX_PENDING && m->n_pending > 0; i++) {
			struct flz_mixer_pending *p = &m->pending[i];
			if (!p->in_use || p->n_voices != 0 || p->last_frame + 1 >= end_frame)
				continue;
			if (next == NULL || p->serial < next->serial)
				next = p;
		}
		/* The Started queue is in trigger order: its head is its oldest. */
		if (m->n_started > 0 && (next == NULL || m->started[0].serial < next->serial))
			send_started(m);
		else if (next != NULL)
			send_stopped(m, next);
		else
			return;
	}
}

/* Whether the voice's whole block is one plain gain-and-add from one run
 * of its sample (no ramp, crossfade, stage or wrap, global and pad speed
 * exactly 1, a whole-frame position): then it goes into a group summed in
 * one pass. (Another product of exactly 1, 0.5 x 2, takes the general path,
 * which gives the same values.) */
FLZ_RT FLZ_HOT static inline bool plain_block(const struct flz_mixer *m, const struct flz_mixer_voice *v,
				      uint32_t vi, uint32_t n_frames)
{
	const struct flz_mixer_pad *pad = &m->pads[v->slot];
	return chain_mode(m, vi) == CHAIN_NONE && !v->paused && !v->fade.active && !v->xfade &&
	       !v->lock.on && v->src < 0 && !v->sw &&
	       !pad->gain.active && !pad->speed.active && !m->speed.active &&
	       v->rd.pos_frac == 0 && m->inc_fp == FLZ_MIXER_POS_ONE &&
	       pad->speed.target_fp == FLZ_MIXER_POS_ONE &&
	       v->rd.pos_frames + n_frames <= run_end(v, &v->rd);
}

/* The longest next block prefetch_next() asks for (128 stereo frames). */
#define PREFETCH_BYTES 1024
/* The shortest sample whose voices it asks for (a quarter of a MiB). */
#define PREFETCH_MIN_SAMPLE_BYTES (256 * 1024)

/* Ask for a plain voice's next block (@p next, where it plays on, @p
 * n_samples floats of a sample of @p sample_samples) to be brought into
 * the cache while this block is mixed, when the block is short and the
 * sample long: with short blocks and many voices the hardware's stream
 * prefetchers lose track of the voices; longer blocks they follow, and a
 * short sample stays in the caches, so asking only costs (measured with
 * bench/mixer-bench: 32 voices of 10 s at 64-frame blocks 0.77x -> 0.95x
 * of the reference; at 512-frame blocks 0.87x -> 0.77x had it asked for
 * their first 512 bytes, and 32 voices of 4096 frames at 64-frame blocks
 * 0.40x -> 0.38x). A prefetch never faults, past the sample's end
 * neither. */
FLZ_RT FLZ_HOT static inline void prefetch_next(const float *next, size_t n_samples,
						size_t sample_samples)
{
	const size_t n_bytes = n_samples * sizeof(float);
	if (n_bytes > PREFETCH_BYTES || sample_samples * sizeof(float) < PREFETCH_MIN_SAMPLE_BYTES)
		return;
	const char *p = (const char *)next;
	for (size_t off = 0; off < n_bytes; off += 64)
		__builtin_prefetch(p + off, 0, 3);
}

/* Voices whose blocks are plain, gathered for one summing pass. */
struct plain_group {
	const float *src[FLZ_MIXER_VOICE_STRUCTS];
	float gain[FLZ_MIXER_VOICE_STRUCTS];
	struct flz_mixer_voice *voice[FLZ_MIXER_VOICE_STRUCTS];
	float peak[FLZ_MIXER_VOICE_STRUCTS];
	uint32_t n;
	/* The block holds a sum already (else it is still to be cleared). */
	bool written;
};

/* Sum the group into the block in one pass that also finds each source's
 * peak: it stores where the block has nothing yet and adds otherwise; per
 * element both are the add kernel's operations in voice order, so the
 * values are those of adding voice by voice into a cleared block. */
FLZ_RT FLZ_HOT static void flush_group(struct flz_mixer *m, struct plain_group *g, float *out,
			       uint32_t n_frames)
{
	if (g->n == 0)
		return;
	m->ops.mix_add(out, g->src, g->gain, g->n, (size_t)n_frames * m->n_channels,
			    !g->written, g->peak);
	for (uint32_t k = 0; k < g->n; k++)
		voice_tap(g->voice[k], g->peak[k] * (g->gain[k] < 0.0f ? -g->gain[k] : g->gain[k]));
	g->written = true;
	g->n = 0;
}

/*
 * A block whose every voice is in the group (none rendered on its own) at
 * a constant master gain other than 0: the mix_out kernel writes the sum
 * times the master gain and folds the output's peaks into the master
 * meter (a single voice in one pass over its frames), bit for bit what
 * flush_group(), apply_master() and the master meter's peak_frames() give
 * one after the other. Returns false, doing nothing, for any other block.
 */
FLZ_RT FLZ_HOT static bool flush_whole(struct flz_mixer *m, struct plain_group *g, float *out,
				       uint32_t n_frames)
{
	if (g->n == 0 || g->written || m->master.active || m->master.target == 0.0f)
		return false;
	m->ops.mix_out(out, g->src, g->gain, g->n, n_frames, m->n_channels, m->master.target,
		       g->peak, m->meter.master_peak);
	for (uint32_t k = 0; k < g->n; k++)
		voice_tap(g->voice[k], g->peak[k] * (g->gain[k] < 0.0f ? -g->gain[k] : g->gain[k]));
	g->written = true;
	g->n = 0;
	return true;
}

FLZ_RT FLZ_HOT int flz_mixer_render(struct flz_mixer *m, float *out, uint32_t n_frames)
{
	if (n_frames > m->config.max_block_frames || (out == NULL && n_frames > 0))
		return -EINVAL;
	if (n_frames == 0)
		return 0;
	const uint32_t ch = m->n_channels;
	const size_t n_samples = (size_t)n_frames * ch;
	prime_sources(m);
	m->switch_waiting = false; /* switch_check() says again */
	struct plain_group group;
	group.n = 0;
	group.written = false;
	bool any_finished = false;
	for (uint32_t i = 0; i < m->n_active; i++) {
		const uint32_t vi = m->active[i];
		struct flz_mixer_voice *v = &m->voices[vi];
		chain_sync(m, v, vi);
		switch_check(m, v);
		if (plain_block(m, v, vi, n_frames)) {
			const float g = v->gain_lin * m->pads[v->slot].gain.target * v->fade.target;
			const float *src = v->sample->data + (size_t)v->rd.pos_frames * ch;
			if (g != 0.0f) {
				prefetch_next(src + n_samples, n_samples,
					      (size_t)v->sample->n_frames * ch);
				group.src[group.n] = src;
				group.gain[group.n] = g;
				group.voice[group.n++] = v;
			}
			reader_advance(v, &v->rd, n_frames, 0);
			continue;
		}
		/* Voices add in start order: the group so far goes in first. */
		flush_group(m, &group, out, n_frames);
		if (!group.written) {
			memset(out, 0, n_samples * sizeof(float));
			group.written = true;
		}
		if (render_voice(m, v, vi, out, n_frames))
			any_finished = true;
	}
	if (flush_whole(m, &group, out, n_frames)) {
		/* Master gain and the output's meter done (no voice finished:
		 * every one was in the group). */
		flz_mixer_meter_frames(m, n_frames);
	} else {
		flush_group(m, &group, out, n_frames);
		if (!group.written)
			memset(out, 0, n_samples * sizeof(float));
		if (any_finished)
			compact_active(m);
		apply_master(m, out, n_frames);
		flz_mixer_meter_block(m, out, n_frames);
	}

	ramp_commit(&m->master, n_frames);
	m->master_lin = ramp_now(&m->master);
	glide_commit(&m->speed, n_frames);
	m->inc_fp = glide_at(&m->speed, m->speed.done_frames);
	if (m->n_pad_ramps > 0) {
		uint32_t still = 0;
		for (uint32_t s = 0; s < FLZ_NUM_SAMPLES; s++) {
			struct flz_mixer_pad *pad = &m->pads[s];
			if (!pad->gain.active && !pad->speed.active)
				continue;
			ramp_commit(&pad->gain, n_frames);
			glide_commit(&pad->speed, n_frames);
			still += pad->gain.active || pad->speed.active;
		}
		m->n_pad_ramps = still;
	}
	if (m->n_pending > 0 || m->n_started > 0)
		send_events(m, m->frame + n_frames);
	m->frame += n_frames;
	if (m->standby_on)
		standby_fill(m);
	return 0;
}

FLZ_RT FLZ_HOT uint32_t flz_mixer_voices_playing(const struct flz_mixer *m)
{
	return m->n_playing;
}

FLZ_RT FLZ_HOT uint32_t flz_mixer_voices_fading(const struct flz_mixer *m)
{
	return m->n_active - m->n_playing;
}

FLZ_RT FLZ_HOT int64_t flz_mixer_frame(const struct flz_mixer *m)
{
	return m->frame;
}
