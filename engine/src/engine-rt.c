/* SPDX-License-Identifier: MIT */
/*
 * The engine's device-neutral audio core: taking commands, rendering, the
 * load figure and the messages every backend's loop posts. Everything here
 * runs on the audio thread, or on the caller of flz_engine_render() for the
 * offline device (or a test standing in for either): no allocation, no
 * locks, no stdio, no sleeping, no blocking call at all. The backends' loops
 * around it are in backend-*-rt.c.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "engine-private.h"
#include "record.h"

FLZ_RT FLZ_HOT int64_t flz_engine_now_ns_rt(void)
{
	struct timespec ts;
	/* CLOCK_MONOTONIC is served by the vDSO: no system call, no lock. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

FLZ_RT int64_t flz_engine_thread_cpu_ns_rt(void)
{
	struct timespec ts;
	/* A system call (the vDSO serves no CPU-time clock), but one that
	 * neither blocks nor takes a lock a task could hold against us. */
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

FLZ_RT void flz_engine_core_post_rt(struct flz_engine_core *core, const struct flz_engine_msg *msg)
{
	if (!flz_ring_push(&core->msg_ring, msg)) {
		/* relaxed: a statistic; only this thread writes it. */
		atomic_fetch_add_explicit(&core->stat_messages_dropped, 1, memory_order_relaxed);
	}
}

static void trace_applied(struct flz_engine_core *core, uint32_t cmd, int32_t slot, double value,
			  uint32_t seq)
{
	if (!core->trace_commands)
		return;
	struct flz_engine_msg msg = {
		.kind = FLZ_MSG_APPLIED,
		.slot = slot,
		.cmd = (enum flz_cmd_kind)cmd,
		.seq = seq,
		.value = value,
		.frame = flz_mixer_frame(core->mixer),
	};
	flz_engine_core_post_rt(core, &msg);
}

/* The mixer's retire callback: every load's reference comes back here
 * exactly once (the last or not: others may hold the sample too), and goes
 * to the control side, which drops it and counts the load as done. */
FLZ_RT void flz_engine_core_retire_rt(void *userdata, struct flz_sample *sample)
{
	struct flz_engine_core *core = userdata;
	if (!flz_ring_push(&core->retire_ring, &sample)) {
		/* Cannot happen while the in-flight bound holds (see
		 * FLZ_ENGINE_MAX_SAMPLES_IN_FLIGHT); counted so a test would see it.
		 * relaxed: a statistic. */
		atomic_fetch_add_explicit(&core->stat_retire_lost, 1, memory_order_relaxed);
	}
}

/* The mixer's event callback: STOPPED and STARTED events become messages of
 * the same kind. Tokens are the commands' sequence numbers, and the mixer
 * counts frames from its creation at start: the engine's frame base. */
FLZ_RT void flz_engine_core_event_rt(void *userdata, const struct flz_mixer_event *event)
{
	struct flz_engine_core *core = userdata;
	enum flz_msg_kind kind;
	switch (event->kind) {
	case FLZ_MIXER_EVENT_STOPPED:
		kind = FLZ_MSG_STOPPED;
		break;
	case FLZ_MIXER_EVENT_STARTED:
		kind = FLZ_MSG_STARTED;
		break;
	default:
		return;
	}
	struct flz_engine_msg msg = {
		.kind = kind,
		.slot = event->slot,
		.seq = event->token,
		.frame = event->frame,
	};
	flz_engine_core_post_rt(core, &msg);
}

static void apply_param(struct flz_engine_core *core, struct flz_engine_param *param,
			uint64_t packed)
{
	float value = flz_engine_param_value(packed);
	uint32_t seq = flz_engine_param_seq(packed);
	/* The control side validated the value; a refusal here changes nothing. */
	int err = param->kind == FLZ_CMD_VOLUME ? flz_mixer_set_master_gain(core->mixer, value)
						: flz_mixer_set_speed(core->mixer, (double)value);
	if (err == 0)
		trace_applied(core, param->kind, -1, (double)value, seq);
}

/* The number an APPLIED message carries for a command (see FLZ_CMD_KINDS). */
static double cmd_value(const struct flz_engine_cmd *cmd)
{
	switch ((enum flz_cmd_kind)cmd->kind) {
	case FLZ_CMD_PLAY:
	case FLZ_CMD_PLAY_EXCLUSIVE:
	case FLZ_CMD_PAD_GAIN:
		return (double)cmd->gain_lin;
	case FLZ_CMD_PAD_SPEED:
		return cmd->speed;
	case FLZ_CMD_SEEK:
	case FLZ_CMD_LOOP_REGION:
	case FLZ_CMD_BEATS_PER_BAR:
	case FLZ_CMD_ANCHOR:
		return (double)cmd->frame;
	case FLZ_CMD_MASTER_BPM:
	case FLZ_CMD_PAD_BPM:
	case FLZ_CMD_BPM_LOCK:
	case FLZ_CMD_KEY_LOCK:
	case FLZ_CMD_PAD_KEY_LOCK:
		return cmd->speed;
	case FLZ_CMD_PAD_DOWNBEAT:
		return (double)cmd->frame;
	default:
		return 0.0;
	}
}

/* Pending starts the audio side is done with (started or cancelled), for
 * the control side's count (published at the end of the block). */
static void sched_finished(struct flz_engine_core *core, int64_t n)
{
	core->sched_done_local += (uint64_t)n;
}

FLZ_RT static bool pad_lock(const struct flz_engine_core *core, int32_t slot,
			    struct flz_transport_lock *lock);
FLZ_RT static void lock_trigger_at(const struct flz_engine_core *core,
				   struct flz_mixer_trigger *trigger, int64_t now);

/* A scheduled play: into the schedule at its frame. The control side
 * counted it, so there is room (see flz_engine_core.sched_done). */
static void schedule_play(struct flz_engine_core *core, const struct flz_engine_cmd *cmd)
{
	int64_t now = flz_mixer_frame(core->mixer);
	int64_t due = now;
	if (cmd->start == FLZ_ENGINE_CMD_START_AT) {
		due = cmd->frame;
	} else if (flz_transport_next_grid_frame(&core->transport, (enum flz_quantize)cmd->quantize,
						 now, &due) < 0) {
		/* Only beyond 2^53 frames (740 years at 384 kHz): at once. */
		due = now;
	}
	struct flz_schedule_entry entry = {
		.frame = due,
		.seq = cmd->seq,
		.slot = cmd->slot,
		.gain = cmd->gain_lin,
		.token = cmd->seq,
	};
	if (flz_schedule_insert(&core->schedule, &entry) < 0) {
		/* Cannot happen while the control side's bound holds; dropping it
		 * as "done" keeps the two counts equal all the same. */
		sched_finished(core, 1);
		return;
	}
	/* A key-locked start primes its source while it waits, so that it
	 * sounds on its frame; a tempo-locked one at the lock its trigger will
	 * carry at that frame (a tempo or bar changed meanwhile makes the
	 * trigger give it back and start afresh). The stop, stop-all, unload
	 * and exclusive play that cancel it in the schedule give the source
	 * back in the mixer; start_due() hands it to the voice. */
	if (due <= now)
		return;
	struct flz_mixer_trigger at = { .slot = cmd->slot };
	lock_trigger_at(core, &at, due);
	if (at.lock_num != 0)
		(void)flz_mixer_prepare_locked(core->mixer, cmd->slot, cmd->seq, due, at.lock_num,
					       at.lock_den, at.lock_pos_fp);
	else
		(void)flz_mixer_prepare(core->mixer, cmd->slot, cmd->seq, due);
}

/* The tempo lock of @p slot's pad now: false when the lock is off, the pad
 * has no tempo, or (never for checked values) the ratio is refused. */
FLZ_RT static bool pad_lock(const struct flz_engine_core *core, int32_t slot,
			    struct flz_transport_lock *lock)
{
	if (!core->bpm_lock || core->pad_bpm[slot] == 0.0)
		return false;
	return flz_transport_lock_ratio(flz_transport_bpm(&core->transport), core->pad_bpm[slot],
					lock) == 0;
}

/*
 * A play of a pad under the tempo lock: the ratio, and the start position
 * that puts the pad's downbeat on the transport's bar downbeats, as if it
 * had played since the start of the bar holding the start frame (so a
 * start on a bar's grid frame begins at the pad's downbeat).
 */
FLZ_RT static void lock_trigger_at(const struct flz_engine_core *core,
				   struct flz_mixer_trigger *trigger, int64_t now)
{
	struct flz_transport_lock lock;
	int64_t loop_start, loop_end;
	if (!pad_lock(core, trigger->slot, &lock) ||
	    flz_mixer_loop_region(core->mixer, trigger->slot, &loop_start, &loop_end) < 0)
		return;
	struct flz_transport_locked l;
	/* A downbeat the loop region has since moved below falls back to the
	 * region's start. */
	if (flz_transport_locked_start(&l, &core->transport, now,
				       (uint64_t)core->pad_downbeat[trigger->slot] << 32, &lock,
				       loop_start, loop_end) < 0 &&
	    flz_transport_locked_start(&l, &core->transport, now, (uint64_t)loop_start << 32, &lock,
				       loop_start, loop_end) < 0)
		return;
	trigger->lock_num = lock.num;
	trigger->lock_den = lock.den;
	trigger->lock_pos_fp = l.pos0_fp;
}

/* As lock_trigger_at(), for a trigger now. */
FLZ_RT static void lock_trigger(const struct flz_engine_core *core,
				struct flz_mixer_trigger *trigger)
{
	lock_trigger_at(core, trigger, flz_mixer_frame(core->mixer));
}

/* Lock, relock (a new ratio glides, keeping the phase) or unlock the
 * pad's playing voices after a change of its tempo, the lock or the
 * master tempo. */
FLZ_RT static void relock_pad(struct flz_engine_core *core, int32_t slot)
{
	struct flz_transport_lock lock;
	int n = pad_lock(core, slot, &lock) ? flz_mixer_set_pad_lock(core->mixer, slot, lock.num,
								     lock.den)
					    : flz_mixer_set_pad_lock(core->mixer, slot, 0, 0);
	/* The ratio came from flz_transport_lock_ratio(): never refused. */
	(void)n;
}

FLZ_RT static void relock_all(struct flz_engine_core *core)
{
	for (int32_t s = 0; s < FLZ_NUM_SAMPLES; s++)
		if (core->pad_bpm[s] != 0.0)
			relock_pad(core, s);
}

/* The transport commands, at the frame they are applied. The control side
 * checked every value; a refusal here changes nothing. */
static void apply_transport(struct flz_engine_core *core, struct flz_engine_cmd *cmd)
{
	int64_t now = flz_mixer_frame(core->mixer);
	int err = 0;
	switch ((enum flz_cmd_kind)cmd->kind) {
	case FLZ_CMD_MASTER_BPM:
		err = flz_transport_set_bpm(&core->transport, now, cmd->speed);
		if (err == 0 && core->bpm_lock)
			relock_all(core);
		break;
	case FLZ_CMD_BEATS_PER_BAR:
		err = flz_transport_set_beats_per_bar(&core->transport, (uint32_t)cmd->frame);
		break;
	case FLZ_CMD_ANCHOR:
		if (cmd->frame < 0)
			cmd->frame = now; /* "now": the trace reports the frame taken */
		err = flz_transport_anchor(&core->transport, cmd->frame);
		break;
	default:
		break;
	}
	(void)err;
}

static void apply_cmd(struct flz_engine_core *core, struct flz_engine_cmd *cmd)
{
	int n = 0;
	struct flz_mixer_trigger trigger = {
		.slot = cmd->slot,
		.gain = cmd->gain_lin,
		/* Started and Stopped messages carry the play's seq. */
		.token = cmd->seq,
		.exclusive = cmd->kind == FLZ_CMD_PLAY_EXCLUSIVE,
		.stop_token = cmd->seq,
	};
	switch ((enum flz_cmd_kind)cmd->kind) {
	case FLZ_CMD_LOAD:
		if (flz_mixer_load(core->mixer, cmd->slot, cmd->sample) < 0) {
			/* The mixer kept nothing: the reference goes back like a retired
			 * one, so this load, too, leaves the in-flight count. */
			flz_engine_core_retire_rt(core, cmd->sample);
			return;
		}
		break;
	case FLZ_CMD_PLAY:
		if (cmd->start != FLZ_ENGINE_CMD_START_NOW) {
			schedule_play(core, cmd);
		} else {
			lock_trigger(core, &trigger);
			n = flz_mixer_trigger(core->mixer, &trigger);
		}
		break;
	case FLZ_CMD_PLAY_EXCLUSIVE:
		/* It stops everything: pending starts too. */
		sched_finished(core, flz_schedule_cancel_all(&core->schedule));
		lock_trigger(core, &trigger);
		n = flz_mixer_trigger(core->mixer, &trigger);
		break;
	case FLZ_CMD_PAD_BPM:
		core->pad_bpm[cmd->slot] = cmd->speed;
		relock_pad(core, cmd->slot);
		break;
	case FLZ_CMD_PAD_DOWNBEAT:
		/* For later plays: a playing voice keeps its phase. */
		core->pad_downbeat[cmd->slot] = cmd->frame;
		break;
	case FLZ_CMD_BPM_LOCK:
		if (core->bpm_lock != (cmd->speed != 0.0)) {
			core->bpm_lock = cmd->speed != 0.0;
			relock_all(core);
		}
		break;
	case FLZ_CMD_PAUSE:
		n = flz_mixer_pause_slot(core->mixer, cmd->slot);
		break;
	case FLZ_CMD_RESUME:
		n = flz_mixer_resume_slot(core->mixer, cmd->slot);
		break;
	case FLZ_CMD_SEEK:
		n = flz_mixer_seek_slot(core->mixer, cmd->slot, cmd->frame);
		break;
	case FLZ_CMD_PAD_GAIN:
		n = flz_mixer_set_pad_gain(core->mixer, cmd->slot, cmd->gain_lin);
		break;
	case FLZ_CMD_PAD_SPEED:
		n = flz_mixer_set_pad_speed(core->mixer, cmd->slot, cmd->speed);
		break;
	case FLZ_CMD_PAD_EQ:
		/* Queued only when the core has its EQ stage. */
		n = flz_mixer_set_pad_stage_params(core->mixer, cmd->slot, core->eq_stage, cmd->eq_db,
						   3);
		break;
	case FLZ_CMD_KEY_LOCK:
		flz_mixer_set_key_lock(core->mixer, cmd->speed != 0.0);
		break;
	case FLZ_CMD_PAD_KEY_LOCK:
		/* -1, 0 or 1: checked by the control side. */
		n = flz_mixer_set_pad_key_lock(core->mixer, cmd->slot, (int)cmd->speed);
		break;
	case FLZ_CMD_LOOP_REGION:
		n = flz_mixer_set_loop_region(core->mixer, cmd->slot, cmd->frame, cmd->end_frame);
		break;
	case FLZ_CMD_STOP:
		/* The slot was checked by the control side: never negative. */
		sched_finished(core, flz_schedule_cancel_slot(&core->schedule, cmd->slot));
		n = flz_mixer_stop_slot(core->mixer, cmd->slot, cmd->seq);
		break;
	case FLZ_CMD_STOP_ALL:
		sched_finished(core, flz_schedule_cancel_all(&core->schedule));
		n = flz_mixer_stop_all(core->mixer, cmd->seq);
		break;
	case FLZ_CMD_UNLOAD:
		sched_finished(core, flz_schedule_cancel_slot(&core->schedule, cmd->slot));
		n = flz_mixer_unload(core->mixer, cmd->slot, cmd->seq);
		break;
	case FLZ_CMD_MASTER_BPM:
	case FLZ_CMD_BEATS_PER_BAR:
	case FLZ_CMD_ANCHOR:
		apply_transport(core, cmd);
		break;
	case FLZ_CMD_PING:
		break;
	case FLZ_CMD_VOLUME:
	case FLZ_CMD_SPEED:
		/* Parameters never travel in the ring. */
		return;
	}
	/* The control side validated every argument (seek and loop region
	 * against the sample it published last, which is the slot's sample
	 * here, in command order); an empty slot is a no-op. */
	(void)n;
	bool global = cmd->kind == FLZ_CMD_STOP_ALL || cmd->kind == FLZ_CMD_MASTER_BPM ||
		      cmd->kind == FLZ_CMD_BPM_LOCK || cmd->kind == FLZ_CMD_KEY_LOCK ||
		      cmd->kind == FLZ_CMD_BEATS_PER_BAR || cmd->kind == FLZ_CMD_ANCHOR;
	trace_applied(core, cmd->kind, global ? -1 : cmd->slot, cmd_value(cmd), cmd->seq);
	if (cmd->kind == FLZ_CMD_PING) {
		/* After its trace, so that a trace reads "applied, then answered". */
		struct flz_engine_msg pong = {
			.kind = FLZ_MSG_PONG,
			.slot = -1,
			.seq = cmd->seq,
			.frame = flz_mixer_frame(core->mixer),
		};
		flz_engine_core_post_rt(core, &pong);
	}
}

/*
 * Apply the parameter values taken and not yet applied that are, when
 * @p before_seq is given, older than it; the older parameter first.
 */
FLZ_RT FLZ_HOT static void apply_params(struct flz_engine_core *core, const uint32_t *before_seq)
{
	struct flz_engine_param *params[2] = { &core->volume, &core->speed };
	int first = params[0]->has_held && params[1]->has_held &&
				    flz_engine_seq_after(flz_engine_param_seq(params[0]->held),
							 flz_engine_param_seq(params[1]->held))
			    ? 1
			    : 0;
	for (int k = 0; k < 2; k++) {
		struct flz_engine_param *param = params[k == 0 ? first : 1 - first];
		if (!param->has_held)
			continue;
		if (before_seq &&
		    !flz_engine_seq_after(*before_seq, flz_engine_param_seq(param->held)))
			continue; /* set after this command: later */
		param->has_held = false;
		apply_param(core, param, param->held);
	}
}

/* Take the values set since the last take; a newer one replaces a held one
 * (latest value wins), which is why a held value is never applied late. */
FLZ_RT FLZ_HOT static void take_params(struct flz_engine_core *core)
{
	struct flz_engine_param *params[2] = { &core->volume, &core->speed };
	for (int i = 0; i < 2; i++) {
		/* acquire: pairs with the control side's release store, so that the
		 * commands queued before the value was set are visible in the ring.
		 * The TAKEN left behind publishes nothing: the control side never
		 * reads the word. */
		uint64_t w = atomic_exchange_explicit(&params[i]->packed, FLZ_ENGINE_PARAM_TAKEN,
						      memory_order_acquire);
		if (w != FLZ_ENGINE_PARAM_TAKEN) {
			params[i]->held = w;
			params[i]->has_held = true;
		}
	}
}

FLZ_RT FLZ_HOT void flz_engine_core_drain_rt(struct flz_engine_core *core)
{
	/*
	 * The control side numbers commands and parameter values from one
	 * counter under one mutex, pushing a command or storing a value in that
	 * order. Hence:
	 *  - a value taken after a command was popped (its release/acquire
	 *    pair is then visible too) includes every value set before that
	 *    command: apply those first;
	 *  - a value taken before the ring was found empty was set after
	 *    every command still to come: apply it now.
	 * A value overwritten before we took it, or taken and held but replaced
	 * by a newer one before its turn, never takes effect; the latest always
	 * does, in its place among the commands.
	 */
	struct flz_engine_cmd cmd;
	/* Bounded: commands queued while we drain may wait for the next block. */
	for (size_t n = 0;; n++) {
		take_params(core);
		if (n == core->cmd_ring.capacity) {
			/* An empty ring is as good as a failed pop; otherwise values
			 * may be newer than what is left: next block. */
			if (flz_ring_count(&core->cmd_ring) == 0)
				apply_params(core, NULL);
			break;
		}
		if (!flz_ring_pop(&core->cmd_ring, &cmd)) {
			apply_params(core, NULL);
			break;
		}
		take_params(core);
		apply_params(core, &cmd.seq);
		apply_cmd(core, &cmd);
	}
}

FLZ_RT void flz_engine_core_publish_transport_rt(struct flz_engine_core *core)
{
	const struct flz_transport *t = &core->transport;
	int64_t frame = flz_mixer_frame(core->mixer);
	struct flz_transport_position pos = { 0, 0.0 };
	/* Cannot fail below 2^53 frames; beyond, bar and beat read 0. */
	if (flz_transport_position(t, frame, &pos) < 0)
		pos = (struct flz_transport_position){ 0, 0.0 };
	union {
		double d;
		uint64_t u;
	} beat = { .d = pos.beat };
	/* relaxed: only this thread writes tp_seq. */
	uint32_t seq = atomic_load_explicit(&core->tp_seq, memory_order_relaxed);
	/* relaxed store, then a release fence: the odd count is ordered before
	 * the field stores below, so a reader that sees any new field and then
	 * (after its acquire fence) rereads the count sees it changed. */
	atomic_store_explicit(&core->tp_seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	/* relaxed: the fields are ordered by the fence above and the release
	 * store of the even count below. */
	atomic_store_explicit(&core->tp_frame, frame, memory_order_relaxed);
	atomic_store_explicit(&core->tp_bpm_micro, t->bpm_micro, memory_order_relaxed);
	atomic_store_explicit(&core->tp_beats_per_bar, flz_transport_beats_per_bar(t),
			      memory_order_relaxed);
	atomic_store_explicit(&core->tp_bar, pos.bar, memory_order_relaxed);
	atomic_store_explicit(&core->tp_beat_bits, beat.u, memory_order_relaxed);
	atomic_store_explicit(&core->tp_downbeat_frame, flz_transport_downbeat_frame(t),
			      memory_order_relaxed);
	/* release: a reader whose acquire load sees this even count sees every
	 * field written before it. */
	atomic_store_explicit(&core->tp_seq, seq + 2, memory_order_release);
}

/* The trigger of a pending start that is due. */
FLZ_RT static void start_due(struct flz_engine_core *core, const struct flz_schedule_entry *e)
{
	struct flz_mixer_trigger trigger = {
		.slot = e->slot,
		.gain = e->gain,
		.token = e->token,
		.prepared = true,
	};
	lock_trigger(core, &trigger);
	int n = flz_mixer_trigger(core->mixer, &trigger);
	/* The values were checked by the control side; an empty slot is a no-op. */
	(void)n;
	sched_finished(core, 1);
}

FLZ_RT FLZ_HOT int flz_engine_core_process_rt(struct flz_engine_core *core, float *out,
					  uint32_t n_frames)
{
	flz_engine_core_drain_rt(core);
	/*
	 * Split the block at each pending start that falls in it: render up
	 * to its frame, trigger (the voice sounds from the next output frame),
	 * render on. The mixer renders a block in pieces exactly as in one
	 * (its render(a) + render(b) is render(a + b)), so a start costs no
	 * more than its own trigger. Starts already due (at_frame in the past)
	 * fall at the block's first frame.
	 */
	if (n_frames > core->max_block_frames)
		return -EINVAL;
	int64_t block_start = flz_mixer_frame(core->mixer);
	int64_t block_end = block_start + (int64_t)n_frames;
	uint32_t done = 0;
	struct flz_schedule_entry e;
	int err = 0;
	if (n_frames > 0 && flz_schedule_count(&core->schedule) > 0) {
		while (err == 0 && flz_schedule_take(&core->schedule, block_end, &e)) {
			int64_t at = e.frame > block_start ? e.frame : block_start;
			uint32_t upto = (uint32_t)(at - block_start);
			if (upto > done) {
				err = flz_engine_core_render_rt(core, out + (size_t)done * core->n_channels,
						       upto - done);
				done = upto;
			}
			start_due(core, &e);
		}
	}
	if (err == 0)
		err = flz_engine_core_render_rt(core, out + (size_t)done * core->n_channels,
				       n_frames - done);
	if (err < 0)
		return err;
	flz_engine_core_record_rt(core, out, n_frames);
	/* release: pairs with the control side's acquire load; it orders
	 * nothing else (the count is all it publishes). */
	atomic_store_explicit(&core->sched_done, core->sched_done_local, memory_order_release);
	flz_engine_core_publish_transport_rt(core);
	/* release: the block's messages (its STARTED and STOPPED events) were
	 * pushed before, so a control thread that reads this count with
	 * acquire (flz_engine_frame()) then finds them in the message ring. */
	atomic_store_explicit(&core->stat_frames, flz_mixer_frame(core->mixer),
			      memory_order_release);
	/* relaxed: a statistic read on its own; nothing is published with it. */
	atomic_store_explicit(&core->stat_voices, flz_mixer_voices_playing(core->mixer),
			      memory_order_relaxed);
	/* relaxed: the same, a statistic on its own. */
	atomic_store_explicit(&core->stat_key_lock_refused,
			      flz_mixer_key_lock_refused(core->mixer), memory_order_relaxed);
	/* relaxed: the same, two statistics each read on its own. */
	atomic_store_explicit(&core->stat_key_lock_deferred,
			      flz_mixer_key_lock_deferred(core->mixer), memory_order_relaxed);
	atomic_store_explicit(&core->stat_key_lock_deferred_frames,
			      flz_mixer_key_lock_deferred_frames(core->mixer), memory_order_relaxed);
	return 0;
}

FLZ_RT void flz_engine_post_simple_rt(struct flz_engine_core *core, enum flz_msg_kind kind,
				      int error)
{
	struct flz_engine_msg msg = {
		.kind = kind,
		.slot = -1,
		/* relaxed: only this thread writes stat_frames. */
		.frame = atomic_load_explicit(&core->stat_frames, memory_order_relaxed),
		.error = error,
	};
	flz_engine_core_post_rt(core, &msg);
}

FLZ_RT FLZ_HOT void flz_engine_account_load_rt(struct flz_engine_audio *audio, int64_t busy_ns,
					       uint32_t n_frames)
{
	audio->load_busy_ns += busy_ns;
	audio->load_window_frames += (int64_t)n_frames;
	if (audio->load_window_frames >= (int64_t)audio->rate_hz) {
		double audio_ns = (double)audio->load_window_frames * 1e9 / (double)audio->rate_hz;
		union {
			float f;
			uint32_t u;
		} load = { .f = (float)((double)audio->load_busy_ns / audio_ns) };
		/* relaxed: a statistic read on its own. */
		atomic_store_explicit(&audio->core->stat_load_bits, load.u, memory_order_relaxed);
		audio->load_busy_ns = 0;
		audio->load_window_frames = 0;
	}
}

FLZ_RT void flz_engine_device_lost_rt(struct flz_engine_core *core, int err)
{
	/* relaxed: published by the release store of device_lost below. */
	atomic_store_explicit(&core->lost_error, err, memory_order_relaxed);
	/* release: lost_error is visible to whoever sees device_lost. */
	atomic_store_explicit(&core->device_lost, true, memory_order_release);
	flz_engine_post_simple_rt(core, FLZ_MSG_DEVICE_LOST, err);
}

FLZ_RT FLZ_HOT void flz_engine_core_record_rt(struct flz_engine_core *core, const float *out,
					      uint32_t n_frames)
{
	/* seq_cst, as the load below and the control side's clear and check
	 * (see flz_engine_core.recorder): busy is raised before recorder is
	 * read, in every thread's view. */
	atomic_store_explicit(&core->recorder_busy, true, memory_order_seq_cst);
	struct flz_frame_writer *rec = atomic_load_explicit(&core->recorder, memory_order_seq_cst);
	if (rec != NULL)
		flz_frame_writer_push_rt(rec, out, n_frames);
	/* release: the push's accesses to the writer are done before the
	 * control side, seeing busy low, frees it. */
	atomic_store_explicit(&core->recorder_busy, false, memory_order_release);
}
