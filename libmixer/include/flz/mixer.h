/* SPDX-License-Identifier: MIT */
/**
 * @file flz/mixer.h
 * libmixer: the sample bank, the voice pool, and the render loop.
 *
 * A mixer owns FLZ_NUM_SAMPLES slots, each empty or holding a reference to a
 * decoded sample, and a pool of voices. Its audio-thread functions perform
 * the operations of the Python API (load, play and trigger, stop, stop all,
 * unload, pause, resume, seek, pad gain, pad speed, loop region, master
 * volume, speed) and render interleaved float blocks. Everything the
 * mixer needs is allocated by flz_mixer_new(); the audio-thread functions
 * never allocate, free, lock, or do I/O.
 *
 * Signal flow: each voice runs its own chain. Its reader reads the sample
 * from memory at the voice's own rate, global speed x pad speed
 * (FLZ_RATE_MIN..FLZ_RATE_MAX), through a band-limited windowed-sinc
 * interpolator (varispeed: pitch follows rate); then come the voice's
 * gain (voice x pad x fade), its stages (struct flz_mixer_stage_ops), its
 * meter (a key-locked voice's source, struct flz_mixer_source_ops, takes
 * the interpolator's place); then the sum, the master gain, the master meter. At rate exactly 1
 * with a whole-frame position a voice is a plain gain-and-add from the
 * sample. Nothing is rendered ahead of the output: a command acts on the
 * next output frame, a trigger's first frame is the next output frame at
 * any rate, and flz_mixer_latency_frames() is 0.
 *
 * Interpolator: Kaiser-windowed sincs tabulated as polyphase rows (64 per
 * frame, linear interpolation between them). At rates <= 1 a 20-tap one
 * (flat to 16 kHz, -0.4 dB at 20 kHz, 100 dB stopband from 32 kHz at
 * 48 kHz); its phase-0 row is an exact unit impulse. For a rate s > 1 a
 * 26-tap one (-0.08 dB at 20 kHz, 96 dB stopband from 30 kHz) is
 * stretched so nothing aliases: by the smallest of 2^(k/6), k = 1..12, at
 * or above s (cutoff / stretch, 2 x side taps, side = 13 x stretch rounded
 * up to even, 104 at rate 4), from rows built in flz_mixer_new() (a
 * voice's rate glides, and no table is built on the audio thread); the
 * passband is then up to 12% narrower than s alone would make it, exact
 * at 2^(k/6) (2, 4).
 * Positions are exact 32.32 fixed point.
 *
 * The loop: a voice plays s[start .. loop end) and then the slot's loop
 * region [loop start, loop end) (the whole sample by default) repeated; a
 * seek or a region moved below a voice crossfades over the voice ramp.
 *
 * Ramps (all linear per frame): voices 5 ms for stops, steals, pauses,
 * resumes, seeks and region wraps; pad gain 10 ms; master gain 10 ms;
 * global and pad speed 20 ms (see flz/voice.h for why 5 ms). All are
 * computed from the frame index within the ramp, so output never depends
 * on how it is split into render calls: render(a) + render(b) is
 * bit-identical to render(a + b) for the same commands at the same frames.
 *
 * Kernels: AVX2+FMA or portable C, chosen once in flz_mixer_new() from the
 * explicit config.cpu_flags (default flz_cpu_detect()). The library never
 * reads the environment.
 *
 * Sample ownership: each successful flz_mixer_load() hands the mixer one
 * reference, and the mixer holds exactly that one for as long as the slot
 * or any voice uses the sample (voices take no references of their own).
 * Once the sample is replaced or unloaded and no voice plays it any more,
 * that reference goes to the `retire` callback: exactly once per successful
 * load, whoever else still holds the sample (the caller, another slot it
 * was also loaded into). It need not be the last reference, and the mixer
 * never drops one itself (it never frees on the audio thread): the callback
 * gets it to the control side, which calls flz_sample_unref(), freeing the
 * sample only if that was the last. flz_mixer_destroy() drops the ones it
 * still holds without calling retire.
 *
 * Voice limit: at most FLZ_MAX_VOICES voices play at once (paused ones
 * count; a paused one that is stolen goes at once). A trigger when
 * all of them play steals the voice that was started earliest: it fades out
 * over the voice ramp in one of FLZ_MAX_VOICES extra fade slots while the new
 * voice starts at once. If every fade slot is busy too (more than
 * FLZ_MAX_VOICES steals or stops within one ramp), the fading voice closest
 * to silence (lowest gain; earliest started among equals) is cut to make
 * room. Stolen voices send no Stopped event. A voice cut before any render
 * sounded it sends no Started event (a stop that covered it still sends
 * its Stopped event, at the frame of the cut).
 *
 * Events: a Stopped event is sent from the render call that renders the
 * first frame in which none of its voices sounds (nothing sounds after a
 * fade: there is no look-ahead and no interpolator tail). A Started event
 * is sent from the render call whose first frame is its voice's first.
 * The events one render call sends go in command order (trigger and stop
 * commands by the order they were given); an event that became ready in an
 * earlier call went out then, before them. One exception keeps the queues
 * bounded: a stop command when 128 stops (twice the voice structs) await
 * their events sends the oldest ready Stopped event from inside itself, and
 * a trigger when 128 Started events wait sends the oldest of those; such
 * an event carries its true frame but may come before the render that
 * renders that frame and ahead of other events that were ready.
 *
 * Thread: one mixer is used by one control thread (new/destroy) and one
 * audio thread (everything below the banner). It is not shared further.
 */
#ifndef FLZ_MIXER_H
#define FLZ_MIXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flz/constants.h>
#include <flz/error.h>
#include <flz/rt.h>
#include <flz/sample.h>

#ifdef __cplusplus
extern "C" {
#endif
/**
 * A range of memory the audio thread touches, as the mixer (flz_mixer_memory())
 * and the engine list it for locking and for tests.
 */
struct flz_mem_region {
	const void *addr;
	size_t n_bytes;
};


struct flz_mixer;

/** Voice structs of a mixer: FLZ_MAX_VOICES that may play and as many fade
 *  slots. A stage has one state per voice struct. */
#define FLZ_MIXER_VOICE_SLOTS (2 * FLZ_MAX_VOICES)
/** Stages one voice chain may hold. */
#define FLZ_MIXER_MAX_STAGES 4
/** Parameters a stage takes per pad (flz_mixer_set_pad_stage_params()). */
#define FLZ_MIXER_STAGE_MAX_PARAMS 4

/**
 * A stage of the per-voice chain (after the voice's gain, before its meter
 * and the sum): one table of operations and one state per voice struct,
 * all allocated and initialised by the caller before flz_mixer_new(). The
 * mixer never allocates, copies or frees a state.
 *
 * What a stage may keep: anything in its state (filter memory, delay
 * lines, a stretcher's buffers), which lives in caller memory for as long
 * as the mixer does. What the mixer does to it: reset() when a voice
 * starts on the state's voice struct (trigger, play, after a steal or cut
 * of the struct's previous voice), so a new voice never hears an old one;
 * nothing on stop, pause, seek or loop wrap: a stop and a pause fade the
 * gain in front of the stage (so the stage sees its input fade to zero), a
 * seek and a wrap crossfade the two positions in front of the gain, so the
 * stage sees continuous input. A voice ends when its fade reaches zero;
 * the stage's tail past that is cut.
 *
 * Parameters per pad (optional, set_params()): a stage may take up to
 * FLZ_MIXER_STAGE_MAX_PARAMS floats per pad (an EQ's band gains), set with
 * flz_mixer_set_pad_stage_params() and kept by the mixer for the pad across
 * loads and triggers. A voice's state gets its pad's parameters when the
 * voice starts (set_params() then reset(), so it starts at them, without a
 * glide; set_params(state, NULL, 0) when the pad never had any or the
 * stage refuses them: the stage's defaults) and again at the next block after they change (the stage
 * glides to them as it sees fit).
 *
 * Idle (optional, idle()): a stage that passes its input through unchanged,
 * bit for bit, and will until its parameters change, says so; the mixer
 * then does not call its process() for that voice, and a voice whose
 * stages are all idle takes the same paths as a voice without stages (the
 * plain gain-and-add at rate 1). A stage that skipped blocks this way must
 * not rely on its history when set_params() wakes it.
 *
 * Transparent (optional, transparent()): a stage whose output is its input,
 * bit for bit, for the next block, but which wants to see that input (an
 * EQ at its exact bypass keeps its filters warm). The mixer still calls its
 * process(), on a copy of the voice's gained frames, and mixes the voice
 * with exactly the arithmetic of a voice without stages, so the output is
 * bit-identical to no stage (the staged path would round the gain and the
 * sum separately where the plain one fuses them).
 *
 * Thread: process(), reset(), set_params(), idle() and transparent() run
 * on the audio thread (FLZ_RT: they must not allocate, free, lock, log or wait);
 * latency_frames() on any.
 */
struct flz_mixer_stage_ops {
	/** Process @p n_frames interleaved frames in place (1..max_block_frames). */
	void (*process)(void *state, float *frames, uint32_t n_frames, uint32_t n_channels);
	/** Forget all history: the next process() starts a new voice. */
	void (*reset)(void *state);
	/** Delay the stage adds, in frames (reported, not compensated yet). */
	uint32_t (*latency_frames)(const void *state);
	/** For logs and tests. */
	const char *name;
	/** Optional: take a pad's @p n_params parameters (NULL, 0: the
	 *  defaults); 0, or -EINVAL for values the stage refuses (the state
	 *  keeps its old ones). */
	int (*set_params)(void *state, const float *params, uint32_t n_params);
	/** Optional: whether the stage is idle (see above); NULL: never. */
	bool (*idle)(const void *state);
	/** Optional: whether the next block passes through unchanged (see
	 *  above); NULL: never. */
	bool (*transparent)(const void *state);
};

/** One stage of the chain: its operations and one state per voice struct. */
struct flz_mixer_stage {
	const struct flz_mixer_stage_ops *ops;
	void *states[FLZ_MIXER_VOICE_SLOTS];
};

/** Most source states a mixer takes: key-locked voices at once. */
#define FLZ_MIXER_MAX_SOURCES FLZ_MAX_VOICES

/**
 * The reader a source pulls its input through (struct flz_mixer_source_ops):
 * the voice's own material at rate 1 from its position, with its loop
 * applied (the loop region repeated, as the voice would play it), after
 * the pre-roll's silence. Provided by the mixer; called from inside the
 * source's render() on the audio thread (FLZ_RT).
 * @param ctx the read_ctx render() was given
 * @param dst n_frames interleaved frames (the mixer's channels) to fill
 * @param n_frames frames wanted (any number)
 * @return n_frames: a looping voice's material never ends
 */
typedef uint32_t (*flz_mixer_read_fn)(void *ctx, float *dst, uint32_t n_frames);

/**
 * An optional per-voice source: a processor that replaces the varispeed
 * interpolator of the voices it is given (key lock: a time stretcher that
 * plays the material at the voice's rate with its pitch kept). Unlike a
 * stage, which works in place on frames the reader produced, a source
 * PULLS its input through the mixer's reader (flz_mixer_read_fn), at rate
 * 1 from the voice's position, as much as it needs; what it renders takes
 * the reader's output place in the chain (then come the gain, the stages,
 * the meter).
 *
 * States: config.n_sources (0..FLZ_MIXER_MAX_SOURCES), allocated and
 * prepared by the caller before flz_mixer_new() and freed after
 * flz_mixer_destroy(); the mixer hands them to voices from a fixed free
 * list on the audio thread: a voice that starts key-locked, or switches to
 * key lock while playing (flz_mixer_set_key_lock()), takes one (and its
 * start() is called), a voice that ends or switches back gives it back. A
 * key-locked start when none is free plays through the interpolator
 * instead and is counted (flz_mixer_key_lock_refused()).
 *
 * Thread: start(), set_rate() and render() run on the audio thread
 * (FLZ_RT: no allocation, free, lock, log or wait).
 */
struct flz_mixer_source_ops {
	/** A new voice at @p rate (FLZ_RATE_MIN..FLZ_RATE_MAX): forget all
	 *  history. Returns the pre-roll, the frames the reader yields first:
	 *  at a voice's start silence (the material before the voice's first
	 *  frame, which is silence in the mixer's stream), at a switch to key
	 *  lock mid-play or a tempo-locked voice's resume the material before
	 *  the position; >= 0; or a negative errno: the voice then plays
	 *  unlocked and counts as refused. */
	int64_t (*start)(void *state, double rate);
	/** The voice's rate changed (global x pad speed); 0 or a negative
	 *  errno (the source keeps its old rate). */
	int (*set_rate)(void *state, double rate);
	/** Render @p n_frames (1..max_block_frames) interleaved frames into
	 *  @p out, pulling input through @p read with @p read_ctx. The first
	 *  rendered frame after start() must be the one at the reader's
	 *  position then (the source compensates its own delay, with the
	 *  pre-roll). 0, or a negative errno: the block is silence. */
	int (*render)(void *state, flz_mixer_read_fn read, void *read_ctx, float *out,
		      uint32_t n_frames);
	/** Optional (NULL: render() primes by itself, all in the voice's
	 *  first block). One step of the start's priming: read at most
	 *  @p max_read_frames (>= 1) input frames through @p read and do the
	 *  work they cause; a step whose next read is larger reads nothing.
	 *  Returns 1 when primed (render()'s first frame is then the voice's
	 *  first frame, with nothing more to do first), 0 when more steps are
	 *  needed, or a negative errno (the voice then plays unlocked and
	 *  counts as refused). With it the mixer spreads priming over blocks
	 *  within config.prime_budget_frames (see flz_mixer_prepare()). */
	int (*prime_step)(void *state, flz_mixer_read_fn read, void *read_ctx,
			  uint32_t max_read_frames);
	/** For logs and tests. */
	const char *name;
};

/** What a mixer event reports. */
enum flz_mixer_event_kind {
	/** Every voice silenced by one stop/stop-all/unload command has reached
	 *  silence (after its fade-out). Sent once per command that silenced at
	 *  least one voice. */
	FLZ_MIXER_EVENT_STOPPED = 1,
	/** A trigger started a voice: token = the trigger's token, slot = the
	 *  pad, frame = the output frame (counted from mixer creation, the
	 *  flz_mixer_frame() base) at which the voice's first frame sounded.
	 *  Sent once per trigger that started a voice, from the render call
	 *  that rendered that frame. */
	FLZ_MIXER_EVENT_STARTED = 2,
};

struct flz_mixer_event {
	enum flz_mixer_event_kind kind;
	/** The token the command was given (flz_mixer_stop_slot() etc). */
	uint32_t token;
	/** The slot stopped, or -1 for stop-all. */
	int32_t slot;
	/** Output frame (counted from mixer creation). STOPPED: the first
	 *  frame from which none of the command's voices sounds (the output
	 *  is theirs no more from there on; the command's own frame when all
	 *  were silent already, paused). STARTED: the frame of the voice's
	 *  first frame. Sent from the render call that rendered that frame. */
	int64_t frame;
};

/** What flz_mixer_trigger() starts. */
struct flz_mixer_trigger {
	/** 0..FLZ_NUM_SAMPLES-1 */
	int32_t slot;
	/** 0..1, the voice's own gain (the pad gain multiplies it). */
	float gain;
	/** Carried by the STARTED event (the engine passes its seq). */
	uint32_t token;
	/** First fade out every voice, as flz_mixer_stop_all(stop_token). */
	bool exclusive;
	/** Token of that stop's STOPPED event (exclusive only). */
	uint32_t stop_token;
	/**
	 * Tempo lock: 0 (the default) for a varispeed voice at global x pad
	 * speed. Else the voice advances exactly lock_num / lock_den sample
	 * frames per output frame (0.25..4, both below 2^31), whatever the
	 * global and pad speed, and starts at @ref lock_pos_fp; its position
	 * is then a pure function of the output frame (see
	 * flz_mixer_set_pad_lock()).
	 */
	uint64_t lock_num;
	uint64_t lock_den;
	/** Locked voices: the sample position of the first frame, 32.32,
	 *  below the slot's loop end x 2^32 (0 for the loop start). */
	uint64_t lock_pos_fp;
	/** Take the source a flz_mixer_prepare() of this slot with this
	 *  @ref token primed (if it did and the voice is key-locked); false
	 *  (the default) for a trigger that was not prepared. */
	bool prepared;
};

struct flz_mixer_config {
	/** Output and sample rate. Default 48000. */
	uint32_t rate_hz;
	/** Interleaved output channels, 1..FLZ_MAX_CHANNELS. Default 2. */
	uint32_t n_channels;
	/** Largest n_frames flz_mixer_render() will be asked for, 1..FLZ_MAX_BLOCK_FRAMES.
	 *  Default 4096. */
	uint32_t max_block_frames;
	/** Voice fade for stops, steals and gain changes, in ms. Default 5. */
	float voice_ramp_ms;
	/** Master gain smoothing, in ms. Default 10. */
	float master_ramp_ms;
	/** Speed smoothing, in ms. Default 20. */
	float speed_ramp_ms;
	/** Initial master gain, 0..1. Default 1. */
	float master_gain;
	/** Initial speed, FLZ_SPEED_MIN..FLZ_SPEED_MAX. Default 1. */
	double speed;
	/**
	 * Receives the reference of one successful flz_mixer_load() once the
	 * mixer no longer uses it (see "Sample ownership" above): called exactly
	 * once per such load, never from flz_mixer_destroy(). The callback owns
	 * that reference, which may or may not be the last; it drops it with
	 * flz_sample_unref() on a thread that may free (an engine passes it to
	 * its control side). Called on the thread that called the mixer
	 * function (the audio thread in an engine). Must not block. Required.
	 */
	void (*retire)(void *userdata, struct flz_sample *sample);
	/** Receives events; called like @ref retire. May be NULL. */
	void (*event)(void *userdata, const struct flz_mixer_event *event);
	void *userdata;
	/**
	 * Instruction sets the kernels may use (FLZ_CPU_* of flz/voice.h).
	 * Default: flz_cpu_detect(). 0 selects the portable C kernels. Bits
	 * the CPU lacks are refused (-EINVAL) rather than crash later.
	 */
	uint32_t cpu_flags;
	/** Stages of every voice chain, 0..FLZ_MIXER_MAX_STAGES. Default 0. */
	uint32_t n_stages;
	/** n_stages stages, copied by flz_mixer_new(); each ops and its
	 *  process and reset non-NULL, each state non-NULL. */
	const struct flz_mixer_stage *stages;
	/** The key-lock source (struct flz_mixer_source_ops), or NULL for
	 *  none (key-locked voices then all count as refused). Default NULL. */
	const struct flz_mixer_source_ops *source_ops;
	/** Source states, 0..FLZ_MIXER_MAX_SOURCES (0 without source_ops).
	 *  Default 0. */
	uint32_t n_sources;
	/** n_sources states, each non-NULL; the array is copied. */
	void *const *source_states;
	/**
	 * Key lock: the input frames all sources together may read while
	 * priming (source prime_step()) in one period of max_block_frames
	 * output frames (periods counted from frame 0, so an engine's blocks
	 * are periods). 0 (the default) derives it: 24 x max_block_frames, at
	 * least 2048 (3072 at 128-frame blocks: one start at rate 1 with
	 * Rubber Band R2, about 2560 frames, primes within its block). A
	 * source's read is never split: a step runs only when its next read
	 * fits in what is left, so a period reads at most this many (a source
	 * whose single read exceeds the whole budget primes at once instead,
	 * counted in flz_mixer_key_lock_prime_frames()). Unused without a
	 * prime_step op.
	 */
	uint32_t prime_budget_frames;
	/**
	 * Key lock: no standbys (true) or (false, the default) a source
	 * state left free is primed ahead, within the budget and after
	 * every voice and prepared start, for the next immediate start of a
	 * loaded key-locked pad that has none, from its loop start at its
	 * rate now (slots in order, one standby each), then, while states
	 * are left free, for the pad's retrigger (a second standby each, in
	 * slot order; a pad's first standby takes a second one's state). The
	 * trigger of such a
	 * start (not tempo-locked, the same load and loop region) takes it
	 * and sounds from its frame, with nothing left to prime (a rate
	 * changed since goes to set_rate(), as for a prepared start). A
	 * standby is never in the way: any start that needs a state and finds
	 * none free takes a standby's (a second one first, the slot's own
	 * before another's), so refusals are as without standbys. Unused without a prime_step op.
	 */
	bool standby_off;
};

/**
 * Defaults: 48000 Hz, 2 channels, 4096-frame blocks, ramps 5/10/20 ms,
 * master gain 1, speed 1, no callbacks, the CPU's kernels
 * (flz_cpu_detect()), no stages.
 *
 * @return the defaults, by value
 * Errors: none.
 * Thread: any.
 * Ownership: a plain value; nothing to free.
 */
struct flz_mixer_config flz_mixer_config_init(void);

/**
 * Create a mixer, allocating everything it will ever need.
 *
 * @param config settings; copied
 * @param[out] out the new mixer
 * @return 0 on success, a negative errno otherwise (*out is then untouched)
 * Errors: -EINVAL a config field out of range, retire is NULL, cpu_flags
 *         names an instruction set this CPU or build lacks, or a stage is
 *         incomplete; -ENOMEM an allocation failed.
 * Thread: control.
 * Ownership: the caller destroys the mixer with flz_mixer_destroy().
 */
FLZ_WARN_UNUSED int flz_mixer_new(const struct flz_mixer_config *config, struct flz_mixer **out);

/**
 * Destroy a mixer and drop every sample reference it holds (slots, voices,
 * fading voices) with flz_sample_unref(); the retire callback is not called.
 *
 * @param mixer the mixer, or NULL (nothing happens)
 * Errors: none.
 * Thread: control, never concurrently with an audio-thread call.
 * Ownership: frees the mixer and all its memory; the pointer is dangling after.
 */
void flz_mixer_destroy(struct flz_mixer *mixer);

/**
 * The delay, in output frames, between a command and its effect on the
 * output: 0, as commands act on the next output frame (a play's first
 * frame is the first frame of the next render call) and voices read their
 * samples from memory with nothing rendered ahead. Programs that align a
 * render with their commands should still add it.
 *
 * @return the latency in frames (0)
 * Errors: none.
 * Thread: any.
 * Ownership: reads only the mixer.
 */
uint32_t flz_mixer_latency_frames(const struct flz_mixer *mixer);

/**
 * The configuration the mixer was created with.
 *
 * @return a copy, by value
 * Errors: none.
 * Thread: any.
 * Ownership: a plain value; its userdata pointer is still the caller's.
 */
struct flz_mixer_config flz_mixer_get_config(const struct flz_mixer *mixer);

/** The most regions flz_mixer_memory() lists. */
#define FLZ_MIXER_MAX_MEMORY_REGIONS 16

/**
 * The memory the audio-thread functions touch: the mixer itself (its voices
 * included), its buffers and its interpolator's table, not the samples
 * nor the stages' states
 * (they are the caller's). Each region is whole pages of its own
 * (flz/pages.h), written when the mixer was created, so that a host may
 * lock them with mlock() and munlock() them without touching anything else.
 * The list is fixed at creation.
 *
 * @param regions room for @p max_regions; may be NULL when it is 0
 * @return the number of regions (at most FLZ_MIXER_MAX_MEMORY_REGIONS); the
 *         first min(that, max_regions) are stored
 * Errors: none (a max_regions below the count stores fewer, it does not fail).
 * Thread: any.
 * Ownership: the regions are the mixer's, valid until flz_mixer_destroy().
 */
int flz_mixer_memory(const struct flz_mixer *mixer, struct flz_mem_region *regions,
		     int max_regions);

/* ======================================================================
 * Audio-thread functions. Each is FLZ_RT and lives in src/mixer-rt.c.
 * A command takes effect at the next frame flz_mixer_render() produces.
 * ====================================================================== */

/**
 * Put a sample into a slot (replacing any sample there).
 *
 * @param slot 0..FLZ_NUM_SAMPLES-1
 * @param sample rate and channels equal to the mixer's; the mixer takes over
 *        one reference, which comes back through retire once the slot and
 *        every voice of it are done with it (loading the same sample twice
 *        hands over two references, and retire gets each). Voices already
 *        playing the slot's old sample keep playing it; the old load's
 *        reference is retired when no voice plays it.
 * @return 0 on success, a negative errno otherwise
 * Errors: -EINVAL slot out of range, NULL sample, or rate/channel mismatch
 *         (then the caller keeps its reference and nothing changes).
 * Thread: rt.
 * Ownership: on success one reference of @p sample passes to the mixer and
 *         comes back through the retire callback.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_load(struct flz_mixer *mixer, int32_t slot,
					  struct flz_sample *sample);

/**
 * Start a new voice on the slot's sample at its loop region's start (frame
 * 0 by default), as flz_mixer_trigger() with token 0, not exclusive; it
 * sends a STARTED event with token 0. It loops until stopped.
 *
 * @param gain 0..1
 * @return 1 when a voice started, 0 when the slot is empty (ignored), or a
 *         negative errno
 * Errors: -EINVAL slot or gain out of range, or NaN gain (nothing changes).
 *         A full voice table is no error: a voice is stolen (see above).
 * Thread: rt.
 * Ownership: the voice borrows the slot's load; no reference changes hands.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_play(struct flz_mixer *mixer, int32_t slot, float gain);

/**
 * Fade out every voice of the slot. When at least one voice was silenced,
 * a FLZ_MIXER_EVENT_STOPPED event with @p token follows once they are silent.
 *
 * @return number of voices silenced (>= 0), or a negative errno
 * Errors: -EINVAL slot out of range (nothing changes).
 * Thread: rt.
 * Ownership: references are retired through the callback, as always.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_stop_slot(struct flz_mixer *mixer, int32_t slot,
					       uint32_t token);

/**
 * Fade out every voice; a STOPPED event with @p token follows as for a slot.
 *
 * @return number of voices silenced (>= 0)
 * Errors: none.
 * Thread: rt.
 * Ownership: references are retired through the callback, as always.
 */
FLZ_RT int flz_mixer_stop_all(struct flz_mixer *mixer, uint32_t token);

/**
 * Fade out the slot's voices and empty the slot; its sample is retired once
 * silent. A STOPPED event with @p token follows as for flz_mixer_stop_slot().
 *
 * @return number of voices silenced (>= 0), or a negative errno
 * Errors: -EINVAL slot out of range (nothing changes).
 * Thread: rt.
 * Ownership: the slot's reference comes back through the retire callback
 *         once no voice plays it.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_unload(struct flz_mixer *mixer, int32_t slot,
					    uint32_t token);

/**
 * Set the master gain; the output glides to it over master_ramp_ms.
 *
 * @return 0 on success, a negative errno otherwise
 * Errors: -EINVAL gain out of 0..1 or NaN (nothing changes).
 * Thread: rt.
 * Ownership: touches only the mixer.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_set_master_gain(struct flz_mixer *mixer, float gain);

/**
 * Set the global speed; it glides there over speed_ramp_ms.
 *
 * @return 0 on success, a negative errno otherwise
 * Errors: -EINVAL speed out of FLZ_SPEED_MIN..FLZ_SPEED_MAX or NaN (nothing
 *         changes).
 * Thread: rt.
 * Ownership: touches only the mixer.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_set_speed(struct flz_mixer *mixer, double speed);

/**
 * Start a voice on the slot at its loop region's start (frame 0 by default),
 * sounding from the next output frame. flz_mixer_play(m, slot, gain) is a
 * trigger with token 0 that is not exclusive (it sends a STARTED event with
 * token 0 too).
 *
 * @param t what to start; with t->exclusive every voice first fades out as
 *        flz_mixer_stop_all(m, t->stop_token) would, in the same output frame
 * @return 1 when a voice started, 0 when the slot is empty (nothing at all
 *         happens then, not even the exclusive stop), or a negative errno
 *        (with t->lock_num, a tempo-locked voice from t->lock_pos_fp)
 * Errors: -EINVAL NULL @p t, slot out of range, gain out of 0..1 or NaN, a
 *         lock ratio out of range or a lock position at or past the loop
 *         end (nothing changes). A full voice table is no error: a voice
 *         is stolen as for flz_mixer_play().
 * Thread: rt.
 * Ownership: the voice borrows the slot's load; no reference changes hands.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_trigger(struct flz_mixer *mixer,
					     const struct flz_mixer_trigger *t);

/**
 * Pause the slot: every playing voice of it fades out over the voice ramp
 * and holds its position (a tempo-locked voice coasts on silently at its
 * lock instead). Pausing a paused voice does nothing. A paused
 * voice keeps its place among FLZ_MAX_VOICES (it can be stolen like any
 * other: earliest started first). A trigger on a paused pad starts a new,
 * playing voice (the paused ones stay paused).
 *
 * @return voices affected (>= 0), or a negative errno
 * Errors: -EINVAL slot out of range (nothing changes).
 * Thread: rt.
 * Ownership: touches only the mixer.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_pause_slot(struct flz_mixer *mixer, int32_t slot);

/**
 * Resume the slot's paused voices: each fades back in over the voice ramp
 * from the position it held (a tempo-locked voice, which coasts while
 * paused, from where its lock has it now: in phase, see
 * flz_mixer_set_pad_lock()). A key-locked one of those restarts its source
 * there, which primes within the budget first, silent (counted in
 * flz_mixer_key_lock_deferred() when it does not fit the period). Resuming
 * a playing voice does nothing.
 *
 * @return voices affected (>= 0), or a negative errno
 * Errors: -EINVAL slot out of range (nothing changes).
 * Thread: rt.
 * Ownership: touches only the mixer.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_resume_slot(struct flz_mixer *mixer, int32_t slot);

/**
 * Move every voice of the slot to sample frame @p frame, crossfaded over
 * the voice ramp: the old position fades out while the new one fades in.
 * A frame outside the loop region plays on until it reaches the region
 * (then loops in it); a frame past the region's end plays on to the
 * sample's end and then continues at the region's start. A paused voice
 * moves at once (it is silent) and resumes from there; a seek's crossfade
 * still running when a pause's fade ends is dropped, so the resume fades
 * in from the new position alone. A tempo-locked voice re-anchors its
 * lock at the seek (see flz_mixer_set_pad_lock()). Voices fading out after
 * a stop or a steal, and voices still playing a sample the slot no longer
 * holds, are not moved.
 *
 * @param frame 0 <= frame < the slot's sample's n_frames
 * @return voices moved (>= 0), or a negative errno
 * Errors: -EINVAL slot out of range or frame outside the slot's sample;
 *         -ENOENT empty slot (nothing changes).
 * Thread: rt.
 * Ownership: touches only the mixer.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_seek_slot(struct flz_mixer *mixer, int32_t slot,
					       int64_t frame);

/**
 * Set the pad gain, which multiplies every voice of the pad. Playing voices
 * glide to it over 10 ms; it stays for future triggers until changed.
 * Default 1. The engine converts dB (-60 dB -> exactly 0).
 *
 * @param gain_lin 0..FLZ_PAD_GAIN_MAX_LIN
 * @return 0, or a negative errno
 * Errors: -EINVAL slot out of range, gain out of range or NaN (nothing changes).
 * Thread: rt.
 * Ownership: touches only the mixer.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_set_pad_gain(struct flz_mixer *mixer, int32_t slot,
						  float gain_lin);

/**
 * Set the pad speed, which multiplies the global speed for the pad's voices
 * (varispeed: pitch follows). Playing voices glide over speed_ramp_ms.
 * Default 1; it stays for future triggers until changed.
 *
 * @param speed FLZ_PAD_SPEED_MIN..FLZ_PAD_SPEED_MAX
 * @return 0, or a negative errno
 * Errors: -EINVAL slot out of range, speed out of range or NaN (nothing changes).
 * Thread: rt.
 * Ownership: touches only the mixer.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_set_pad_speed(struct flz_mixer *mixer, int32_t slot,
						   double speed);

/**
 * Set the parameters of stage @p stage for the pad's voices (see struct
 * flz_mixer_stage_ops, "Parameters per pad"): playing voices get them at
 * the next block, later triggers when they start. They stay for the pad
 * across loads until changed.
 *
 * @param stage index into the config's stages; the stage has set_params()
 * @param params @p n_params finite floats, 1..FLZ_MIXER_STAGE_MAX_PARAMS;
 *        what they mean is the stage's
 * @return 0, or a negative errno
 * Errors: -EINVAL slot or stage out of range, a stage without
 *         set_params(), n_params out of range, NULL params or a value that
 *         is not finite (nothing changes). Values the stage refuses leave
 *         each voice's state as it was.
 * Thread: rt.
 * Ownership: the values are copied.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_set_pad_stage_params(struct flz_mixer *mixer, int32_t slot,
							  uint32_t stage, const float *params,
							  uint32_t n_params);

/**
 * Set the slot's loop region [start, end) in frames of its current sample.
 * New triggers start at @p start. A playing voice at or past the new end
 * wraps to the new start at once, click-free (a crossfade over the voice
 * ramp); a voice before start plays on until it reaches the region.
 * flz_mixer_load() and flz_mixer_unload() reset the region to the whole
 * sample.
 *
 * @param end -1 for the sample's end
 * @return 0, or a negative errno
 * Errors: -EINVAL slot out of range or not 0 <= start < end <= n_frames;
 *         -ENOENT empty slot (nothing changes).
 * Thread: rt.
 * Ownership: touches only the mixer.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_set_loop_region(struct flz_mixer *mixer, int32_t slot,
						     int64_t start, int64_t end);

/**
 * The slot's loop region [start, end) in frames of its current sample.
 *
 * @param[out] start first frame of the region
 * @param[out] end one past its last frame
 * @return 0, or a negative errno
 * Errors: -EINVAL slot out of range or an output NULL; -ENOENT empty slot
 *         (outputs untouched).
 * Thread: rt.
 * Ownership: reads only the mixer.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_loop_region(const struct flz_mixer *mixer, int32_t slot,
						 int64_t *start, int64_t *end);

/**
 * Lock, relock or unlock the slot's voices (stopping ones included) at the
 * next output frame. A locked voice (a trigger with lock_num, or a voice
 * locked here) advances exactly num / den sample frames per output frame:
 * its position at output frame f is p0 + floor((f - f0) x num x 2^32 / den)
 * from its anchor (f0, p0), wrapped into its loop region, computed in
 * integers from f, so it cannot drift and render(a) + render(b) renders
 * the same frames as render(a + b).
 *
 * A new ratio re-anchors at the next output frame (the position there
 * is continuous) and the rate glides: linearly from the old rate to
 * num / den over speed_ramp_ms, then, because that glide leaves the voice
 * behind (or ahead of) where the new ratio alone would have taken it by
 * half the glide's rate difference x its length, a smooth catch-up of that
 * difference over at least four glide lengths, after which the position is
 * exactly that of the new ratio from the re-anchor: the phase is kept.
 * The catch-up moves the rate by at most a quarter of the lower of the old
 * rate and num / den, and never out of FLZ_RATE_MIN..FLZ_RATE_MAX (to
 * within 2^-31 frame per frame of rounding): it lasts longer when there is
 * little room (up to 500 glide lengths); where even that is not enough (a
 * ratio at or next to an end of the range) the glide is shortened, down
 * to a step of the rate, and a distance an unfinished earlier glide left
 * on the wrong side is closed by moving the voice there at once,
 * crossfaded like a seek. The phase converges exactly in every case. A
 * voice that was not locked glides from its varispeed rate the same way.
 * @p num 0 unlocks: the voices return to global x pad speed at once.
 *
 * While paused, a locked voice coasts silently at its lock (its position
 * stays the lock's function of the output frame, relocks included), so a
 * resume fades it in where it would be had it played on: in phase with the
 * transport. A seek moves it (crossfaded) and re-anchors the lock there:
 * its position is then the seek's frame + num / den x the output frames
 * since (a glide still running ends with the seek).
 *
 * @param num the ratio's numerator, 0 to unlock
 * @param den its denominator; num / den within 0.25..4, both below 2^31
 * @return the voices changed (>= 0), or a negative errno
 * Errors: -EINVAL slot out of range, or a ratio out of range (nothing
 *         changes).
 * Thread: rt.
 * Ownership: touches only the mixer.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_set_pad_lock(struct flz_mixer *mixer, int32_t slot,
						  uint64_t num, uint64_t den);

/**
 * Key lock for every pad that follows the global setting (see
 * flz_mixer_set_pad_key_lock()). Default off.
 *
 * A key-locked voice takes a source state (struct flz_mixer_source_ops)
 * when it starts and renders through it at its rate, global x pad speed,
 * with its pitch kept, through rate 1 too (it never takes the rate-1 plain
 * paths); when none is free (or the mixer has no source) it plays through
 * the interpolator (pitch follows rate) and flz_mixer_key_lock_refused()
 * counts it. The setting applies to playing voices as well: at its next
 * block a playing voice whose setting changed switches path with a 10 ms
 * equal-power crossfade (to key lock: a source started at the voice's
 * position, the material before it as its pre-roll; none free: it stays
 * unlocked, counted once; from key lock: the interpolator at the source's
 * audible position). A switch waits for a running switch or seek
 * crossfade to end; a paused voice switches when it resumes; a stopping
 * voice keeps its path. A tempo-locked voice (triggered with a lock ratio,
 * or locked while it plays, flz_mixer_set_pad_lock()) that is key-locked
 * plays through its source at the lock ratio (its glides included), and a
 * servo keeps it on the lock's position: it trims the source's rate by at
 * most 0.5 % so that the material the source has read, less its latency
 * (measured over the first 0.5 s), follows the lock's advance; paused, it
 * coasts with the lock and its source restarts there at the resume.
 *
 * Errors: none.
 * Thread: rt.
 * Ownership: touches only the mixer.
 */
FLZ_RT void flz_mixer_set_key_lock(struct flz_mixer *mixer, bool on);

/**
 * A pad's own key lock: @p mode 1 on, 0 off, -1 follows the global setting
 * (flz_mixer_set_key_lock(); the default). Playing voices of the pad switch
 * path as flz_mixer_set_key_lock() says.
 *
 * @return 0, or a negative errno
 * Errors: -EINVAL slot out of range or mode not -1, 0 or 1 (nothing changes).
 * Thread: rt.
 * Ownership: touches only the mixer.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_set_pad_key_lock(struct flz_mixer *mixer, int32_t slot,
						      int mode);

/**
 * Key-locked starts that found no free source state (or whose source's
 * start() failed) and played unlocked, since creation.
 *
 * Errors: none. Thread: rt. Ownership: reads only the mixer.
 */
FLZ_RT uint64_t flz_mixer_key_lock_refused(const struct flz_mixer *mixer);

/**
 * Voices rendering through a source now (source states in use by voices,
 * not by prepared starts).
 *
 * Errors: none. Thread: rt. Ownership: reads only the mixer.
 */
FLZ_RT uint32_t flz_mixer_key_locked_voices(const struct flz_mixer *mixer);

/**
 * Prepare a start that waits (a quantised or at-frame play): if the pad
 * is key-locked now, take the pad's standby if it has one at the pad's
 * rate now (see config.standby_off: primed already, maybe), else a free
 * source state (a standby's if none is free), start() it at the pad's
 * rate now, position a reader of the slot's sample at the loop start,
 * and prime it a budgeted step per period (prime_step(), earliest
 * @p due_frame first, after voices already late) until the start's
 * flz_mixer_trigger() with .prepared and the same slot and token takes it.
 * The prepared start then sounds on its frame, with nothing left to prime.
 * The state is given back by a trigger that does not take it (the voice
 * is tempo-locked (see flz_mixer_prepare_locked()) or no longer key-locked, or the slot's sample or loop
 * region changed: then the voice starts its source afresh; or the slot
 * is empty; a trigger refused with -EINVAL changes nothing), and by
 * flz_mixer_stop_slot() / flz_mixer_unload() of the slot,
 * flz_mixer_stop_all() and an exclusive trigger (pending starts are
 * cancelled with the voices). While prepared it is not free: a key-locked
 * start beyond the pool is refused as usual.
 *
 * @param slot 0..FLZ_NUM_SAMPLES-1
 * @param token the token its trigger will carry
 * @param due_frame the output frame it is due at (orders the priming)
 * @return 1 prepared; 0 nothing to do (empty slot, not key-locked, no
 *         prime_step op, or no state free and no standby: its trigger then starts as an
 *         unprepared one); or a negative errno
 * Errors: -EINVAL slot out of range (nothing changes).
 * Thread: rt.
 * Ownership: the prepared start holds a use of the slot's sample until
 *         it is taken or given back.
 */
FLZ_RT int flz_mixer_prepare(struct flz_mixer *mixer, int32_t slot, uint32_t token,
			     int64_t due_frame);

/**
 * As flz_mixer_prepare(), for a start that will be tempo-locked: its
 * source is started at the lock's ratio @p lock_num / @p lock_den and its
 * reader put at @p lock_pos_fp (32.32 frames), what the trigger at
 * @p due_frame will carry (the transport's lock computed for that frame).
 * The trigger takes it when its lock_num, lock_den and lock_pos_fp are
 * these (else the tempo or the bar moved meanwhile: it gives it back and
 * starts afresh).
 * @return as flz_mixer_prepare()
 * Errors: -EINVAL slot out of range, a ratio flz_mixer_trigger() would
 *         refuse, or lock_num 0 (nothing changes).
 * Thread: rt.
 * Ownership: as flz_mixer_prepare().
 */
FLZ_RT int flz_mixer_prepare_locked(struct flz_mixer *mixer, int32_t slot, uint32_t token,
				    int64_t due_frame, uint32_t lock_num, uint32_t lock_den,
				    uint64_t lock_pos_fp);

/**
 * Starts prepared now (flz_mixer_prepare()), holding source states
 * (standbys not counted).
 *
 * Errors: none. Thread: rt. Ownership: reads only the mixer.
 */
FLZ_RT uint32_t flz_mixer_key_lock_prepared(const struct flz_mixer *mixer);

/**
 * Standbys now (see config.standby_off): source states held for the next
 * immediate start of a key-locked pad; @p primed, if non-NULL, gets how
 * many of them have primed.
 *
 * Errors: none. Thread: rt. Ownership: reads only the mixer.
 */
FLZ_RT uint32_t flz_mixer_key_lock_standby(const struct flz_mixer *mixer, uint32_t *primed);

/**
 * Key-locked starts that sounded later than the frame they were
 * triggered at because their priming did not fit in the budget
 * (config.prime_budget_frames) of the period they started in, since
 * creation. Such a voice is silent, its reader and fades held, for whole
 * periods until primed, and its STARTED event reports the frame it first
 * sounds at. A resume of a paused key-locked, tempo-locked voice, whose
 * source restarts, counts the same way when its priming does not fit (it
 * sends no STARTED event: the voice sent its own).
 *
 * Errors: none. Thread: rt. Ownership: reads only the mixer.
 */
FLZ_RT uint64_t flz_mixer_key_lock_deferred(const struct flz_mixer *mixer);

/**
 * The output frames those deferred starts were late by, summed.
 *
 * Errors: none. Thread: rt. Ownership: reads only the mixer.
 */
FLZ_RT uint64_t flz_mixer_key_lock_deferred_frames(const struct flz_mixer *mixer);

/**
 * Input frames read while priming through prime_step() since creation
 * (a test hook: its growth over a period is bounded by
 * config.prime_budget_frames).
 *
 * Errors: none. Thread: rt. Ownership: reads only the mixer.
 */
FLZ_RT uint64_t flz_mixer_key_lock_prime_frames(const struct flz_mixer *mixer);

/**
 * Render the next block.
 *
 * @param out n_frames * n_channels floats, overwritten
 * @param n_frames 0..max_block_frames
 * @return 0 on success, a negative errno otherwise
 * Errors: -EINVAL n_frames exceeds max_block_frames, or out is NULL with
 *         n_frames > 0 (out untouched, nothing advances).
 * Thread: rt. Calls the retire and event callbacks from inside.
 * Ownership: @p out is the caller's; retired references pass to the retire
 *         callback, which owns them from then on.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_mixer_render(struct flz_mixer *mixer, float *out, uint32_t n_frames);

/**
 * Voices playing now (not counting fading ones).
 *
 * Errors: none.
 * Thread: rt.
 * Ownership: reads only the mixer.
 */
FLZ_RT uint32_t flz_mixer_voices_playing(const struct flz_mixer *mixer);

/**
 * Voices fading out now.
 *
 * Errors: none.
 * Thread: rt.
 * Ownership: reads only the mixer.
 */
FLZ_RT uint32_t flz_mixer_voices_fading(const struct flz_mixer *mixer);

/**
 * Output frames rendered since creation.
 *
 * Errors: none.
 * Thread: rt.
 * Ownership: reads only the mixer.
 */
FLZ_RT int64_t flz_mixer_frame(const struct flz_mixer *mixer);

/**
 * The meters accumulated since the last flz_mixer_take_meters(): for the
 * frames rendered in between, the exact max |x| per output channel after
 * the master gain, and per slot the max |x| of its voices' contribution
 * (after the voice's gain, the pad's gain, the fades and the stages: the
 * meter tap, over all channels). A slot "sounded" when that max is above
 * zero; position_frames is then the position in its sample, in sample
 * frames, of its newest voice (the last started) that sounded, as of the
 * take, or of its end for a voice that ended (a key-locked voice's
 * audible position, not its stretcher's read-ahead). A slot's pad_peak,
 * position_frames and sample_rate_hz are meaningful only where it
 * sounded: a take writes those of the slots that sounded alone.
 */
struct flz_mixer_meters {
	/** Output frames the figures cover. */
	int64_t n_frames;
	uint32_t n_channels;
	float master_peak[FLZ_MAX_CHANNELS];
	bool sounded[FLZ_NUM_SAMPLES];
	float pad_peak[FLZ_NUM_SAMPLES];
	double position_frames[FLZ_NUM_SAMPLES];
	/** The rate of the sample position_frames is in. */
	uint32_t sample_rate_hz[FLZ_NUM_SAMPLES];
};

/**
 * Copy the meters accumulated since the last call (or creation) into
 * @p out and start accumulating afresh. Lives in src/meters-rt.c. Its
 * cost grows with the slots that sounded and the voices playing, not with
 * FLZ_NUM_SAMPLES.
 *
 * Errors: none.
 * Thread: rt (the thread that renders).
 * Ownership: @p out is the caller's: its counts, master peaks and sounded
 * flags are overwritten, and the per-slot values of the slots that
 * sounded (the others keep what they held).
 */
FLZ_RT void flz_mixer_take_meters(struct flz_mixer *mixer, struct flz_mixer_meters *out);

#ifdef __cplusplus
}
#endif

#endif /* FLZ_MIXER_H */
