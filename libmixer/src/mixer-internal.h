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
#define FLZ_MIXER_VOICE_STRUCTS FLZ_MIXER_VOICE_SLOTS
/* Stop commands whose Stopped event is still to come. Each one has voices
 * still fading (at most VOICE_STRUCTS of them) or is sent at the end of the
 * render call in which its last voice went silent, so twice VOICE_STRUCTS
 * is roomy; when it is full, the oldest ready one is sent at once. */
#define FLZ_MIXER_MAX_PENDING (2 * FLZ_MIXER_VOICE_STRUCTS)
/* Started events waiting for the render call that sounds their voice. */
#define FLZ_MIXER_MAX_STARTED (2 * FLZ_MIXER_VOICE_STRUCTS)

/* Buffers the mixer allocates beside its struct and the interpolator's
 * table: vbuf, vbuf_old, window, scratch_off, scratch_frac, scratch_inc,
 * switch_gain. */
#define FLZ_MIXER_BUFFERS 7

/* The highest rate a voice reaches: FLZ_RATE_MAX, a locked voice's
 * catch-up after a tempo change included (lock-rt.c keeps it within the
 * range; its steps' 2^-32 rounding adds far less than the window's slack
 * of 8 frames). */
#define FLZ_MIXER_LOCK_RATE_MAX 4
_Static_assert(FLZ_MIXER_LOCK_RATE_MAX == (int)FLZ_RATE_MAX, "the tap window's rate is the range's");

/* Frames of the tap window of one voice block: the stream frames of
 * n_frames output frames at the highest rate, plus the kernel's reach each
 * side. */
#define FLZ_MIXER_WINDOW_FRAMES(max_block) \
	((uint32_t)FLZ_MIXER_LOCK_RATE_MAX * (max_block) + 2 * FLZ_RESAMPLER_MAX_SIDE_TAPS + 8)

/* Entries of the sample table: every entry in use is either some slot's
 * sample (at most NUM_SAMPLES of those) or, replaced or unloaded, still
 * played by at least one voice (at most one entry per voice struct) or
 * held by a prepared start (at most one per source state). */
#define FLZ_MIXER_SAMPLE_ENTRIES \
	(FLZ_NUM_SAMPLES + FLZ_MIXER_VOICE_STRUCTS + FLZ_MIXER_MAX_SOURCES)

/* 32.32 fixed point one: rate 1, one frame. */
#define FLZ_MIXER_POS_ONE ((uint64_t)1 << 32)

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

/* A linear ramp of a value, per output frame: frame k (1-based, counted
 * from the command) gets start + (target - start) x k / n_frames, frame
 * n_frames and later the target exactly. Computed from k, never
 * accumulated, so it does not depend on block boundaries. */
struct flz_mixer_ramp {
	bool active;
	float start;
	float target;
	uint32_t done_frames;
	uint32_t n_frames;
};

/* A glide of a 32.32 rate, as a ramp. */
struct flz_mixer_glide {
	bool active;
	uint64_t start_fp;
	uint64_t target_fp;
	uint32_t done_frames;
	uint32_t n_frames;
};

/*
 * Where a voice reads its sample. The played stream of a voice is
 * s[start .. run end) then the loop region [loop_start, loop_end) repeated;
 * before the voice's first frame it is silence. The position is exact:
 * pos_frames + pos_frac / 2^32, advanced by integer 32.32 increments only.
 */
struct flz_mixer_reader {
	/* Sample frame of the position. */
	int64_t pos_frames;
	uint32_t pos_frac;
	/* Sample frame where the current contiguous run began (the voice's
	 * start or seek target, or loop_start after a wrap). */
	int64_t run_start;
	/* Stream frames played since the start or seek: taps further back read
	 * silence. */
	int64_t age_frames;
	/* A wrap happened: the frames before run_start are those of the run
	 * it ended, [prev_start, prev_end) (the sample's end after a seek past
	 * the loop, the old loop end after the region moved), and before
	 * that the loop region repeated. */
	bool wrapped;
	int64_t prev_start;
	int64_t prev_end;
};

/*
 * A tempo-locked voice's rate (lock-rt.c). Its reader advances by the
 * exact differences of D(k) = floor(k x num x 2^32 / den) + c(k), k the
 * output frames rendered since the anchor, so its position is the pure
 * function p0 + D(k) (wrapped by the reader), whatever the blocks. c(k) is
 * the glide after a re-anchor: zero from glide_frames + catch_frames on.
 */
struct flz_mixer_lock {
	bool on;
	uint64_t num, den;
	/* floor(num x 2^32 / den) and the remainder: one output frame's step. */
	uint64_t step_q, step_r;
	/* The rounded rate, for the interpolator's kernel. */
	uint64_t inc_fp;
	/* Frames since the anchor, and (k x num x 2^32) mod den. */
	int64_t k;
	uint64_t rem;
	/* The glide: rate_old - rate_new in 2^-32 frames per frame, over
	 * glide_frames, then the catch-up over catch_frames. */
	double delta_fp;
	/* The offset an unfinished earlier glide had at the re-anchor. */
	double e_fp;
	uint32_t glide_frames;
	uint32_t catch_frames;
};

/*
 * The servo of a key-locked, tempo-locked voice (lock-rt.c): its source
 * reads at rate 1 at its own pace, so nothing ties its output to the
 * lock's position but the rate it is given. The servo counts the material
 * the source has read minus the lock's advance (diff_fp, 2^-32 frames:
 * the frames the source holds, its latency, plus any drift), takes the
 * mean of it over the settle time as the latency (ref), and from then on
 * trims the rate given to the source by at most FLZ_MIXER_SERVO_TRIM_MAX
 * so that the low-passed diff (avg) stays on ref (proportional and
 * integral, lock-rt.c).
 */
struct flz_mixer_servo {
	bool on;
	int64_t diff_fp;
	/* Settling: frames still to average, and the sum of diff x frames. */
	uint32_t settle_left;
	double settle_sum;
	double settle_n;
	/* Frames until the trim is next updated. */
	uint32_t update_left;
	double ref;
	double avg;
	/* The integral of avg - ref, frames x seconds. */
	double integ;
	double trim;
	/* Material frames the source started behind the lock (a deferred
	 * start), added to the settled mean to give the reference. */
	double behind;
};

struct flz_mixer_voice {
	/* The sample played (not owned here), NULL when the struct is free. */
	struct flz_sample *sample;
	int32_t slot;
	/* Index in samples[] of the entry whose sample the voice plays, or -1. */
	int32_t entry;
	/* Start order, for stealing the earliest-started voice. */
	uint64_t serial;
	/* Index in pending[] of the stop this voice belongs to, or -1. */
	int32_t pending;
	/* The voice's own gain (the trigger's). */
	float gain_lin;
	/* Stop, pause and resume fades (voice ramp). */
	struct flz_mixer_ramp fade;
	bool stopping;
	/* Fading out to a pause (pausing) or holding its position (paused). */
	bool pausing;
	bool paused;
	/* Loop region, a copy of the slot's for the voice's sample. */
	int64_t loop_start;
	int64_t loop_end;
	struct flz_mixer_reader rd;
	/* A seek's or a wrap's crossfade: @ref old fades out over xfade_n
	 * frames while rd fades in. */
	struct flz_mixer_reader old;
	bool xfade;
	uint32_t xfade_done;
	/* Meter tap: peak |x| after gain (and stages) over the blocks
	 * rendered since the meters last folded it in (voice_tap()). */
	float peak_lin;
	/* Tempo lock (off: varispeed at global x pad speed). */
	struct flz_mixer_lock lock;
	/* Per stage: the serial of the pad's parameters the state has. */
	uint32_t params_serial[FLZ_MIXER_MAX_STAGES];
	/* Key lock: the source state the voice renders through (index into
	 * source_states[]), or -1; the rate it was last given; the pre-roll
	 * frames of silence its reader still yields; the mixer's channels
	 * (for the reader, whose context is the voice). */
	int32_t src;
	double src_rate;
	int64_t src_preroll;
	uint32_t src_channels;
	/* Priming through prime_step() (within the budget): silent, held,
	 * its STARTED event not queued yet; the frame it was triggered at;
	 * the input frames its priming steps read. */
	bool src_priming;
	int64_t src_trigger_frame;
	uint64_t src_prime_read;
	/* Its trigger's token, for the STARTED event queued once primed, and
	 * whether that event was held back (not sent yet by a full queue). */
	uint32_t src_token;
	bool src_started_held;
	/* The pre-roll is the material before the reader's position (a switch
	 * to key lock mid-play), not silence (a start). */
	bool src_preroll_material;
	/* A key-locked voice's audible position: where its source's output
	 * is in the material (the reader is ahead by what the source holds),
	 * advanced by the voice's rate; the interpolator's reader after a
	 * switch to unlocked. */
	struct flz_mixer_reader aud;
	/* Paused, the audible position coasted with the lock: the source
	 * restarts there at the resume. */
	bool src_coasted;
	/* The key-lock setting this voice has acted on (mixer key_lock_serial). */
	uint32_t kl_serial;
	/* A switch between paths (key lock on or off while playing): the old
	 * path fades out over switch_frames with equal-power gains while the
	 * new one (src, rd) fades in. The old path is source sw_src reading
	 * sw_rd (lock off), or the interpolator on sw_rd (sw_src -1, lock on). */
	bool sw;
	uint32_t sw_done;
	int32_t sw_src;
	double sw_rate;
	struct flz_mixer_reader sw_rd;
	struct flz_mixer_servo servo;
};

/* Standbys a key-locked pad may have: one for its next immediate start,
 * and, while states are free, one more for a retrigger. */
#define FLZ_MIXER_STANDBYS_PER_PAD 2

/* A start prepared while it waits (flz_mixer_prepare()), or a standby
 * (a free state primed for the next immediate start of a key-locked
 * pad): its source state, primed in steps through @ref v (a voice used
 * only as the reader's context and to carry the source: sample, entry,
 * slot, loop region, reader, source fields). */
struct flz_mixer_prepared {
	struct flz_mixer_voice v;
	uint32_t token; /* unused by a standby */
	int64_t due_frame; /* INT64_MAX for a standby: primed last */
	bool primed;
	bool standby;
	/* For a tempo-locked start (flz_mixer_prepare_locked()): the lock its
	 * trigger must carry; lock_num 0 for an unlocked one. */
	uint32_t lock_num, lock_den;
	uint64_t lock_pos_fp;
};

/* Every kernel the render code calls, in one table chosen once in
 * flz_mixer_new() from the explicit config.cpu_flags: AVX2+FMA or
 * portable C, each from its own *-rt.c file; render code has no #ifdef. */
struct flz_mixer_ops {
	void (*add)(float *dst, const float *src, size_t n_samples, float gain);
	void (*mix_add)(float *dst, const float *const *src, const float *gain, uint32_t n_src,
			size_t n_samples, bool overwrite, float *src_peak);
	float (*peak)(const float *src, size_t n_samples);
	void (*peak_frames)(const float *src, size_t n_frames, uint32_t n_channels, float *peaks);
	void (*mix_out)(float *dst, const float *const *src, const float *gain, uint32_t n_src,
			size_t n_frames, uint32_t n_channels, float scale, float *src_peak,
			float *out_peaks);
	flz_resampler_frame_fn interp;
	/* The same over a block at one rate (frame for frame the same values). */
	flz_resampler_run_fn interp_run;
	/* "avx2+fma" or "generic". */
	const char *name;
};

/* A pad: gain and speed that persist across loads and triggers. */
struct flz_mixer_pad {
	struct flz_mixer_ramp gain;
	struct flz_mixer_glide speed;
	/* The slot's loop region for its current sample ([0, n_frames) on load). */
	int64_t loop_start;
	int64_t loop_end;
	/* Per stage: the parameters set for the pad, and their serial (0:
	 * never set, the stage's defaults). */
	float stage_params[FLZ_MIXER_MAX_STAGES][FLZ_MIXER_STAGE_MAX_PARAMS];
	uint32_t stage_n_params[FLZ_MIXER_MAX_STAGES];
	uint32_t stage_serial[FLZ_MIXER_MAX_STAGES];
	/* Key lock: -1 follows the mixer's, 0 off, 1 on. */
	int8_t key_lock;
};

struct flz_mixer_pending {
	bool in_use;
	uint32_t token;
	int32_t slot;
	/* Voices of this stop still fading. */
	uint32_t n_voices;
	/* Last output frame in which any of its voices sounded. */
	int64_t last_frame;
	/* Order of the stop command, for sending events in command order. */
	uint64_t serial;
};

struct flz_mixer_started {
	uint32_t token;
	int32_t slot;
	/* Order of the trigger, for sending events in command order. */
	uint64_t serial;
};

struct flz_mixer {
	/* ---- Set by flz_mixer_new(), read-only afterwards. ---- */
	struct flz_mixer_config config;
	struct flz_mixer_ops ops;
	struct flz_resampler resampler;
	/* The per-voice chain's stages (copied from the config). */
	uint32_t n_stages;
	struct flz_mixer_stage stages[FLZ_MIXER_MAX_STAGES];
	/* The key-lock source and its states (copied from the config). */
	const struct flz_mixer_source_ops *source_ops;
	uint32_t n_sources;
	void *source_states[FLZ_MIXER_MAX_SOURCES];
	uint32_t n_channels;
	uint32_t voice_ramp_frames;
	uint32_t pad_gain_ramp_frames;
	uint32_t window_frames;
	float *vbuf;         /* one voice's block: max_block frames */
	/* The crossfade's old position, then a transparent stage's copy:
	 * max_block frames. */
	float *vbuf_old;
	float *window;       /* a tap window gathered across a wrap: window_frames */
	int64_t *scratch_off; /* per output frame of a block: stream offset of its position */
	uint32_t *scratch_frac;
	uint64_t *scratch_inc;
	/* The buffers above as allocated (flz_pages_alloc()), for
	 * flz_mixer_memory() and flz_mixer_destroy(). */
	struct flz_mem_region buffers[FLZ_MIXER_BUFFERS];
	uint32_t n_buffers;

	/* ---- Audio-thread state: touched only by the rt functions. ---- */
	/* Per slot: index in samples[] of its sample, or -1 when empty. */
	int16_t slots[FLZ_NUM_SAMPLES];
	struct flz_mixer_pad pads[FLZ_NUM_SAMPLES];
	/* Pads whose gain or speed ramp is running (ends them at render). */
	uint32_t n_pad_ramps;
	/* The last serial given to stage parameters (never 0 once given). */
	uint32_t stage_params_serial;
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
	struct flz_mixer_started started[FLZ_MIXER_MAX_STARTED];
	uint32_t n_started;

	/* Global speed as a 32.32 increment per output frame, and its glide. */
	uint64_t inc_fp;
	struct flz_mixer_glide speed;

	float master_lin;
	struct flz_mixer_ramp master;

	/* Key lock: the global setting, the free source states (a stack of
	 * n_free_sources indices into source_states[]), the refusals. */
	bool key_lock;
	/* Bumped by every key-lock setting: voices whose kl_serial differs
	 * check their path at their next block. */
	uint32_t key_lock_serial;
	/* The switch between paths: frames (10 ms) and its gains, cos and sin
	 * of (pi / 2) x k / switch_frames for k = 1..switch_frames. */
	uint32_t switch_frames;
	float *switch_gain;
	uint8_t free_sources[FLZ_MIXER_MAX_SOURCES];
	uint32_t n_free_sources;
	uint64_t key_lock_refused;
	/* Priming within a budget (prime_step()): input frames per period of
	 * max_block_frames, the period the budget left is of, what is left;
	 * voices priming; starts prepared (prepared[0..n_prepared), unordered);
	 * the statistics. */
	uint32_t prime_budget;
	int64_t prime_period;
	uint32_t prime_left;
	uint32_t n_priming;
	struct flz_mixer_prepared prepared[FLZ_MIXER_MAX_SOURCES];
	uint32_t n_prepared;
	/* Standbys among the prepared (at most one per slot); set when a
	 * state was freed or a pad may have become key-locked, cleared by the
	 * scan that gives free states to pads without a standby. */
	uint32_t n_standby;
	bool standby_on; /* a prime_step op and not config.standby_off */
	bool standby_dirty;
	/* A voice waited for the budget to switch to key lock in the last
	 * render: standbys are neither primed nor made until it has. */
	bool switch_waiting;
	uint64_t key_lock_deferred;
	uint64_t key_lock_deferred_frames;
	uint64_t key_lock_prime_frames;

	int64_t frame;

	/* The meters since the last flz_mixer_take_meters() (src/meters-rt.c):
	 * per slot the serial of the newest voice counted, to keep its position;
	 * the slots that sounded, in the order they first did, so that a take
	 * copies and clears those alone. */
	struct flz_mixer_meters meter;
	uint64_t meter_serial[FLZ_NUM_SAMPLES];
	uint8_t meter_slots[FLZ_NUM_SAMPLES];
	uint32_t n_meter_slots;
};

/* A block's peak into the voice's meter tap, which holds the max since the
 * meters last read it: a render stores nothing for a silent block, and the
 * meters fold the taps in once per take and at a voice's end. */
FLZ_RT FLZ_HOT static inline void voice_tap(struct flz_mixer_voice *v, float peak)
{
	/* A store either way (a maxss): a branch on a running max of noise
	 * mispredicts at a rate that grows with each fold's reset. */
	const float held = v->peak_lin;
	v->peak_lin = peak > held ? peak : held;
}

/* The meters (src/meters-rt.c): fold a voice's tap into them and zero it
 * (its end; flz_mixer_take_meters() folds the playing ones), so that a
 * frame is counted once; count a block's frames and fold the output block,
 * after the master gain, per channel; or, when the render found the
 * output's peaks itself (the mix_out kernel), only count the frames. */
FLZ_RT void flz_mixer_meter_voice(struct flz_mixer *m, struct flz_mixer_voice *v);
FLZ_RT void flz_mixer_meter_block(struct flz_mixer *m, const float *out, uint32_t n_frames);
FLZ_RT void flz_mixer_meter_frames(struct flz_mixer *m, uint32_t n_frames);

/* ---- lock-rt.c: tempo-locked voices (Thread: rt) ---- */

/* Whether num / den is a lock ratio the mixer takes. */
FLZ_RT bool flz_mixer_lock_ratio_ok(uint64_t num, uint64_t den);
/* Anchor @p l at the next frame with ratio num / den and no glide. */
FLZ_RT void flz_mixer_lock_begin(struct flz_mixer_lock *l, uint64_t num, uint64_t den);
/* Re-anchor at the next frame with a new ratio, gliding from @p old_inc_fp
 * (the voice's rate now) over @p glide_frames (or less), then catching up,
 * within the rate range. Returns 0, or the offset (2^-32 frames) of the
 * voice from the new ratio's position that no catch-up within the range
 * can take back: the caller moves the voice by minus it. */
FLZ_RT int64_t flz_mixer_lock_retarget(struct flz_mixer_lock *l, uint64_t num, uint64_t den,
				       uint64_t old_inc_fp, uint32_t glide_frames);
/* Whether the next frame is on a glide (then each frame has its own step). */
FLZ_RT bool flz_mixer_lock_gliding(const struct flz_mixer_lock *l);
/* Offsets of the next @p n_frames positions from the reader's whole frame,
 * the reader's fraction @p frac0 included, into off[] and frac[]; returns
 * frac0 plus the whole block's advance (32.32). On a glide each frame's
 * step to the next goes to steps[] (n_frames of room), for its kernel.
 * Reads only *l. */
FLZ_RT uint64_t flz_mixer_lock_offsets(const struct flz_mixer_lock *l, uint32_t frac0,
				       uint32_t n_frames, int64_t *off, uint32_t *frac,
				       uint64_t *steps);
/* The advance of the next @p n_frames (32.32), as flz_mixer_lock_offsets(). */
FLZ_RT uint64_t flz_mixer_lock_advance(const struct flz_mixer_lock *l, uint32_t n_frames);
/* @p n_frames were rendered. */
FLZ_RT void flz_mixer_lock_commit(struct flz_mixer_lock *l, uint32_t n_frames);
/* ---- lock-rt.c: the servo of a key-locked, tempo-locked voice ---- */

/* Most trim of the servo, relative to the lock's rate: 0.5 %. */
#define FLZ_MIXER_SERVO_TRIM_MAX 0.005
/* The servo's source starts @p adv_fp (32.32 material frames) behind its
 * lock (a deferred start): the servo takes it back. Thread: rt. */
FLZ_RT void flz_mixer_servo_behind(struct flz_mixer_servo *s, uint64_t adv_fp);
/* Start the servo: settle (measure the source's latency) from now on. */
FLZ_RT void flz_mixer_servo_begin(struct flz_mixer_servo *s, uint32_t rate_hz);
/* The rate to give the source for the next @p n_frames: the lock's mean
 * step over them, trimmed. */
FLZ_RT double flz_mixer_servo_rate(const struct flz_mixer_servo *s,
				   const struct flz_mixer_lock *l, uint32_t n_frames);
/* The source read @p n_frames of material. */
FLZ_RT void flz_mixer_servo_read(struct flz_mixer_servo *s, uint32_t n_frames);
/* @p n_frames output frames were rendered over which the lock advanced by
 * @p adv_fp: update the mean and the trim. */
FLZ_RT void flz_mixer_servo_commit(struct flz_mixer_servo *s, uint64_t adv_fp, uint32_t n_frames,
				   uint32_t rate_hz, double rate);

/* (mixer-rt.c) Move a voice's position by @p delta_fp (2^-32 frames),
 * wrapped into its loop region, crossfaded as a seek (at once when paused). */
FLZ_RT void flz_mixer_voice_shift(struct flz_mixer_voice *v, int64_t delta_fp);

#endif /* FLZ_MIXER_INTERNAL_H */
