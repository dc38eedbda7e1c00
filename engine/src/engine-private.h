/* SPDX-License-Identifier: MIT */
/**
 * @file engine-private.h
 * Internals of the engine shared by its control side (engine.c, the
 * backends' control files), its audio side (engine-rt.c, format-rt.c, the
 * backends' *-rt.c files) and its tests.
 *
 * The audio side is split in two layers so that it can be driven without a
 * device:
 *  - struct flz_engine_core: the mixer, the three rings, the latest-value
 *    parameters and the statistics. flz_engine_core_process_rt() takes the
 *    pending commands and renders one block; it is the same code on every
 *    backend (offline renders call it on the caller's thread).
 *  - struct flz_engine_audio: the audio thread's state around the core;
 *    each backend's loop (backend.h) drives it: the ALSA mmap loop (wait,
 *    avail_update, mmap_begin, process, mmap_commit, recovery).
 */
#ifndef FLZ_ENGINE_PRIVATE_H
#define FLZ_ENGINE_PRIVATE_H

#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#if FLZ_HAVE_ALSA
#include <alsa/asoundlib.h>
#endif

#include <flz/engine.h>
#include <flz/eq.h>
#include <flz/mixer.h>
#include <flz/pages.h>
#include <flz/ring.h>
#include <flz/sample.h>
#include <flz/transport.h>

#include "backend.h"

/** Messages the audio thread can queue before the control side reads them. */
#define FLZ_ENGINE_MSG_CAPACITY 4096
/**
 * Retired samples in the return ring. The control side refuses a load
 * (-EAGAIN) while this many loads are in the engine's hands (queued, in a
 * slot, playing, or retired and not yet collected), so the ring cannot
 * overflow: each load's reference enters it exactly once (the mixer retires
 * it once, or a refused LOAD sends it back), and leaves the count when the
 * control side collects it.
 */
#define FLZ_ENGINE_RETIRE_CAPACITY FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT
/**
 * Longest wait for the device in one poll(). flz_engine_stop() does not wait
 * for it (it wakes the thread through the wake descriptor); it bounds how
 * late a device that stopped signalling is noticed by the stall check.
 */
#define FLZ_ENGINE_WAIT_TIMEOUT_MS 50
/** The PCM's poll descriptors the audio thread can watch, beside its wake descriptor. */
#define FLZ_ENGINE_MAX_PCM_FDS 63
/** Without a committed frame for this long, the device counts as lost. */
#define FLZ_ENGINE_STALL_NS 1000000000LL
/**
 * Wait between two resume attempts of a suspended device: a poll() on the
 * wake descriptor alone, so that flz_engine_stop() still ends it at once.
 */
#define FLZ_ENGINE_RESUME_WAIT_MS 10
/**
 * The audio thread's stack. The engine maps, writes and locks all of it
 * before the thread starts (engine.c, stack_init()), so it is a real size,
 * not a guess at what the loop touches: the loop, alsa-lib's calls into
 * its plugins (the jack PCM's included) and glibc's thread descriptor and
 * static TLS at its top fit with a wide margin (the deepest path, a
 * recovery through snd_pcm_prepare(), uses a few KiB).
 */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define FLZ_ENGINE_SANITIZED_STACK 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define FLZ_ENGINE_SANITIZED_STACK 1
#endif
#endif
#ifdef FLZ_ENGINE_SANITIZED_STACK
/* The sanitizers keep large per-thread state at a thread's stack top
 * (ThreadSanitizer asks for about 900 KiB): their builds get room for it. */
#define FLZ_ENGINE_AUDIO_STACK_BYTES (2048u * 1024u)
#else
#define FLZ_ENGINE_AUDIO_STACK_BYTES (256u * 1024u)
#endif
/** Housekeeping period. */
#define FLZ_ENGINE_HOUSE_PERIOD_MS 20

/** When a PLAY command starts its voice (struct flz_engine_cmd.start). */
enum flz_engine_cmd_start {
	/** As the command is applied. */
	FLZ_ENGINE_CMD_START_NOW = 0,
	/** On the first grid frame of cmd.quantize at or after the frame at
	 *  which the command is applied: a scheduled start. */
	FLZ_ENGINE_CMD_START_GRID = 1,
	/** At output frame cmd.frame (at once when that is past): a scheduled start. */
	FLZ_ENGINE_CMD_START_AT = 2,
};

/** One control -> audio command: a fixed-size ring element. */
struct flz_engine_cmd {
	/** enum flz_cmd_kind (any but VOLUME and SPEED, which are parameters). */
	uint32_t kind;
	/** Sequence number, shared with the parameters (wrap-safe order). */
	uint32_t seq;
	int32_t slot;
	/** PLAY, PLAY_EXCLUSIVE: the voice's gain; PAD_GAIN: the pad's, linear. */
	float gain_lin;
	/** PAD_SPEED: the pad's speed; MASTER_BPM, PAD_BPM: the tempo (PAD_BPM
	 *  0: none); BPM_LOCK: 1 on, 0 off. */
	double speed;
	/** SEEK: the sample frame; LOOP_REGION: the region's start; PLAY with
	 *  FLZ_ENGINE_CMD_START_AT: the output frame; ANCHOR: the downbeat
	 *  frame, or -1 for the frame at which the command is applied;
	 *  BEATS_PER_BAR: the count; PAD_DOWNBEAT: the sample frame. */
	int64_t frame;
	/** PLAY: enum flz_engine_cmd_start, resolved by the control side. */
	uint32_t start;
	/** PLAY with FLZ_ENGINE_CMD_START_GRID: enum flz_quantize (not OFF). */
	uint32_t quantize;
	/** LOOP_REGION: the region's end, -1 for the sample's end. */
	int64_t end_frame;
	/** LOAD: one reference, owned by the command until it is applied. */
	struct flz_sample *sample;
	/** PAD_EQ: the low, mid and high band gains, dB. */
	float eq_db[3];
};

/**
 * The word of a parameter that holds no new value: the audio side has taken
 * the last one. Its value bits are a NaN, which the control side never
 * stores (it refuses NaN), so no value is ever mistaken for it.
 */
#define FLZ_ENGINE_PARAM_TAKEN ((uint64_t)0x7fc00000u)

/**
 * A latest-value parameter: (seq << 32) | float bits, in one atomic word.
 *
 * Whether a value is new is never told from its sequence number: the audio
 * side takes the word with an exchange that leaves FLZ_ENGINE_PARAM_TAKEN,
 * so any other word it finds was set since it last looked, however often
 * the 32-bit counter has wrapped meanwhile (a number compared with the one
 * last applied would be "old" again after 2^32 calls, and 0 could not be
 * told from the initial value). Sequence numbers only order a value among
 * the commands and the other value taken since the audio side last drained
 * (flz_engine_seq_after(), right while they are less than 2^31 apart: that
 * is, unless 2^31 calls are made while the audio side does not drain at all).
 */
struct flz_engine_param {
	/** Stored by the control side under the engine mutex; taken by the audio side. */
	_Atomic uint64_t packed;
	/** Audio side only: a value taken but not yet applied (it came after
	 *  the command being applied), valid when has_held. */
	uint64_t held;
	bool has_held;
	/** FLZ_CMD_VOLUME or FLZ_CMD_SPEED, for the trace. */
	uint32_t kind;
};

static inline uint64_t flz_engine_param_pack(uint32_t seq, float value)
{
	union {
		float f;
		uint32_t u;
	} bits = { .f = value };
	return ((uint64_t)seq << 32) | bits.u;
}

static inline float flz_engine_param_value(uint64_t packed)
{
	union {
		uint32_t u;
		float f;
	} bits = { .u = (uint32_t)packed };
	return bits.f;
}

static inline uint32_t flz_engine_param_seq(uint64_t packed)
{
	return (uint32_t)(packed >> 32);
}

/** Whether sequence number @p a comes after @p b, across wrap-around. */
static inline bool flz_engine_seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

struct flz_engine_core {
	/* ---- Set up by the control side before the audio side runs. ---- */
	struct flz_mixer *mixer;
	/** control -> audio commands (producer: control, under the engine mutex). */
	struct flz_ring cmd_ring;
	/** audio -> control messages (struct flz_engine_msg). */
	struct flz_ring msg_ring;
	/** audio -> control retired samples (struct flz_sample *). */
	struct flz_ring retire_ring;
	void *cmd_storage;
	void *msg_storage;
	void *retire_storage;
	/** The EQ stage's states, one per voice struct (FLZ_MIXER_VOICE_SLOTS),
	 *  or NULL when libeq does not take the device's rate or channels. */
	struct flz_engine_eq_voice *eq;
	/** Index of the EQ stage in the mixer's chain. */
	uint32_t eq_stage;
	/** Key lock's processors (struct flz_stretch, keylock.c), the
	 *  mixer's source states: n_key_lock of them (none without the
	 *  stretch feature). */
	void *key_lock_states[FLZ_MIXER_MAX_SOURCES];
	uint32_t n_key_lock;
	/** What they were made for: their cache's key (keylock.c). */
	uint32_t key_lock_rate_hz, key_lock_channels, key_lock_block_frames;
	uint32_t rate_hz;
	uint32_t n_channels;
	/** The mixer's max_block_frames: the largest block process takes. */
	uint32_t max_block_frames;
	bool trace_commands;

	/* ---- Shared: written by the control side, read by the audio side. ---- */
	struct flz_engine_param volume;
	struct flz_engine_param speed;

	/* ---- Written by the audio side, read by the control side (stats). ---- */
	/** Output frames rendered since start, stored once per block with
	 *  release after the block's messages were posted (flz_engine_frame()). */
	_Atomic int64_t stat_frames;
	_Atomic uint64_t stat_xruns;
	/** Of stat_xruns, those the system caused (wav:PATH only): in time but
	 *  for the time the audio thread was kept off the CPU. */
	_Atomic uint64_t stat_xruns_stalled;
	_Atomic uint32_t stat_voices;
	/** Float bits of the load figure. */
	_Atomic uint32_t stat_load_bits;
	_Atomic uint64_t stat_messages_dropped;
	/** flz_mixer_key_lock_refused(), stored once per block. */
	_Atomic uint64_t stat_key_lock_refused;
	/** flz_mixer_key_lock_deferred() and _deferred_frames(), likewise. */
	_Atomic uint64_t stat_key_lock_deferred;
	_Atomic uint64_t stat_key_lock_deferred_frames;
	/** Retired samples that did not fit the return ring (a bug if ever > 0). */
	_Atomic uint64_t stat_retire_lost;
	_Atomic bool device_lost;
	_Atomic int lost_error;

	/* ---- The transport (audio side only, but for the counters below). ---- */
	/** The tempo grid, and the pending scheduled starts: in the core, so in
	 *  the engine's pages (flz_engine_rt_regions()), written by start. */
	struct flz_transport transport;
	struct flz_schedule schedule;
	/**
	 * Scheduled plays the audio side has finished with: started (triggered,
	 * whether or not the slot had a sample) or cancelled. Stored once per
	 * block with release, read by the control side with acquire: with its
	 * own count of scheduled plays queued (under the engine lock) it knows
	 * how many can still be pending, and refuses the 257th, so that the
	 * schedule's insert never fails on the audio side.
	 */
	_Atomic uint64_t sched_done;
	/** Audio side only: the running count sched_done publishes. */
	uint64_t sched_done_local;

	/* ---- The recorder (flz_engine_start_recording()). ---- */
	/**
	 * The frame writer every rendered block goes to, NULL when not
	 * recording: set and cleared by the control side. The audio side raises
	 * recorder_busy, then reads recorder, pushes, lowers recorder_busy;
	 * the control side clears recorder, then waits for recorder_busy to be
	 * low before it frees the writer. Both pairs are seq_cst (a store then
	 * a load of the other variable: release/acquire would let each side
	 * miss the other's store), so either the audio side reads NULL or the
	 * control side sees it busy and waits for the end of that one push.
	 */
	_Atomic(struct flz_frame_writer *) recorder;
	atomic_bool recorder_busy;

	/** Tempo sync (audio side only): each pad's tempo (0: none), its
	 *  downbeat's sample frame, and whether the lock is on. */
	double pad_bpm[FLZ_NUM_SAMPLES];
	int64_t pad_downbeat[FLZ_NUM_SAMPLES];
	bool bpm_lock;
	/**
	 * The transport as of the end of the last block, for flz_engine_transport():
	 * a seqlock. The audio side makes seq odd, writes the fields, makes it
	 * even again; a reader retries when seq was odd or changed meanwhile.
	 * Fixed-size words, each an atomic, so that a torn read is a retry,
	 * never undefined behaviour.
	 */
	_Atomic uint32_t tp_seq;
	_Atomic int64_t tp_frame;
	_Atomic uint64_t tp_bpm_micro;
	_Atomic uint32_t tp_beats_per_bar;
	_Atomic int64_t tp_bar;
	/** Bits of the double beat. */
	_Atomic uint64_t tp_beat_bits;
	_Atomic int64_t tp_downbeat_frame;

	/*
	 * alsa-lib's messages on the audio thread (flz_engine_alsa_error_rt()):
	 * how many, and where the last one came from, for the housekeeping
	 * thread to log. Only pointers and numbers are kept (no formatting on
	 * the audio thread): file, func and fmt point to string literals of
	 * libasound or of a plugin it loaded for the open PCM, which stays
	 * loaded until the PCM is closed, after the housekeeping thread ended.
	 * The four fields are written under the seqlock alsa_last_seq (odd
	 * while the audio thread writes them).
	 */
	_Atomic uint64_t stat_alsa_messages;
	_Atomic uint32_t alsa_last_seq;
	_Atomic(const char *) alsa_last_file;
	_Atomic(const char *) alsa_last_func;
	_Atomic(const char *) alsa_last_fmt;
	_Atomic int alsa_last_line;
	_Atomic int alsa_last_errcode;

	/*
	 * The meters (meters-rt.c, meters.c): a triple buffer. The audio side
	 * fills meter_buf[meter_back], then swaps it into meter_latest (with
	 * FLZ_ENGINE_METER_FRESH) and takes the index that was there; a
	 * reader, under the engine lock (so one at a time), swaps
	 * meter_front into meter_latest when it is fresh. The three indices
	 * are always distinct: neither side ever touches the other's buffer.
	 */
	struct flz_engine_meter_buf {
		int64_t frame;
		struct flz_mixer_meters m;
	} meter_buf[3];
	_Atomic uint32_t meter_latest;
	/** Audio side only. */
	uint32_t meter_back;
	int64_t meter_acc_frames;
	uint32_t meter_interval_frames;
	/** Readers only (under the engine lock). */
	uint32_t meter_front;
	/** The engine's snapshot count (struct flz_engine meter_seq), which
	 *  publish() raises after each exchange; set by
	 *  flz_engine_core_meters_init(). */
	_Atomic uint64_t *meter_seq;
};

#define FLZ_ENGINE_METER_FRESH 4u

/**
 * Reset the meters' triple buffer (every buffer: no snapshot yet) and set
 * the interval, round(rate_hz / meter_hz) frames, at least 1; publish()
 * raises @p meter_seq (which outlives the core) after each snapshot.
 * Thread: control, before the audio side runs.
 */
void flz_engine_core_meters_init(struct flz_engine_core *core, double meter_hz,
				 _Atomic uint64_t *meter_seq);

/**
 * flz_mixer_render() split at the meter intervals' ends (the mixer renders
 * a block in pieces exactly as in one), publishing a snapshot at each end:
 * every snapshot covers exactly meter_interval_frames output frames.
 * @return 0, or flz_mixer_render()'s error
 * Thread: rt.
 */
FLZ_RT FLZ_WARN_UNUSED int flz_engine_core_render_rt(struct flz_engine_core *core, float *out,
						     uint32_t n_frames);

/**
 * The latest snapshot into @p out (public form).
 * Thread: control, under the engine lock.
 */
void flz_engine_core_read_meters(struct flz_engine_core *core, struct flz_engine_meters *out);
/** The latest snapshot's frame (taking a newer one). Thread: control, under the engine lock. */
int64_t flz_engine_core_meters_frame(struct flz_engine_core *core);

/** The last alsa-lib message of the audio thread, as the seqlock gave it. */
struct flz_engine_alsa_last {
	const char *file;
	const char *func;
	const char *fmt;
	int line;
	int errcode;
};

/**
 * Allocate the rings (touched, so that no page faults on the audio thread),
 * make @p key_lock_voices key-lock processors (with the stretch feature;
 * 0..FLZ_MIXER_MAX_SOURCES) and create the mixer.
 *
 * @param mixer_config rate, channels, block size and ramps; its retire,
 *        event and userdata fields are replaced by the core's
 * @return 0, -EINVAL, -ENOMEM
 * Thread: control.
 */
int flz_engine_core_init(struct flz_engine_core *core, const struct flz_mixer_config *mixer_config,
			 bool trace_commands, uint32_t key_lock_voices);

#if FLZ_HAVE_STRETCH
/** Key lock as the mixer's source (keylock-rt.c). */
extern const struct flz_mixer_source_ops flz_engine_key_lock_ops;

/**
 * Make @p n key-lock processors (libstretch) for the mixer's rate, channels
 * and block into states[0..n), warmed (every page written): ones an
 * earlier start gave back for the same properties first, new ones after.
 * @return 0, or flz_stretch_new()'s error (none are left then)
 * Thread: control, before the audio side runs.
 */
int flz_engine_key_lock_create(void **states, uint32_t n, uint32_t rate_hz, uint32_t n_channels,
			       uint32_t max_block_frames);

/** Give states[0..n), made for these properties, back (kept for a later
 * start, at most FLZ_MAX_VOICES in the process, or destroyed) and clear
 * them. Thread: control, after the audio side. */
void flz_engine_key_lock_destroy(void **states, uint32_t n, uint32_t rate_hz, uint32_t n_channels,
				 uint32_t max_block_frames);
#endif

/**
 * Destroy the mixer (it drops its samples), free the samples still in the
 * command and return rings, free the rings.
 * @return the number of sample references dropped from the rings
 * Thread: control, after the audio side has stopped.
 */
int flz_engine_core_deinit(struct flz_engine_core *core);

/**
 * Free the retired samples waiting in the return ring.
 * @return how many were freed
 * Thread: the one consumer of the return ring (housekeeping, or control after it stopped).
 */
int flz_engine_core_collect(struct flz_engine_core *core);

/**
 * Take the pending commands and parameters, then render one block.
 *
 * Parameters are applied in call order with the commands: before the first
 * command whose sequence number is newer, else after the last one.
 *
 * @param out n_frames * n_channels floats
 * @param n_frames 0..the mixer's max_block_frames
 * @return 0, or -EINVAL when n_frames is too large
 * Thread: rt (the core's one audio thread).
 */
FLZ_RT int flz_engine_core_process_rt(struct flz_engine_core *core, float *out, uint32_t n_frames);

/**
 * Publish the transport's state at the current frame (the seqlock of
 * struct flz_engine_core); flz_engine_core_process_rt() does it after each
 * block, start once before the first.
 * Thread: rt.
 */
FLZ_RT void flz_engine_core_publish_transport_rt(struct flz_engine_core *core);

/**
 * Read what flz_engine_core_publish_transport_rt() published last.
 * Thread: any but the audio thread.
 */
void flz_engine_core_read_transport(struct flz_engine_core *core, struct flz_engine_transport *out);

/**
 * Only the command/parameter step of flz_engine_core_process_rt().
 * Thread: rt.
 */
FLZ_RT void flz_engine_core_drain_rt(struct flz_engine_core *core);

/** The mixer's retire callback (userdata: the core). Thread: rt. */
FLZ_RT void flz_engine_core_retire_rt(void *userdata, struct flz_sample *sample);

/** The per-pad EQ as a stage of the voice chain (eq-stage-rt.c); its
 *  states are struct flz_eq. Thread: rt. */
extern const struct flz_mixer_stage_ops flz_engine_eq_stage_ops;

/** Time the EQ's filters run at its exact bypass after waking, before the
 *  gains that woke them apply (eq-stage-rt.c), in ms. */
#define FLZ_ENGINE_EQ_WARM_MS 20u

/**
 * The EQ stage's state for one voice struct (eq-stage-rt.c): libeq's EQ,
 * idle (its filters not run: the voice mixes as without EQ) while the
 * voice's pad has been neutral since the voice started; woken by a change,
 * it runs its filters at the exact bypass for warm_frames, then glides to
 * the gains, so that they glide from warm filters.
 */
struct flz_engine_eq_voice {
	struct flz_eq eq;
	/** Gains (dB) set while warming up, applied when warm_left reaches 0. */
	double pending_db[FLZ_EQ_N_BANDS];
	/** FLZ_ENGINE_EQ_WARM_MS in frames at the device's rate. */
	uint32_t warm_frames;
	/** Frames of the warm-up left; 0: none under way. */
	uint32_t warm_left;
	/** Whether the filters run (else the stage is idle). */
	bool running;
	/** For tests only: every voice's filters run from its start (the way to
	 *  compare against; flz_engine_set_eq_always_warm_test()). */
	bool always_warm;
};

/**
 * For tests only: make every EQ stage state run its filters from each
 * voice's start, as if woken there (the behaviour the idle EQ is compared
 * with). Offline engines only, after flz_engine_start_offline() and before
 * the first flz_engine_render() (the states are then the caller's thread's).
 * @return 0, or -EINVAL when the engine has no EQ
 * Thread: control (the offline engine's rendering thread).
 */
int flz_engine_set_eq_always_warm_test(struct flz_engine *engine);

/** The mixer's event callback (userdata: the core). Thread: rt. */
FLZ_RT void flz_engine_core_event_rt(void *userdata, const struct flz_mixer_event *event);

/** Queue a message for the control side, counting it when the ring is full. Thread: rt. */
FLZ_RT void flz_engine_core_post_rt(struct flz_engine_core *core, const struct flz_engine_msg *msg);

/**
 * Read the last alsa-lib message of the audio thread (see
 * flz_engine_core.stat_alsa_messages).
 * @return false when none was recorded, or the audio thread was writing it
 *         on every try (the next call will see it)
 * Thread: any but the audio thread (housekeeping, tests).
 */
bool flz_engine_core_alsa_last(struct flz_engine_core *core, struct flz_engine_alsa_last *last);

/* ---- alsa-lib's error messages ---- */

/*
 * alsa-lib prints its error messages through one process-wide handler
 * (snd_lib_error_set_handler()), whose default writes to stderr. The engine
 * never changes it: the host's own ALSA calls keep whatever it set. The
 * default handler first asks the calling thread's local handler
 * (snd_lib_error_set_local(), thread-local inside libasound), and the engine
 * sets that one only on its own threads, for its own calls:
 *  - on a control thread, around each ALSA call the engine makes
 *    (flz_alsa_log_begin() .. flz_alsa_log_end()), the message is formatted
 *    and given to the engine's log callback (FLZ_LOG_INFO);
 *  - on the audio thread, for its whole life, flz_engine_alsa_error_rt()
 *    only counts and records (flz_engine_core.stat_alsa_messages); the
 *    housekeeping thread logs it (FLZ_LOG_WARNING).
 * A host that installed its own process-wide handler gets every message,
 * the engine's included, as before (alsa-lib then never asks the local one).
 */

#if FLZ_HAVE_ALSA
/** What flz_alsa_log_begin() replaced, for flz_alsa_log_end(). */
struct flz_alsa_log_scope {
	snd_local_error_handler_t prev_handler;
	const struct flz_backend_log *prev_sink;
};

/**
 * Send alsa-lib's messages on the calling thread to @p sink (NULL or a
 * NULL log: dropped) until flz_alsa_log_end(). Scopes nest; the thread's
 * previous local handler (the host's, if it set one) comes back at the end.
 * @p sink must stay valid until then.
 * Thread: control.
 */
void flz_alsa_log_begin(struct flz_alsa_log_scope *scope, const struct flz_backend_log *sink);

/** End the scope begun by flz_alsa_log_begin(). Thread: the one that began it. */
void flz_alsa_log_end(const struct flz_alsa_log_scope *scope);

/** The text the control-side handler gives the log: 'alsa-lib: pcm.c:2666
 *  (snd_pcm_open_noupdate): Unknown PCM x' (': <strerror>' when errcode is
 *  set). Thread: control. */
void flz_alsa_log_format(char *out, size_t out_size, const char *file, int line, const char *func,
			 int errcode, const char *fmt, va_list arg);

/** Audio threads whose alsa-lib messages can be told apart at once (engines
 *  playing at the same time in one process); beyond that they are dropped. */
#define FLZ_ENGINE_ALSA_RT_THREADS 16

/**
 * Attribute alsa-lib's messages on the calling thread to @p core, for
 * flz_engine_alsa_error_rt(). The handler has no user data and the audio
 * thread must not touch thread-local storage of its own (its first access
 * in a dlopen()ed module may allocate), so threads are found in a fixed
 * table by pthread_self().
 * @return false when the table is full (the messages are then dropped)
 * Thread: rt (the audio thread, before its loop; a test standing in for it).
 */
FLZ_RT bool flz_engine_alsa_attach_rt(struct flz_engine_core *core);

/** Undo flz_engine_alsa_attach_rt() for the calling thread. Thread: rt. */
FLZ_RT void flz_engine_alsa_detach_rt(void);

/**
 * The audio thread's local handler for alsa-lib (snd_local_error_handler_t):
 * counts the message and records its file, line, function, format and code
 * into the attached core. No formatting, no I/O, no lock, no allocation:
 * alsa-lib calls it from inside the snd_pcm_*() calls of the audio thread.
 * Thread: rt.
 */
FLZ_RT void flz_engine_alsa_error_rt(const char *file, int line, const char *func, int errcode,
				     const char *fmt, va_list arg);
#endif /* FLZ_HAVE_ALSA */

/**
 * Write a failure's reason into a caller's why buffer (the control side's
 * "why" out-parameters). NULL or 0 bytes: nothing is written.
 * Thread: control.
 */
void flz_engine_set_why(char *why, size_t why_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * Format one line and give it to a log sink (the host's log callback, as a
 * backend gets it). A NULL sink or callback drops it.
 * Thread: control (never the audio thread: it formats).
 */
void flz_backend_logf(const struct flz_backend_log *sink, enum flz_log_level level,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- Sample format conversion (format-rt.c) ---- */

/** Convert n_samples interleaved floats to the device format, clipping to
 *  -1..1 (NaN to 0), FLOAT_LE included. Thread: rt. */
typedef void (*flz_format_convert_fn)(void *dst, const float *src, size_t n_samples);

/**
 * Clip n_samples floats in place to -1..1 and replace NaN by 0: what the
 * FLOAT_LE converter stores, for a mix rendered straight into the device's
 * buffer. n_samples 0 is accepted.
 * Thread: rt. Ownership: the caller's buffer, modified in place.
 */
FLZ_RT void flz_format_clamp_float_rt(float *samples, size_t n_samples);

/** The converter for a format, or NULL for FLZ_FORMAT_UNKNOWN. Thread: any. */
flz_format_convert_fn flz_format_converter(enum flz_device_format format);

/** Bytes per sample of a device format (0 for unknown). Thread: any. */
uint32_t flz_format_sample_bytes(enum flz_device_format format);

/* ---- The audio thread (engine-rt.c and the backends' loops) ---- */

/**
 * The device calls and the clock of the ALSA loop's recovery
 * (flz_engine_settle_rt()), for tests that play a device which suspends.
 * NULL in flz_engine_audio.ops (always, but in tests): the real
 * snd_pcm_resume(), snd_pcm_prepare() and CLOCK_MONOTONIC, called directly.
 */
struct flz_engine_pcm_ops {
	int (*resume)(void *userdata);
	int (*prepare)(void *userdata);
	int64_t (*now_ns)(void *userdata);
	void *userdata;
};

struct flz_frame_writer;

struct flz_engine_audio {
	struct flz_engine_core *core;
	/** Render target when the device cannot take floats directly. */
	float *scratch;
	flz_format_convert_fn convert;
	enum flz_device_format format;
	uint32_t n_channels;
	uint32_t rate_hz;
	/** Frames rendered per block at most: the period, capped by the mixer's limit. */
	uint32_t block_frames;
	/** The device buffer as granted: more free than this is an underrun. */
	uint32_t buffer_frames;
	/** Set by the control side to end the thread. */
	atomic_bool quit;
	/**
	 * An eventfd the control side writes after setting quit, polled beside
	 * the PCM's descriptors so that the thread leaves a wait at once (the
	 * ALSA backend; -1 for the others).
	 */
	int wake_fd;
	/** Whether the thread flushes subnormals (always, but for the
	 *  comparison of bench/denormals.c: flz_engine_set_flush_denormals()). */
	bool flush_denormals;
	/** The floating-point control word the thread runs with (MXCSR, FPCR),
	 *  written by it before its loop; read by tests after the start. */
	_Atomic uint32_t fp_mode;
	/** Whether the thread left the loop because it saw the wake descriptor
	 *  (rather than quit at the top of the loop). Written by the audio
	 *  thread before it ends, read by the control side after the join. */
	bool stopped_by_wake;

	/* Audio thread only: the load measurement window. */
	int64_t load_busy_ns;
	int64_t load_window_frames;
	/** Audio thread only: when a frame was last committed, or the device
	 *  last said it was suspended (the stall clock). */
	int64_t last_progress_ns;

#if FLZ_HAVE_ALSA
	/* ---- The ALSA backend ---- */
	snd_pcm_t *pcm;
	/** pfds[0..n_pcm_fds) the PCM's (from snd_pcm_poll_descriptors()), then wake_fd. */
	struct pollfd pfds[FLZ_ENGINE_MAX_PCM_FDS + 1];
	uint32_t n_pcm_fds;
	/** Audio thread only (read by tests after it): bounded waits made
	 *  between resume attempts of a suspended device. */
	uint64_t n_suspend_waits;
	/** NULL but in tests (see struct flz_engine_pcm_ops). */
	const struct flz_engine_pcm_ops *ops;
#endif

	/* ---- The wav backend (NULL for the others) ---- */
	struct flz_frame_writer *wav;
	/** NULL but in tests (flz_engine_set_wav_burn_test()). */
	_Atomic int64_t *test_burn_ns;
};

/**
 * Hand a rendered block (before clipping) to the recorder, if one is
 * published (see flz_engine_core.recorder). Never waits.
 * Thread: rt (the audio thread, or the caller of flz_engine_render()).
 */
FLZ_RT void flz_engine_core_record_rt(struct flz_engine_core *core, const float *out,
				      uint32_t n_frames);

/**
 * The wav backend's audio thread body: render one block, hand it to the
 * writer's ring (or count the frames dropped when it is full: never wait
 * for the writer), then sleep until the block's absolute deadline, until
 * quit is set. A deadline missed by more than a period is an xrun (counted
 * in stat_xruns, FLZ_MSG_XRUN): the clock skips ahead instead of catching
 * up in a burst.
 * @param arg struct flz_engine_audio *
 * Thread: rt (it is the audio thread).
 */
FLZ_RT void *flz_engine_wav_main(void *arg);

/**
 * Create an engine thread with the host's signals blocked (as the audio and
 * housekeeping threads): the wav backend's writer thread.
 * @return 0 or a positive errno
 * Thread: control.
 */
int flz_engine_create_thread(pthread_t *thread, const pthread_attr_t *attr,
			     void *(*fn)(void *), void *arg);

/** CLOCK_MONOTONIC in ns (the vDSO: no system call, no lock). Thread: any, rt included. */
FLZ_RT int64_t flz_engine_now_ns_rt(void);

/** The calling thread's CPU time in ns (CLOCK_THREAD_CPUTIME_ID, a system
 *  call that does not block), -1 if the clock fails. Thread: any, rt included. */
FLZ_RT int64_t flz_engine_thread_cpu_ns_rt(void);

/**
 * Count @p n_frames rendered in @p busy_ns towards the load figure
 * (stats.load: render time over the audio time it produced, per ~1 s window).
 * Thread: rt.
 */
FLZ_RT void flz_engine_account_load_rt(struct flz_engine_audio *audio, int64_t busy_ns,
				       uint32_t n_frames);

/** Post a message of @p kind with the current frame and @p error. Thread: rt. */
FLZ_RT void flz_engine_post_simple_rt(struct flz_engine_core *core, enum flz_msg_kind kind,
				      int error);

/**
 * Mark the device lost with @p err: core->device_lost, core->lost_error and
 * FLZ_MSG_DEVICE_LOST. Thread: rt (the audio thread, as it ends).
 */
FLZ_RT void flz_engine_device_lost_rt(struct flz_engine_core *core, int err);

#if FLZ_HAVE_ALSA
/**
 * The end of each turn of the ALSA loop: recover from @p err (< 0) when
 * there was one, then the stall check.
 *
 * Suspended (-ESTRPIPE): one snd_pcm_resume(); while it says -EAGAIN the
 * thread waits FLZ_ENGINE_RESUME_WAIT_MS on the wake descriptor alone
 * (bounded, ended at once by flz_engine_stop()), instead of trying again at
 * once at SCHED_FIFO, and holds the stall clock: a suspended device is never
 * counted as lost however long it stays suspended (a laptop's lid closed for
 * an hour resumes). Another resume error: prepare.
 *
 * @return 0: go on; 1: the wake descriptor was written (quit is set); < 0:
 *         the device is lost (that error, or -ENODEV for no progress for
 *         FLZ_ENGINE_STALL_NS)
 * Thread: rt.
 */
FLZ_RT int flz_engine_settle_rt(struct flz_engine_audio *audio, int err);

/**
 * The ALSA backend's audio thread body (on the stack the control side mapped
 * and wrote, see FLZ_ENGINE_AUDIO_STACK_BYTES): runs the ALSA loop
 * until quit is set or the device is lost (then it sets core->device_lost
 * and posts FLZ_MSG_DEVICE_LOST).
 * @param arg struct flz_engine_audio *
 * Thread: rt (it is the audio thread).
 */
FLZ_RT void *flz_engine_audio_main(void *arg);
#endif

/* ---- Driving an engine without a device (tests) ---- */

/**
 * Start the engine without opening a device or starting the audio thread,
 * at the configured rate, channels and period (the block size). The
 * housekeeping thread runs. The caller stands in for the audio thread with
 * flz_engine_core_process_rt(flz_engine_get_core(engine), ...) and must not
 * do so concurrently with flz_engine_stop().
 * @return 0, -EBUSY, -ENOMEM, -EINVAL
 * Thread: control.
 */
int flz_engine_start_offline(struct flz_engine *engine);

/**
 * Whether the last flz_engine_stop() of a device engine wrote its wake
 * descriptor, and whether the audio thread left by it (see
 * flz_engine_audio.stopped_by_wake). For tests.
 * Thread: control, after flz_engine_stop().
 */
void flz_engine_last_stop(struct flz_engine *engine, bool *wake_written, bool *stopped_by_wake);

/**
 * For bench/denormals.c only: whether the next start's audio thread sets
 * flush-to-zero (default true). The hook is read when the thread starts,
 * never by render code.
 * Thread: control, before flz_engine_start().
 */
void flz_engine_set_flush_denormals(struct flz_engine *engine, bool on);

/**
 * The floating-point control word the audio thread set for itself, or 0
 * before it has. Thread: control, while started.
 */
uint32_t flz_engine_audio_fp_mode(struct flz_engine *engine);

/** The engine's core (valid while it is started). Thread: any. */
struct flz_engine_core *flz_engine_get_core(struct flz_engine *engine);

/**
 * Make the next command or parameter take sequence number @p seq (the engine
 * numbers from 1 at each start), so that a test can run across the wrap of
 * the 32-bit counter without 2^32 calls.
 * Thread: control, while started.
 */
void flz_engine_set_next_seq_for_test(struct flz_engine *engine, uint32_t seq);

/** The most regions flz_engine_rt_regions() lists: the struct, 3 rings, the
 *  scratch block, the wav state and its frames, the stack, the EQ states,
 *  and the mixer's. */
#define FLZ_ENGINE_MAX_RT_REGIONS (9 + FLZ_MIXER_MAX_MEMORY_REGIONS)

/**
 * The memory the audio thread works in, as the engine maps it: the engine
 * struct (core and audio state), the three rings' storage, the conversion
 * scratch, the audio thread's stack (device starts only) and the mixer's
 * regions (flz_mixer_memory()). Each is whole pages of its own, written
 * when allocated; start locks them (unless flz_engine_set_lock_memory()
 * said not to) and teardown unlocks them. Sample data is not listed.
 * @return the number of regions; the first min(that, max_regions) are stored
 * Thread: control, while started (under lifecycle, or in a test).
 */
int flz_engine_rt_regions(struct flz_engine *engine, struct flz_mem_region *regions,
			  int max_regions);

/**
 * For tests only: whether the next start locks its memory (default true).
 * Off, a test can see that every page was written by the engine itself
 * (mlock would fault them in).
 * Thread: control, before flz_engine_start().
 */
void flz_engine_set_lock_memory(struct flz_engine *engine, bool on);

/**
 * For tests only: make the next start's wav:PATH writer fall behind for
 * real. @p ring_frames sets its frame ring (a power of two, at least the
 * period; 0: the usual 2 s), and while *@p hold_writer is true (NULL: never)
 * the writer thread does not empty the ring, as a writer stalled in a slow
 * write would not: the audio thread then finds the ring full and counts
 * what it cannot push (stats.file_dropped_frames), and the writer logs it
 * once it drains again. The final drain at stop is never held.
 * @p hold_writer must outlive the engine's start.
 * @return 0, or -EINVAL for a ring that is not a power of two
 * Thread: control, before flz_engine_start().
 */
int flz_engine_set_wav_writer_test(struct flz_engine *engine, uint32_t ring_frames,
				   const atomic_bool *hold_writer);

/**
 * For tests only: as flz_engine_set_wav_writer_test(), for the next
 * flz_engine_start_recording()'s writer (ring_frames: a power of two, at
 * least the period, or 0).
 * @return 0, or -EINVAL for a ring that is not a power of two
 * Thread: control.
 */
int flz_engine_set_record_writer_test(struct flz_engine *engine, uint32_t ring_frames,
				      const atomic_bool *hold_writer);

/**
 * For tests only: from the next start, the wav:PATH audio thread takes
 * *@p burn_ns after each block (an atomic exchange with 0) and, when it was
 * positive, spends that long on the CPU (a loop on CLOCK_MONOTONIC) before
 * it sleeps: a render that takes too long, made at will, so that tests can
 * tell the engine's own xruns from the system's (stats.xruns_stalled).
 * @p burn_ns (NULL: none) must outlive the engine's start.
 * Thread: control, before flz_engine_start().
 */
void flz_engine_set_wav_burn_test(struct flz_engine *engine, _Atomic int64_t *burn_ns);

/** Loads counted in flight now (see FLZ_ENGINE_RETIRE_CAPACITY), a snapshot. Thread: any. */
int flz_engine_samples_in_flight(struct flz_engine *engine);

#endif /* FLZ_ENGINE_PRIVATE_H */
