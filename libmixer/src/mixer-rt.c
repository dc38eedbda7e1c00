/* SPDX-License-Identifier: MIT */
/*
 * The mixer's audio-thread functions: commands and render.
 *
 * Render, per block:
 *  1. Work out the source position of every output frame of the block (the
 *     speed glides per frame). At speed 1.0 with a whole-frame position and
 *     no glide the positions are consecutive source frames: the fast path.
 *  2. Render the source (all voices, frame for frame at the samples' rate)
 *     up to (last position) + LOOKAHEAD + 1. The source head is therefore a
 *     function of the output position only, which makes the output
 *     independent of how it is split into render calls.
 *  3. Produce the output: on the fast path, master gain times the source
 *     frames (the interpolator's unit impulse would give the same values);
 *     otherwise one interpolated frame per output frame.
 *  4. Send the Stopped events whose voices have left the output.
 */
#include <string.h>

#include "mixer-internal.h"

#define POS_ONE ((uint64_t)1 << 32)

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

FLZ_RT FLZ_HOT static void send_event(struct flz_mixer *m, struct flz_mixer_pending *p, int64_t frame)
{
	if (m->config.event != NULL) {
		struct flz_mixer_event ev = {
			.kind = FLZ_MIXER_EVENT_STOPPED,
			.token = p->token,
			.slot = p->slot,
			.frame = frame,
		};
		m->config.event(m->config.userdata, &ev);
	}
	p->in_use = false;
	m->n_pending--;
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
		/* Full: at most VOICE_STRUCTS entries still have fading voices, so
		 * some entries are only waiting for the output to pass their last
		 * frame. Send the oldest of those now (up to 2 x LOOKAHEAD source
		 * frames early: its voices may have gone silent at src_head) and
		 * reuse it. */
		uint64_t best = UINT64_MAX;
		for (int32_t i = 0; i < FLZ_MIXER_MAX_PENDING; i++) {
			if (m->pending[i].n_voices == 0 && m->pending[i].serial < best) {
				best = m->pending[i].serial;
				idx = i;
			}
		}
		send_event(m, &m->pending[idx], m->frame - 1);
	}
	struct flz_mixer_pending *p = &m->pending[idx];
	p->in_use = true;
	p->token = token;
	p->slot = slot;
	p->n_voices = 0;
	p->silent_src = INT64_MIN;
	p->serial = m->next_serial++;
	m->n_pending++;
	return idx;
}

/* A voice has gone silent from source frame @p silent_src on (or is cut
 * there): account it to its stop and end its use of its load's entry. The caller
 * removes it from the active list. */
FLZ_RT FLZ_HOT static void finish_voice(struct flz_mixer *m, struct flz_mixer_voice *mv, int64_t silent_src)
{
	if (mv->pending >= 0) {
		struct flz_mixer_pending *p = &m->pending[mv->pending];
		p->n_voices--;
		if (silent_src > p->silent_src)
			p->silent_src = silent_src;
		mv->pending = -1;
	}
	if (!mv->voice.stopping)
		m->n_playing--;
	int32_t entry = mv->entry;
	mv->entry = -1;
	mv->voice.sample = NULL;
	mv->voice.slot = -1;
	drop_sample_use(m, entry);
}

FLZ_RT FLZ_HOT static void remove_active_at(struct flz_mixer *m, uint32_t at)
{
	/* Keep start order: the steal policy and the summation order rely on it. */
	memmove(&m->active[at], &m->active[at + 1], m->n_active - at - 1);
	m->n_active--;
}

/* End the cached steady setup, if any: the voices' positions catch up with
 * the frames the cached blocks played. Every command that touches voices,
 * the speed or the master gain calls it first. */
FLZ_RT FLZ_HOT static void steady_end(struct flz_mixer *m)
{
	if (!m->steady_ready)
		return;
	m->steady_ready = false;
	if (m->steady_done_frames == 0)
		return;
	for (uint32_t i = 0; i < m->n_active; i++)
		flz_voice_advance(&m->voices[m->active[i]].voice, m->steady_done_frames);
}

/* The first source frame at or after the next output frame's position. */
FLZ_RT FLZ_HOT static int64_t command_src(const struct flz_mixer *m)
{
	return m->pos_int + (m->pos_frac != 0);
}

/*
 * The look-ahead: source frames [command_src(), src_head), rendered ahead of
 * the output for the interpolator but not yet reached by it. Commands take
 * effect at its start, the first source frame the output has not passed,
 * not at the head: a play adds its voice's first frames into the
 * look-ahead, and a stop takes the voice's frames there back out and adds
 * its fade in their place. So a trigger is heard from the next output frame
 * on (at speed 1.0 its first frame is the next output frame), whatever the
 * look-ahead. The region lies in the source buffer, or in the steady path's
 * history while that is valid. Call after steady_end().
 */
FLZ_RT FLZ_HOT static float *lookahead_region(struct flz_mixer *m, uint32_t *n_frames)
{
	const int64_t from = command_src(m);
	const uint32_t n = (uint32_t)(m->src_head - from);
	*n_frames = n;
	if (m->hist_valid)
		return m->hist[m->hist_cur] + (size_t)(2 * FLZ_MIXER_LOOKAHEAD - n) * m->n_channels;
	return m->src + (size_t)(from - m->src_base) * m->n_channels;
}

/*
 * Take a voice's frames of the look-ahead back out: render them again into
 * the scratch block and subtract them. The difference is exact when the
 * voice is alone and within one rounding of the sum otherwise. The voice
 * ends where it was, at src_head. Correct because a voice's gain only ever
 * changes by a stop fade that started at or before the region (commands
 * act at its start): a gain glide that ended inside the region could not
 * be rewound (flz_voice_rewind()'s precondition), so one that libmixer
 * might add later must be started the same way.
 */
FLZ_RT FLZ_HOT static void unrender_lookahead(struct flz_mixer *m, struct flz_voice *v, float *ahead,
				      uint32_t n)
{
	if (n == 0 || (!v->ramping && v->gain_lin == 0.0f))
		return;
	flz_voice_rewind(v, n);
	flz_voice_render(v, m->kernels, m->mix, n, true);
	m->kernels->add(ahead, m->mix, (size_t)n * m->n_channels, -1.0f);
}

/*
 * Stop a playing (steady) voice from source frame command_src() on: its frames of
 * the look-ahead are replaced by the start of its fade. Returns false when
 * the fade is shorter than the look-ahead and has already ended: then the
 * voice is finished, and the caller takes it off the active list.
 */
FLZ_RT FLZ_HOT static bool stop_voice_now(struct flz_mixer *m, struct flz_mixer_voice *mv)
{
	struct flz_voice *v = &mv->voice;
	uint32_t n;
	float *ahead = lookahead_region(m, &n);
	unrender_lookahead(m, v, ahead, n);
	flz_voice_rewind(v, n);
	flz_voice_stop(v);
	uint32_t done = flz_voice_render(v, m->kernels, ahead, n, false);
	if (flz_voice_is_silent(v)) {
		finish_voice(m, mv, command_src(m) + done);
		return false;
	}
	return true;
}

/* Take the finished voices (sample NULL) off the active list, keeping order. */
FLZ_RT FLZ_HOT static void compact_active(struct flz_mixer *m)
{
	uint32_t w = 0;
	for (uint32_t i = 0; i < m->n_active; i++)
		if (m->voices[m->active[i]].voice.sample != NULL)
			m->active[w++] = m->active[i];
	m->n_active = w;
}

FLZ_RT FLZ_HOT int flz_mixer_load(struct flz_mixer *m, int32_t slot, struct flz_sample *sample)
{
	if (slot < 0 || slot >= FLZ_NUM_SAMPLES || sample == NULL)
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
	return 0;
}

FLZ_RT FLZ_HOT int flz_mixer_play(struct flz_mixer *m, int32_t slot, float gain)
{
	if (slot < 0 || slot >= FLZ_NUM_SAMPLES || !(gain >= 0.0f && gain <= 1.0f))
		return -EINVAL;
	const int32_t entry = m->slots[slot];
	if (entry < 0)
		return 0;
	steady_end(m);

	if (m->n_playing >= FLZ_MAX_VOICES) {
		/* Steal the earliest-started playing voice: the first one in the
		 * active list that is not already fading. It fades out without a
		 * Stopped event. */
		for (uint32_t i = 0; i < m->n_active; i++) {
			struct flz_mixer_voice *mv = &m->voices[m->active[i]];
			if (!mv->voice.stopping) {
				m->n_playing--;
				if (!stop_voice_now(m, mv))
					remove_active_at(m, i);
				break;
			}
		}
	}
	if (m->n_active >= FLZ_MIXER_VOICE_STRUCTS) {
		/* Every fade slot is busy: cut the fading voice closest to silence
		 * (the earliest started among equals). */
		uint32_t cut = UINT32_MAX;
		float quietest = 2.0f;
		for (uint32_t i = 0; i < m->n_active; i++) {
			struct flz_mixer_voice *mv = &m->voices[m->active[i]];
			if (mv->voice.stopping && mv->voice.gain_lin < quietest) {
				quietest = mv->voice.gain_lin;
				cut = i;
			}
		}
		struct flz_mixer_voice *mv = &m->voices[m->active[cut]];
		uint32_t n;
		float *ahead = lookahead_region(m, &n);
		unrender_lookahead(m, &mv->voice, ahead, n);
		finish_voice(m, mv, command_src(m));
		remove_active_at(m, cut);
	}
	uint32_t idx = 0;
	while (m->voices[idx].voice.sample != NULL)
		idx++;
	struct flz_mixer_voice *mv = &m->voices[idx];
	/* The entry was not retired above: its slot still uses it. */
	m->samples[entry].users++;
	flz_voice_start(&mv->voice, slot, m->samples[entry].sample, gain);
	mv->serial = m->next_serial++;
	mv->pending = -1;
	mv->entry = entry;
	m->active[m->n_active++] = (uint8_t)idx;
	m->n_playing++;
	/* Sound from the next output frame on: the voice's first frames go into
	 * the look-ahead, added after the voices already there (start order). */
	uint32_t n;
	float *ahead = lookahead_region(m, &n);
	flz_voice_render(&mv->voice, m->kernels, ahead, n, false);
	return 1;
}

/* Fade out the playing voices of @p slot (all when slot < 0). */
FLZ_RT FLZ_HOT static int stop_voices(struct flz_mixer *m, int32_t slot, uint32_t token)
{
	int32_t pending = -1;
	int n = 0;
	bool any_finished = false;
	steady_end(m);
	for (uint32_t i = 0; i < m->n_active; i++) {
		struct flz_mixer_voice *mv = &m->voices[m->active[i]];
		if (mv->voice.stopping || (slot >= 0 && mv->voice.slot != slot))
			continue;
		if (pending < 0)
			pending = take_pending(m, token, slot);
		mv->pending = pending;
		m->pending[pending].n_voices++;
		m->n_playing--;
		if (!stop_voice_now(m, mv))
			any_finished = true;
		n++;
	}
	if (any_finished)
		compact_active(m);
	return n;
}

FLZ_RT FLZ_HOT int flz_mixer_stop_slot(struct flz_mixer *m, int32_t slot, uint32_t token)
{
	if (slot < 0 || slot >= FLZ_NUM_SAMPLES)
		return -EINVAL;
	return stop_voices(m, slot, token);
}

FLZ_RT FLZ_HOT int flz_mixer_stop_all(struct flz_mixer *m, uint32_t token)
{
	return stop_voices(m, -1, token);
}

FLZ_RT FLZ_HOT int flz_mixer_unload(struct flz_mixer *m, int32_t slot, uint32_t token)
{
	if (slot < 0 || slot >= FLZ_NUM_SAMPLES)
		return -EINVAL;
	int n = stop_voices(m, slot, token);
	int32_t old = m->slots[slot];
	m->slots[slot] = -1;
	if (old >= 0)
		drop_sample_use(m, old);
	return n;
}

FLZ_RT FLZ_HOT int flz_mixer_set_master_gain(struct flz_mixer *m, float gain)
{
	if (!(gain >= FLZ_VOLUME_MIN && gain <= FLZ_VOLUME_MAX))
		return -EINVAL;
	if (!m->master_glide.active && gain == m->master_lin)
		return 0;
	steady_end(m);
	m->master_start_lin = m->master_lin;
	m->master_target_lin = gain;
	m->master_step_lin = (gain - m->master_lin) / (float)m->master_glide.n_frames;
	m->master_glide.done_frames = 0;
	m->master_glide.active = true;
	return 0;
}

FLZ_RT FLZ_HOT int flz_mixer_set_speed(struct flz_mixer *m, double speed)
{
	if (!(speed >= FLZ_SPEED_MIN && speed <= FLZ_SPEED_MAX))
		return -EINVAL;
	/* Round to the 32.32 grid: speed 1.0 is exactly 2^32. */
	uint64_t target = (uint64_t)(speed * 4294967296.0 + 0.5);
	if (!m->speed_glide.active && target == m->inc_fp)
		return 0;
	steady_end(m);
	m->inc_start_fp = m->inc_fp;
	m->inc_target_fp = target;
	m->speed_glide.done_frames = 0;
	m->speed_glide.active = true;
	return 0;
}

/* The speed increment of glide frame k (1-based); frame n_frames and later
 * get the target exactly. */
FLZ_RT FLZ_HOT static uint64_t speed_at(const struct flz_mixer *m, uint32_t k)
{
	if (!m->speed_glide.active || k >= m->speed_glide.n_frames)
		return m->inc_target_fp;
	double d = (double)m->inc_target_fp - (double)m->inc_start_fp;
	return (uint64_t)((double)m->inc_start_fp + d * (double)k / (double)m->speed_glide.n_frames +
			  0.5);
}

FLZ_RT FLZ_HOT static float master_at(const struct flz_mixer *m, uint32_t k)
{
	if (!m->master_glide.active || k >= m->master_glide.n_frames)
		return m->master_target_lin;
	return m->master_start_lin + m->master_step_lin * (float)k;
}

/* Fast path: out = master gain x src for output frames j0 .. j0+n-1 of the
 * block (the gain of frame j is that of glide frame done + j + 1). */
FLZ_RT FLZ_HOT static void emit_master(const struct flz_mixer *m, float *out, const float *src,
			       uint32_t j0, uint32_t n_frames)
{
	const uint32_t n_channels = m->n_channels;
	uint32_t j = 0;
	if (m->master_glide.active) {
		uint32_t k0 = m->master_glide.done_frames + j0; /* glide frames before out[0] */
		uint32_t last = m->master_glide.n_frames - 1;   /* glide frames on the ramp */
		if (k0 < last) {
			uint32_t nr = n_frames < last - k0 ? n_frames : last - k0;
			flz_voice_kernel_ramp(out, src, nr, n_channels, m->master_start_lin,
					      m->master_step_lin, k0 + 1, true);
			j = nr;
		}
	}
	if (j < n_frames)
		m->kernels->copy(out + (size_t)j * n_channels, src + (size_t)j * n_channels,
				 (size_t)(n_frames - j) * n_channels, m->master_target_lin);
}

/* Whether every active voice plays at a constant gain (none ramping). */
FLZ_RT FLZ_HOT static bool voices_steady(const struct flz_mixer *m)
{
	for (uint32_t i = 0; i < m->n_active; i++)
		if (!flz_voice_is_steady(&m->voices[m->active[i]].voice))
			return false;
	return true;
}

/* The next n_frames source frames of the (all steady) voices, times
 * @p scale, into dst, with one mix-kernel call per stretch between loop
 * points. The values are bit-identical to what flz_voice_render() gives
 * voice by voice into a block (the first voice stores, later ones add, and
 * later voices at gain 0 are skipped, as there), times scale. */
FLZ_RT FLZ_HOT static void mix_voices(struct flz_mixer *m, float *dst, uint32_t n_frames, float scale)
{
	const uint32_t n_channels = m->n_channels;
	const float *srcs[FLZ_MIXER_VOICE_STRUCTS];
	float gains[FLZ_MIXER_VOICE_STRUCTS];
	uint32_t done = 0;
	while (done < n_frames) {
		uint32_t chunk = n_frames - done;
		uint32_t k = 0;
		for (uint32_t i = 0; i < m->n_active; i++) {
			const struct flz_voice *v = &m->voices[m->active[i]].voice;
			int64_t left = v->sample->n_frames - v->pos_frames;
			if (left < (int64_t)chunk)
				chunk = (uint32_t)left;
			if (k == 0 || v->gain_lin != 0.0f) {
				srcs[k] = v->sample->data + (size_t)v->pos_frames * n_channels;
				gains[k] = v->gain_lin;
				k++;
			}
		}
		m->kernels->mix(dst + (size_t)done * n_channels, srcs, gains, k,
				(size_t)chunk * n_channels, scale);
		for (uint32_t i = 0; i < m->n_active; i++)
			flz_voice_advance(&m->voices[m->active[i]].voice, chunk);
		done += chunk;
	}
}

/* Render source frames [src_head, src_head + n_frames) into dst. */
FLZ_RT FLZ_HOT static void render_source(struct flz_mixer *m, float *dst, uint32_t n_frames)
{
	const uint32_t n_channels = m->n_channels;
	if (voices_steady(m)) {
		mix_voices(m, dst, n_frames, 1.0f);
		return;
	}
	bool filled = false;
	bool any_finished = false;
	for (uint32_t i = 0; i < m->n_active; i++) {
		struct flz_mixer_voice *mv = &m->voices[m->active[i]];
		/* The first voice stores instead of adding into a cleared block. */
		uint32_t done = flz_voice_render(&mv->voice, m->kernels, dst, n_frames, !filled);
		if (!filled) {
			if (done < n_frames)
				memset(dst + (size_t)done * n_channels, 0,
				       (size_t)(n_frames - done) * n_channels * sizeof(float));
			filled = true;
		}
		if (flz_voice_is_silent(&mv->voice)) {
			finish_voice(m, mv, m->src_head + done);
			any_finished = true;
		}
	}
	if (!filled)
		memset(dst, 0, (size_t)n_frames * n_channels * sizeof(float));
	if (any_finished)
		compact_active(m);
}

/* Send the Stopped events whose voices no longer reach the output. Output
 * frame j of the block (source position n_j) reads source frames from
 * n_j - LOOKAHEAD + 1 on, so it is clear of a stop once that is >= silent_src. */
FLZ_RT FLZ_HOT static __attribute__((noinline)) void send_ready_events(struct flz_mixer *m,
								 uint32_t n_frames, bool fast,
								 int64_t n_first)
{
	const int64_t n_last = fast ? n_first + n_frames - 1 : m->scratch_n[n_frames - 1];
	/* Ready ones go out in command order. */
	for (;;) {
		struct flz_mixer_pending *next = NULL;
		for (uint32_t i = 0; i < FLZ_MIXER_MAX_PENDING; i++) {
			struct flz_mixer_pending *p = &m->pending[i];
			if (!p->in_use || p->n_voices != 0 ||
			    n_last < p->silent_src + FLZ_MIXER_LOOKAHEAD - 1)
				continue;
			if (next == NULL || p->serial < next->serial)
				next = p;
		}
		if (next == NULL)
			return;
		int64_t clear_from = next->silent_src + FLZ_MIXER_LOOKAHEAD - 1;
		uint32_t j = 0;
		if (fast) {
			j = clear_from > n_first ? (uint32_t)(clear_from - n_first) : 0;
		} else {
			while (m->scratch_n[j] < clear_from)
				j++;
		}
		/* The event's frame is the last output frame that still had them. */
		send_event(m, next, m->frame + (int64_t)j - 1);
	}
}

/*
 * The steady path: speed exactly 1 with a whole-frame position, no speed or
 * master glide, no voice ramping, n_frames >= 2 x LOOKAHEAD (D). Output
 * frame j is master x source frame p + j (p the first position); the block
 * renders source frames [p + D, p + n + D). The voices mix straight into the
 * output for [p + D, p + n - D), and the last 2 x D frames into a history
 * buffer; the output's first D frames come from the previous block's history
 * and its last D from this one's. The two history buffers are used in turn,
 * so no copy of the source is kept while the path repeats; the source buffer
 * is brought up to date only when another path runs (sync_source()).
 * Values are those of the general fast path bit for bit: the same sums, then
 * one multiply by the master gain. With the AVX2 kernels a block without a
 * loop point is instead one flz_mixer_steady_avx2() call from a setup kept
 * across blocks (steady_begin(), steady_cached()); this function does the
 * blocks with a loop point and the generic kernels' blocks.
 */
FLZ_RT FLZ_HOT static void render_steady(struct flz_mixer *m, float *out, uint32_t n_frames)
{
	const uint32_t n_channels = m->n_channels;
	const uint32_t lookahead = FLZ_MIXER_LOOKAHEAD;
	const float master = m->master_target_lin;
	const float *prev = m->hist_valid
				    ? m->hist[m->hist_cur] + (size_t)lookahead * n_channels
				    : m->src + (size_t)(m->pos_int - m->src_base) * n_channels;
	float *next = m->hist[m->hist_cur ^ 1u];
	const size_t delay_samples = (size_t)lookahead * n_channels;

	float *out_end = out + (size_t)(n_frames - lookahead) * n_channels;
	if (n_frames > 2 * lookahead)
		mix_voices(m, out + delay_samples, n_frames - 2 * lookahead, master);
	mix_voices(m, next, 2 * lookahead, 1.0f);
	if (master == 1.0f) {
		/* 1 x s == s exactly: a plain copy gives the same values. */
		memcpy(out, prev, delay_samples * sizeof(float));
		memcpy(out_end, next, delay_samples * sizeof(float));
	} else {
		m->kernels->copy(out, prev, delay_samples, master);
		m->kernels->copy(out_end, next, delay_samples, master);
	}
	m->hist_cur ^= 1u;
	m->hist_valid = true;
	m->src_head += n_frames;
}

#ifdef FLZ_HAVE_AVX2_RESAMPLER
/* Cache the steady AVX2 block's setup for the voices as they are now (all
 * steady): their data pointers and gains (the first voice, and later ones
 * whose gain is not 0, as mix_voices() takes them) and how many frames they
 * play before the first loop point. It stays valid, with no check per block,
 * until a command or a loop point ends it (steady_end()). */
FLZ_RT FLZ_HOT static void steady_begin(struct flz_mixer *m)
{
	const uint32_t n_channels = m->n_channels;
	int64_t left = UINT32_MAX;
	uint32_t k = 0;
	for (uint32_t i = 0; i < m->n_active; i++) {
		const struct flz_voice *v = &m->voices[m->active[i]].voice;
		if (v->sample->n_frames - v->pos_frames < left)
			left = v->sample->n_frames - v->pos_frames;
		if (k == 0 || v->gain_lin != 0.0f) {
			m->steady_srcs[k] = v->sample->data + (size_t)v->pos_frames * n_channels;
			m->steady_gains[k] = v->gain_lin;
			k++;
		}
	}
	m->steady_n_src = k;
	m->steady_left_frames = (uint32_t)left;
	m->steady_done_frames = 0;
	m->steady_ready = true;
}

/* One steady block from the cached setup (render_steady()'s values, in one
 * AVX2 call); the caller has checked 2 x LOOKAHEAD <= n_frames <=
 * steady_left_frames. Also does the end of render: position, events, frame. */
FLZ_RT FLZ_HOT static inline void steady_cached(struct flz_mixer *m, float *out, uint32_t n_frames)
{
	const uint32_t n_channels = m->n_channels;
	const size_t delay_samples = (size_t)FLZ_MIXER_LOOKAHEAD * n_channels;
	const int64_t n_first = m->pos_int;
	const float *prev = m->hist_valid
				    ? m->hist[m->hist_cur] + delay_samples
				    : m->src + (size_t)(n_first - m->src_base) * n_channels;
	flz_mixer_steady_avx2(out, prev, m->hist[m->hist_cur ^ 1u], (size_t)n_frames * n_channels,
			      delay_samples, m->steady_srcs,
			      (size_t)m->steady_done_frames * n_channels, m->steady_gains,
			      m->steady_n_src, m->master_target_lin);
	m->steady_done_frames += n_frames;
	m->steady_left_frames -= n_frames;
	m->hist_cur ^= 1u;
	m->hist_valid = true;
	m->src_head += n_frames;
	m->pos_int = n_first + n_frames;
	if (m->n_pending > 0)
		send_ready_events(m, n_frames, true, n_first);
	m->frame += n_frames;
}
#endif

/* After steady blocks: put their history into the source buffer, as the
 * other paths expect it there. */
FLZ_RT FLZ_HOT static void sync_source(struct flz_mixer *m)
{
	m->src_base = m->src_head - 2 * FLZ_MIXER_LOOKAHEAD;
	memcpy(m->src, m->hist[m->hist_cur],
	       (size_t)2 * FLZ_MIXER_LOOKAHEAD * m->n_channels * sizeof(float));
	m->hist_valid = false;
}

/* Every block but those of the cached steady setup (flz_mixer_render()). */
FLZ_RT FLZ_HOT static __attribute__((noinline)) int render_block(struct flz_mixer *m, float *out,
							  uint32_t n_frames)
{
	steady_end(m);
	if (n_frames == 0)
		return 0;
	const uint32_t n_channels = m->n_channels;
	const int64_t n_first = m->pos_int;
	const bool fast = !m->speed_glide.active && m->inc_fp == POS_ONE && m->pos_frac == 0;

	if (fast && !m->master_glide.active && n_frames >= 2 * FLZ_MIXER_LOOKAHEAD &&
	    m->src_head == n_first + FLZ_MIXER_LOOKAHEAD && voices_steady(m)) {
#ifdef FLZ_HAVE_AVX2_RESAMPLER
		if (m->steady_avx2) {
			steady_begin(m);
			if (n_frames <= m->steady_left_frames) {
				steady_cached(m, out, n_frames);
				return 0;
			}
			/* A loop point within this block: the general steady code. */
			steady_end(m);
		}
#endif
		render_steady(m, out, n_frames);
		m->pos_int = n_first + n_frames;
		if (m->n_pending > 0)
			send_ready_events(m, n_frames, true, n_first);
		m->frame += n_frames;
		return 0;
	}
	if (m->hist_valid)
		sync_source(m);

	/* 1. Positions. */
	int64_t n_last;
	int64_t next_int = m->pos_int;
	uint32_t next_frac = m->pos_frac;
	if (fast) {
		n_last = n_first + n_frames - 1;
		next_int = n_first + n_frames;
	} else if (!m->speed_glide.active) {
		/* Constant speed: the same sums without the glide. */
		const uint64_t inc = m->inc_fp;
		int64_t *sn = m->scratch_n;
		uint32_t *sf = m->scratch_frac;
		uint64_t *si = m->scratch_inc;
		for (uint32_t j = 0; j < n_frames; j++) {
			sn[j] = next_int;
			sf[j] = next_frac;
			si[j] = inc;
			uint64_t f = (uint64_t)next_frac + (inc & 0xffffffffu);
			next_int += (int64_t)(inc >> 32) + (int64_t)(f >> 32);
			next_frac = (uint32_t)f;
		}
		n_last = sn[n_frames - 1];
	} else {
		for (uint32_t j = 0; j < n_frames; j++) {
			uint64_t inc = speed_at(m, m->speed_glide.done_frames + j + 1);
			m->scratch_n[j] = next_int;
			m->scratch_frac[j] = next_frac;
			m->scratch_inc[j] = inc;
			uint64_t f = (uint64_t)next_frac + (inc & 0xffffffffu);
			next_int += (int64_t)(inc >> 32) + (int64_t)(f >> 32);
			next_frac = (uint32_t)f;
		}
		n_last = m->scratch_n[n_frames - 1];
	}

	/* 2. Source up to the look-ahead of the last position. */
	const int64_t head_before = m->src_head;
	int64_t need_head = n_last + FLZ_MIXER_LOOKAHEAD + 1;
	uint32_t n_src = 0;
	if (need_head > m->src_head) {
		if (need_head - m->src_base > (int64_t)m->src_cap_frames) {
			/* Keep what the first frame of the block reads; move in whole
			 * multiples of ALIGN_FRAMES so copies stay cache-line aligned. */
			int64_t new_base = n_first - FLZ_MIXER_LOOKAHEAD + 1;
			new_base -= (m->src_head - new_base) % FLZ_MIXER_ALIGN_FRAMES;
			memmove(m->src, m->src + (size_t)(new_base - m->src_base) * n_channels,
				(size_t)(m->src_head - new_base) * n_channels * sizeof(float));
			m->src_base = new_base;
		}
		/* The voices mix into a scratch block that stays at one address.
		 * Mixing straight into the moving source buffer would keep the
		 * store stream at a fixed distance from every voice's load stream,
		 * and when that distance is a multiple of 4 KiB the CPU stalls each
		 * load on a false store dependency for as long as the voices play. */
		n_src = (uint32_t)(need_head - m->src_head);
		render_source(m, m->mix, n_src);
		/* Into the source buffer goes what later frames can read: all of
		 * it for the interpolator, and on the fast path only the last
		 * 2 x LOOKAHEAD frames (the next block reads from its first
		 * position - LOOKAHEAD + 1 = need_head - 2 x LOOKAHEAD + 1 on). */
		uint32_t keep = n_src;
		if (fast && keep > 2 * FLZ_MIXER_LOOKAHEAD)
			keep = 2 * FLZ_MIXER_LOOKAHEAD;
		memcpy(m->src + (size_t)(need_head - keep - m->src_base) * n_channels,
		       m->mix + (size_t)(n_src - keep) * n_channels,
		       (size_t)keep * n_channels * sizeof(float));
		m->src_head = need_head;
	}

	/* 3. Output. */
	if (fast) {
		/* Output frame j is source frame n_first + j: those before the old
		 * head come from the source buffer, the rest from the new mix. */
		uint32_t n_old = head_before - n_first < (int64_t)n_frames
					 ? (uint32_t)(head_before - n_first)
					 : n_frames;
		const float *old_src = m->src + (size_t)(n_first - m->src_base) * n_channels;
		emit_master(m, out, old_src, 0, n_old);
		if (n_old < n_frames)
			emit_master(m, out + (size_t)n_old * n_channels, m->mix, n_old,
				    n_frames - n_old);
	} else {
		struct flz_resampler_speed *sp = &m->interp_speed;
		/* Frames from steady_from on are past any speed glide: the speed
		 * is constant there, and for a speed > 1 they read the stretch
		 * table. Which frames those are depends on the glide alone, and
		 * the table on the speed alone, so the output does not depend on
		 * how it is split into blocks. */
		uint32_t steady_from = 0;
		if (m->speed_glide.active)
			steady_from = m->speed_glide.n_frames - m->speed_glide.done_frames - 1;
		if (steady_from < n_frames && m->inc_target_fp > POS_ONE &&
		    m->stretch.inc_fp != m->inc_target_fp)
			flz_resampler_stretch_build(&m->resampler, &m->stretch, m->inc_target_fp);
		if (!m->speed_glide.active && !m->master_glide.active) {
			/* One speed and one gain for the whole block: one call. */
			const uint64_t inc = m->inc_fp;
			const bool table = inc > POS_ONE;
			if (inc != sp->inc_fp || table != (sp->mode == FLZ_RESAMPLER_STRETCH_TABLE))
				flz_resampler_prepare(sp, inc, table ? &m->stretch : NULL);
			m->interp_run(&m->resampler, sp, m->src, m->src_base, m->scratch_n,
				      m->scratch_frac, n_channels, n_frames, m->master_target_lin,
				      out);
		} else {
			for (uint32_t j = 0; j < n_frames; j++) {
				uint64_t inc = m->scratch_inc[j];
				bool table = j >= steady_from && inc > POS_ONE;
				if (inc != sp->inc_fp ||
				    table != (sp->mode == FLZ_RESAMPLER_STRETCH_TABLE))
					flz_resampler_prepare(sp, inc, table ? &m->stretch : NULL);
				float g = master_at(m, m->master_glide.done_frames + j + 1);
				const float *center = m->src + (size_t)(m->scratch_n[j] - m->src_base) *
								       n_channels;
				m->interp(&m->resampler, sp, center, n_channels,
					  m->scratch_frac[j], g, out + (size_t)j * n_channels);
			}
		}
	}

	/* 4. Commit the glides and the position. */
	if (m->master_glide.active) {
		uint32_t done = m->master_glide.done_frames + n_frames;
		if (done >= m->master_glide.n_frames) {
			m->master_glide.active = false;
			m->master_lin = m->master_target_lin;
		} else {
			m->master_glide.done_frames = done;
			m->master_lin = master_at(m, done);
		}
	}
	if (m->speed_glide.active) {
		uint32_t done = m->speed_glide.done_frames + n_frames;
		if (done >= m->speed_glide.n_frames) {
			m->speed_glide.active = false;
			m->inc_fp = m->inc_target_fp;
		} else {
			m->speed_glide.done_frames = done;
			m->inc_fp = speed_at(m, done);
		}
	}
	m->pos_int = next_int;
	m->pos_frac = next_frac;

	if (m->n_pending > 0)
		send_ready_events(m, n_frames, fast, n_first);
	m->frame += n_frames;
	return 0;
}

FLZ_RT FLZ_HOT int flz_mixer_render(struct flz_mixer *m, float *out, uint32_t n_frames)
{
	if (n_frames > m->config.max_block_frames || (out == NULL && n_frames > 0))
		return -EINVAL;
#ifdef FLZ_HAVE_AVX2_RESAMPLER
	/* The common case, kept apart so it costs a few instructions besides
	 * the mixing: the cached steady setup holds for this block. */
	if (m->steady_ready && n_frames >= 2 * FLZ_MIXER_LOOKAHEAD &&
	    n_frames <= m->steady_left_frames) {
		steady_cached(m, out, n_frames);
		return 0;
	}
#endif
	return render_block(m, out, n_frames);
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

/* ---- Issue 12 per-pad functions. PLACEHOLDERS: the declarations are
 * final, the implementations come with the per-voice render path. Until
 * then trigger starts a voice without its STARTED event and the others
 * return -ENOSYS. ---- */

FLZ_RT FLZ_HOT int flz_mixer_trigger(struct flz_mixer *m, const struct flz_mixer_trigger *t)
{
	if (t == NULL || t->slot < 0 || t->slot >= FLZ_NUM_SAMPLES ||
	    !(t->gain >= 0.0f && t->gain <= 1.0f))
		return -EINVAL;
	if (m->slots[t->slot] < 0)
		return 0;
	if (t->exclusive)
		(void)flz_mixer_stop_all(m, t->stop_token);
	return flz_mixer_play(m, t->slot, t->gain);
}

FLZ_RT FLZ_HOT int flz_mixer_pause_slot(struct flz_mixer *m, int32_t slot)
{
	(void)m;
	(void)slot;
	return -ENOSYS;
}

FLZ_RT FLZ_HOT int flz_mixer_resume_slot(struct flz_mixer *m, int32_t slot)
{
	(void)m;
	(void)slot;
	return -ENOSYS;
}

FLZ_RT FLZ_HOT int flz_mixer_seek_slot(struct flz_mixer *m, int32_t slot, int64_t frame)
{
	(void)m;
	(void)slot;
	(void)frame;
	return -ENOSYS;
}

FLZ_RT FLZ_HOT int flz_mixer_set_pad_gain(struct flz_mixer *m, int32_t slot, float gain_lin)
{
	(void)m;
	(void)slot;
	(void)gain_lin;
	return -ENOSYS;
}

FLZ_RT FLZ_HOT int flz_mixer_set_pad_speed(struct flz_mixer *m, int32_t slot, double speed)
{
	(void)m;
	(void)slot;
	(void)speed;
	return -ENOSYS;
}

FLZ_RT FLZ_HOT int flz_mixer_set_loop_region(struct flz_mixer *m, int32_t slot, int64_t start,
					     int64_t end)
{
	(void)m;
	(void)slot;
	(void)start;
	(void)end;
	return -ENOSYS;
}
