/* SPDX-License-Identifier: MIT */
/* Internal: the mixer's state, shared by mixer.c (control) and mixer-rt.c. */
#ifndef FLZ_MIXER_INTERNAL_H
#define FLZ_MIXER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <flz/mixer.h>
#include <flz/pages.h>
#include <flz/voice.h>

#include "resampler.h"

/* Voice structs: MAX_VOICES that may play plus MAX_VOICES fade slots. */
#define FLZ_MIXER_VOICE_STRUCTS (2 * FLZ_MAX_VOICES)
/* Stop commands whose Stopped event is still to come. Each one either has
 * voices still fading (at most VOICE_STRUCTS of them) or is waiting for the
 * output to pass its last frame, so twice VOICE_STRUCTS is roomy; when it is
 * full, the oldest waiting event is sent early (see take_pending()). */
#define FLZ_MIXER_MAX_PENDING (2 * FLZ_MIXER_VOICE_STRUCTS)
/* Source frames the mixer renders ahead of the interpolator's centre: the
 * interpolator reads up to MAX_SIDE_TAPS frames past its position. It adds
 * no delay: commands take effect inside it (lookahead_region() in
 * mixer-rt.c). */
#define FLZ_MIXER_LOOKAHEAD FLZ_RESAMPLER_MAX_SIDE_TAPS

/* Buffers the mixer allocates beside its struct and the interpolator's
 * tables: src, mix, hist[0], hist[1], scratch_n, scratch_frac, scratch_inc. */
#define FLZ_MIXER_BUFFERS 7

/* The source buffer is moved in multiples of this many frames (see render). */
#define FLZ_MIXER_ALIGN_FRAMES 16

/* Source frames one render call may need at most: the highest speed times
 * the block, plus the fraction carried in, plus one. */
#define FLZ_MIXER_MAX_SRC_BLOCK(max_block) (2 * (max_block) + 2)

/* Entries of the sample table: every entry in use is either some slot's
 * sample (at most NUM_SAMPLES of those) or, replaced or unloaded, still
 * played by at least one voice (at most one entry per voice struct). */
#define FLZ_MIXER_SAMPLE_ENTRIES (FLZ_NUM_SAMPLES + FLZ_MIXER_VOICE_STRUCTS)

/*
 * One reference handed over by flz_mixer_load(): the mixer's only reference
 * to that sample for that load. Voices do not take references of their own;
 * they count as users of the entry, so starting and ending a voice is a
 * counter change, never an atomic, and the reference goes to retire exactly
 * once, when the last user is gone, whoever else still holds the sample.
 */
struct flz_mixer_sample {
	struct flz_sample *sample; /* NULL when the entry is free */
	/* The slot holding it (0 or 1) plus the voices playing it. */
	uint32_t users;
};

struct flz_mixer_voice {
	struct flz_voice voice;
	/* Start order, for stealing the earliest-started voice. */
	uint64_t serial;
	/* Index in pending[] of the stop this voice belongs to, or -1. */
	int32_t pending;
	/* Index in samples[] of the entry whose sample the voice plays, or -1. */
	int32_t entry;
};

struct flz_mixer_pending {
	bool in_use;
	uint32_t token;
	int32_t slot;
	/* Voices of this stop still fading. */
	uint32_t n_voices;
	/* Source frame from which none of its voices sounds any more. */
	int64_t silent_src;
	/* Order of the stop command, for sending events in command order. */
	uint64_t serial;
};

/* A linear glide of a value, per output frame, computed from its frame
 * index within the ramp so it does not depend on block boundaries. */
struct flz_mixer_glide {
	bool active;
	uint32_t done_frames;
	uint32_t n_frames;
};

struct flz_mixer {
	/* ---- Set by flz_mixer_new(), read-only afterwards. ---- */
	struct flz_mixer_config config;
	const struct flz_voice_kernels *kernels;
	struct flz_resampler resampler;
	flz_resampler_frame_fn interp;
	/* The same over a run of frames at one speed and gain. */
	flz_resampler_run_fn interp_run;
	/* Whether the steady path may use flz_mixer_steady_avx2(). */
	bool steady_avx2;
	uint32_t n_channels;
	uint32_t voice_ramp_frames;
	uint32_t src_cap_frames;
	float *src;          /* src_cap_frames interleaved frames */
	float *mix;          /* the voices' scratch block: MIXER_MAX_SRC_BLOCK(max_block) frames, at least LOOKAHEAD + 1 */
	/* The steady path's history: two buffers of 2 x LOOKAHEAD frames used in
	 * turn (see render_steady() in mixer-rt.c). */
	float *hist[2];
	int64_t *scratch_n;  /* per output frame of a block: integer source position */
	uint32_t *scratch_frac;
	uint64_t *scratch_inc;
	/* The buffers above as allocated (flz_pages_alloc()), for
	 * flz_mixer_memory() and flz_mixer_destroy(). */
	struct flz_mem_region buffers[FLZ_MIXER_BUFFERS];
	uint32_t n_buffers;

	/* ---- Audio-thread state: touched only by the rt functions. ---- */
	/* Per slot: index in samples[] of its sample, or -1 when empty. */
	int16_t slots[FLZ_NUM_SAMPLES];
	struct flz_mixer_sample samples[FLZ_MIXER_SAMPLE_ENTRIES];
	/* Indices of the free entries of samples[], a stack of n_free_samples. */
	uint16_t free_samples[FLZ_MIXER_SAMPLE_ENTRIES];
	uint32_t n_free_samples;
	struct flz_mixer_voice voices[FLZ_MIXER_VOICE_STRUCTS];
	/* Indices into voices[] of the voices in use, in start order. */
	uint8_t active[FLZ_MIXER_VOICE_STRUCTS];
	uint32_t n_active;
	uint32_t n_playing;
	uint64_t next_serial;
	struct flz_mixer_pending pending[FLZ_MIXER_MAX_PENDING];
	uint32_t n_pending;

	/* Source block: absolute source frames [src_base, src_head) are in src,
	 * unless hist_valid: then hist[hist_cur] holds source frames
	 * [src_head - 2 x LOOKAHEAD, src_head) and src is out of date. */
	int64_t src_base;
	int64_t src_head;
	uint32_t hist_cur;
	bool hist_valid;

	/* The steady path's cached block setup (AVX2 only; see
	 * steady_begin() in mixer-rt.c). While steady_ready, every active
	 * voice is steady, speed and master are constant, and the voices'
	 * pos_frames lag steady_done_frames behind: voice data for the next
	 * block starts at steady_srcs[v] + steady_done_frames x n_channels.
	 * Any command that touches voices, speed or master first ends it
	 * (steady_end()), which brings the voices' positions up to date. */
	bool steady_ready;
	uint32_t steady_n_src;
	/* Frames the cached voices may still play before one reaches its loop point. */
	uint32_t steady_left_frames;
	uint32_t steady_done_frames;
	const float *steady_srcs[FLZ_MIXER_VOICE_STRUCTS];
	float steady_gains[FLZ_MIXER_VOICE_STRUCTS];

	/* Position of the next output frame in the source: pos_int + pos_frac / 2^32. */
	int64_t pos_int;
	uint32_t pos_frac;
	/* Speed as a 32.32 position increment per output frame. */
	uint64_t inc_fp;
	uint64_t inc_start_fp;
	uint64_t inc_target_fp;
	struct flz_mixer_glide speed_glide;

	float master_lin;
	float master_start_lin;
	float master_target_lin;
	float master_step_lin;
	struct flz_mixer_glide master_glide;

	/* The interpolator prepared for the last speed it saw, and the
	 * stretch table for the last constant speed > 1. */
	struct flz_resampler_speed interp_speed;
	struct flz_resampler_stretch stretch;

	int64_t frame;
};

#ifdef FLZ_HAVE_AVX2_RESAMPLER
/*
 * One steady block with AVX2+FMA (steady-avx2-rt.c): out[0 .. delay) =
 * master x prev[0 .. delay); the sum S of the sources (srcs[v][at + i] x
 * gains[v], v in order, over n_samples - delay samples) goes
 * to out[delay ..] times master, and its last 2 x delay samples to next
 * unscaled (the first delay of those to both). Requires n_samples >=
 * 2 x delay_samples. Values equal the AVX2 voice kernels' copy/add/mix.
 * Thread: rt.
 */
FLZ_RT void flz_mixer_steady_avx2(float *out, const float *prev, float *next, size_t n_samples,
				  size_t delay_samples, const float *const *srcs, size_t at_samples,
				  const float *gains, uint32_t n_src, float master_lin);
#endif

#endif /* FLZ_MIXER_INTERNAL_H */
